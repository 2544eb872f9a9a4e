import CSQLite3

#if canImport(Glibc)
    import Glibc
#endif

/// The one place where sqlite3 is called: a connection with a cache of prepared statements,
/// whose every failure becomes a typed `StorageError`.
///
/// A connection belongs to the one `ConnectionThread` that opened it and is never touched
/// from anywhere else, which is why it is a plain (non-`Sendable`) class: sqlite3 is opened
/// with `SQLITE_OPEN_NOMUTEX` and relies on that confinement.
final class SQLiteConnection {
    /// How a connection may touch the file.
    enum Mode {
        /// The single writer: creates the file, owns migrations and every write.
        case readWrite
        /// A reader: can never write, so a bug cannot sneak a write past the writer thread.
        case readOnly
    }

    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    /// The file, for error messages.
    let path: String
    /// Frames in the WAL after this connection's last commit, once `trackWAL()` was called.
    private(set) var walFrames = 0

    private init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    /// Opens `path` and applies the connection settings every Assay connection shares: a 5 s
    /// busy timeout, extended result codes and foreign keys.
    static func open(path: String, mode: Mode) throws(StorageError) -> SQLiteConnection {
        var db: OpaquePointer?
        let access = mode == .readWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY
        let rc = sqlite3_open_v2(path, &db, access | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw StorageError.internal("cannot open \(path): \(message) (code \(rc))")
        }
        let connection = SQLiteConnection(handle: db, path: path)
        sqlite3_busy_timeout(db, 5_000)
        try connection.exec("PRAGMA foreign_keys = ON")
        return connection
    }

    /// Turns off automatic checkpoints on this connection and records the WAL's size after
    /// each commit in `walFrames` instead, so the caller can checkpoint elsewhere.
    func trackWAL() {
        // The hook only runs inside this connection's own calls, on its thread, while the
        // connection is alive, so an unretained pointer to it is safe.
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(
            handle,
            { context, _, _, frames in
                Unmanaged<SQLiteConnection>.fromOpaque(context!).takeUnretainedValue().walFrames = Int(frames)
                return SQLITE_OK
            }, context)
    }

    /// Copies committed WAL frames into the database without waiting for anyone (PASSIVE):
    /// frames a reader still needs are left for the next time. Once every frame is copied,
    /// the writer starts the WAL over, so it stays small.
    func checkpoint() throws(StorageError) {
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        // Busy: another checkpoint is running, which does the same work.
        guard rc == SQLITE_OK || rc & 0xff == SQLITE_BUSY else { throw error(rc, "checkpoint") }
    }

    /// Finalises every cached statement and closes the file.
    func close() {
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    // MARK: errors

    /// `rc` as a `StorageError`: busy or locked is `unavailable` (the busy timeout has already
    /// been waited out), a unique or primary-key violation is `alreadyExists`, a full disk
    /// (`SQLITE_FULL`, or an I/O error whose errno is ENOSPC or EDQUOT) is `diskFull`, a file
    /// that cannot be written (`SQLITE_READONLY`, or an I/O error with EROFS, EPERM or EACCES:
    /// a read-only mount, an immutable file) is `readOnly`; anything else is `internal` with
    /// sqlite's own message.
    func error(_ rc: Int32, _ context: @autoclosure () -> String) -> StorageError {
        let message = String(cString: sqlite3_errmsg(handle))
        let systemErrno = sqlite3_system_errno(handle)
        func detail() -> String { "\(context()): \(message) (code \(rc), \(String(cString: strerror(systemErrno))))" }
        switch rc & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .unavailable("the database is busy: \(message)")
        case SQLITE_CONSTRAINT where rc == SQLiteCode.constraintUnique || rc == SQLiteCode.constraintPrimaryKey:
            return .alreadyExists(message)
        case SQLITE_FULL:
            return .diskFull("\(path): \(detail())")
        case SQLITE_READONLY:
            return .readOnly("\(path): \(detail())")
        case SQLITE_IOERR, SQLITE_CANTOPEN:
            switch systemErrno {
            case ENOSPC, EDQUOT: return .diskFull("\(path): \(detail())")
            case EROFS, EPERM, EACCES: return .readOnly("\(path): \(detail())")
            default: return diagnoseIOError(detail())
            }
        default:
            return .internal("\(context()): \(message) (code \(rc))")
        }
    }

    /// An I/O error whose errno sqlite no longer has (the rollback after a failed write
    /// overwrites it, so `sqlite3_system_errno` often says 0), told apart by looking at the
    /// files: the database or its WAL not writable (an immutable file, a read-only mount) is
    /// `readOnly`, less than 1 MiB left on the file system is `diskFull`, anything else
    /// `internal`.
    private func diagnoseIOError(_ detail: String) -> StorageError {
        for file in [path, path + "-wal"] where access(file, F_OK) == 0 && access(file, W_OK) != 0 {
            return .readOnly("\(file) is not writable (\(String(cString: strerror(errno)))): \(detail)")
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var fs = statvfs()
        if statvfs(folder.isEmpty ? "/" : folder, &fs) == 0 {
            if fs.f_flag & UInt(ST_RDONLY) != 0 { return .readOnly("\(folder) is mounted read-only: \(detail)") }
            let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
            if free < 1 << 20 { return .diskFull("\(folder) has \(free) bytes free: \(detail)") }
        }
        return .internal(detail)
    }

    // MARK: statements

    /// The prepared statement for `sql`, compiled once per connection and reused after.
    func statement(_ sql: String) throws(StorageError) -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error(rc, "prepare \(sql)") }
        let statement = SQLiteStatement(handle: raw, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` with the cached statement for `sql`, bound to `values`; the statement is
    /// reset afterwards whatever happens, so it never holds a transaction open.
    func withStatement<T>(
        _ sql: String, _ values: [SQLValue] = [], _ body: (SQLiteStatement) throws(StorageError) -> T
    ) throws(StorageError) -> T {
        let statement = try self.statement(sql)
        defer { statement.reset() }
        for (i, value) in values.enumerated() { try statement.bind(Int32(i + 1), value) }
        return try body(statement)
    }

    /// Runs one statement to completion; returns how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Int {
        try withStatement(sql, values) { statement throws(StorageError) in
            while try statement.step() {}
            return Int(sqlite3_changes64(handle))
        }
    }

    /// Every result row of `sql`, each read by `row`.
    func query<T>(
        _ sql: String, _ values: [SQLValue] = [], _ row: (SQLiteStatement) throws(StorageError) -> T
    ) throws(StorageError) -> [T] {
        try withStatement(sql, values) { statement throws(StorageError) in
            var results: [T] = []
            while try statement.step() { results.append(try row(statement)) }
            return results
        }
    }

    /// The first result row of `sql` read by `row`, or nil when there is none.
    func queryFirst<T>(
        _ sql: String, _ values: [SQLValue] = [], _ row: (SQLiteStatement) throws(StorageError) -> T
    ) throws(StorageError) -> T? {
        try withStatement(sql, values) { statement throws(StorageError) in
            try statement.step() ? try row(statement) : nil
        }
    }

    /// Runs a script of one or more statements without caching (pragmas, migrations).
    func exec(_ sql: String) throws(StorageError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else { throw error(rc, "exec \(sql.prefix(80))") }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
    /// when it (or the commit) throws, so a failed call leaves nothing behind.
    func transaction<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// The rowid of the last row inserted on this connection; an upsert that updates does not
    /// move it, which is how the hot path tells new rows from updated ones.
    var lastInsertRowID: Int64 {
        get { sqlite3_last_insert_rowid(handle) }
        set { sqlite3_set_last_insert_rowid(handle, newValue) }
    }
}

/// Extended result codes that are macros Swift does not import.
enum SQLiteCode {
    static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)
}

/// A value to bind to a statement parameter.
enum SQLValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    /// Text, or NULL for nil.
    static func optionalText(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// An integer, or NULL for nil.
    static func optionalInteger(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
}

/// A prepared statement owned by a `SQLiteConnection`'s cache.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection

    fileprivate init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    fileprivate func finalize() { sqlite3_finalize(handle) }

    /// Ready to run again with no parameters bound.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Ready to run again with the same parameters (the hot path rebinds only what changes).
    func rewind() { sqlite3_reset(handle) }

    /// Advances; true when a result row is ready, false when the statement is done.
    func step() throws(StorageError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, "step \(String(cString: sqlite3_sql(handle)).prefix(80))")
    }

    // MARK: binding (parameters count from 1)

    private func check(_ rc: Int32, _ index: Int32) throws(StorageError) {
        guard rc == SQLITE_OK else { throw connection.error(rc, "bind parameter \(index)") }
    }

    func bind(_ index: Int32, _ value: SQLValue) throws(StorageError) {
        switch value {
        case .integer(let v): try check(sqlite3_bind_int64(handle, index, v), index)
        case .real(let v): try check(sqlite3_bind_double(handle, index, v), index)
        case .text(let v): try bind(index, text: v)
        case .blob(let v): try bind(index, blob: v)
        case .null: try check(sqlite3_bind_null(handle, index), index)
        }
    }

    func bind(_ index: Int32, integer value: Int64) throws(StorageError) {
        try check(sqlite3_bind_int64(handle, index, value), index)
    }

    /// Binds a copy of `value` (sqlite keeps it until the next bind or reset).
    func bind(_ index: Int32, text value: String) throws(StorageError) {
        var value = value
        let rc = value.withUTF8 { utf8 -> Int32 in
            let base = (utf8.baseAddress.map(UnsafeRawPointer.init) ?? emptyBytes).assumingMemoryBound(to: CChar.self)
            return sqlite3_bind_text(handle, index, base, Int32(utf8.count), assay_sqlite_transient())
        }
        try check(rc, index)
    }

    /// Binds a copy of `value` (an empty array binds an empty blob, not NULL).
    func bind(_ index: Int32, blob value: [UInt8]) throws(StorageError) {
        let rc = value.withUnsafeBytes { bytes -> Int32 in
            sqlite3_bind_blob(
                handle, index, bytes.baseAddress ?? emptyBytes, Int32(bytes.count), assay_sqlite_transient())
        }
        try check(rc, index)
    }

    /// Binds UTF-8 bytes without copying; they must stay valid until the statement is reset
    /// or rebound (the hot path binds from a batch buffer that outlives the whole call).
    func bind(_ index: Int32, borrowedText bytes: UnsafeRawBufferPointer) throws(StorageError) {
        let base = (bytes.baseAddress ?? emptyBytes).assumingMemoryBound(to: CChar.self)
        try check(sqlite3_bind_text(handle, index, base, Int32(bytes.count), nil), index)
    }

    /// Binds bytes as a blob without copying; the same lifetime rule as `borrowedText`.
    func bind(_ index: Int32, borrowedBlob bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try check(sqlite3_bind_blob(handle, index, bytes.baseAddress ?? emptyBytes, Int32(bytes.count), nil), index)
    }

    // MARK: columns (count from 0)

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    /// The column's bytes, valid until the next step or reset.
    func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        // column_blob before column_bytes, as sqlite documents, so no conversion intervenes.
        guard let base = sqlite3_column_blob(handle, column) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, column)))
    }

    func text(_ column: Int32) -> String {
        guard let base = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func blob(_ column: Int32) -> [UInt8] { Array(bytes(column)) }
}

/// A valid address for empty text and blobs (sqlite binds NULL for a nil pointer): the
/// terminating zero of a static empty string, which lives as long as the program.
private var emptyBytes: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }
