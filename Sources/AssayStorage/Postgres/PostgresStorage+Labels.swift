public import AssayCore

/// Ontologies and labels, scoped to one organisation like everything else.
extension PostgresStorage {
    /// Stores an ontology (validated by the caller) with its feature tree as JSON.
    public func createOntology(organization: ObjectID, name: String, features: [Feature]) async throws(StorageError)
        -> Ontology
    {
        let ontology = Ontology(
            id: .random("ont"), organizationID: organization, name: name, features: features, createdAt: Self.now())
        let json = DomainJSON.features(features)
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else {
                throw .notFound("organization \(organization)")
            }
            try connection.run(
                "INSERT INTO ontologies (id, org, name, features, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(ontology.id.rawValue), .integer(org), .text(name), .text(json), .integer(ontology.createdAt)])
        }
        return ontology
    }

    private static let ontologyColumns = """
        SELECT n.id, o.id, n.name, n.features, n.created_at
        FROM ontologies n JOIN organizations o ON o.seq = n.org
        """

    private static func decodeOntology(_ s: PostgresRow) throws(StorageError) -> Ontology {
        Ontology(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2),
            features: try DomainJSON.features(from: s.bytes(3)), createdAt: s.int64(4))
    }

    /// The ontology with this id in the organisation.
    public func ontology(organization: ObjectID, id: ObjectID) async throws(StorageError) -> Ontology {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.ontologyColumns + " WHERE n.id = ? AND o.id = ?",
                [.text(id.rawValue), .text(organization.rawValue)],
                Self.decodeOntology)
        }
        guard let found else { throw .notFound("ontology \(id)") }
        return found
    }

    /// The organisation's ontologies, oldest first.
    public func ontologies(organization: ObjectID) async throws(StorageError) -> [Ontology] {
        try await read { connection throws(StorageError) in
            try connection.query(
                Self.ontologyColumns + " WHERE o.id = ? ORDER BY n.seq", [.text(organization.rawValue)],
                Self.decodeOntology)
        }
    }

    // MARK: labels

    /// A label whose `createdAt` is 0 is stamped with the time of the insert.
    public func insertLabels(organization: ObjectID, labels: [Label]) async throws(StorageError) {
        let now = Self.now()
        let ids = rowIDs
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else {
                throw .notFound("organization \(organization)")
            }
            var ontologies: [ObjectID: Int64] = [:]
            for label in labels {
                guard let row = ids.rowid(for: label.dataRowID),
                    try connection.queryFirst(
                        "SELECT 1 FROM data_rows WHERE seq = ? AND org = ?", [.integer(row), .integer(org)],
                        { _ in true }) != nil
                else { throw .notFound("data row \(label.dataRowID)") }
                var ontology = ontologies[label.ontologyID]
                if ontology == nil {
                    ontology = try connection.queryFirst(
                        "SELECT seq FROM ontologies WHERE id = ? AND org = ?",
                        [.text(label.ontologyID.rawValue), .integer(org)]
                    ) { $0.int64(0) }
                    ontologies[label.ontologyID] = ontology
                }
                guard let ontology else { throw .notFound("ontology \(label.ontologyID)") }
                do throws(StorageError) {
                    try connection.insertLabel(label, org: org, row: row, ontology: ontology, now: now)
                } catch .alreadyExists {
                    throw .alreadyExists("label \(label.id)")
                }
            }
        }
    }

    /// Rows without labels (and rows of other organisations) have no entry.
    public func labels(organization: ObjectID, rows: [ObjectID]) async throws(StorageError) -> [ObjectID: [Label]] {
        let wanted = Set(rows).compactMap { row in rowIDs.rowid(for: row).map { (row, $0) } }
        return try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { return [:] }
            var result: [ObjectID: [Label]] = [:]
            for (row, rowid) in wanted {
                let labels = try connection.query(
                    """
                    SELECT l.id, n.id, l.feature_id, l.value, l.children, l.model_run_id, l.confidence_ppm, l.created_at
                    FROM labels l JOIN ontologies n ON n.seq = l.ontology
                    WHERE l.data_row = ? AND l.org = ?
                    ORDER BY l.seq
                    """, [.integer(rowid), .integer(org)]
                ) { s throws(StorageError) in
                    let ontology = ObjectID(rawValue: s.text(1))
                    return Label(
                        id: ObjectID(rawValue: s.text(0)), dataRowID: row, ontologyID: ontology, featureID: s.text(2),
                        value: try DomainJSON.value(from: s.bytes(3)),
                        children: try DomainJSON.children(from: s.bytes(4), row: row, ontology: ontology),
                        modelRunID: s.optionalText(5).map(ObjectID.init(rawValue:)),
                        confidencePPM: s.optionalInt64(6).map(Int.init), createdAt: s.int64(7))
                }
                if !labels.isEmpty { result[row] = labels }
            }
            return result
        }
    }
}

extension PostgresConnection {
    /// Inserts one label (the caller checked its row and ontology belong to `org`).
    func insertLabel(_ label: Label, org: Int64, row: Int64, ontology: Int64, now: Timestamp) throws(StorageError) {
        try run(
            """
            INSERT INTO labels (id, org, data_row, ontology, feature_id, value, children, model_run_id,
                                confidence_ppm, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(label.id.rawValue), .integer(org), .integer(row), .integer(ontology),
                .text(label.featureID),
                .text(DomainJSON.value(label.value)), .text(DomainJSON.children(label.children)),
                .optionalText(label.modelRunID?.rawValue),
                .optionalInteger(label.confidencePPM.map(Int64.init)),
                .integer(label.createdAt == 0 ? now : label.createdAt),
            ])
    }
}
