public import AssayWire

/// A service: registers its methods' handlers with a router.
public protocol RPCService: Sendable {
    func register(in router: inout Router)
}

/// Maps method paths to handlers. Handlers are typed by their method descriptor; the router
/// decodes requests and encodes responses through the generated messages.
public struct Router: Sendable {
    struct Entry: Sendable {
        let descriptor: AnyMethodDescriptor
        let run: @Sendable (ServerContext) async throws -> Void
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Registers every method of `service`.
    public mutating func register(_ service: some RPCService) {
        service.register(in: &self)
    }

    /// The registered methods, sorted by path.
    public var methods: [AnyMethodDescriptor] { entries.values.map(\.descriptor).sorted { $0.path < $1.path } }

    func entry(for path: String) -> Entry? { entries[path] }

    private mutating func add(_ descriptor: AnyMethodDescriptor, _ run: @escaping @Sendable (ServerContext) async throws -> Void) {
        precondition(entries[descriptor.path] == nil, "\(descriptor.path) registered twice")
        entries[descriptor.path] = Entry(descriptor: descriptor, run: run)
    }

    public mutating func unary<I, O>(
        _ method: MethodDescriptor<I, O>,
        _ handler: @escaping @Sendable (I, ServerContext) async throws -> O
    ) {
        add(method.erased) { context in
            let request = try await CallIO(context: context).onlyRequest(I.self)
            let response = try await handler(request, context)
            // Sent with the trailers in one write (see RPCServer.handle).
            var bytes: [UInt8] = []
            response.serialize(appendingTo: &bytes)
            context.mutable.withLock { $0.finalMessage = bytes }
        }
    }

    public mutating func serverStreaming<I, O>(
        _ method: MethodDescriptor<I, O>,
        _ handler: @escaping @Sendable (I, RPCWriter<O>, ServerContext) async throws -> Void
    ) {
        add(method.erased) { context in
            let io = CallIO(context: context)
            let request = try await io.onlyRequest(I.self)
            try await handler(request, RPCWriter(io: io), context)
        }
    }

    public mutating func clientStreaming<I, O>(
        _ method: MethodDescriptor<I, O>,
        _ handler: @escaping @Sendable (RPCRequests<I>, ServerContext) async throws -> O
    ) {
        add(method.erased) { context in
            let response = try await handler(RPCRequests(io: CallIO(context: context)), context)
            var bytes: [UInt8] = []
            response.serialize(appendingTo: &bytes)
            context.mutable.withLock { $0.finalMessage = bytes }
        }
    }

    public mutating func bidirectional<I, O>(
        _ method: MethodDescriptor<I, O>,
        _ handler: @escaping @Sendable (RPCRequests<I>, RPCWriter<O>, ServerContext) async throws -> Void
    ) {
        add(method.erased) { context in
            let io = CallIO(context: context)
            try await handler(RPCRequests(io: io), RPCWriter(io: io), context)
        }
    }
}

/// What decoding one call message may cost: the server's requests and the client's responses.
package enum MessageLimits {
    /// The most protobuf-c may allocate for a message of `byteCount` bytes: 1 MiB plus 32 bytes
    /// per byte, room for any real message, a bound on what a hostile one can make us allocate.
    package static func memoryLimit(forMessageOf byteCount: Int) -> Int { 1 << 20 + 32 * byteCount }
}

/// Raw message I/O of one server call, with decoding errors turned into statuses.
struct CallIO: Sendable {
    let context: ServerContext

    var connection: FramedConnection { context.connection }
    var stream: StreamRecord { context.stream }

    func next<M: ProtoMessage>(_ type: M.Type) async throws -> M? {
        guard let bytes = try await connection.receive(stream) else { return nil }
        return try Self.decode(M.self, bytes)
    }

    static func decode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
        do {
            return try bytes.withUnsafeBytes {
                try M(serializedBytes: $0, memoryLimit: MessageLimits.memoryLimit(forMessageOf: bytes.count))
            }
        } catch {
            throw RPCError(.invalidArgument, "the message is not a valid \(M.protoMessageName): \(error)")
        }
    }

    func onlyRequest<M: ProtoMessage>(_ type: M.Type) async throws -> M {
        guard let request = try await next(M.self) else {
            throw RPCError(.invalidArgument, "\(context.path) expects one request message, got none")
        }
        if try await connection.receive(stream) != nil {
            throw RPCError(.invalidArgument, "\(context.path) expects one request message, got more")
        }
        return request
    }
}

/// The request messages of a streaming call, as they arrive.
public struct RPCRequests<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let io: CallIO

    public struct AsyncIterator: AsyncIteratorProtocol {
        let io: CallIO
        public mutating func next() async throws -> Message? { try await io.next(Message.self) }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(io: io) }
}

/// Sends the response messages of a streaming call. `write` waits while the client's
/// flow-control window is spent, so a slow client slows the handler instead of filling memory.
public struct RPCWriter<Message: ProtoMessage>: Sendable {
    let sendBytes: @Sendable ([UInt8]) async throws -> Void

    init(sendBytes: @escaping @Sendable ([UInt8]) async throws -> Void) { self.sendBytes = sendBytes }

    init(io: CallIO) {
        self.sendBytes = { bytes in try await io.connection.send(io.stream, message: bytes, endStream: false) }
    }

    public func write(_ message: Message) async throws {
        var bytes: [UInt8] = []
        message.serialize(appendingTo: &bytes)
        try await sendBytes(bytes)
    }

    /// Sends a message already encoded (benchmarks send pre-encoded batches).
    package func write(serialized bytes: [UInt8]) async throws {
        try await sendBytes(bytes)
    }
}
