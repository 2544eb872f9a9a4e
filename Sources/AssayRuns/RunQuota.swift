public import AssayCore
import AssayRPC
public import AssayStorage
import AssaySync

/// How many runs an organisation may have queued or running at once.
public struct RunQuota: Sendable, Hashable {
    /// Queued plus running runs per organisation; 0 = no quota.
    public var maxActiveRuns: Int
    /// The `retry-after-ms` hint of a refusal: runs take seconds to minutes, so retrying at
    /// once is pointless.
    public var retryAfterMilliseconds: Int

    public init(maxActiveRuns: Int = 0, retryAfterMilliseconds: Int = 5000) {
        self.maxActiveRuns = maxActiveRuns
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}

/// Admits new runs under a `RunQuota`: counts the organisation's queued and running runs in
/// the store and refuses with RESOURCE_EXHAUSTED (and a `retry-after-ms` hint) when they are
/// at the quota.
///
/// Check and creation happen in one turn per organisation on this server, so concurrent
/// creates cannot both take the last place. Servers sharing one PostgreSQL database each take
/// their own turns, so together they may overshoot by at most one run per server.
public final class RunAdmission: Sendable {
    public let quota: RunQuota
    let store: any RunStore

    private struct Turns {
        /// Organisations with a create in progress, and who waits after it.
        var waiting: [ObjectID: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let turns = Lock(Turns())

    public init(quota: RunQuota, store: any RunStore) {
        self.quota = quota
        self.store = store
    }

    /// Runs `create` (which stores the new run) if the organisation is under its quota.
    /// `requestID`: a repeated request returns its run through `create` even at the quota.
    public func admit<T: Sendable>(
        organization: ObjectID, requestID: String, _ create: () async throws -> T
    ) async throws -> T {
        guard quota.maxActiveRuns > 0 else { return try await create() }
        await takeTurn(organization)
        defer { passTurn(organization) }
        if !requestID.isEmpty, try await store.run(organization: organization, requestID: requestID) != nil {
            return try await create()
        }
        let active = try await store.activeRunCount(organization: organization)
        if active >= quota.maxActiveRuns {
            throw RetryHint.resourceExhausted(
                "this organisation has \(active) runs queued or running, its quota is \(quota.maxActiveRuns);"
                    + " retry once one has finished",
                retryAfterMilliseconds: quota.retryAfterMilliseconds)
        }
        return try await create()
    }

    private func takeTurn(_ organization: ObjectID) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = turns.withLock { t -> Bool in
                if t.waiting[organization] == nil {
                    t.waiting[organization] = []
                    return true
                }
                t.waiting[organization]!.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func passTurn(_ organization: ObjectID) {
        let next = turns.withLock { t -> CheckedContinuation<Void, Never>? in
            guard var queue = t.waiting[organization], !queue.isEmpty else {
                t.waiting[organization] = nil
                return nil
            }
            let first = queue.removeFirst()
            t.waiting[organization] = queue
            return first
        }
        next?.resume()
    }
}
