public import AssayTLS
public import AssayTransport
import AssayWire
import Synchronization
import AssaySync

/// Limits of a server as a whole, on top of each connection's.
public struct ServerLimits: Sendable {
    public var connection = ConnectionLimits()
    /// Connections beyond this are refused with a GOAWAY (RESOURCE_EXHAUSTED).
    public var maxConnections = 4096
    /// Inbound bytes all connections together may hold: frame bodies being received and
    /// messages waiting for their handlers (see `InboundMemoryBudget`); 0 = no limit. The
    /// default, 1 GiB, is well above what a few hundred busy connections use (each holds at
    /// most its 8 MiB window plus one 4 MiB frame).
    public var maxBufferedInboundBytes = 1 << 30
    /// How long in-flight calls may take to finish after shutdown begins.
    public var shutdownGraceNanoseconds: UInt64 = 10_000_000_000

    public init() {}
}

/// Serves a router's methods over framed connections.
///
/// `run(on:)` holds one discarding task group per listener and a child task per connection;
/// each connection's calls are children of its task. Nothing runs unstructured.
public final class RPCServer: Sendable {
    public let router: Router
    public let interceptors: [any ServerInterceptor]
    public let limits: ServerLimits
    public let logger: Logger
    /// Where handlers run (nil: Swift's global executor). Never an event loop.
    public let executor: (any TaskExecutor)?

    struct State: ~Copyable {
        var connections: [ObjectIdentifier: FramedConnection] = [:]
        var accepting: AsyncStream<OpenedConnection>.Continuation?
        var listeners: [TCPListener] = []
        var shuttingDown = false
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Lock(State())
    /// Every connection's buffered inbound bytes count against this.
    public let inboundBudget: InboundMemoryBudget
    private let handshakeFailures = Atomic<Int>(0)

    public init(
        router: Router, interceptors: [any ServerInterceptor] = [], limits: ServerLimits = ServerLimits(),
        logger: Logger = Logger(label: "assay.rpc"), executor: (any TaskExecutor)? = nil
    ) {
        self.executor = executor
        self.router = router
        self.interceptors = interceptors
        self.limits = limits
        self.logger = logger
        self.inboundBudget = InboundMemoryBudget(capacity: limits.maxBufferedInboundBytes)
    }

    /// Accepts connections until `shutdown` is called and every connection has closed. With
    /// `tls`, every connection speaks TLS with the credentials current when it was accepted.
    public func run(on listener: TCPListener, tls: TLSServerCredentials? = nil) async {
        let (accepted, continuation) = AsyncStream<OpenedConnection>.makeStream()
        let alreadyDown = state.withLock { s -> Bool in
            if s.shuttingDown { return true }
            s.accepting = continuation
            s.listeners.append(listener)
            return false
        }
        if alreadyDown {
            listener.close()
            return
        }
        let maxConnections = limits.maxConnections
        listener.start { [self] socket in
            guard let channel = secure(socket, tls) else { return }
            let count = state.withLock { $0.connections.count }
            if count >= maxConnections {
                refuse(channel, RPCError(.resourceExhausted, "too many connections (limit \(maxConnections))"))
            } else {
                // Started here, on the listener's loop: the connection's handshake and idle
                // timers run from now on, however long its task waits for a thread.
                let opened = open(channel)
                if case .terminated = continuation.yield(opened) {
                    opened.connection.fail(RPCError(.unavailable, "the server is shutting down"), goAway: .unavailable)
                    forget(opened.connection)
                }
            }
        }
        // On the server's own executor, like the calls, not on Swift's cooperative pool, which
        // other work in the process (or the tests beside it) may keep busy for seconds.
        await withTaskExecutorPreference(executor) {
            await withDiscardingTaskGroup { group in
                for await opened in accepted {
                    group.addTask { await self.serve(opened) }
                }
            }
        }
    }

    /// A server connection, started, with the calls it will hand to its task.
    struct OpenedConnection: Sendable {
        let connection: FramedConnection
        let calls: AsyncStream<IncomingCall>
    }

    /// Wraps an accepted channel in a started server connection, counted among the server's
    /// (draining at once when the server is shutting down).
    private func open(_ channel: any ByteChannel) -> OpenedConnection {
        let (calls, continuation) = AsyncStream<IncomingCall>.makeStream()
        let events = ServerConnectionEvents(calls: continuation)
        let connection = FramedConnection(
            channel: channel, role: .server, limits: limits.connection, events: events, budget: inboundBudget)
        let refused = state.withLock { s -> Bool in
            if s.shuttingDown { return true }
            s.connections[ObjectIdentifier(connection)] = connection
            return false
        }
        connection.start()
        if refused { connection.drain(message: "the server is shutting down") }
        return OpenedConnection(connection: connection, calls: calls)
    }

    /// Serves one already-connected channel (the in-process transport uses this) until it closes.
    public func serve(channel: any ByteChannel) async {
        await serve(open(channel))
    }

    private func serve(_ opened: OpenedConnection) async {
        await withTaskExecutorPreference(executor) {
            await withDiscardingTaskGroup { group in
                for await call in opened.calls {
                    group.addTask { await self.handle(call, on: opened.connection) }
                }
            }
        }
        forget(opened.connection)
    }

    /// Takes a closed connection off the server's list; the last one lets a shutdown return.
    private func forget(_ connection: FramedConnection) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.connections[ObjectIdentifier(connection)] = nil
            guard s.shuttingDown && s.connections.isEmpty else { return [] }
            let w = s.shutdownWaiters
            s.shutdownWaiters = []
            return w
        }
        for w in waiters { w.resume() }
    }

    /// The accepted socket, inside TLS when the server has credentials; nil when TLS cannot
    /// even start (the socket is closed and the reason logged).
    private func secure(_ socket: SocketChannel, _ tls: TLSServerCredentials?) -> (any ByteChannel)? {
        guard let tls else { return socket }
        let peer = socket.peerDescription
        do {
            return try TLSChannel.server(over: socket, context: tls.current) { [self] error in
                handshakeFailures.wrappingAdd(1, ordering: .relaxed)
                logger.warning("TLS connection failed", [("peer", peer), ("cause", error.description)])
            }
        } catch {
            handshakeFailures.wrappingAdd(1, ordering: .relaxed)
            logger.error("cannot start TLS", [("peer", peer), ("cause", error.description)])
            socket.close()
            return nil
        }
    }

    /// TLS connections that failed (handshakes refused or broken, alerts), since the start.
    public var tlsFailureCount: Int { handshakeFailures.load(ordering: .relaxed) }

    private func refuse(_ channel: any ByteChannel, _ error: RPCError) {
        let connection = FramedConnection(channel: channel, role: .server, limits: limits.connection, events: NoEvents())
        connection.start()
        connection.fail(error, goAway: error.code)
    }

    /// Stops accepting, tells every client to go away, lets in-flight calls finish for the
    /// grace period, then cancels what is left. Returns when every connection has closed.
    public func shutdown() async {
        let (listeners, connections, accepting) = state.withLock { s in
            s.shuttingDown = true
            let a = s.accepting
            s.accepting = nil
            let l = s.listeners
            s.listeners = []
            return (l, Array(s.connections.values), a)
        }
        for l in listeners { l.close() }
        accepting?.finish()
        logger.info("shutting down", [("connections", "\(connections.count)")])
        for c in connections { c.drain(message: "the server is shutting down") }
        let grace = limits.shutdownGraceNanoseconds
        let timer = connections.first?.channel.scheduler.schedule(afterNanoseconds: grace) { [self] in
            let left = state.withLock { Array($0.connections.values) }
            for c in left { c.cancelAll(RPCError(.unavailable, "the server shut down before the call finished")) }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.connections.isEmpty { return true }
                s.shutdownWaiters.append(c)
                return false
            }
            if done { c.resume() }
        }
        timer?.cancel()
    }

    /// Open connections, for metrics and tests.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    // MARK: one call

    func handle(_ call: IncomingCall, on connection: FramedConnection) async {
        let stream = call.stream
        guard let entry = router.entry(for: call.method) else {
            connection.finish(stream, status: RPCError(.unimplemented, "unknown method \(call.method)"), trailers: Metadata())
            return
        }
        var deadline: UInt64?
        if let timeout = call.timeoutNanoseconds {
            deadline = MonotonicClock.nanoseconds() &+ timeout
            connection.startDeadline(stream, afterNanoseconds: timeout)
        }
        let context = ServerContext(
            method: entry.descriptor, metadata: call.metadata, peer: connection.peerDescription,
            deadlineNanoseconds: deadline, logger: logger, connection: connection, stream: stream
        )
        withUnsafeCurrentTask { connection.attach($0, to: stream) }
        var status: RPCError?
        do {
            try await runChain(context, index: 0, handler: entry.run)
        } catch {
            let (mapped, expected) = RPCError.from(error)
            status = mapped
            if !expected {
                logger.error("handler failed", [("method", call.method), ("cause", String(describing: error))])
            } else if let cause = (error as? any RPCErrorConvertible)?.logCause {
                logger.error("call failed", [("method", call.method), ("code", mapped.code.name), ("cause", cause)])
            }
        }
        if let abandoned = connection.failure(of: stream) { status = abandoned }
        let (final, trailers) = context.mutable.withLock { m in (m.finalMessage, m.trailers) }
        if status == nil, let final {
            if connection.finish(stream, status: nil, trailers: trailers, finalMessage: final) { return }
            do {
                try await connection.send(stream, message: final, endStream: false)
            } catch {
                status = RPCError.from(error).0
            }
        }
        connection.finish(stream, status: status, trailers: trailers)
    }

    private func runChain(
        _ context: ServerContext, index: Int, handler: @escaping @Sendable (ServerContext) async throws -> Void
    ) async throws {
        if index == interceptors.count {
            try await handler(context)
        } else {
            try await interceptors[index].intercept(context) { next in
                try await self.runChain(next, index: index + 1, handler: handler)
            }
        }
    }
}

/// Hands a server connection's new calls to its task.
final class ServerConnectionEvents: ConnectionEvents {
    let calls: AsyncStream<IncomingCall>.Continuation
    init(calls: AsyncStream<IncomingCall>.Continuation) { self.calls = calls }
    func connectionReady(_ connection: FramedConnection) {}
    func incomingCall(_ call: IncomingCall, on connection: FramedConnection) { calls.yield(call) }
    func connectionClosed(_ connection: FramedConnection, reason: RPCError?) { calls.finish() }
}

final class NoEvents: ConnectionEvents {
    func connectionReady(_ connection: FramedConnection) {}
    func incomingCall(_ call: IncomingCall, on connection: FramedConnection) {}
    func connectionClosed(_ connection: FramedConnection, reason: RPCError?) {}
}
