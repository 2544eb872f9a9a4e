public import AssayTLS
public import AssayTransport
public import AssayWire
import AssaySync

/// A client connection to an Assay server: many concurrent calls over one connection.
///
/// Every call method takes the method's descriptor, so request and response types are checked
/// at compile time. Cancelling the calling task cancels the call on the server.
public final class RPCClient: Sendable {
    let connection: FramedConnection
    /// Metadata sent with every call (the API key goes here).
    public let defaultMetadata: Metadata

    /// The event loop client connections use unless told otherwise.
    public static let sharedLoop: EventLoop = {
        do { return try EventLoop(name: "assay-client-io") } catch { fatalError("cannot start the client event loop: \(error)") }
    }()

    private init(connection: FramedConnection, defaultMetadata: Metadata) {
        self.connection = connection
        self.defaultMetadata = defaultMetadata
    }

    /// Connects over TCP and completes the handshake; with `tls`, TLS first (the server's
    /// certificate must match the address's host unless the context names the server).
    public static func connect(
        to address: SocketAddress, metadata: Metadata = Metadata(), limits: ConnectionLimits = ConnectionLimits(),
        tls: TLSContext? = nil, loop: EventLoop = RPCClient.sharedLoop
    ) async throws -> RPCClient {
        // On the connection's loop from the socket's connect to the handshake's start: the
        // server's handshake timer runs from its accept, and a caller's executor that is busy
        // (Swift's cooperative pool under CPU-bound work) could otherwise hold the preface back
        // past it. The caller's own code resumes on its own executor afterwards.
        try await withTaskExecutorPreference(loop) {
            let socket: SocketChannel
            do {
                socket = try await SocketChannel.connect(to: address, loop: loop)
            } catch {
                throw RPCError(.unavailable, "cannot connect to \(address): \(error)")
            }
            guard let tls else { return try await over(channel: socket, metadata: metadata, limits: limits) }
            let channel: TLSChannel
            do {
                channel = try await TLSChannel.client(over: socket, context: tls, host: address.host)
            } catch {
                throw RPCError(.unavailable, "TLS with \(address) failed: \(error)")
            }
            return try await over(channel: channel, metadata: metadata, limits: limits)
        }
    }

    /// Runs the protocol over an already connected channel (the in-process transport).
    public static func over(channel: any ByteChannel, metadata: Metadata = Metadata(), limits: ConnectionLimits = ConnectionLimits()) async throws -> RPCClient {
        let events = ClientConnectionEvents()
        let connection = FramedConnection(channel: channel, role: .client, limits: limits, events: events)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            events.setWaiter(c)
            connection.start()
        }
        return RPCClient(connection: connection, defaultMetadata: metadata)
    }

    /// Closes the connection; calls still running fail with UNAVAILABLE.
    public func close() { connection.closeNow() }

    /// The server's certificate, on a TLS connection.
    public var peerCertificate: TLSCertificate? { (connection.channel as? TLSChannel)?.peerCertificate }

    /// True while new calls can start.
    public var isUsable: Bool { connection.isUsable }

    /// One round trip of a PING frame.
    public func ping() async throws { try await connection.ping() }

    private func merged(_ metadata: Metadata) -> Metadata {
        if defaultMetadata.isEmpty { return metadata }
        var all = defaultMetadata
        for e in metadata { all.set(e.key, e.value) }
        return all
    }

    private func nanoseconds(_ timeout: Duration?) -> UInt64? {
        guard let timeout else { return nil }
        let (s, atto) = timeout.components
        return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
    }

    private func open<I: ProtoMessage>(
        _ path: String, metadata: Metadata, timeout: Duration?, first: I?, endStream: Bool
    ) throws(RPCError) -> StreamRecord {
        var bytes: [UInt8]?
        if let first {
            var b: [UInt8] = []
            first.serialize(appendingTo: &b)
            bytes = b
        }
        return try connection.openStream(
            method: path, metadata: merged(metadata), timeoutNanoseconds: nanoseconds(timeout),
            firstMessage: bytes, endStream: endStream
        )
    }

    private func withCancellation<R>(_ stream: StreamRecord, _ body: () async throws -> R) async throws -> R {
        try await withTaskCancellationHandler {
            try await body()
        } onCancel: {
            connection.cancel(stream, RPCError(.cancelled, "cancelled by the client"))
        }
    }

    // MARK: the four kinds of call

    public func unary<I, O>(
        _ method: MethodDescriptor<I, O>, _ request: I, metadata: Metadata = Metadata(), timeout: Duration? = nil
    ) async throws -> O {
        let stream = try open(method.path, metadata: metadata, timeout: timeout, first: request, endStream: true)
        return try await withCancellation(stream) {
            let responses = RPCResponses<O>(connection: connection, stream: stream)
            return try await responses.single(method.path)
        }
    }

    public func serverStreaming<I, O, R>(
        _ method: MethodDescriptor<I, O>, _ request: I, metadata: Metadata = Metadata(), timeout: Duration? = nil,
        _ body: (RPCResponses<O>) async throws -> R
    ) async throws -> R {
        let stream = try open(method.path, metadata: metadata, timeout: timeout, first: request, endStream: true)
        return try await withCancellation(stream) {
            let result = try await body(RPCResponses(connection: connection, stream: stream))
            connection.cancel(stream, RPCError(.cancelled, "the client stopped reading"))
            return result
        }
    }

    public func clientStreaming<I, O>(
        _ method: MethodDescriptor<I, O>, metadata: Metadata = Metadata(), timeout: Duration? = nil,
        _ body: (RPCWriter<I>) async throws -> Void
    ) async throws -> O {
        let stream = try open(method.path, metadata: metadata, timeout: timeout, first: I?.none, endStream: false)
        return try await withCancellation(stream) {
            do {
                try await body(writer(stream))
            } catch {
                // The server may have ended the call first: its status explains more than ours.
                if let status = connection.outcome(stream).status { throw status }
                connection.cancel(stream, RPCError(.cancelled, "the client failed while sending"))
                throw error
            }
            connection.halfClose(stream)
            return try await RPCResponses<O>(connection: connection, stream: stream).single(method.path)
        }
    }

    public func bidirectional<I, O, R>(
        _ method: MethodDescriptor<I, O>, metadata: Metadata = Metadata(), timeout: Duration? = nil,
        _ body: (RPCWriter<I>, _ close: @Sendable () -> Void, RPCResponses<O>) async throws -> R
    ) async throws -> R {
        let stream = try open(method.path, metadata: metadata, timeout: timeout, first: I?.none, endStream: false)
        return try await withCancellation(stream) {
            let connection = self.connection
            let result = try await body(writer(stream), { connection.halfClose(stream) }, RPCResponses(connection: connection, stream: stream))
            connection.halfClose(stream)
            return result
        }
    }

    private func writer<I>(_ stream: StreamRecord) -> RPCWriter<I> {
        let connection = self.connection
        return RPCWriter(sendBytes: { bytes in try await connection.send(stream, message: bytes, endStream: false) })
    }
}

/// The response messages of a call, as they arrive. Iteration ends after the last one, and
/// throws the call's `RPCError` when its status is not OK.
public struct RPCResponses<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let connection: FramedConnection
    let stream: StreamRecord

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: FramedConnection
        let stream: StreamRecord

        public mutating func next() async throws -> Message? {
            guard let bytes = try await connection.receive(stream) else {
                if let status = connection.outcome(stream).status { throw status }
                return nil
            }
            do {
                let limit = MessageLimits.memoryLimit(forMessageOf: bytes.count)
                return try bytes.withUnsafeBytes { try Message(serializedBytes: $0, memoryLimit: limit) }
            } catch {
                let e = RPCError(.internal, "the server sent an invalid \(Message.protoMessageName): \(error)")
                connection.cancel(stream, e)
                throw e
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection, stream: stream) }

    /// The trailing metadata, once iteration has ended.
    public var trailers: Metadata { connection.outcome(stream).trailers }

    func single(_ path: String) async throws -> Message {
        var iterator = makeAsyncIterator()
        guard let first = try await iterator.next() else {
            throw RPCError(.internal, "\(path) ended without a response")
        }
        if try await iterator.next() != nil {
            throw RPCError(.internal, "\(path) sent more than one response")
        }
        return first
    }
}

/// Waits for the handshake of a client connection.
final class ClientConnectionEvents: ConnectionEvents {
    private let waiter = Lock<CheckedContinuation<Void, any Error>?>(nil)

    func setWaiter(_ c: CheckedContinuation<Void, any Error>) { waiter.withLock { $0 = c } }

    private func take() -> CheckedContinuation<Void, any Error>? {
        waiter.withLock { w in
            let c = w
            w = nil
            return c
        }
    }

    func connectionReady(_ connection: FramedConnection) { take()?.resume() }
    func incomingCall(_ call: IncomingCall, on connection: FramedConnection) {}
    func connectionClosed(_ connection: FramedConnection, reason: RPCError?) {
        take()?.resume(throwing: reason ?? RPCError(.unavailable, "the server closed the connection during the handshake"))
    }
}
