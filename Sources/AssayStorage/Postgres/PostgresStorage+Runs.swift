public import AssayCore

/// Model runs, their rows and the prediction cache.
extension PostgresStorage {
    private static let runColumns = """
        SELECT m.id, o.id, m.name, m.model_id, m.model_version, n.id, m.spec, m.state, m.error,
               m.rows_total, m.rows_done, m.rows_failed, m.rows_cached, m.rows_with_predictions, m.images, m.tokens,
               m.created_at, m.started_at, m.finished_at, m.settled
        FROM model_runs m JOIN organizations o ON o.seq = m.org JOIN ontologies n ON n.seq = m.ontology
        """

    private static func decodeRun(_ s: PostgresRow) throws(StorageError) -> ModelRun {
        guard let state = RunState(rawValue: s.text(7)) else { throw .internal("stored run has unknown state \(s.text(7))") }
        let spec = try RunJSON.spec(from: s.bytes(6))
        return ModelRun(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2),
            modelID: s.text(3), modelVersion: s.text(4), ontologyID: ObjectID(rawValue: s.text(5)),
            mapping: spec.mapping, parameters: spec.parameters, datasetIDs: spec.datasets, state: state,
            progress: RunProgress(
                total: s.int(9), done: s.int(10), failed: s.int(11), cached: s.int(12), withPredictions: s.int(13),
                images: s.int(14), tokens: s.int64(15)),
            error: s.text(8), createdAt: s.int64(16), startedAt: s.optionalInt64(17), finishedAt: s.optionalInt64(18),
            settled: s.int64(19) != 0)
    }

    public func createRun(_ run: ModelRun, rows: [ObjectID], requestID: String?) async throws(StorageError) -> ModelRun {
        let ids = rowIDs
        var rowids: [Int64] = []
        rowids.reserveCapacity(rows.count)
        for row in rows {
            guard let rowid = ids.rowid(for: row) else { throw .notFound("data row \(row)") }
            rowids.append(rowid)
        }
        let spec = RunJSON.spec(mapping: run.mapping, parameters: run.parameters, datasets: run.datasetIDs)
        let frozen = rowids
        return try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(run.organizationID) else {
                throw .notFound("organization \(run.organizationID)")
            }
            if let requestID,
                let existing = try connection.queryFirst(
                    Self.runColumns + " WHERE m.org = ? AND m.request_id = ?", [.integer(org), .text(requestID)], Self.decodeRun)
            {
                return existing
            }
            guard
                let ontology = try connection.queryFirst(
                    "SELECT seq FROM ontologies WHERE id = ? AND org = ?", [.text(run.ontologyID.rawValue), .integer(org)],
                    { $0.int64(0) })
            else { throw .notFound("ontology \(run.ontologyID)") }
            // Two servers given the same request id at once: the unique index makes the second
            // wait for the first and then insert nothing; it returns the first's run.
            let inserted = try connection.queryFirst(
                """
                INSERT INTO model_runs (id, org, name, model_id, model_version, ontology, spec, request_id, state, error,
                                        rows_total, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
                ON CONFLICT (org, request_id) DO NOTHING
                RETURNING seq
                """,
                [
                    .text(run.id.rawValue), .integer(org), .text(run.name), .text(run.modelID), .text(run.modelVersion),
                    .integer(ontology), .text(spec), .optionalText(requestID), .text(run.state.rawValue),
                    .integer(Int64(frozen.count)), .integer(run.createdAt),
                ]) { $0.int64(0) }
            guard let seq = inserted else {
                guard let requestID,
                    let existing = try connection.queryFirst(
                        Self.runColumns + " WHERE m.org = ? AND m.request_id = ?", [.integer(org), .text(requestID)], Self.decodeRun)
                else { throw .internal("a run insert did nothing without a request id") }
                return existing
            }
            // Every row in one statement: positions and row seqs as two arrays.
            let positions = "{" + (1...max(1, frozen.count)).prefix(frozen.count).map(String.init).joined(separator: ",") + "}"
            let seqs = "{" + frozen.map(String.init).joined(separator: ",") + "}"
            let insertedRows = try connection.run(
                """
                INSERT INTO run_rows (run, position, data_row)
                SELECT ?, p.position, r.seq
                FROM unnest(?::bigint[], ?::bigint[]) AS p(position, seq) JOIN data_rows r ON r.seq = p.seq AND r.org = ?
                """,
                [.integer(seq), .text(positions), .text(seqs), .integer(org)])
            if insertedRows != frozen.count {
                let found = Set(
                    try connection.query(
                        "SELECT data_row FROM run_rows WHERE run = ?", [.integer(seq)]) { $0.int64(0) })
                let missing = frozen.first { !found.contains($0) } ?? frozen[0]
                throw .notFound("data row \(ids.id(for: missing))")
            }
            var stored = run
            stored.progress = RunProgress(total: frozen.count)
            return stored
        }
    }

    public func run(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ModelRun {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.runColumns + " WHERE m.id = ? AND o.id = ?", [.text(id.rawValue), .text(organization.rawValue)], Self.decodeRun)
        }
        guard let found else { throw .notFound("model run \(id)") }
        return found
    }

    public func run(organization: ObjectID, requestID: String) async throws(StorageError) -> ModelRun? {
        try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.runColumns + " WHERE m.request_id = ? AND o.id = ?", [.text(requestID), .text(organization.rawValue)],
                Self.decodeRun)
        }
    }

    public func runs(organization: ObjectID) async throws(StorageError) -> [ModelRun] {
        try await read { connection throws(StorageError) in
            try connection.query(Self.runColumns + " WHERE o.id = ? ORDER BY m.seq DESC", [.text(organization.rawValue)], Self.decodeRun)
        }
    }

    public func activeRunCount(organization: ObjectID) async throws(StorageError) -> Int {
        try await read { connection throws(StorageError) in
            // Queued and running runs are unsettled: the partial index of open runs finds them.
            try connection.queryFirst(
                """
                SELECT count(*) FROM model_runs m JOIN organizations o ON o.seq = m.org
                WHERE m.settled = 0 AND o.id = ? AND m.state IN ('queued', 'running')
                """, [.text(organization.rawValue)], { $0.int(0) }) ?? 0
        }
    }

    public func unfinishedRuns() async throws(StorageError) -> [ModelRun] {
        try await read { connection throws(StorageError) in
            try connection.query(Self.runColumns + " WHERE m.settled = 0 ORDER BY m.seq", [], Self.decodeRun)
        }
    }

    /// The run's `seq` and its organisation's, or NOT_FOUND.
    /// With `lock`, the run's row stays locked to the end of the transaction: every write
    /// that moves a run's state or counters takes it, so they apply one at a time.
    static func runSeq(_ connection: PostgresConnection, organization: ObjectID, run: ObjectID, lock: Bool = false)
        throws(StorageError) -> (run: Int64, org: Int64, ontology: Int64, state: RunState)
    {
        let found = try connection.queryFirst(
            "SELECT m.seq, m.org, m.ontology, m.state FROM model_runs m JOIN organizations o ON o.seq = m.org WHERE m.id = ? AND o.id = ?"
                + (lock ? " FOR UPDATE OF m" : ""),
            [.text(run.rawValue), .text(organization.rawValue)]
        ) { s in (s.int64(0), s.int64(1), s.int64(2), s.text(3)) }
        guard let found, let state = RunState(rawValue: found.3) else { throw .notFound("model run \(run)") }
        return (found.0, found.1, found.2, state)
    }

    public func pendingRunRows(organization: ObjectID, run: ObjectID, after position: Int64, limit: Int) async throws(StorageError)
        -> [PendingRunRow]
    {
        let ids = rowIDs
        return try await read { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            let pending = try connection.query(
                "SELECT position, data_row FROM run_rows WHERE run = ? AND position > ? AND state = 0 ORDER BY position LIMIT ?",
                [.integer(seqs.run), .integer(position), .integer(Int64(limit))]
            ) { s in (position: s.int64(0), rowid: s.int64(1)) }
            return try Self.pendingRows(connection, pending, org: seqs.org, ids: ids)
        }
    }

    // MARK: claims (work sharing between servers)

    /// One statement picks and leases the rows: `FOR UPDATE SKIP LOCKED` lets servers claiming
    /// at the same moment pass over each other's candidates instead of queueing behind them,
    /// and the lease columns are rewritten only on rows still pending and free.
    public func claimRunRows(organization: ObjectID, run: ObjectID, server: String, limit: Int, now: Timestamp, leaseUntil: Timestamp)
        async throws(StorageError) -> [PendingRunRow]
    {
        let ids = rowIDs
        return try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            guard !seqs.state.isTerminal else { return [] }
            let claimed = try connection.query(
                """
                UPDATE run_rows SET lease_owner = ?, lease_until = ?
                WHERE run = ? AND position IN (
                    SELECT position FROM run_rows
                    WHERE run = ? AND state = 0 AND (lease_until IS NULL OR lease_until < ?)
                    ORDER BY position LIMIT ?
                    FOR UPDATE SKIP LOCKED)
                RETURNING position, data_row
                """,
                [
                    .text(server), .integer(leaseUntil), .integer(seqs.run), .integer(seqs.run), .integer(now),
                    .integer(Int64(max(1, limit))),
                ]
            ) { s in (position: s.int64(0), rowid: s.int64(1)) }
            .sorted { $0.position < $1.position }
            return try Self.pendingRows(connection, claimed, org: seqs.org, ids: ids)
        }
    }

    public func renewRunRowLeases(organization: ObjectID, run: ObjectID, server: String, leaseUntil: Timestamp) async throws(StorageError)
        -> Int
    {
        try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            return try connection.run(
                "UPDATE run_rows SET lease_until = ? WHERE run = ? AND state = 0 AND lease_owner = ?",
                [.integer(leaseUntil), .integer(seqs.run), .text(server)])
        }
    }

    public func releaseRunRows(organization: ObjectID, run: ObjectID, server: String) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            try connection.run(
                "UPDATE run_rows SET lease_owner = NULL, lease_until = NULL WHERE run = ? AND state = 0 AND lease_owner = ?",
                [.integer(seqs.run), .text(server)])
        }
    }

    /// The content of claimed or pending rows (nil for a row deleted since), in one query.
    private static func pendingRows(
        _ connection: PostgresConnection, _ rows: [(position: Int64, rowid: Int64)], org: Int64, ids: RowIDCipher
    ) throws(StorageError) -> [PendingRunRow] {
        guard !rows.isEmpty else { return [] }
        let seqs = "{" + rows.map { String($0.rowid) }.joined(separator: ",") + "}"
        var content: [Int64: DataRow] = [:]
        _ = try connection.query(
            Self.rowColumns + " WHERE r.seq = ANY(?::bigint[]) AND r.org = ?", [.text(seqs), .integer(org)]
        ) { s throws(StorageError) in
            let seq = s.int64(0)
            content[seq] = try Self.decodeRow(s, ids: ids)
        }
        return rows.map { PendingRunRow(position: $0.position, rowID: ids.id(for: $0.rowid), row: content[$0.rowid]) }
    }

    public func recordRunRows(organization: ObjectID, run: ObjectID, outcomes: [RunRowOutcome]) async throws(StorageError) -> ModelRun {
        let now = Self.now()
        return try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run, lock: true)
            if !seqs.state.isTerminal {
                var done = 0, failed = 0, cached = 0, withPredictions = 0, images = 0
                var tokens: Int64 = 0
                for outcome in outcomes {
                    guard
                        let rowid = try connection.queryFirst(
                            "SELECT data_row FROM run_rows WHERE run = ? AND position = ? AND state = 0 FOR UPDATE",
                            [.integer(seqs.run), .integer(outcome.position)], { $0.int64(0) })
                    else { continue }  // recorded before, or not a row of this run
                    var error = outcome.error
                    if error == nil, !outcome.predictions.isEmpty,
                        try connection.queryFirst("SELECT 1 FROM data_rows WHERE seq = ?", [.integer(rowid)], { _ in true }) == nil
                    {
                        error = "the data row was deleted during the run"
                    }
                    if let error {
                        try connection.run(
                            "UPDATE run_rows SET state = 2, error = ?, lease_owner = NULL, lease_until = NULL WHERE run = ? AND position = ?",
                            [.text(error), .integer(seqs.run), .integer(outcome.position)])
                        failed += 1
                    } else {
                        for label in outcome.predictions {
                            try connection.insertLabel(label, org: seqs.org, row: rowid, ontology: seqs.ontology, now: now)
                        }
                        try connection.run(
                            "UPDATE run_rows SET state = 1, lease_owner = NULL, lease_until = NULL WHERE run = ? AND position = ?", [.integer(seqs.run), .integer(outcome.position)])
                        if !outcome.predictions.isEmpty { withPredictions += 1 }
                    }
                    done += 1
                    if outcome.cached { cached += 1 }
                    images += outcome.images
                    tokens += outcome.tokens
                    if let entry = outcome.cacheEntry {
                        try connection.run(
                            """
                            INSERT INTO prediction_cache (org, key, value, created_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT (org, key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at
                            """,
                            [.integer(seqs.org), .blob(entry.key), .blob(entry.value), .integer(now)])
                    }
                }
                if done > 0 {
                    try connection.run(
                        """
                        UPDATE model_runs SET rows_done = rows_done + ?, rows_failed = rows_failed + ?, rows_cached = rows_cached + ?,
                            rows_with_predictions = rows_with_predictions + ?, images = images + ?, tokens = tokens + ?
                        WHERE seq = ?
                        """,
                        [
                            .integer(Int64(done)), .integer(Int64(failed)), .integer(Int64(cached)), .integer(Int64(withPredictions)),
                            .integer(Int64(images)), .integer(tokens), .integer(seqs.run),
                        ])
                }
            }
            guard let updated = try connection.queryFirst(Self.runColumns + " WHERE m.seq = ?", [.integer(seqs.run)], Self.decodeRun) else {
                throw .notFound("model run \(run)")
            }
            return updated
        }
    }

    public func setRunState(organization: ObjectID, run: ObjectID, state: RunState, error: String, at: Timestamp) async throws(StorageError)
        -> ModelRun
    {
        try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run, lock: true)
            if !seqs.state.isTerminal, seqs.state != state {
                try connection.run(
                    """
                    UPDATE model_runs SET state = ?, error = ?,
                        started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
                        finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END
                    WHERE seq = ?
                    """,
                    [
                        .text(state.rawValue), .text(state == .failed ? error : ""), .text(state.rawValue), .integer(at),
                        .integer(state.isTerminal ? 1 : 0), .integer(at), .integer(seqs.run),
                    ])
            }
            guard let updated = try connection.queryFirst(Self.runColumns + " WHERE m.seq = ?", [.integer(seqs.run)], Self.decodeRun) else {
                throw .notFound("model run \(run)")
            }
            return updated
        }
    }

    public func markRunSettled(organization: ObjectID, run: ObjectID) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            try connection.run("UPDATE model_runs SET settled = 1 WHERE seq = ?", [.integer(seqs.run)])
        }
    }

    public func runRows(organization: ObjectID, run: ObjectID, failedOnly: Bool, after position: Int64, limit: Int) async throws(StorageError)
        -> [RunRow]
    {
        let ids = rowIDs
        return try await read { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            return try connection.query(
                """
                SELECT rr.position, rr.data_row, COALESCE(r.global_key, ''), rr.state, COALESCE(rr.error, '')
                FROM run_rows rr LEFT JOIN data_rows r ON r.seq = rr.data_row
                WHERE rr.run = ? AND rr.position > ? AND (? = 0 OR rr.state = 2)
                ORDER BY rr.position LIMIT ?
                """,
                [.integer(seqs.run), .integer(position), .integer(failedOnly ? 1 : 0), .integer(Int64(limit))]
            ) { s in
                RunRow(
                    position: s.int64(0), rowID: ids.id(for: s.int64(1)), globalKey: s.text(2),
                    state: RunRow.State(rawValue: s.int(3)) ?? .pending, error: s.text(4))
            }
        }
    }

    public func cachedPredictions(organization: ObjectID, keys: [[UInt8]]) async throws(StorageError) -> [[UInt8]: [UInt8]] {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { return [:] }
            var found: [[UInt8]: [UInt8]] = [:]
            for key in keys {
                if let value = try connection.queryFirst(
                    "SELECT value FROM prediction_cache WHERE org = ? AND key = ?", [.integer(org), .blob(key)], { $0.blob(0) })
                {
                    found[key] = value
                }
            }
            return found
        }
    }
}
