import AssayCore

/// The rows of one upsert call for PostgreSQL, encoded on the caller's task and sent as a few
/// multi-row `INSERT … ON CONFLICT … RETURNING` statements (one round trip per chunk rather
/// than per row).
///
/// A key repeated within the call is one row: its first occurrence gives the position (and
/// is the one reported created), its last gives the content, as with SQLite. Rows are sent
/// sorted by global key, so two transactions touching overlapping keys lock them in the same
/// order and cannot deadlock on each other.
struct PostgresRowBatch: Sendable {
    /// One distinct key's values, ready to bind.
    struct Row: Sendable {
        var globalKey: String
        var mediaType: String
        var uri: String
        var content: [UInt8]
        var text: String
        var metadata: String
        var attachments: String
        /// Index among the distinct keys, in first-occurrence order (gives the position).
        var ordinal: Int
    }

    /// Distinct keys, sorted by key.
    private let rows: [Row]
    /// For each row of the call, the ordinal of its key and whether it is the first occurrence.
    private let slots: [(ordinal: Int, first: Bool)]

    /// Rows per statement: 8 parameters each stays far below PostgreSQL's 65,535.
    static let chunk = 1_000

    init(_ input: [NewDataRow]) {
        var ordinals: [String: Int] = [:]
        var distinct: [Row] = []
        var slots: [(Int, Bool)] = []
        slots.reserveCapacity(input.count)
        for row in input {
            var metadata = JSONWriter(capacity: 64)
            DomainJSON.writeMetadata(row.metadata, to: &metadata)
            var attachments = JSONWriter(capacity: 16)
            DomainJSON.writeAttachments(row.attachments, to: &attachments)
            let encoded = Row(
                globalKey: row.globalKey, mediaType: row.mediaType.rawValue, uri: row.uri, content: row.content, text: row.text,
                metadata: metadata.text, attachments: attachments.text, ordinal: 0)
            if let ordinal = ordinals[row.globalKey] {
                distinct[ordinal] = Row(
                    globalKey: encoded.globalKey, mediaType: encoded.mediaType, uri: encoded.uri, content: encoded.content,
                    text: encoded.text, metadata: encoded.metadata, attachments: encoded.attachments, ordinal: ordinal)
                slots.append((ordinal, false))
            } else {
                let ordinal = distinct.count
                ordinals[row.globalKey] = ordinal
                var first = encoded
                first.ordinal = ordinal
                distinct.append(first)
                slots.append((ordinal, true))
            }
        }
        self.rows = distinct.sorted { $0.globalKey < $1.globalKey }
        self.slots = slots
    }

    /// What the statement did to one row: its seq, and whether it is new.
    struct Outcome: Sendable {
        var rowid: Int64
        var created: Bool
    }

    /// Upserts every row inside the caller's transaction, with the dataset's row locked (so
    /// its positions and count move under one writer at a time); throws `alreadyExists`,
    /// undoing everything, when a key belongs to another dataset of the organisation.
    func upsert(
        into connection: PostgresConnection, organization: ObjectID, dataset: ObjectID, now: Timestamp
    ) throws(StorageError) -> [Outcome] {
        guard
            let (org, datasetSeq, nextRow) = try connection.queryFirst(
                """
                SELECT o.seq, d.seq, d.next_row FROM datasets d JOIN organizations o ON o.seq = d.org
                WHERE d.id = ? AND o.id = ? FOR UPDATE OF d
                """,
                [.text(dataset.rawValue), .text(organization.rawValue)], { ($0.int64(0), $0.int64(1), $0.int64(2)) })
        else { throw .notFound("dataset \(dataset)") }
        let range = Schema.rowRange(dataset: datasetSeq)
        let firstRowid = range.lowerBound + nextRow
        guard range.upperBound - firstRowid >= rows.count else {
            throw .failedPrecondition("dataset \(dataset) has used up its row positions")
        }
        // The seq each distinct key gets if it is new; an existing row keeps its own.
        var result = [Outcome](repeating: Outcome(rowid: 0, created: false), count: rows.count)
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + Self.chunk)
            var sql = """
                INSERT INTO data_rows (seq, org, global_key, media_type, uri, content, text, metadata, attachments,
                                       created_at, updated_at)
                VALUES
                """
            var values: [SQLValue] = [.integer(org), .integer(now), .integer(range.lowerBound), .integer(range.upperBound)]
            values.reserveCapacity(4 + (end - start) * 8)
            for i in start..<end {
                let row = rows[i]
                let n = values.count
                sql += i == start ? " " : ", "
                sql += "($\(n + 1), $1, $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5), $\(n + 6), $\(n + 7)::jsonb, $\(n + 8), $2, $2)"
                values += [
                    .integer(firstRowid + Int64(row.ordinal)), .text(row.globalKey), .text(row.mediaType), .text(row.uri),
                    .blob(row.content), .text(row.text), .text(row.metadata), .text(row.attachments),
                ]
            }
            sql += """

                ON CONFLICT (org, global_key) DO UPDATE SET
                    media_type = excluded.media_type, uri = excluded.uri, content = excluded.content, text = excluded.text,
                    metadata = excluded.metadata, attachments = excluded.attachments, updated_at = excluded.updated_at
                WHERE data_rows.seq >= $3 AND data_rows.seq < $4
                RETURNING seq, global_key
                """
            let returned = try connection.queryNumbered(sql, values) { ($0.int64(0), $0.text(1)) }
            var seqs: [String: Int64] = [:]
            for (seq, key) in returned { seqs[key] = seq }
            for i in start..<end {
                guard let seq = seqs[rows[i].globalKey] else {
                    throw .alreadyExists("global key \(rows[i].globalKey) belongs to another dataset")
                }
                result[rows[i].ordinal] = Outcome(rowid: seq, created: seq == firstRowid + Int64(rows[i].ordinal))
            }
            start = end
        }
        let created = Int64(result.count { $0.created })
        try connection.run(
            "UPDATE datasets SET row_count = row_count + ?, next_row = ? WHERE seq = ?",
            [.integer(created), .integer(nextRow + Int64(rows.count)), .integer(datasetSeq)])
        return slots.map { slot in
            let outcome = result[slot.ordinal]
            return Outcome(rowid: outcome.rowid, created: outcome.created && slot.first)
        }
    }
}
