public import AssayCore
import AssaySync

/// Claims on run rows. One process owns a SQLite database, so leases live in memory: a
/// restart ends every lease, exactly as the death of their holder should.
extension SQLiteStorage {
    public func claimRunRows(organization: ObjectID, run: ObjectID, server: String, limit: Int, now: Timestamp, leaseUntil: Timestamp)
        async throws(StorageError) -> [PendingRunRow]
    {
        let current = try await self.run(organization: organization, id: run)
        guard !current.state.isTerminal else { return [] }
        let limit = max(1, limit)
        var claimed: [PendingRunRow] = []
        var after: Int64 = 0
        while claimed.count < limit {
            let page = try await pendingRunRows(organization: organization, run: run, after: after, limit: limit * 2)
            guard let last = page.last else { break }
            after = last.position
            let free = runLeases.claim(run: run, rows: page, server: server, limit: limit - claimed.count, now: now, until: leaseUntil)
            claimed += free
        }
        return claimed
    }

    @discardableResult
    public func renewRunRowLeases(organization: ObjectID, run: ObjectID, server: String, leaseUntil: Timestamp) async throws(StorageError)
        -> Int
    {
        _ = try await self.run(organization: organization, id: run)
        return runLeases.renew(run: run, server: server, until: leaseUntil)
    }

    public func releaseRunRows(organization: ObjectID, run: ObjectID, server: String) async throws(StorageError) {
        _ = try await self.run(organization: organization, id: run)
        runLeases.release(run: run, server: server)
    }
}

/// Leases on pending run rows held in memory: run -> position -> (holder, until). Entries of
/// rows recorded since are dropped when their lease ends.
final class RunLeaseTable: Sendable {
    private struct Lease {
        var server: String
        var until: Timestamp
    }

    private let leases = Lock<[ObjectID: [Int64: Lease]]>([:])

    /// The rows of `rows` that are free at `now`, up to `limit`, leased to `server`.
    func claim(run: ObjectID, rows: [PendingRunRow], server: String, limit: Int, now: Timestamp, until: Timestamp) -> [PendingRunRow] {
        leases.withLock { table in
            var held = table[run, default: [:]]
            held = held.filter { $0.value.until >= now }
            var claimed: [PendingRunRow] = []
            for row in rows where claimed.count < limit && held[row.position] == nil {
                held[row.position] = Lease(server: server, until: until)
                claimed.append(row)
            }
            table[run] = held.isEmpty ? nil : held
            return claimed
        }
    }

    func renew(run: ObjectID, server: String, until: Timestamp) -> Int {
        leases.withLock { table in
            var count = 0
            for (position, lease) in table[run] ?? [:] where lease.server == server {
                table[run]?[position]?.until = until
                count += 1
            }
            return count
        }
    }

    func release(run: ObjectID, server: String) {
        leases.withLock { table in
            table[run] = table[run]?.filter { $0.value.server != server }
            if table[run]?.isEmpty == true { table[run] = nil }
        }
    }
}
