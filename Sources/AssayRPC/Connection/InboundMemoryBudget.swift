import Synchronization

/// The bytes of inbound frames a server holds for all its connections together: bodies being
/// received (a frame's whole announced length, reserved when its header arrives) and messages
/// received but not yet taken by their handlers.
///
/// Each connection is bounded on its own by its windows (`connection window + max frame
/// size`), but thousands of connections times that is more than a machine has. The budget
/// caps the sum. When a frame would go over it, the frame is **refused, never waited for**:
/// its body is skipped as it arrives, a DATA frame fails its call and a HEADERS frame is
/// answered, both with RESOURCE_EXHAUSTED and a `retry-after-ms` hint; a control frame of
/// more than `smallFrameBytes` ends the connection. Pausing reads instead would be gentler
/// but can deadlock: the bytes that would free the budget may be the ones behind the pause
/// (a handler on one connection waiting for a worker's answer on another). Small control
/// frames (PING, WINDOW_UPDATE, SETTINGS) are always admitted and still counted, so a full
/// budget never stops keepalives or flow control.
public final class InboundMemoryBudget: Sendable {
    /// The most bytes held at once; 0 means no limit (bytes are still counted).
    public let capacity: Int
    /// Control frames up to this size are admitted even when the budget is spent.
    public static let smallFrameBytes = 256
    /// The retry hint sent with a refusal: buffered messages are usually taken in milliseconds.
    public static let retryAfterMilliseconds = 200

    private let used = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)

    public init(capacity: Int) {
        precondition(capacity >= 0, "a budget cannot be negative")
        self.capacity = capacity
    }

    /// Bytes held right now.
    public var bufferedBytes: Int { used.load(ordering: .relaxed) }

    /// The most bytes held at once since the start.
    public var peakBufferedBytes: Int { peak.load(ordering: .relaxed) }

    /// Frames refused since the start.
    public var refusedFrames: Int { refusals.load(ordering: .relaxed) }

    /// Takes `count` bytes if they fit; false (and one more refusal counted) if they do not.
    func reserve(_ count: Int) -> Bool {
        if capacity == 0 {
            recordPeak(used.wrappingAdd(count, ordering: .relaxed).newValue)
            return true
        }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + count <= capacity else {
                refusals.wrappingAdd(1, ordering: .relaxed)
                return false
            }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + count, ordering: .relaxed)
            if exchanged {
                recordPeak(current + count)
                return true
            }
            current = original
        }
    }

    /// Takes `count` bytes whether or not they fit (small control frames).
    func forceReserve(_ count: Int) {
        recordPeak(used.wrappingAdd(count, ordering: .relaxed).newValue)
    }

    private func recordPeak(_ held: Int) {
        var seen = peak.load(ordering: .relaxed)
        while held > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: held, ordering: .relaxed)
            if exchanged { return }
            seen = original
        }
    }

    /// Gives back bytes taken by `reserve` or `forceReserve`.
    func release(_ count: Int) {
        guard count > 0 else { return }
        used.wrappingSubtract(count, ordering: .relaxed)
    }

    /// The status a refused frame's call ends with.
    var refusal: RPCError {
        RetryHint.resourceExhausted(
            "the server is holding its limit of \(capacity) bytes of received messages; retry shortly",
            retryAfterMilliseconds: Self.retryAfterMilliseconds)
    }
}

/// The trailing metadata that tells a client refused with RESOURCE_EXHAUSTED when to retry.
public enum RetryHint {
    /// `retry-after-ms`: decimal milliseconds after which the same call may succeed.
    public static let metadataKey = "retry-after-ms"

    /// RESOURCE_EXHAUSTED with `message` and a hint to retry after `milliseconds`.
    public static func resourceExhausted(_ message: String, retryAfterMilliseconds milliseconds: Int) -> RPCError {
        RPCError(.resourceExhausted, message, metadata: [metadataKey: String(max(1, milliseconds))])
    }

    /// The hint in `metadata`, if there is a well-formed one.
    public static func milliseconds(in metadata: Metadata) -> Int? {
        metadata[metadataKey].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}
