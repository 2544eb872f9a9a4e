import AssayCore
public import AssayRPC
import AssayTransport
import AssaySync

/// How many calls an organisation may start: `perSecond` on average, up to `burst` at once.
public struct RequestRate: Sendable, Hashable {
    /// Calls per second an organisation may keep up (1 to 1,000,000).
    public var perSecond: Int
    /// Calls it may make at once after a quiet spell (1 to 1,000,000).
    public var burst: Int

    public init(perSecond: Int, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The largest rate and burst accepted: their product with a nanosecond clock stays in 64 bits.
    public static let maximum = 1_000_000

    /// Nil when both are within 1...`maximum`, else what is wrong.
    public var problem: String? {
        if perSecond < 1 || perSecond > Self.maximum {
            return "the request rate must be 1 to \(Self.maximum) per second"
        }
        if burst < 1 || burst > Self.maximum { return "the request burst must be 1 to \(Self.maximum)" }
        return nil
    }
}

/// A token bucket per organisation, in integers: a bucket holds up to `burst` tokens counted
/// in billionths, refills at `perSecond` tokens a second (that is, `perSecond` billionths a
/// nanosecond), and a call takes one whole token.
struct TokenBuckets {
    static let scale = 1_000_000_000

    struct Bucket {
        var tokens: Int
        var updated: UInt64
    }

    let rate: RequestRate
    private(set) var buckets: [ObjectID: Bucket] = [:]
    /// Buckets kept before the full (idle) ones are forgotten.
    let maxBuckets: Int

    init(rate: RequestRate, maxBuckets: Int = 100_000) {
        self.rate = rate
        self.maxBuckets = maxBuckets
    }

    var capacity: Int { rate.burst * Self.scale }

    /// Takes a token for `key` at `now`: nil when granted, else the milliseconds until one is there.
    mutating func take(_ key: ObjectID, now: UInt64) -> Int? {
        var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
        bucket = refilled(bucket, now: now)
        defer {
            buckets[key] = bucket
            if buckets.count > maxBuckets { forgetFull(now: now) }
        }
        if bucket.tokens >= Self.scale {
            bucket.tokens -= Self.scale
            return nil
        }
        let missing = Self.scale - bucket.tokens
        let nanoseconds = (missing + rate.perSecond - 1) / rate.perSecond
        return max(1, (nanoseconds + 999_999) / 1_000_000)
    }

    private func refilled(_ bucket: Bucket, now: UInt64) -> Bucket {
        guard now > bucket.updated else { return bucket }
        // Past the time to fill an empty bucket the answer is "full": clamping keeps the
        // product small (elapsed × rate ≤ capacity + rate ≤ 10^15 + 10^6, far within 64 bits).
        let toFill = UInt64(capacity / rate.perSecond + 1)
        let elapsed = Int(min(now - bucket.updated, toFill))
        return Bucket(tokens: min(capacity, bucket.tokens + elapsed * rate.perSecond), updated: now)
    }

    private mutating func forgetFull(now: UInt64) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < capacity }
    }
}

/// Refuses calls beyond an organisation's request rate with RESOURCE_EXHAUSTED and a
/// `retry-after-ms` hint (`RetryHint`). It runs after authentication and counts every call
/// of an authenticated caller, whatever its method; calls without a caller (health checks, or
/// ones authentication already refused) are not counted.
public final class RequestRateLimiter: ServerInterceptor {
    public let rate: RequestRate
    private let buckets: Lock<TokenBuckets>
    private let now: @Sendable () -> UInt64

    /// `now` is a monotonic clock in nanoseconds (nil: the system's; tests pass their own).
    public init(rate: RequestRate, now: (@Sendable () -> UInt64)? = nil) {
        precondition(rate.problem == nil, rate.problem ?? "")
        self.rate = rate
        self.buckets = Lock(TokenBuckets(rate: rate))
        self.now = now ?? { MonotonicClock.nanoseconds() }
    }

    public func intercept(_ context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        guard let caller = context.get(CallerIdentity.self)?.principal as? Caller else {
            return try await next(context)
        }
        let at = now()
        if let wait = buckets.withLock({ $0.take(caller.organizationID, now: at) }) {
            throw RetryHint.resourceExhausted(
                "this organisation is over its request rate (\(rate.perSecond) calls a second,"
                    + " bursts of \(rate.burst)); retry after \(wait) ms",
                retryAfterMilliseconds: wait)
        }
        try await next(context)
    }
}
