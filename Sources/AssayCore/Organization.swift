/// A tenant. Every other object belongs to exactly one organisation and is visible only to it.
public struct Organization: Hashable, Sendable {
    public var id: ObjectID
    public var name: String
    public var createdAt: Timestamp

    public init(id: ObjectID, name: String, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// What a key may do.
public enum Role: String, Hashable, Sendable, CaseIterable {
    /// Everything, including keys and billing.
    case admin
    /// Data, ontologies, runs; not keys.
    case member
    /// Reading data and submitting reviews only.
    case reviewer

    /// Whether this role may perform `action`.
    public func allows(_ action: Action) -> Bool {
        switch self {
        case .admin: true
        case .member: action != .manageKeys
        case .reviewer: action == .read || action == .review
        }
    }

    /// The kinds of thing a call does, for role checks.
    public enum Action: String, Hashable, Sendable {
        case read, write, manageKeys, review
    }
}

/// A stored API key: never the key itself, only its SHA-256 hash and a short prefix that
/// lets people tell their keys apart.
public struct APIKey: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    public var role: Role
    /// The first characters of the key ("ak_3f9c…"), shown in listings.
    public var prefix: String
    /// SHA-256 of the whole key.
    public var hash: [UInt8]
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(id: ObjectID, organizationID: ObjectID, name: String, role: Role, prefix: String, hash: [UInt8], createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.role = role
        self.prefix = prefix
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
