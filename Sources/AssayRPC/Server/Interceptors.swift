import AssayTransport
import AssaySync

/// Who is calling, as established by an `Authenticator`.
public protocol Principal: Sendable {
    /// What the call log says of the caller (its organisation, its key), never a secret.
    var logFields: [(String, String)] { get }
}

extension Principal {
    public var logFields: [(String, String)] { [] }
}

/// Turns an API key into the caller's identity, or refuses it.
public protocol Authenticator: Sendable {
    /// Throws UNAUTHENTICATED (or another status) when the key is not acceptable.
    func authenticate(apiKey: String, context: ServerContext) async throws -> any Principal
}

/// The identity attached to a call by `AuthenticationInterceptor`.
public struct CallerIdentity: Sendable {
    public let principal: any Principal
}

/// Requires an API key in the call's metadata (`authorization: Bearer <key>`, or `x-api-key`)
/// on every method except the exempt ones, and attaches the caller's identity.
public struct AuthenticationInterceptor: ServerInterceptor {
    public let authenticator: any Authenticator
    /// Paths callable without a key (health checks).
    public let exempt: Set<String>

    public init(authenticator: any Authenticator, exempt: Set<String>) {
        self.authenticator = authenticator
        self.exempt = exempt
    }

    public func intercept(_ context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        if exempt.contains(context.path) { return try await next(context) }
        guard let key = Self.apiKey(in: context.metadata) else {
            throw RPCError(.unauthenticated, "missing API key: send the metadata 'authorization: Bearer <key>'")
        }
        let principal = try await authenticator.authenticate(apiKey: key, context: context)
        context.set(CallerIdentity(principal: principal))
        try await next(context)
    }

    static func apiKey(in metadata: Metadata) -> String? {
        if let auth = metadata["authorization"] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return nil
        }
        return metadata["x-api-key"]
    }
}

/// Logs the end of every call: request id (the caller's `x-request-id`, else a fresh one),
/// method, status, duration, peer and, once authenticated, the caller's organisation and key.
/// Unexpected errors are logged by the server itself with their cause.
public struct LoggingInterceptor: ServerInterceptor {
    public let logger: Logger
    public let level: Logger.Level

    public init(logger: Logger, level: Logger.Level = .debug) {
        self.logger = logger
        self.level = level
    }

    public func intercept(_ context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        let start = MonotonicClock.nanoseconds()
        var failure: (any Error)?
        do { try await next(context) } catch { failure = error }
        let status = RPCError.status(of: failure, in: context)
        let lineLevel = status?.code == .internal ? Logger.Level.warning : level
        if lineLevel >= logger.level {
            let micros = (MonotonicClock.nanoseconds() - start) / 1000
            let requestID = context.metadata["x-request-id"].map { String($0.prefix(128)) } ?? Self.freshRequestID()
            var fields = [
                ("request_id", requestID), ("method", context.path), ("code", status?.code.name ?? "OK"),
                ("micros", "\(micros)"), ("peer", context.peer),
            ]
            if let identity = context.get(CallerIdentity.self) { fields += identity.principal.logFields }
            logger.log(lineLevel, "call", fields)
        }
        if let failure { throw failure }
    }

    /// 16 random hex digits.
    static func freshRequestID() -> String {
        let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Counts calls per method and status and keeps their latencies, for `Reflection/MethodStats`.
public final class MethodMetrics: ServerInterceptor {
    public struct Snapshot: Sendable, Hashable {
        public var path: String
        public var calls: UInt64
        public var codes: [String: UInt64]
        public var inFlight: UInt64
        public var p50Micros: UInt64
        public var p99Micros: UInt64
    }

    struct Entry {
        var calls: UInt64 = 0
        var inFlight: UInt64 = 0
        var codes: [RPCCode: UInt64] = [:]
        var histogram = LatencyHistogram()
    }

    private let entries = Lock<[String: Entry]>([:])

    public init() {}

    public func intercept(_ context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        let path = context.path
        entries.withLock { $0[path, default: Entry()].inFlight += 1 }
        let start = MonotonicClock.nanoseconds()
        var failure: (any Error)?
        do { try await next(context) } catch { failure = error }
        let code = RPCError.status(of: failure, in: context)?.code ?? .ok
        let micros = (MonotonicClock.nanoseconds() - start) / 1000
        entries.withLock { all in
            all[path, default: Entry()].inFlight -= 1
            all[path, default: Entry()].calls += 1
            all[path, default: Entry()].codes[code, default: 0] += 1
            all[path, default: Entry()].histogram.record(micros)
        }
        if let failure { throw failure }
    }

    /// Every method seen so far, sorted by path.
    public func snapshot() -> [Snapshot] {
        entries.withLock { all in
            all.map { path, e in
                Snapshot(
                    path: path, calls: e.calls,
                    codes: Dictionary(uniqueKeysWithValues: e.codes.map { ($0.key.name, $0.value) }),
                    inFlight: e.inFlight, p50Micros: e.histogram.quantile(0.5), p99Micros: e.histogram.quantile(0.99)
                )
            }.sorted { $0.path < $1.path }
        }
    }
}

/// Latencies in logarithmic buckets (8 per power of two): constant memory, ~9% resolution.
struct LatencyHistogram {
    private var buckets = [UInt64](repeating: 0, count: 64 * 8)
    private var total: UInt64 = 0

    private static func bucket(_ v: UInt64) -> Int {
        if v < 8 { return Int(v) }
        let exponent = 63 - v.leadingZeroBitCount
        let mantissa = Int((v >> UInt64(exponent - 3)) & 7)
        return exponent * 8 + mantissa
    }

    private static func lowerBound(_ b: Int) -> UInt64 {
        if b < 8 { return UInt64(b) }
        let exponent = b / 8
        let mantissa = UInt64(b % 8)
        return (8 + mantissa) << UInt64(exponent - 3)
    }

    mutating func record(_ v: UInt64) {
        buckets[Self.bucket(v)] += 1
        total += 1
    }

    func quantile(_ q: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = UInt64((Double(total) * q).rounded(.up))
        var seen: UInt64 = 0
        for (i, c) in buckets.enumerated() where c > 0 {
            seen += c
            if seen >= max(rank, 1) { return Self.lowerBound(i) }
        }
        return 0
    }
}
