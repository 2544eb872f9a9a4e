public import AssayCore

/// Preference projects (the same table and JSON document as on SQLite).
extension PostgresStorage {
    private static let preferenceColumns = """
        SELECT p.id, o.id, p.name, p.document, p.created_at
        FROM preference_projects p JOIN organizations o ON o.seq = p.org
        """

    private static func decodePreference(_ s: PostgresRow) throws(StorageError) -> PreferenceProject {
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

