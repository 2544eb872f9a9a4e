import AssayCore

/// The rows of one upsert call, flattened into one byte buffer before they reach the writer.
///
/// Ingest is bound by the single writer thread, so everything that can happen elsewhere
/// does: metadata and attachments are encoded to JSON and all text and bytes are laid out
/// back to back on the caller's task, and ids are computed there afterwards. The writer only
/// binds each field as a pointer into the buffer (no copy) and steps one cached statement
/// per row.
struct RowBatch: Sendable {
    /// global key, media type, uri, content, text, metadata JSON, attachments JSON.
    private static let fieldsPerRow = 7

    /// Every field of every row, back to back.
    private let bytes: [UInt8]
    /// Field `k` of row `i` is `bytes[bounds[i * 7 + k] ..< bounds[i * 7 + k + 1]]`.
    private let bounds: [Int]
    /// The global keys, for lookups of updated rows and the error that names one.
    private let keys: [String]

    init(_ rows: [NewDataRow]) {
        var buffer = JSONWriter(capacity: rows.count * 256)
        var bounds: [Int] = [0]
        bounds.reserveCapacity(rows.count * Self.fieldsPerRow + 1)
        for row in rows {
            buffer.bytes.append(contentsOf: row.globalKey.utf8)
            bounds.append(buffer.bytes.count)
            buffer.bytes.append(contentsOf: row.mediaType.rawValue.utf8)
            bounds.append(buffer.bytes.count)
            buffer.bytes.append(contentsOf: row.uri.utf8)
            bounds.append(buffer.bytes.count)
            buffer.bytes.append(contentsOf: row.content)
            bounds.append(buffer.bytes.count)
            buffer.bytes.append(contentsOf: row.text.utf8)
            bounds.append(buffer.bytes.count)
            DomainJSON.writeMetadata(row.metadata, to: &buffer)
            bounds.append(buffer.bytes.count)
            DomainJSON.writeAttachments(row.attachments, to: &buffer)
            bounds.append(buffer.bytes.count)
        }
        self.bytes = buffer.bytes
        self.bounds = bounds
        self.keys = rows.map(\.globalKey)
    }

    /// What the writer did to one row: its rowid, and whether it is new.
    struct Outcome: Sendable {
        var rowid: Int64
        var created: Bool
    }

    /// Inserts or updates every row by (organisation, global key) with one cached statement,
    /// giving new rows the dataset's next positions. A row was created when the statement
    /// set sqlite's last insert rowid (cleared before each row; an upsert that updates leaves
    /// it alone), and changed nothing when its key belongs to another dataset (the DO
    /// UPDATE's WHERE refuses). RETURNING would say the same but costs a temporary b-tree per
    /// row. Runs inside the caller's transaction, so throwing undoes every row.
    func upsert(
        into connection: SQLiteConnection, organization: ObjectID, dataset: ObjectID, now: Timestamp
    ) throws(StorageError) -> [Outcome] {
        guard
            let (org, datasetSeq, nextRow) = try connection.queryFirst(
                """
                SELECT o.seq, d.seq, d.next_row FROM datasets d JOIN organizations o ON o.seq = d.org
                WHERE d.id = ? AND o.id = ?
                """,
                [.text(dataset.rawValue), .text(organization.rawValue)], { ($0.int64(0), $0.int64(1), $0.int64(2)) })
        else { throw .notFound("dataset \(dataset)") }
        let range = Schema.rowRange(dataset: datasetSeq)
        var nextRowid = range.lowerBound + nextRow
        guard range.upperBound - nextRowid >= keys.count else {
            throw .failedPrecondition("dataset \(dataset) has used up its row positions")
        }

        let statement = try connection.statement(
            """
            INSERT INTO data_rows (seq, org, global_key, media_type, uri, content, text, metadata, attachments,
                                   created_at, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
            ON CONFLICT (org, global_key) DO UPDATE SET
                media_type = excluded.media_type, uri = excluded.uri, content = excluded.content, text = excluded.text,
                metadata = excluded.metadata, attachments = excluded.attachments, updated_at = excluded.updated_at
            WHERE data_rows.seq >= ?11 AND data_rows.seq < ?12
            """)
        // The same for every row: bound once, kept across rewinds.
        try statement.bind(2, integer: org)
        try statement.bind(10, integer: now)
        try statement.bind(11, integer: range.lowerBound)
        try statement.bind(12, integer: range.upperBound)

        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(keys.count)
        try bytes.withUnsafeBytes { buffer in
            // Unbinds the borrowed pointers before `buffer` goes away, whatever happens.
            defer { statement.reset() }
            return Result { () throws(StorageError) in
                for i in 0..<keys.count {
                    let base = i * Self.fieldsPerRow
                    func field(_ k: Int) -> UnsafeRawBufferPointer {
                        UnsafeRawBufferPointer(rebasing: buffer[bounds[base + k]..<bounds[base + k + 1]])
                    }
                    try statement.bind(1, integer: nextRowid)
                    try statement.bind(3, borrowedText: field(0))
                    try statement.bind(4, borrowedText: field(1))
                    try statement.bind(5, borrowedText: field(2))
                    try statement.bind(6, borrowedBlob: field(3))
                    try statement.bind(7, borrowedText: field(4))
                    try statement.bind(8, borrowedText: field(5))
                    try statement.bind(9, borrowedText: field(6))
                    connection.lastInsertRowID = 0
                    while try statement.step() {}
                    statement.rewind()
                    guard connection.changes == 1 else {
                        throw .alreadyExists("global key \(keys[i]) belongs to another dataset")
                    }
                    if connection.lastInsertRowID != 0 {
                        outcomes.append(Outcome(rowid: nextRowid, created: true))
                        nextRowid += 1
                    } else {
                        let existing = try connection.queryFirst(
                            "SELECT seq FROM data_rows WHERE org = ? AND global_key = ?",
                            [.integer(org), .text(keys[i])]
                        ) { $0.int64(0) }
                        guard let existing else { throw .internal("updated row \(keys[i]) is missing") }
                        outcomes.append(Outcome(rowid: existing, created: false))
                    }
                }
            }
        }.get()
        let created = nextRowid - (range.lowerBound + nextRow)
        if created > 0 {
            try connection.run(
                "UPDATE datasets SET row_count = row_count + ?, next_row = ? WHERE seq = ?",
                [.integer(created), .integer(nextRowid - range.lowerBound), .integer(datasetSeq)])
        }
        return outcomes
    }
}
