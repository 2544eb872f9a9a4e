import AssaySync
import AssayTransport
/// The state of one call on a connection. Every field is guarded by the owning
/// `FramedConnection`'s lock; call objects keep a reference so they can finish reading after
/// the connection has forgotten the stream.
final class StreamRecord: @unchecked Sendable {
    // @unchecked: all mutable fields are read and written only while holding the owning
    // connection's lock (see FramedConnection.state).
    let id: UInt32
    /// Messages received and not yet taken, from `inboundHead` on.
    var inbound: [[UInt8]] = []
    var inboundHead = 0
    var inboundBytes = 0
    /// The peer sends nothing more (END_STREAM seen, or TRAILERS for a client).
    var remoteEnded = false
    /// Set when the stream was abandoned: cancelled, deadline, connection lost, reset.
    var failure: RPCError?
    var receiveWaiter: CheckedContinuation<[UInt8]?, any Error>?
    /// DATA bytes we may still send before the peer grants more (may go negative).
    var sendWindow: Int
    var sendWaiter: CheckedContinuation<Void, any Error>?
    /// DATA bytes the peer may still send us.
    var receiveWindow: Int
    var pendingCredit = 0
    /// We sent our last frame (END_STREAM, TRAILERS, or CANCEL).
    var localEnded = false
    /// Client side: a CANCEL went out for this stream.
    var cancelSent = false
    /// Client side: what the TRAILERS said.
    var status: RPCError?
    var trailers = Metadata()
    /// Server side: the handler's task, while it runs, so a CANCEL or a deadline can cancel it.
    /// Behind a lock of its own, never taken with the connection's: cancelling runs the task's
    /// cancellation handlers, which take the connection's lock. The handler clears it (under
    /// this lock) before it returns, so a task is only ever cancelled while it is alive.
    private let task = Lock<TaskHandle?>(nil)

    /// An `UnsafeCurrentTask` that may cross threads: the attach/detach protocol above keeps
    /// it from outliving its task.
    struct TaskHandle: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    func attachTask(_ t: UnsafeCurrentTask?) {
        let handle = t.map(TaskHandle.init)
        task.withLock { $0 = handle }
    }
    func detachTask() { task.withLock { $0 = nil } }
    /// Cancels the handler's task, if it still runs. Call without the connection's lock.
    func cancelTask() { task.withLock { $0?.task.cancel() } }
    var deadlineTimer: ScheduledTimer?
    var deadlineExpired = false

    init(id: UInt32, sendWindow: Int, receiveWindow: Int) {
        self.id = id
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
    }

    var hasInbound: Bool { inboundHead < inbound.count }

    func popInbound() -> [UInt8] {
        let message = inbound[inboundHead]
        inbound[inboundHead] = []
        inboundHead += 1
        inboundBytes -= message.count
        if inboundHead == inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundHead = 0
        } else if inboundHead >= 64 && inboundHead * 2 >= inbound.count {
            inbound.removeFirst(inboundHead)
            inboundHead = 0
        }
        return message
    }
}

/// Continuations to resume once the connection's lock is released.
struct Wakeups {
    var receives: [(CheckedContinuation<[UInt8]?, any Error>, Result<[UInt8]?, RPCError>)] = []
    var sends: [(CheckedContinuation<Void, any Error>, RPCError?)] = []
    var pings: [CheckedContinuation<Void, any Error>] = []
    /// Streams whose handler task must be cancelled.
    var cancellations: [StreamRecord] = []
    var pingFailures: [CheckedContinuation<Void, any Error>] = []

    var isEmpty: Bool { receives.isEmpty && sends.isEmpty && pings.isEmpty && pingFailures.isEmpty && cancellations.isEmpty }

    func run() {
        for stream in cancellations { stream.cancelTask() }
        for (c, r) in receives {
            switch r {
            case .success(let m): c.resume(returning: m)
            case .failure(let e): c.resume(throwing: e)
            }
        }
        for (c, e) in sends {
            if let e { c.resume(throwing: e) } else { c.resume() }
        }
        for c in pings { c.resume() }
        for c in pingFailures { c.resume(throwing: RPCError(.unavailable, "the connection closed")) }
    }
}
