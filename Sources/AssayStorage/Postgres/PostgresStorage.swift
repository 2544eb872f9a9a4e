import AssayCore
import AssaySync

#if canImport(Glibc)
    import Glibc
#endif

/// The shared storage backend: one PostgreSQL database that several `assay serve` processes
/// use at once.
///
/// Every libpq call runs on a thread of a bounded pool (`PostgresPool`), never on the
/// cooperative pool. Writes are transactions at the isolation each needs (READ COMMITTED
/// plus row locks for most; advisory locks where a check guards money or a queue), retried
/// when PostgreSQL reports a serialisation failure or deadlock; reads are read-only
/// REPEATABLE READ transactions, so a read of several statements sees one snapshot.
///
/// What SQLite gets from its single writer, this backend gets from the database: ingest of
/// overlapping global keys through several servers leaves one row per key (the unique index
/// and `ON CONFLICT`), run rows are claimed under leases (`FOR UPDATE SKIP LOCKED`), and
/// closing a billing cycle, admitting a run or claiming a review task is serialised per
/// organisation or project by an advisory lock held to the end of the transaction.
public final class PostgresStorage: Storage {
    /// Connections (and threads) when the caller does not say.
    public static let defaultPoolSize = 8

    private let pool: PostgresPool
    /// Data row ids and cursors (see `RowIDCipher`).
    let rowIDs: RowIDCipher
    private let closed = Lock(false)
    /// Leases this process believes it holds are named with this (see `claimRunRows`).
    public let serverID: String

    /// A database `temporary(url:)` made, dropped on close: (server URL, database name).
    private let dropOnClose: (url: String, database: String)?

    private init(pool: PostgresPool, rowIDs: RowIDCipher, serverID: String, dropOnClose: (url: String, database: String)? = nil) {
        self.pool = pool
        self.rowIDs = rowIDs
        self.serverID = serverID
        self.dropOnClose = dropOnClose
    }

    deinit {
        if !closed.withLock({ $0 }) { pool.stopEventually() }
    }

    /// A fresh, empty database on the server at `url` (tests and trials), dropped when the
    /// storage is closed.
    package static func temporary(url: String, poolSize: Int = 4) async throws(StorageError) -> PostgresStorage {
        let name = "assay_tmp_" + ObjectID.random("db").rawValue.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
        try await administer(url: url, "CREATE DATABASE \(name)")
        do throws(StorageError) {
            return try await open(url: Self.url(url, database: name), poolSize: poolSize, dropOnClose: (url, name))
        } catch {
            try? await administer(url: url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
    }

    /// `url` naming `database` instead (a later `dbname` wins in libpq's parsing).
    package static func url(_ url: String, database: String) -> String {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return url + (url.contains("?") ? "&" : "?") + "dbname=\(database)"
        }
        return url + " dbname=\(database)"
    }

    /// Runs one statement outside a transaction on a connection of its own (CREATE and DROP
    /// DATABASE cannot run in one).
    package static func administer(url: String, _ sql: String) async throws(StorageError) {
        let pool = try PostgresPool(url: withDefaults(url), size: 1)
        defer { pool.stopEventually() }
        try await pool.perform { connection throws(StorageError) in try connection.exec(sql) }
    }

    /// Connects to the database at `url` (a libpq URL or connection string) with a pool of
    /// `poolSize` connections and brings the schema up to date. `unavailable` when the
    /// database cannot be reached; `failedPrecondition` when a newer Assay wrote it.
    public static func open(url: String, poolSize: Int = defaultPoolSize) async throws(StorageError) -> PostgresStorage {
        try await open(url: url, poolSize: poolSize, dropOnClose: nil)
    }

    private static func open(
        url: String, poolSize: Int, dropOnClose: (url: String, database: String)?
    ) async throws(StorageError) -> PostgresStorage {
        let pool = try PostgresPool(url: withDefaults(url), size: max(1, poolSize))
        do throws(StorageError) {
            let rowIDs = try await pool.perform { connection throws(StorageError) in
                try PostgresSchema.migrate(connection)
                return try PostgresSchema.rowIDCipher(connection)
            }
            var host = [CChar](repeating: 0, count: 256)
            gethostname(&host, host.count - 1)
            let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return PostgresStorage(
                pool: pool, rowIDs: rowIDs, serverID: "\(name)-\(getpid())-\(ObjectID.random("srv").rawValue)", dropOnClose: dropOnClose)
        } catch {
            await pool.stop()
            throw error
        }
    }

    /// Adds a connect timeout (and keepalives) unless the URL sets them, so an unreachable
    /// database fails calls with `unavailable` in seconds rather than hanging a pool thread.
    static func withDefaults(_ url: String) -> String {
        let isURL = url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
        var extra: [String] = []
        if !url.contains("connect_timeout") { extra.append("connect_timeout=5") }
        if !url.contains("keepalives_idle") { extra.append("keepalives_idle=30") }
        if !url.contains("application_name") { extra.append("application_name=assay") }
        guard !extra.isEmpty else { return url }
        if isURL { return url + (url.contains("?") ? "&" : "?") + extra.joined(separator: "&") }
        return url + " " + extra.joined(separator: " ")
    }

    /// Waits for queued work, then closes every connection. Later calls fail with `unavailable`.
    public func close() async {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        await pool.stop()
        if let (url, database) = dropOnClose {
            try? await Self.administer(url: url, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }

    /// How many connections this store may open.
    public var poolSize: Int { pool.size }

    /// The schema version recorded in the database, for tests and diagnostics.
    package func schemaVersion() async throws(StorageError) -> Int {
        try await pool.perform { connection throws(StorageError) in try PostgresSchema.version(connection) }
    }

    /// The version this build writes.
    package static var currentSchemaVersion: Int { PostgresSchema.currentVersion }

    // MARK: running work

    /// Runs `body` in a read-only snapshot (REPEATABLE READ READ ONLY).
    func read<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        try await transaction(.repeatableRead, readOnly: true, body)
    }

    /// Runs `body` in one read-write transaction at `isolation`.
    func write<T: Sendable>(
        _ isolation: PostgresIsolation = .readCommitted,
        _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        try await transaction(isolation, readOnly: false, body)
    }

    /// How often a transaction is tried when PostgreSQL aborts it for a serialisation
    /// failure or a deadlock (the work was rolled back, so trying again is safe).
    static let attempts = 5

    private func transaction<T: Sendable>(
        _ isolation: PostgresIsolation, readOnly: Bool,
        _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await pool.perform { connection throws(StorageError) in
                    try connection.transaction(isolation, readOnly: readOnly) { () throws(StorageError) in try body(connection) }
                }
            } catch {
                // Serialisation failures, deadlocks and connections found broken before the
                // transaction began are tried again: nothing of the attempt was committed.
                guard attempt < Self.attempts, case .retry = Self.retryKind(error) else { throw error }
                if attempt > 1 { try? await Task.sleep(for: .milliseconds(attempt * 10)) }
            }
        }
    }

    private enum RetryKind { case retry, fail }

    private static func retryKind(_ error: StorageError) -> RetryKind {
        if case .unavailable(let message) = error, message.hasPrefix(PostgresConnection.retryable) { return .retry }
        return .fail
    }

    /// Now, in microseconds since the epoch.
    static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(ts.tv_sec) * 1_000_000 + Timestamp(ts.tv_nsec / 1_000)
    }
}
