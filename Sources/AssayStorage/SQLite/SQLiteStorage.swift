import AssayCore
import Synchronization
import AssaySync

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
    /// The WAL's size when the last checkpoint was asked for (touched on the writer thread).
    private let checkpointAskedAt = Atomic(0)
    /// WAL frames (pages) after which a commit asks for a checkpoint.
    let checkpointFrames: Int
    /// The page size of a new database file, in bytes.
    static let pageSize = 16_384
    /// The default `checkpointFrames`: 16 MiB of pages.
    static let defaultCheckpointFrames = 16 << 20 / pageSize
    /// Data row ids and cursors (see `RowIDCipher`).
    let rowIDs: RowIDCipher
    private let path: String
    private let removeOnClose: Bool
    private let closed = Lock(false)
    /// Which server holds which pending run rows (see `claimRunRows`).
    let runLeases = RunLeaseTable()

    private init(
        writer: ConnectionThread, readers: ReaderPool, checkpointer: ConnectionThread, rowIDs: RowIDCipher,
        path: String,
        removeOnClose: Bool, checkpointFrames: Int
    ) {
        self.checkpointFrames = checkpointFrames
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.rowIDs = rowIDs
        self.path = path
        self.removeOnClose = removeOnClose
    }

    /// A store dropped without `close()` still lets its threads finish their work and close
    /// their connections, rather than leaving them blocked forever.
    deinit {
        if !closed.withLock({ $0 }) {
            readers.stopEventually()
            checkpointer.stopEventually()
            writer.stopEventually()
            // Unlinking files still open is fine: they go when the last connection closes.
            if removeOnClose { Self.remove(path) }
        }
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

    /// Opens the database at `path`; `checkpointFrames` is lowered by tests that watch the WAL.
    static func open(
        path: String, removeOnClose: Bool, checkpointFrames: Int = defaultCheckpointFrames
    ) async throws(StorageError) -> SQLiteStorage {
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
        // Every thread started so far, to stop if a later one fails.
        var started = [writer]
        do throws(StorageError) {
            let rowIDs = try await writer.perform { connection throws(StorageError) in
                try Schema.rowIDCipher(connection)
            }
            let checkpointer = try await ConnectionThread.start { () throws(StorageError) in
                let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
                // A connection learns the file is in WAL mode on its first read; until then
                // it would take checkpoint requests for no-ops.
                let mode = try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) }
                guard mode == "wal" else {
                    throw StorageError.internal("checkpointer sees journal mode \(mode ?? "none")")
                }
                return connection
            }
            started.append(checkpointer)
            var readers: [ConnectionThread] = []
            for _ in 0..<readerCount {
                let reader = try await ConnectionThread.start { () throws(StorageError) in
                    let connection = try SQLiteConnection.open(path: path, mode: .readOnly)
                    // 16 MiB of page cache per reader.
                    try connection.exec("PRAGMA cache_size = -16384")
                    return connection
                }
                started.append(reader)
                readers.append(reader)
            }
            return SQLiteStorage(
                writer: writer, readers: ReaderPool(threads: readers), checkpointer: checkpointer, rowIDs: rowIDs,
                path: path,
                removeOnClose: removeOnClose, checkpointFrames: checkpointFrames)
        } catch {
            // The writer last: it owns the file.
            for thread in started.reversed() { await thread.stop() }
            throw error
        }
    }

    private static func configureWriter(_ connection: SQLiteConnection) throws(StorageError) {
        // 16 KiB pages for a new file (an existing one keeps the size it was made with): a
        // data row is a few hundred bytes, and with four times the rows per page an ingest
        // splits and writes a quarter as many pages, which made durable ingest about half
        // as fast again in our measurements. It must be set before WAL mode, which fixes it.
        try connection.exec("PRAGMA page_size = \(pageSize)")
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
        if removeOnClose { Self.remove(path) }
    }

    /// Deletes a database file with its WAL and shared-memory index.
    private static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
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

    /// After a commit (on the writer thread): asks the checkpointer for a checkpoint each
    /// time the WAL has grown by `checkpointFrames` (not after every commit past that size:
    /// while ingest runs, the checkpointer never quite catches up, so the WAL cannot start
    /// over and stays large). Once it is eight times that size, the writer checkpoints itself:
    /// the checkpointer has copied most frames by then, so that is quick, and the next commit
    /// starts the WAL over.
    private func checkpointIfNeeded(writer connection: SQLiteConnection) {
        let frames = connection.walFrames
        var askedAt = checkpointAskedAt.load(ordering: .relaxed)
        if frames < askedAt { askedAt = 0 }  // the WAL started over
        if frames >= checkpointFrames * 8 {
            try? connection.checkpoint()
            askedAt = 0
        } else if frames >= askedAt + checkpointFrames,
            !checkpointQueued.exchange(true, ordering: .acquiringAndReleasing)
        {
            askedAt = frames
            let queued = checkpointer.submit { [self] connection in
                // A failed checkpoint is tried again later; the file stays consistent.
                try? connection.checkpoint()
                checkpointQueued.store(false, ordering: .releasing)
            }
            if !queued { checkpointQueued.store(false, ordering: .releasing) }
        }
        checkpointAskedAt.store(askedAt, ordering: .relaxed)
    }

    /// Now, in microseconds since the epoch.
    static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(ts.tv_sec) * 1_000_000 + Timestamp(ts.tv_nsec / 1_000)
    }
}
