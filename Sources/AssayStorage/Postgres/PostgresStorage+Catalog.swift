public import AssayCore

/// Datasets and their rows. Every query names the caller's organisation, so an object of
/// another organisation is indistinguishable from a missing one.
extension PostgresStorage {
    // MARK: datasets

    /// Creates an empty dataset; `alreadyExists` when the organisation has one of that name.
    public func createDataset(organization: ObjectID, name: String, description: String) async throws(StorageError)
        -> Dataset
    {
        let dataset = Dataset(
            id: .random("ds"), organizationID: organization, name: name, description: description, createdAt: Self.now()
        )
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else {
                throw .notFound("organization \(organization)")
            }
            let seq: Int64?
            do throws(StorageError) {
                seq = try connection.queryFirst(
                    "INSERT INTO datasets (id, org, name, description, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
                    [
                        .text(dataset.id.rawValue), .integer(org), .text(name), .text(description),
                        .integer(dataset.createdAt),
                    ]) { $0.int64(0) }
            } catch .alreadyExists {
                throw .alreadyExists("a dataset named \"\(name)\"")
            }
            // A dataset's seq is the top bits of its rows' ids.
            guard let seq, seq < Schema.maximumDatasets else {
                throw .failedPrecondition("this database has created its maximum number of datasets")
            }
        }
        return dataset
    }

    private static let datasetColumns = """
        SELECT d.id, o.id, d.name, d.description, d.created_at, d.row_count
        FROM datasets d JOIN organizations o ON o.seq = d.org
        """

    private static func decodeDataset(_ s: PostgresRow) -> Dataset {
        Dataset(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2),
            description: s.text(3), createdAt: s.int64(4), rowCount: s.int(5))
    }

    /// The dataset with its row count, kept exact by every write that adds or removes rows.
    public func dataset(organization: ObjectID, id: ObjectID) async throws(StorageError) -> Dataset {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.datasetColumns + " WHERE d.id = ? AND o.id = ?",
                [.text(id.rawValue), .text(organization.rawValue)],
                Self.decodeDataset)
        }
        guard let found else { throw .notFound("dataset \(id)") }
        return found
    }

    /// The organisation's datasets, oldest first; empty for an unknown organisation.
    public func datasets(organization: ObjectID) async throws(StorageError) -> [Dataset] {
        try await read { connection throws(StorageError) in
            try connection.query(
                Self.datasetColumns + " WHERE o.id = ? ORDER BY d.seq", [.text(organization.rawValue)],
                Self.decodeDataset)
        }
    }

    /// Deletes the dataset, its rows (one range of the table) and their labels in one transaction.
    public func deleteDataset(organization: ObjectID, id: ObjectID) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            guard let dataset = try connection.datasetSeq(organization: organization, id: id) else {
                throw .notFound("dataset \(id)")
            }
            // Labels go with their rows (ON DELETE CASCADE).
            let range = Schema.rowRange(dataset: dataset)
            // Billing: the dataset's rows stop being held now.
            if let (org, count) = try connection.queryFirst(
                "SELECT org, row_count FROM datasets WHERE seq = ? FOR UPDATE", [.integer(dataset)], { ($0.int64(0), $0.int64(1)) })
            {
                try connection.recordRowCountChange(org: org, dataset: id.rawValue, delta: -count, at: Self.now())
            }
            try connection.run(
                "DELETE FROM data_rows WHERE seq >= ? AND seq < ?",
                [.integer(range.lowerBound), .integer(range.upperBound)])
            try connection.run("DELETE FROM datasets WHERE seq = ?", [.integer(dataset)])
        }
    }

    // MARK: rows

    /// Inserts or updates rows by global key in one transaction with multi-row
    /// `INSERT … ON CONFLICT` statements (see `PostgresRowBatch`); the unique (organisation,
    /// global key) index makes concurrent ingest through several servers leave one row per key.
    public func upsertRows(organization: ObjectID, dataset: ObjectID, rows: [NewDataRow]) async throws(StorageError)
        -> [UpsertOutcome]
    {
        guard !rows.isEmpty else {
            _ = try await self.dataset(organization: organization, id: dataset)
            return []
        }
        // Encoded here, on the caller's task, so the pool thread only sends.
        let batch = PostgresRowBatch(rows)
        let outcomes = try await write { connection throws(StorageError) in
            let now = Self.now()
            let outcomes = try batch.upsert(into: connection, organization: organization, dataset: dataset, now: now)
            // Billing: rows held from now (catalog units), in the same transaction as the rows.
            let created = Int64(outcomes.count { $0.created })
            if created > 0, let org = try connection.organizationSeq(organization) {
                try connection.recordRowCountChange(org: org, dataset: dataset.rawValue, delta: created, at: now)
            }
            return outcomes
        }
        return outcomes.map { UpsertOutcome(id: rowIDs.id(for: $0.rowid), created: $0.created) }
    }

    /// The columns `decodeRow` reads, joined to the row's dataset for its public id.
    static let rowColumns = """
        SELECT r.seq, d.id, r.global_key, r.media_type, r.uri, r.content, r.text, r.metadata, r.attachments,
               r.created_at, r.updated_at
        FROM data_rows r JOIN datasets d ON d.seq = r.seq >> 40
        """

    static func decodeRow(_ s: PostgresRow, ids: RowIDCipher) throws(StorageError) -> DataRow {
        guard let mediaType = MediaType(rawValue: s.text(3)) else {
            throw .internal("stored row has unknown media type \(s.text(3))")
        }
        return DataRow(
            id: ids.id(for: s.int64(0)), datasetID: ObjectID(rawValue: s.text(1)), globalKey: s.text(2),
            mediaType: mediaType, uri: s.text(4), content: s.blob(5), text: s.text(6),
            metadata: try DomainJSON.metadata(from: s.bytes(7)),
            attachments: try DomainJSON.attachments(from: s.bytes(8)),
            createdAt: s.int64(9), updatedAt: s.int64(10))
    }

    /// The row with this id; ids are decrypted to rowids, so a forged or foreign id costs no query.
    public func row(organization: ObjectID, id: ObjectID) async throws(StorageError) -> DataRow {
        let ids = rowIDs
        guard let rowid = ids.rowid(for: id) else { throw .notFound("data row \(id)") }
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.rowColumns + " WHERE r.seq = ? AND r.org = (SELECT seq FROM organizations WHERE id = ?)",
                [.integer(rowid), .text(organization.rawValue)]
            ) { s throws(StorageError) in try Self.decodeRow(s, ids: ids) }
        }
        guard let found else { throw .notFound("data row \(id)") }
        return found
    }

    /// The row with this global key, through the (organisation, global key) index.
    public func row(organization: ObjectID, globalKey: String) async throws(StorageError) -> DataRow {
        let ids = rowIDs
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.rowColumns + " WHERE r.org = (SELECT seq FROM organizations WHERE id = ?) AND r.global_key = ?",
                [.text(organization.rawValue), .text(globalKey)]
            ) { s throws(StorageError) in try Self.decodeRow(s, ids: ids) }
        }
        guard let found else { throw .notFound("data row with global key \(globalKey)") }
        return found
    }

    /// Rows in ingest order (a range scan of the dataset's rowids, so no index is needed).
    /// `limit` is clamped to 1...10,000. Filters compare the `jsonb` metadata's values.
    public func rows(
        organization: ObjectID, dataset: ObjectID, metadataFilter: [String: String], after cursor: String?, limit: Int
    ) async throws(StorageError) -> Page<DataRow> {
        let ids = rowIDs
        let after = try cursor.map { c throws(StorageError) in
            guard let rowid = ids.rowid(forCursor: c) else {
                throw StorageError.failedPrecondition("the cursor \(c) is not one this server returned")
            }
            return rowid
        }
        let limit = min(max(limit, 1), 10_000)
        var sql = Self.rowColumns + " WHERE r.seq > ? AND r.seq < ?"
        var values: [SQLValue] = [.null, .null]
        for key in metadataFilter.keys.sorted() {
            // `->>` takes the key as a value, so any key works unquoted.
            sql += " AND r.metadata ->> ? = ?"
            values += [.text(key), .text(metadataFilter[key]!)]
        }
        sql += " ORDER BY r.seq LIMIT ?"
        values.append(.integer(Int64(limit + 1)))
        let query = sql
        let bound = values
        let (items, lastRowid) = try await read { connection throws(StorageError) in
            guard let datasetSeq = try connection.datasetSeq(organization: organization, id: dataset) else {
                throw StorageError.notFound("dataset \(dataset)")
            }
            let range = Schema.rowRange(dataset: datasetSeq)
            var values = bound
            values[0] = .integer(max(after ?? range.lowerBound, range.lowerBound))
            values[1] = .integer(range.upperBound)
            var rowids: [Int64] = []
            let rows = try connection.query(query, values) { s throws(StorageError) in
                rowids.append(s.int64(0))
                return try Self.decodeRow(s, ids: ids)
            }
            return (rows, rowids.count > limit ? rowids[limit - 1] : nil)
        }
        return Page(items: Array(items.prefix(limit)), nextCursor: lastRowid.map(ids.cursor(after:)))
    }

    /// Deletes the rows that exist in the organisation (their labels cascade) and returns how
    /// many; unknown ids are skipped, not errors.
    public func deleteRows(organization: ObjectID, ids: [ObjectID]) async throws(StorageError) -> Int {
        let rowids = ids.compactMap(rowIDs.rowid(for:))
        return try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { return 0 }
            var removedPerDataset: [Int64: Int64] = [:]
            var removed = 0
            for rowid in rowids {
                // Labels go with the row (ON DELETE CASCADE).
                if try connection.run("DELETE FROM data_rows WHERE seq = ? AND org = ?", [.integer(rowid), .integer(org)]) == 1 {
                    removedPerDataset[rowid >> Schema.positionBits, default: 0] += 1
                    removed += 1
                }
            }
            let now = Self.now()
            for (dataset, count) in removedPerDataset {
                try connection.run(
                    "UPDATE datasets SET row_count = row_count - ? WHERE seq = ?", [.integer(count), .integer(dataset)])
                // Billing: these rows stop being held now.
                if let id = try connection.queryFirst("SELECT id FROM datasets WHERE seq = ?", [.integer(dataset)], { $0.text(0) }) {
                    try connection.recordRowCountChange(org: org, dataset: id, delta: -count, at: now)
                }
            }
            return removed
        }
    }
}

extension PostgresConnection {
    /// The internal number of dataset `id` when it belongs to `organization`.
    func datasetSeq(organization: ObjectID, id: ObjectID) throws(StorageError) -> Int64? {
        try queryFirst(
            "SELECT d.seq FROM datasets d JOIN organizations o ON o.seq = d.org WHERE d.id = ? AND o.id = ?",
            [.text(id.rawValue), .text(organization.rawValue)]
        ) { $0.int64(0) }
    }
}
