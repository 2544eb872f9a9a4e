public import AssayCore
public import AssayRPC
public import AssayStorage
import AssayWire

/// `assay.v1.Keys`: create, list and revoke the organisation's API keys (admins), and
/// `WhoAmI` for any key.
public struct KeysProvider: RPCService {
    let store: any OrganizationStore
    let clock: @Sendable () -> Timestamp
    let authenticator: KeyAuthenticator?

    public init(store: any OrganizationStore, authenticator: KeyAuthenticator?, clock: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.authenticator = authenticator
        self.clock = clock
    }

    static func role(_ r: KeyRole) throws(RPCError) -> Role {
        switch r {
        case .admin: return .admin
        case .member: return .member
        case .reviewer: return .reviewer
        default: throw RPCError(.invalidArgument, "role must be ADMIN, MEMBER or REVIEWER")
        }
    }

    static func wire(_ r: Role) -> KeyRole {
        switch r {
        case .admin: .admin
        case .member: .member
        case .reviewer: .reviewer
        }
    }

    static func info(_ k: APIKey) -> ApiKeyInfo {
        ApiKeyInfo(id: k.id.rawValue, name: k.name, role: wire(k.role), prefix: k.prefix, createdAtMicros: k.createdAt, revokedAtMicros: k.revokedAt ?? 0)
    }

    public func register(in router: inout Router) {
        router.unary(KeysService.create) { request, context in
            let caller = try context.caller(for: .manageKeys)
            let role = try Self.role(request.role)
            guard !request.name.isEmpty, request.name.utf8.count <= 200 else {
                throw RPCError(.invalidArgument, "a key needs a name of 1 to 200 bytes")
            }
            let key = APIKeyGenerator.newKey()
            let record = APIKey(
                id: ObjectID.random("key"), organizationID: caller.organizationID, name: request.name, role: role,
                prefix: APIKeyGenerator.prefix(of: key), hash: SHA256.hash(Array(key.utf8)), createdAt: clock()
            )
            try await store.insertKey(record)
            return CreateKeyResponse(info: Self.info(record), key: key)
        }
        router.unary(KeysService.list) { _, context in
            let caller = try context.caller(for: .manageKeys)
            let keys = try await store.keys(organization: caller.organizationID)
            return ListKeysResponse(keys: keys.map(Self.info))
        }
        router.unary(KeysService.revoke) { request, context in
            let caller = try context.caller(for: .manageKeys)
            let id = ObjectID(rawValue: request.id)
            try await store.revokeKey(organization: caller.organizationID, id: id, at: clock())
            authenticator?.forget(keyID: id)
            return RevokeKeyResponse()
        }
        router.unary(KeysService.whoAmI) { _, context in
            let caller = try context.caller(for: .read)
            let org = try await store.organization(caller.organizationID)
            return WhoAmIResponse(organizationId: org.id.rawValue, organizationName: org.name, keyId: caller.keyID.rawValue, role: Self.wire(caller.role))
        }
    }
}
