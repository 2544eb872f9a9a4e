public import AssayCore

extension Schema {
    /// Preference projects (docs/preference.md). The project's prompts, candidates, judge and
    /// the runs, dataset and review project it refers to are one JSON document: the project is
    /// an index over runs and the review queue, which hold the responses and verdicts.
    static let preference = """
        CREATE TABLE preference_projects (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            name TEXT NOT NULL,
            document TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX preference_projects_by_org ON preference_projects(org, seq);
        """
}

/// Preference projects.
extension SQLiteStorage {
    private static let preferenceColumns = """
        SELECT p.id, o.id, p.name, p.document, p.created_at
        FROM preference_projects p JOIN organizations o ON o.seq = p.org
        """

    private static func decodePreference(_ s: SQLiteStatement) throws(StorageError) -> PreferenceProject {
        try PreferenceJSON.project(
            id: ObjectID(rawValue: s.text(0)), organization: ObjectID(rawValue: s.text(1)), name: s.text(2), document: s.text(3),
            createdAt: s.int64(4))
    }

    public func createPreferenceProject(_ project: PreferenceProject) async throws(StorageError) -> PreferenceProject {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(project.organizationID) else {
                throw .notFound("organization \(project.organizationID)")
            }
            try connection.run(
                "INSERT INTO preference_projects (id, org, name, document, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(project.id.rawValue), .integer(org), .text(project.name), .text(PreferenceJSON.document(project)), .integer(project.createdAt)])
            return project
        }
    }

    public func preferenceProject(organization: ObjectID, id: ObjectID) async throws(StorageError) -> PreferenceProject {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.preferenceColumns + " WHERE p.id = ? AND o.id = ?", [.text(id.rawValue), .text(organization.rawValue)],
                Self.decodePreference)
        }
        guard let found else { throw .notFound("preference project \(id)") }
        return found
    }

    public func preferenceProjects(organization: ObjectID) async throws(StorageError) -> [PreferenceProject] {
        try await read { connection throws(StorageError) in
            try connection.query(Self.preferenceColumns + " WHERE o.id = ? ORDER BY p.seq", [.text(organization.rawValue)], Self.decodePreference)
        }
    }

    public func updatePreferenceProject(_ project: PreferenceProject, expected: PreferenceProject) async throws(StorageError)
        -> (updated: Bool, project: PreferenceProject)
    {
        try await write { connection throws(StorageError) in
            let changed = try connection.run(
                """
                UPDATE preference_projects SET document = ?
                WHERE id = ? AND document = ? AND org = (SELECT seq FROM organizations WHERE id = ?)
                """,
                [
                    .text(PreferenceJSON.document(project)), .text(project.id.rawValue), .text(PreferenceJSON.document(expected)),
                    .text(project.organizationID.rawValue),
                ])
            guard
                let stored = try connection.queryFirst(
                    Self.preferenceColumns + " WHERE p.id = ? AND o.id = ?", [.text(project.id.rawValue), .text(project.organizationID.rawValue)],
                    Self.decodePreference)
            else { throw .notFound("preference project \(project.id)") }
            return (changed > 0, stored)
        }
    }
}

/// The project document column.
enum PreferenceJSON {
    static func parameters(_ p: [String: ParameterValue]) -> JSON {
        (try? JSONParser.parse(RunJSON.spec(mapping: [], parameters: p, datasets: [])))?.object?["parameters"] ?? .object([:])
    }

    static func parameters(from json: JSON?) throws(StorageError) -> [String: ParameterValue] {
        var writer = JSONWriter()
        writer.value(.object(["parameters": json ?? .object([:])]))
        var text = writer.text
        return try text.withUTF8 { utf8 in
            Result { () throws(StorageError) in try RunJSON.spec(from: UnsafeRawBufferPointer(utf8)).parameters }
        }.get()
    }

    static func optional(_ id: ObjectID?) -> JSON { id.map { .string($0.rawValue) } ?? .null }

    static func document(_ p: PreferenceProject) -> String {
        var judge = JSON.null
        if let j = p.judge {
            judge = .object([
                "model_id": .string(j.modelID), "parameters": parameters(j.parameters), "inconsistent": .string(j.inconsistent.rawValue),
                "instructions": .string(j.instructions),
            ])
        }
        var writer = JSONWriter(capacity: 256 + p.promptRowIDs.count * 40)
        writer.value(
            .object([
                "prompts": .array(p.promptRowIDs.map { .string($0.rawValue) }),
                "candidates": .array(
                    p.candidates.map {
                        .object([
                            "name": .string($0.name), "model_id": .string($0.modelID), "parameters": parameters($0.parameters),
                            "run_id": optional($0.runID),
                        ])
                    }),
                "judge": judge,
                "tie_rule": .string(p.tieRule.rawValue),
                "ontology": .string(p.ontologyID.rawValue),
                "judge_dataset": optional(p.judgeDatasetID),
                "judge_run": optional(p.judgeRunID),
                "review_project": optional(p.reviewProjectID),
            ]))
        return writer.text
    }

    static func project(id: ObjectID, organization: ObjectID, name: String, document: String, createdAt: Timestamp) throws(StorageError)
        -> PreferenceProject
    {
        let json: JSON
        do { json = try JSONParser.parse(document) } catch { throw .internal("stored preference project is not valid JSON: \(error.reason)") }
        guard let o = json.object, let ontology = o["ontology"]?.string, let tie = o["tie_rule"]?.string.flatMap(PreferenceTieRule.init(rawValue:))
        else { throw .internal("stored preference project \(id) is not valid") }
        func ref(_ key: String, in object: [String: JSON]) -> ObjectID? { object[key]?.string.map(ObjectID.init(rawValue:)) }
        var candidates: [PreferenceCandidate] = []
        for item in o["candidates"]?.array ?? [] {
            guard let c = item.object, let name = c["name"]?.string, let model = c["model_id"]?.string else {
                throw .internal("stored preference candidate is not valid")
            }
            candidates.append(PreferenceCandidate(name: name, modelID: model, parameters: try parameters(from: c["parameters"]), runID: ref("run_id", in: c)))
        }
        var judge: PreferenceJudge? = nil
        if let j = o["judge"]?.object {
            guard let model = j["model_id"]?.string, let rule = j["inconsistent"]?.string.flatMap(InconsistentVerdictRule.init(rawValue:)) else {
                throw .internal("stored preference judge is not valid")
            }
            judge = PreferenceJudge(modelID: model, parameters: try parameters(from: j["parameters"]), inconsistent: rule, instructions: j["instructions"]?.string ?? "")
        }
        return PreferenceProject(
            id: id, organizationID: organization, name: name, promptRowIDs: (o["prompts"]?.array ?? []).compactMap(\.string).map(ObjectID.init(rawValue:)),
            candidates: candidates, judge: judge, tieRule: tie, ontologyID: ObjectID(rawValue: ontology), judgeDatasetID: ref("judge_dataset", in: o),
            judgeRunID: ref("judge_run", in: o), reviewProjectID: ref("review_project", in: o), createdAt: createdAt)
    }
}
