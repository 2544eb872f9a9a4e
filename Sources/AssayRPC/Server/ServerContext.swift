import AssayTransport
public import AssayWire
import AssaySync

/// What a handler and the interceptors know about one call, and what they may add to it.
public final class ServerContext: Sendable {
    /// "/assay.v1.Echo/Unary".
    public let path: String
    public let method: AnyMethodDescriptor
    /// The metadata the client sent with the call.
    public let metadata: Metadata
    /// The other end of the connection, for logs.
    public let peer: String
    /// When the call's deadline expires, on `MonotonicClock`, if the client set one.
    public let deadlineNanoseconds: UInt64?
    public let logger: Logger

    struct Mutable: Sendable {
        var values: [ObjectIdentifier: any Sendable] = [:]
        var trailers = Metadata()
        var finalMessage: [UInt8]?
    }

    let mutable = Lock(Mutable())
    let connection: FramedConnection
    let stream: StreamRecord

    init(
        method: AnyMethodDescriptor, metadata: Metadata, peer: String, deadlineNanoseconds: UInt64?,
        logger: Logger, connection: FramedConnection, stream: StreamRecord
    ) {
        self.path = method.path
        self.method = method
        self.metadata = metadata
        self.peer = peer
        self.deadlineNanoseconds = deadlineNanoseconds
        self.logger = logger
        self.connection = connection
        self.stream = stream
    }

    /// Attaches a value by its type (an interceptor sets the caller's identity, handlers read it).
    public func set<T: Sendable>(_ value: T) {
        mutable.withLock { $0.values[ObjectIdentifier(T.self)] = value }
    }

    /// The value of type `T` an interceptor attached, if any.
    public func get<T: Sendable>(_ type: T.Type) -> T? {
        mutable.withLock { $0.values[ObjectIdentifier(T.self)] as? T }
    }

    /// Adds trailing metadata, sent with the call's status.
    public func addTrailer(_ key: String, _ value: String) {
        mutable.withLock { $0.trailers.add(key, value) }
    }

    /// Why the call was abandoned from outside (client cancel, deadline, connection lost), if it was.
    public var abandonment: RPCError? { connection.failure(of: stream) }

    /// Time left before the deadline, if there is one.
    public var remainingNanoseconds: UInt64? {
        deadlineNanoseconds.map { d in
            let now = MonotonicClock.nanoseconds()
            return d > now ? d - now : 0
        }
    }
}
