public import AssayModels
import AssaySync

/// At most `limit` holders at once; the others wait in order, without holding a thread.
/// A waiter whose task is cancelled leaves the queue and gets `CancellationError`.
final class ConcurrencyLimit: Sendable {
    private struct State {
        var available: Int
        var nextID: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }
    private let state: Lock<State>
    let limit: Int

    init(_ limit: Int) {
        self.limit = max(1, limit)
        state = Lock(State(available: max(1, limit)))
    }

    /// Runs `body` while holding one slot.
    func withSlot<T: Sendable, E: Error>(_ body: () async throws(E) -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: UInt64? = state.withLock { s in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if Task.isCancelled { return true }
                    // A slot may have come free between the check above and now.
                    if s.available > 0 {
                        s.available -= 1
                        continuation.resume()
                        return false
                    }
                    s.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let removed = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            removed?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
