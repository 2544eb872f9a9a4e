import CLibPQ

/// The one place where libpq is called: a connection that runs parameterised statements and
/// turns every failure into a typed `StorageError`.
///
/// A connection belongs to the one pool thread that opened it and is never touched from
/// anywhere else (libpq connections are not thread-safe), which is why it is a plain,
/// non-`Sendable` class. Statements use `?` placeholders like the SQLite backend's; they are
/// numbered (`$1`, `$2`, …) here, so the two backends' SQL reads alike.
final class PostgresConnection {
    private let handle: OpaquePointer
    /// The SQLSTATE of the last failure, for retrying serialisation failures and deadlocks.
    private(set) var lastSQLState = ""
    /// Numbered forms of the statements this connection has seen.
    private var numbered: [String: String] = [:]

    private init(handle: OpaquePointer) { self.handle = handle }

    /// Connects with a libpq connection string or URL; `unavailable` when the server cannot
    /// be reached or refuses the login.
    static func connect(_ url: String) throws(StorageError) -> PostgresConnection {
        guard let handle = PQconnectdb(url) else { throw .internal("libpq could not allocate a connection") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw .unavailable("cannot connect to PostgreSQL: \(message)")
        }
        let connection = PostgresConnection(handle: handle)
        // Quiet notices; times and text in one known form.
        try connection.exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'")
        return connection
    }

    /// False once the connection to the server is lost; the pool then opens a new one.
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    func close() { PQfinish(handle) }

    /// Runs one or more statements without parameters (migrations, session settings).
    func exec(_ sql: String) throws(StorageError) {
        guard let result = PQexec(handle, sql) else { throw lostError() }
        defer { PQclear(result) }
        try check(result, sql)
    }

    /// Runs a statement and returns how many rows it changed (or returned).
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Int {
        try withResult(sql, values) { result throws(StorageError) in
            let tuples = PQcmdTuples(result).map { String(cString: $0) } ?? ""
            return Int(tuples) ?? Int(PQntuples(result))
        }
    }

    /// Every row `decode` makes of the statement's result.
    func query<T>(
        _ sql: String, _ values: [SQLValue] = [], _ decode: (PostgresRow) throws(StorageError) -> T
    ) throws(StorageError) -> [T] {
        try withResult(sql, values) { result throws(StorageError) in try rows(result, decode) }
    }

    /// `query` for a statement already written with `$n` placeholders (built per call, so not
    /// worth remembering).
    func queryNumbered<T>(
        _ sql: String, _ values: [SQLValue], _ decode: (PostgresRow) throws(StorageError) -> T
    ) throws(StorageError) -> [T] {
        try withResult(sql, values, numbered: true) { result throws(StorageError) in
            try rows(result, decode)
        }
    }

    private func rows<T>(_ result: OpaquePointer, _ decode: (PostgresRow) throws(StorageError) -> T) throws(StorageError) -> [T] {
        let count = PQntuples(result)
        var rows: [T] = []
        rows.reserveCapacity(Int(count))
        for index in 0..<count { rows.append(try decode(PostgresRow(result: result, row: index))) }
        return rows
    }

    /// The first row's decoding, or nil when there is none.
    func queryFirst<T>(
        _ sql: String, _ values: [SQLValue] = [], _ decode: (PostgresRow) throws(StorageError) -> T
    ) throws(StorageError) -> T? {
        try withResult(sql, values) { result throws(StorageError) in
            PQntuples(result) > 0 ? try decode(PostgresRow(result: result, row: 0)) : nil
        }
    }

    /// Runs `body` in a transaction at `isolation`, committing when it returns and rolling
    /// back when it throws.
    func transaction<T>(
        _ isolation: PostgresIsolation, readOnly: Bool = false, _ body: () throws(StorageError) -> T
    ) throws(StorageError) -> T {
        do {
            try exec("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")")
        } catch {
            // Nothing was done yet: a connection that broke while idle (the database
            // restarted) is worth one more try on a fresh connection.
            guard isHealthy else { throw .unavailable(Self.retryable + "the connection broke while idle: \(error)") }
            throw error
        }
        do {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            let state = lastSQLState
            if isHealthy { try? exec("ROLLBACK") }
            lastSQLState = state
            throw error
        }
    }

    /// Takes a transaction-scoped advisory lock on (`scope`, `id`): writers that must not
    /// interleave (admitting runs against one budget, closing one organisation's cycle,
    /// leasing one project's review queue) queue here, across every server.
    func lock(_ scope: AdvisoryLock, _ id: Int64) throws(StorageError) {
        try run("SELECT pg_advisory_xact_lock(?::int, ?::int)", [.integer(scope.rawValue), .integer(id % Int64(Int32.max))])
    }

    // MARK: the libpq calls

    private func withResult<T>(
        _ sql: String, _ values: [SQLValue], numbered alreadyNumbered: Bool = false,
        _ body: (OpaquePointer) throws(StorageError) -> T
    ) throws(StorageError) -> T {
        let text = alreadyNumbered ? sql : numberedSQL(sql)
        // Parameters in libpq's text format, except blobs (binary, so no escaping) and typed
        // where the server could not infer a type from an untyped literal.
        var buffers: [[UInt8]?] = []
        var types: [UInt32] = []
        var formats: [Int32] = []
        var lengths: [Int32] = []
        buffers.reserveCapacity(values.count)
        for value in values {
            switch value {
            case .integer(let v):
                buffers.append(Array(String(v).utf8) + [0])
                types.append(20)  // int8
                formats.append(0)
            case .real(let v):
                buffers.append(Array(String(v).utf8) + [0])
                types.append(701)  // float8
                formats.append(0)
            case .text(let v):
                buffers.append(Array(v.utf8) + [0])
                types.append(0)
                formats.append(0)
            case .blob(let v):
                buffers.append(v)
                types.append(17)  // bytea
                formats.append(1)
            case .null:
                buffers.append(nil)
                types.append(0)
                formats.append(0)
            }
            lengths.append(Int32(buffers.last!?.count ?? 0))
        }
        let result = withPointers(buffers) { pointers in
            PQexecParams(handle, text, Int32(values.count), types, pointers, lengths, formats, 0)
        }
        guard let result else { throw lostError() }
        defer { PQclear(result) }
        try check(result, sql)
        return try body(result)
    }

    /// `?` placeholders outside quotes become `$1`, `$2`, …
    private func numberedSQL(_ sql: String) -> String {
        if let known = numbered[sql] { return known }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quoted = false
        for ch in sql {
            if ch == "'" { quoted.toggle() }
            if ch == "?" && !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        numbered[sql] = out
        return out
    }

    private func check(_ result: OpaquePointer, _ sql: String) throws(StorageError) {
        let status = PQresultStatus(result)
        guard status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY else {
            lastSQLState = ""
            return
        }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        lastSQLState = state
        let message = Self.trimmed(PQresultErrorMessage(result))
        throw Self.error(state: state, message: message, healthy: isHealthy, sql: sql)
    }

    private func lostError() -> StorageError {
        lastSQLState = "08006"
        return .unavailable("the connection to PostgreSQL was lost: \(Self.trimmed(PQerrorMessage(handle)))")
    }

    /// Maps a SQLSTATE to the error services see.
    static func error(state: String, message: String, healthy: Bool, sql: String) -> StorageError {
        // disk_full and read_only_sql_transaction (a hot standby, default_transaction_read_only).
        if healthy && state == "53100" { return .diskFull("PostgreSQL: \(message)") }
        if healthy && state == "25006" { return .readOnly("PostgreSQL: \(message)") }
        if !healthy || state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
            return .unavailable("PostgreSQL is unavailable: \(message)")
        }
        switch state {
        case "23505": return .alreadyExists(message)
        case "40001", "40P01": return .unavailable(retryable + "the transaction conflicted with another: \(message)")
        case "55P03", "57014": return .unavailable("PostgreSQL is busy: \(message)")
        default:
            let head = sql.split(separator: "\n").first.map(String.init) ?? sql
            return .internal("PostgreSQL error \(state): \(message) (in \(head.prefix(120)))")
        }
    }

    /// Starts the message of an `unavailable` error after which the transaction may simply be
    /// run again: nothing of it was committed.
    static let retryable = "retryable: "

    static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var s = String(cString: text)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }
}

/// What an advisory lock guards (the first half of its key).
enum AdvisoryLock: Int64 {
    case billing = 1
    case review = 2
}

/// The isolation a transaction needs. Most writes lock the rows they change (`FOR UPDATE`)
/// and are right under READ COMMITTED; checks that guard money take an advisory lock.
enum PostgresIsolation: String {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// Calls `body` with C pointers to each buffer (nil for NULL), valid during the call.
///
/// The buffers are copied into one block first. Pinning each array with a
/// `withUnsafeBufferPointer` of its own nested one call per parameter, and a batch insert
/// with thousands of parameters overflowed the stack (found by `make asan`, whose frames are
/// larger, but only a matter of batch size without it).
private func withPointers<R>(_ buffers: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let total = buffers.reduce(0) { $0 + ($1?.count ?? 0) }
    // One byte more, so that every buffer, an empty blob at the end too, has an address inside.
    let block = UnsafeMutableRawPointer.allocate(byteCount: total + 1, alignment: 1)
    defer { block.deallocate() }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(buffers.count)
    var offset = 0
    for buffer in buffers {
        guard let buffer else {
            pointers.append(nil)
            continue
        }
        let destination = block + offset
        buffer.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { destination.copyMemory(from: base, byteCount: bytes.count) }
        }
        offset += buffer.count
        pointers.append(UnsafePointer(destination.assumingMemoryBound(to: CChar.self)))
    }
    return body(pointers)
}

/// One row of a result, read by column (from 0) like a SQLite statement; valid only inside
/// the decoding closure, while the result lives.
struct PostgresRow {
    fileprivate let result: OpaquePointer
    fileprivate let row: Int32

    func isNull(_ column: Int32) -> Bool { PQgetisnull(result, row, column) == 1 }

    /// The column's text-format bytes (no copy).
    func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        guard let base = PQgetvalue(result, row, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base, count: Int(PQgetlength(result, row, column)))
    }

    func text(_ column: Int32) -> String { String(decoding: bytes(column), as: UTF8.self) }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func int64(_ column: Int32) -> Int64 {
        let raw = bytes(column)
        if raw.count == 1, raw[0] == UInt8(ascii: "t") { return 1 }
        if raw.count == 1, raw[0] == UInt8(ascii: "f") { return 0 }
        return Int64(text(column)) ?? 0
    }

    func int(_ column: Int32) -> Int { Int(int64(column)) }

    func bool(_ column: Int32) -> Bool { int64(column) != 0 }

    func double(_ column: Int32) -> Double { Double(text(column)) ?? .nan }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    /// A bytea column, sent in the hex text format (`\x0a1b…`).
    func blob(_ column: Int32) -> [UInt8] {
        let raw = bytes(column)
        guard raw.count >= 2, raw[0] == UInt8(ascii: "\\"), raw[1] == UInt8(ascii: "x") else { return Array(raw) }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: c &- UInt8(ascii: "A") &+ 10
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((raw.count - 2) / 2)
        var i = 2
        while i + 1 < raw.count {
            out.append(nibble(raw[i]) << 4 | nibble(raw[i + 1]))
            i += 2
        }
        return out
    }
}
