public import AssayCore

/// Model runs, their rows and the prediction cache.
extension SQLiteStorage {
    private static let runColumns = """
        SELECT m.id, o.id, m.name, m.model_id, m.model_version, n.id, m.spec, m.state, m.error,
               m.rows_total, m.rows_done, m.rows_failed, m.rows_cached, m.rows_with_predictions, m.images, m.tokens,
               m.created_at, m.started_at, m.finished_at, m.settled
        FROM model_runs m JOIN organizations o ON o.seq = m.org JOIN ontologies n ON n.seq = m.ontology
        """

    private static func decodeRun(_ s: SQLiteStatement) throws(StorageError) -> ModelRun {
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
            try connection.run(
                """
                INSERT INTO model_runs (id, org, name, model_id, model_version, ontology, spec, request_id, state, error,
                                        rows_total, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
                """,
                [
                    .text(run.id.rawValue), .integer(org), .text(run.name), .text(run.modelID), .text(run.modelVersion),
                    .integer(ontology), .text(spec), .optionalText(requestID), .text(run.state.rawValue),
                    .integer(Int64(frozen.count)), .integer(run.createdAt),
                ])
            let seq = connection.lastInsertRowID
            for (position, rowid) in frozen.enumerated() {
                let inserted = try connection.run(
                    "INSERT INTO run_rows (run, position, data_row) SELECT ?, ?, seq FROM data_rows WHERE seq = ? AND org = ?",
                    [.integer(seq), .integer(Int64(position + 1)), .integer(rowid), .integer(org)])
                guard inserted == 1 else { throw .notFound("data row \(ids.id(for: rowid))") }
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
    private static func runSeq(_ connection: SQLiteConnection, organization: ObjectID, run: ObjectID) throws(StorageError)
        -> (run: Int64, org: Int64, ontology: Int64, state: RunState)
    {
        let found = try connection.queryFirst(
            "SELECT m.seq, m.org, m.ontology, m.state FROM model_runs m JOIN organizations o ON o.seq = m.org WHERE m.id = ? AND o.id = ?",
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
            ) { s in (s.int64(0), s.int64(1)) }
            var result: [PendingRunRow] = []
            result.reserveCapacity(pending.count)
            for (position, rowid) in pending {
                let row = try connection.queryFirst(
                    Self.rowColumns + " WHERE r.seq = ? AND r.org = ?", [.integer(rowid), .integer(seqs.org)]
                ) { s throws(StorageError) in try Self.decodeRow(s, ids: ids) }
                result.append(PendingRunRow(position: position, rowID: ids.id(for: rowid), row: row))
            }
            return result
        }
    }

    public func recordRunRows(organization: ObjectID, run: ObjectID, outcomes: [RunRowOutcome]) async throws(StorageError) -> ModelRun {
        let now = Self.now()
        return try await write { connection throws(StorageError) in
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            if !seqs.state.isTerminal {
                var done = 0, failed = 0, cached = 0, withPredictions = 0, images = 0
                var tokens: Int64 = 0
                for outcome in outcomes {
                    guard
                        let rowid = try connection.queryFirst(
                            "SELECT data_row FROM run_rows WHERE run = ? AND position = ? AND state = 0",
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
                            "UPDATE run_rows SET state = 2, error = ? WHERE run = ? AND position = ?",
                            [.text(error), .integer(seqs.run), .integer(outcome.position)])
                        failed += 1
                    } else {
                        for label in outcome.predictions {
                            try connection.insertLabel(label, org: seqs.org, row: rowid, ontology: seqs.ontology, now: now)
                        }
                        try connection.run(
                            "UPDATE run_rows SET state = 1 WHERE run = ? AND position = ?", [.integer(seqs.run), .integer(outcome.position)])
                        if !outcome.predictions.isEmpty { withPredictions += 1 }
                    }
                    done += 1
                    if outcome.cached { cached += 1 }
                    images += outcome.images
                    tokens += outcome.tokens
                    if let entry = outcome.cacheEntry {
                        try connection.run(
                            "INSERT OR REPLACE INTO prediction_cache (org, key, value, created_at) VALUES (?, ?, ?, ?)",
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
            let seqs = try Self.runSeq(connection, organization: organization, run: run)
            if !seqs.state.isTerminal, seqs.state != state {
                try connection.run(
                    """
                    UPDATE model_runs SET state = ?, error = ?,
                        started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
                        finished_at = CASE WHEN ? THEN ? ELSE finished_at END
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

/// The run's spec column: mapping, resolved parameters and datasets as JSON.
enum RunJSON {
    struct Spec {
        var mapping: [ClassMapping]
        var parameters: [String: ParameterValue]
        var datasets: [ObjectID]
    }

    static func spec(mapping: [ClassMapping], parameters: [String: ParameterValue], datasets: [ObjectID]) -> String {
        var params: [String: JSON] = [:]
        for (name, value) in parameters {
            switch value {
            case .integer(let v): params[name] = .object(["integer": .number(String(v))])
            case .number(let v): params[name] = .object(["number": .number(String(v))])
            case .string(let v): params[name] = .object(["string": .string(v)])
            case .boolean(let v): params[name] = .object(["boolean": .bool(v)])
            }
        }
        var writer = JSONWriter(capacity: 256)
        writer.value(
            .object([
                "mapping": .array(mapping.map { .object(["model_class": .string($0.modelClass), "feature_id": .string($0.featureID)]) }),
                "parameters": .object(params),
                "datasets": .array(datasets.map { .string($0.rawValue) }),
            ]))
        return writer.text
    }

    static func spec(from bytes: UnsafeRawBufferPointer) throws(StorageError) -> Spec {
        let json: JSON
        do { json = try JSONParser.parse(bytes) } catch { throw .internal("stored run spec is not valid JSON: \(error.reason)") }
        guard let object = json.object else { throw .internal("stored run spec is not an object") }
        var spec = Spec(mapping: [], parameters: [:], datasets: [])
        for item in object["mapping"]?.array ?? [] {
            guard let m = item.object, let c = m["model_class"]?.string, let f = m["feature_id"]?.string else {
                throw .internal("stored run mapping is not valid")
            }
            spec.mapping.append(ClassMapping(modelClass: c, featureID: f))
        }
        for (name, value) in object["parameters"]?.object ?? [:] {
            guard let v = value.object, let (kind, raw) = v.first else { throw .internal("stored run parameter \(name) is not valid") }
            switch (kind, raw) {
            case ("integer", .number(let n)):
                guard let i = Int64(n) else { throw .internal("stored run parameter \(name) is not an integer") }
                spec.parameters[name] = .integer(i)
            case ("number", .number(let n)):
                guard let d = Double(n) else { throw .internal("stored run parameter \(name) is not a number") }
                spec.parameters[name] = .number(d)
            case ("string", .string(let s)): spec.parameters[name] = .string(s)
            case ("boolean", .bool(let b)): spec.parameters[name] = .boolean(b)
            default: throw .internal("stored run parameter \(name) is not valid")
            }
        }
        spec.datasets = (object["datasets"]?.array ?? []).compactMap(\.string).map(ObjectID.init(rawValue:))
        return spec
    }
}
