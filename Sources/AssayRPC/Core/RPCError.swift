/// The status codes of a call, numbered as gRPC numbers them.
public enum RPCCode: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// A code from the wire; numbers this build does not know read as UNKNOWN.
    public init(wireValue: UInt32) { self = RPCCode(rawValue: wireValue) ?? .unknown }

    /// The gRPC name, e.g. "INVALID_ARGUMENT".
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    public var description: String { name }
}

/// An error that ends a call with a status: what the peer sees is exactly this.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RPCCode
    public var message: String
    public var metadata: Metadata

    public init(_ code: RPCCode, _ message: String, metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public var description: String { message.isEmpty ? code.name : "\(code.name): \(message)" }
}

/// A domain error that knows which status it maps to. Anything thrown by a handler that is
/// neither this nor an `RPCError` reaches the client as INTERNAL with a generic message;
/// its cause is logged, never sent.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
    /// What the server's log should say about the failure, which the client never sees (a
    /// full disk, a read-only database, an internal fault); nil when the status says it all.
    var logCause: String? { get }
}

extension RPCErrorConvertible {
    /// Most domain errors are the caller's business only: nothing to log.
    public var logCause: String? { nil }
}

extension RPCError {
    /// The status a thrown error becomes on the wire, and whether it was expected.
    static func from(_ error: any Error) -> (RPCError, expected: Bool) {
        if let e = error as? RPCError { return (e, true) }
        if let e = error as? any RPCErrorConvertible { return (e.rpcError, true) }
        if error is CancellationError { return (RPCError(.cancelled, "the call was cancelled"), true) }
        return (RPCError(.internal, "internal error"), false)
    }
}
