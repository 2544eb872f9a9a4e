public import AssayCore
public import AssayRPC
public import AssayStorage

/// The organisation and key behind a call, attached by `KeyAuthenticator`.
public struct Caller: Principal, Hashable {
    public var organizationID: ObjectID
    public var keyID: ObjectID
    public var role: Role

    public init(organizationID: ObjectID, keyID: ObjectID, role: Role) {
        self.organizationID = organizationID
        self.keyID = keyID
        self.role = role
    }
}

extension ServerContext {
    /// The authenticated caller, checked for `action`: PERMISSION_DENIED names the role and
    /// what it may not do. UNAUTHENTICATED if the call carries no identity at all.
    public func caller(for action: Role.Action) throws(RPCError) -> Caller {
        guard let identity = get(CallerIdentity.self), let caller = identity.principal as? Caller else {
            throw RPCError(.unauthenticated, "this call needs an API key")
        }
        guard caller.role.allows(action) else {
            throw RPCError(.permissionDenied, "a \(caller.role.rawValue) key may not \(action.phrase)")
        }
        return caller
    }
}

extension Role.Action {
    var phrase: String {
        switch self {
        case .read: "read data"
        case .write: "change data"
        case .manageKeys: "manage API keys"
        case .review: "submit reviews"
        }
    }
}

/// Accepts the API keys stored (hashed) in the organisation store.
public struct KeyAuthenticator: Authenticator {
    let store: any OrganizationStore

    public init(store: any OrganizationStore) { self.store = store }

    public func authenticate(apiKey: String, context: ServerContext) async throws -> any Principal {
        let hash = SHA256.hash(Array(apiKey.utf8))
        let record: APIKey?
        do {
            record = try await store.key(hash: hash)
        } catch {
            throw RPCError(.unavailable, "cannot check the API key right now")
        }
        guard let record else { throw RPCError(.unauthenticated, "unknown API key") }
        guard record.revokedAt == nil else { throw RPCError(.unauthenticated, "this API key was revoked") }
        return Caller(organizationID: record.organizationID, keyID: record.id, role: record.role)
    }
}

extension StorageError: RPCErrorConvertible {
    /// Storage failures as statuses: internal details stay in the server log.
    public var rpcError: RPCError {
        switch self {
        case .notFound(let m): RPCError(.notFound, m)
        case .alreadyExists(let m): RPCError(.alreadyExists, m)
        case .failedPrecondition(let m): RPCError(.failedPrecondition, m)
        case .unavailable: RPCError(.unavailable, "storage is busy; retry")
        case .internal: RPCError(.internal, "internal error")
        }
    }
}
