import AssaySync

/// A bounded queue between one producer and one consumer task: `send` waits while it is
/// full, so a fast reader cannot run ahead of the writer by more than `capacity` items.
final class HandOff<Item: Sendable>: Sendable {
    struct State {
        var items: [Item] = []
        var finished = false
        var receiver: CheckedContinuation<Item?, Never>?
        var senders: [CheckedContinuation<Bool, Never>] = []
    }

    let capacity: Int
    let state = Lock(State())

    init(capacity: Int) { self.capacity = capacity }

    /// Queues `item`; false when the consumer is gone.
    func send(_ item: Item) async -> Bool {
        while true {
            let outcome = state.withLock { s -> (Bool?, CheckedContinuation<Item?, Never>?) in
                if s.finished { return (false, nil) }
                if let r = s.receiver {
                    s.receiver = nil
                    return (true, r)
                }
                if s.items.count < capacity {
                    s.items.append(item)
                    return (true, nil)
                }
                return (nil, nil)
            }
            if let receiver = outcome.1 {
                receiver.resume(returning: item)
                return true
            }
            if let done = outcome.0 { return done }
            let proceed = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.finished || s.items.count < capacity { return true }
                    s.senders.append(c)
                    return false
                }
                if resumeNow { c.resume(returning: true) }
            }
            if !proceed { return false }
        }
    }

    /// The next item, or nil once finished and drained.
    func receive() async -> Item? {
        let ready = state.withLock { s -> (Item?, Bool, [CheckedContinuation<Bool, Never>]) in
            if !s.items.isEmpty {
                let item = s.items.removeFirst()
                let wake = s.senders
                s.senders = []
                return (item, true, wake)
            }
            return (nil, s.finished, [])
        }
        for w in ready.2 { w.resume(returning: true) }
        if ready.1 { return ready.0 }
        return await withCheckedContinuation { (c: CheckedContinuation<Item?, Never>) in
            let immediate = state.withLock { s -> (Bool, Item?) in
                if !s.items.isEmpty { return (true, s.items.removeFirst()) }
                if s.finished { return (true, nil) }
                s.receiver = c
                return (false, nil)
            }
            if immediate.0 { c.resume(returning: immediate.1) }
        }
    }

    /// No more items will come; a waiting receiver gets nil once the queue is empty.
    func finish() {
        let (receiver, senders) = state.withLock { s -> (CheckedContinuation<Item?, Never>?, [CheckedContinuation<Bool, Never>]) in
            s.finished = true
            let r = s.items.isEmpty ? s.receiver : nil
            if r != nil { s.receiver = nil }
            let w = s.senders
            s.senders = []
            return (r, w)
        }
        receiver?.resume(returning: nil)
        for w in senders { w.resume(returning: false) }
    }
}
