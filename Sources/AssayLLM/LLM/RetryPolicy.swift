public import AssayModels
/// How an LLM client retries a failed exchange: connection errors, timeouts, 5xx and 429 are
/// retried with exponential backoff; any other 4xx is the request's fault and is not.
public struct RetryPolicy: Hashable, Sendable {
    /// Retries after the first attempt (0: one attempt only).
    public var retries: Int
    /// The wait before the first retry; it doubles for each further one.
    public var initialBackoff: Duration
    /// No wait exceeds this (also caps a server's Retry-After).
    public var maximumBackoff: Duration

    public init(retries: Int = 3, initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(30)) {
        self.retries = max(0, retries)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    public static let none = RetryPolicy(retries: 0)

    /// The wait before retry number `retry` (1-based): initial × 2^(retry-1), with up to 25%
    /// random jitter taken off so that clients that failed together do not retry together,
    /// capped at the maximum. A server's Retry-After, when given, is honoured up to the cap.
    public func backoff(beforeRetry retry: Int, retryAfter: Duration? = nil) -> Duration {
        if let retryAfter { return min(retryAfter, maximumBackoff) }
        let exponent = min(max(retry - 1, 0), 30)
        let full = min(initialBackoff * (1 << exponent), maximumBackoff)
        let jitter = Double.random(in: 0.75...1.0)
        return full * jitter
    }

    /// Whether an answer with this HTTP status is worth another attempt.
    public static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }
}
