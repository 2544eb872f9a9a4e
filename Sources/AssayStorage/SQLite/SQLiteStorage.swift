public import AssayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded storage backend: one SQLite file in WAL mode.
///
/// Every sqlite3 call runs on a dedicated thread, never on the cooperative pool: one writer
/// thread owns the only connection that writes (SQLite allows one writer at a time, so a
/// serial queue is the honest shape), and a few reader threads each own a read-only
/// connection, reading concurrently with the writer thanks to WAL.
///
/// Checkpoints (copying the WAL into the database file) run on a third thread with its own
/// connection, so the writer only appends to the WAL: during an ingest that halves the
/// writer's I/O. If that thread falls far behind, the writer checkpoints itself, which
/// bounds the WAL.
///
/// Durability: `synchronous=NORMAL` in WAL mode means a call that returned has committed to
/// the WAL, so it survives the process crashing or being killed (SIGKILL); a power loss or
/// kernel crash may lose the last transactions before the next checkpoint, never corrupt the
/// file.
public final class SQLiteStorage: Storage {
    /// How many read connections (and threads) to keep; reads are short, two suffice on a
    /// small machine while the writer ingests.
    static let readerCount = 2

    private let writer: ConnectionThread
    private let readers: ReaderPool
    private let checkpointer: ConnectionThread
    /// True while a checkpoint is queued or running on `checkpointer`.
    private let checkpointQueued = Atomic(false)
    /// WAL frames (pages) after which a commit asks for a checkpoint: 16 MiB of 4 KiB pages.
    static let checkpointFrames = 4_096
    /// Data row ids and cursors (see `RowIDCipher`).
    let rowIDs: RowIDCipher
    private let path: String
    private let removeOnClose: Bool
    private let closed = Mutex(false)

    private init(
        writer: ConnectionThread, readers: ReaderPool, checkpointer: ConnectionThread, rowIDs: RowIDCipher, path: String,
        removeOnClose: Bool
    ) {
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.rowIDs = rowIDs
        self.path = path
        self.removeOnClose = removeOnClose
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Fails with `failedPrecondition` when the file was written by a newer Assay.
    public static func open(path: String) async throws(StorageError) -> SQLiteStorage {
        try await open(path: path, removeOnClose: false)
    }

    /// A throwaway database for tests and trials. WAL needs a real file (a shared-cache
    /// memory database locks whole tables instead), so this is a private file in the temp
    /// directory, deleted with its WAL when the storage is closed.
    public static func inMemory() async throws(StorageError) -> SQLiteStorage {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        return try await open(path: "\(directory)/assay-\(ObjectID.random("db").rawValue).sqlite", removeOnClose: true)
    }

    private static func open(path: String, removeOnClose: Bool) async throws(StorageError) -> SQLiteStorage {
        let writer = try await ConnectionThread.start { () throws(StorageError) in
            let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
            do throws(StorageError) {
                try configureWriter(connection)
                try Schema.migrate(connection)
            } catch {
                connection.close()
                throw error
            }
            return connection
        }
        var readers: [ConnectionThread] = []
        var checkpointer: ConnectionThread?
        let rowIDs: RowIDCipher
        do throws(StorageError) {
            rowIDs = try await writer.perform { connection throws(StorageError) in try Schema.rowIDCipher(connection) }
            checkpointer = try await ConnectionThread.start { () throws(StorageError) in
                let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
                // A connection learns the file is in WAL mode on its first read; until then
                // it would take checkpoint requests for no-ops.
                let mode = try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) }
                guard mode == "wal" else { throw StorageError.internal("checkpointer sees journal mode \(mode ?? "none")") }
                return connection
            }
            for _ in 0..<readerCount {
                readers.append(
                    try await ConnectionThread.start { () throws(StorageError) in
                        let connection = try SQLiteConnection.open(path: path, mode: .readOnly)
                        // 16 MiB of page cache per reader.
                        try connection.exec("PRAGMA cache_size = -16384")
                        return connection
                    })
            }
        } catch {
            for reader in readers { await reader.stop() }
            await checkpointer?.stop()
            await writer.stop()
            throw error
        }
        return SQLiteStorage(
            writer: writer, readers: ReaderPool(threads: readers), checkpointer: checkpointer!, rowIDs: rowIDs, path: path,
            removeOnClose: removeOnClose)
    }

    private static func configureWriter(_ connection: SQLiteConnection) throws(StorageError) {
        let mode = try connection.queryFirst("PRAGMA journal_mode = WAL") { $0.text(0) }
        guard mode?.lowercased() == "wal" else {
            throw StorageError.internal("\(connection.path) cannot use WAL (journal mode is \(mode ?? "unknown"))")
        }
        // NORMAL in WAL: commits survive a process crash, a power loss may drop the last ones.
        // 64 MiB of page cache keeps the indexes of a large ingest in memory; the WAL file is
        // cut back to 64 MiB after it was reset. Checkpoints are this type's business.
        try connection.exec(
            """
            PRAGMA synchronous = NORMAL;
            PRAGMA cache_size = -65536;
            PRAGMA temp_store = MEMORY;
            PRAGMA journal_size_limit = 67108864;
            """)
        connection.trackWAL()
    }

    /// Waits for the work already handed to the database threads, then closes every
    /// connection (the writer last, so SQLite checkpoints and removes the WAL). Calls made
    /// after this fail with `unavailable`.
    public func close() async {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        await readers.stop()
        await checkpointer.stop()
        // The last connection to close checkpoints everything and removes the WAL.
        await writer.stop()
        if removeOnClose {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
        }
    }

    /// The schema version recorded in the file, for tests and diagnostics.
    package func schemaVersion() async throws(StorageError) -> Int {
        try await read { connection throws(StorageError) in try Schema.version(connection) }
    }

    /// The version this build writes.
    package static var currentSchemaVersion: Int { Schema.currentVersion }

    // MARK: running work

    /// Runs `body` on a reader thread.
    func read<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        try await readers.perform(body)
    }

    /// Runs `body` on the writer thread inside one transaction.
    func write<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        try await writer.perform { connection throws(StorageError) in
            let result = try connection.transaction { () throws(StorageError) in try body(connection) }
            self.checkpointIfNeeded(writer: connection)
            return result
        }
    }

    /// Checkpoints now on the checkpointer's thread and waits for it (tests, backups).
    func checkpoint() async throws(StorageError) {
        try await checkpointer.perform { connection throws(StorageError) in try connection.checkpoint() }
    }

    /// After a commit (on the writer thread): queues a checkpoint once the WAL has grown past
    /// `checkpointFrames`, and checkpoints right here if it has grown past eight times that,
    /// which means the checkpointer cannot keep up.
    private func checkpointIfNeeded(writer connection: SQLiteConnection) {
        let frames = connection.walFrames
        if frames >= Self.checkpointFrames * 8 {
            try? connection.checkpoint()
        } else if frames >= Self.checkpointFrames, !checkpointQueued.exchange(true, ordering: .acquiringAndReleasing) {
            let queued = checkpointer.submit { [self] connection in
                // A failed checkpoint is retried after the next commit; the file stays consistent.
                try? connection.checkpoint()
                checkpointQueued.store(false, ordering: .releasing)
            }
            if !queued { checkpointQueued.store(false, ordering: .releasing) }
        }
    }

    /// Now, in microseconds since the epoch.
    static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(ts.tv_sec) * 1_000_000 + Timestamp(ts.tv_nsec / 1_000)
    }

    // MARK: organisations and keys

    public func createOrganization(name: String) async throws(StorageError) -> Organization {
        let organization = Organization(id: .random("org"), name: name, createdAt: Self.now())
        _ = try await write { connection throws(StorageError) in
            try connection.run(
                "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                [.text(organization.id.rawValue), .text(name), .integer(organization.createdAt)])
        }
        return organization
    }

    public func organization(_ id: ObjectID) async throws(StorageError) -> Organization {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst("SELECT name, created_at FROM organizations WHERE id = ?", [.text(id.rawValue)]) {
                Organization(id: id, name: $0.text(0), createdAt: $0.int64(1))
            }
        }
        guard let found else { throw .notFound("organization \(id)") }
        return found
    }

    public func insertKey(_ key: APIKey) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(key.organizationID) else {
                throw .notFound("organization \(key.organizationID)")
            }
            do throws(StorageError) {
                try connection.run(
                    """
                    INSERT INTO api_keys (id, org, name, role, prefix, hash, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(key.id.rawValue), .integer(org), .text(key.name), .text(key.role.rawValue),
                        .text(key.prefix), .blob(key.hash), .integer(key.createdAt), .optionalInteger(key.revokedAt),
                    ])
            } catch .alreadyExists {
                throw .alreadyExists("an API key with id \(key.id) or the same hash")
            }
        }
    }

    private static let keyColumns = """
        SELECT k.id, o.id, k.name, k.role, k.prefix, k.hash, k.created_at, k.revoked_at
        FROM api_keys k JOIN organizations o ON o.seq = k.org
        """

    private static func decodeKey(_ s: SQLiteStatement) throws(StorageError) -> APIKey {
        guard let role = Role(rawValue: s.text(3)) else { throw .internal("stored API key has unknown role \(s.text(3))") }
        return APIKey(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2), role: role,
            prefix: s.text(4), hash: s.blob(5), createdAt: s.int64(6), revokedAt: s.optionalInt64(7))
    }

    public func key(hash: [UInt8]) async throws(StorageError) -> APIKey? {
        try await read { connection throws(StorageError) in
            try connection.queryFirst(Self.keyColumns + " WHERE k.hash = ?", [.blob(hash)], Self.decodeKey)
        }
    }

    public func keys(organization: ObjectID) async throws(StorageError) -> [APIKey] {
        try await read { connection throws(StorageError) in
            try connection.query(Self.keyColumns + " WHERE o.id = ? ORDER BY k.seq", [.text(organization.rawValue)], Self.decodeKey)
        }
    }

    public func revokeKey(organization: ObjectID, id: ObjectID, at: Timestamp) async throws(StorageError) {
        let changed = try await write { connection throws(StorageError) in
            // A key revoked twice keeps its first revocation time.
            try connection.run(
                """
                UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)
                WHERE id = ? AND org = (SELECT seq FROM organizations WHERE id = ?)
                """,
                [.integer(at), .text(id.rawValue), .text(organization.rawValue)])
        }
        guard changed == 1 else { throw .notFound("API key \(id)") }
    }

    public func isEmpty() async throws(StorageError) -> Bool {
        try await read { connection throws(StorageError) in
            try connection.queryFirst("SELECT NOT EXISTS (SELECT 1 FROM organizations)") { $0.int(0) == 1 } ?? true
        }
    }
}

extension SQLiteConnection {
    /// The internal number of organisation `id`, or nil when there is none.
    func organizationSeq(_ id: ObjectID) throws(StorageError) -> Int64? {
        try queryFirst("SELECT seq FROM organizations WHERE id = ?", [.text(id.rawValue)]) { $0.int64(0) }
    }
}
