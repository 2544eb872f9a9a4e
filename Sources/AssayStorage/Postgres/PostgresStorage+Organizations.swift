public import AssayCore

/// Organisations and their API keys. Keys are found by hash alone (authentication comes
/// before an organisation is known); everything else is scoped to one organisation.
extension PostgresStorage {
    /// Creates an organisation with a fresh id.
    public func createOrganization(name: String) async throws(StorageError) -> Organization {
        let organization = Organization(id: .random("org"), name: name, createdAt: Self.now())
        _ = try await write { connection throws(StorageError) in
            try connection.run(
                "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                [.text(organization.id.rawValue), .text(name), .integer(organization.createdAt)])
        }
        return organization
    }

    /// The organisation with this id.
    public func organization(_ id: ObjectID) async throws(StorageError) -> Organization {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst("SELECT name, created_at FROM organizations WHERE id = ?", [.text(id.rawValue)]) {
                Organization(id: id, name: $0.text(0), createdAt: $0.int64(1))
            }
        }
        guard let found else { throw .notFound("organization \(id)") }
        return found
    }

    /// Stores a key record; `alreadyExists` when its id or hash is taken.
    public func insertKey(_ key: APIKey) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(key.organizationID) else {
                throw .notFound("organization \(key.organizationID)")
            }
            do throws(StorageError) {
                try connection.run(
                    """
                    INSERT INTO api_keys (id, org, name, role, prefix, hash, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(key.id.rawValue), .integer(org), .text(key.name), .text(key.role.rawValue),
                        .text(key.prefix), .blob(key.hash), .integer(key.createdAt), .optionalInteger(key.revokedAt),
                    ])
            } catch .alreadyExists {
                throw .alreadyExists("an API key with id \(key.id) or the same hash")
            }
        }
    }

    private static let keyColumns = """
        SELECT k.id, o.id, k.name, k.role, k.prefix, k.hash, k.created_at, k.revoked_at
        FROM api_keys k JOIN organizations o ON o.seq = k.org
        """

    private static func decodeKey(_ s: PostgresRow) throws(StorageError) -> APIKey {
        guard let role = Role(rawValue: s.text(3)) else {
            throw .internal("stored API key has unknown role \(s.text(3))")
        }
        return APIKey(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2),
            role: role,
            prefix: s.text(4), hash: s.blob(5), createdAt: s.int64(6), revokedAt: s.optionalInt64(7))
    }

    /// The key with this hash, from any organisation: this is how a caller is identified.
    public func key(hash: [UInt8]) async throws(StorageError) -> APIKey? {
        try await read { connection throws(StorageError) in
            try connection.queryFirst(Self.keyColumns + " WHERE k.hash = ?", [.blob(hash)], Self.decodeKey)
        }
    }

    /// The organisation's keys, oldest first, revoked ones included.
    public func keys(organization: ObjectID) async throws(StorageError) -> [APIKey] {
        try await read { connection throws(StorageError) in
            try connection.query(
                Self.keyColumns + " WHERE o.id = ? ORDER BY k.seq", [.text(organization.rawValue)], Self.decodeKey)
        }
    }

    /// Marks a key revoked at `at`; revoking again keeps the first time.
    public func revokeKey(organization: ObjectID, id: ObjectID, at: Timestamp) async throws(StorageError) {
        let changed = try await write { connection throws(StorageError) in
            // A key revoked twice keeps its first revocation time.
            try connection.run(
                """
                UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)
                WHERE id = ? AND org = (SELECT seq FROM organizations WHERE id = ?)
                """,
                [.integer(at), .text(id.rawValue), .text(organization.rawValue)])
        }
        guard changed == 1 else { throw .notFound("API key \(id)") }
    }

    /// True before the first organisation exists.
    public func isEmpty() async throws(StorageError) -> Bool {
        try await read { connection throws(StorageError) in
            try connection.queryFirst("SELECT NOT EXISTS (SELECT 1 FROM organizations)") { $0.int(0) == 1 } ?? true
        }
    }
}

extension PostgresConnection {
    /// The internal number of organisation `id`, or nil when there is none.
    func organizationSeq(_ id: ObjectID) throws(StorageError) -> Int64? {
        try queryFirst("SELECT seq FROM organizations WHERE id = ?", [.text(id.rawValue)]) { $0.int64(0) }
    }
}
