public import AssayRPC
public import AssayTLS
public import AssayTransport
import AssayWire

/// A real server on 127.0.0.1, port 0, with its own event loop, for tests.
///
/// `start` returns once the listener is bound; `stop` shuts down gracefully and waits for
/// the run to end, so a test leaves no thread or socket behind.
public final class TestServer: Sendable {
    public let server: RPCServer
    public let address: SocketAddress
    public let loop: EventLoop
    private let runTask: Task<Void, Never>

    private init(server: RPCServer, address: SocketAddress, loop: EventLoop, runTask: Task<Void, Never>) {
        self.server = server
        self.address = address
        self.loop = loop
        self.runTask = runTask
    }

    /// Starts a server with `services` (Echo and Health when nil); with `tls`, over TLS.
    public static func start(
        services: [any RPCService]? = nil,
        interceptors: [any ServerInterceptor] = [],
        limits: ServerLimits = ServerLimits(),
        logger: Logger = .silent,
        tls: TLSServerCredentials? = nil
    ) throws -> TestServer {
        var router = Router()
        for service in services ?? [EchoProvider(), HealthProvider()] { router.register(service) }
        let server = RPCServer(router: router, interceptors: interceptors, limits: limits, logger: logger)
        let loop = try EventLoop(name: "test-server-io")
        let listener = try TCPListener(bindingTo: SocketAddress(host: "127.0.0.1", port: 0), loop: loop)
        // The server's run loop is the one long-lived task of a test server; `stop` ends it. On
        // the handler threads `assay serve` uses, not on Swift's cooperative pool: CPU-bound
        // tests beside it can hold the pool for seconds, and the listener would wait with them.
        let task = Task(executorPreference: PollingExecutor.shared) { await server.run(on: listener, tls: tls) }
        return TestServer(server: server, address: listener.localAddress, loop: loop, runTask: task)
    }

    /// A new client connection to this server.
    public func client(
        metadata: Metadata = Metadata(), limits: ConnectionLimits = ConnectionLimits(), tls: TLSContext? = nil
    ) async throws -> RPCClient {
        try await RPCClient.connect(to: address, metadata: metadata, limits: limits, tls: tls)
    }

    /// Graceful shutdown; returns when every connection has closed.
    public func stop() async {
        await server.shutdown()
        await runTask.value
        await loop.shutdown()
    }
}
