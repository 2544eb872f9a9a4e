public import AssayCore
import AssayTransport
import AssaySync
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

    /// The organisation, the key and its role, for the call log.
    public var logFields: [(String, String)] {
        [("org", organizationID.rawValue), ("key", keyID.rawValue), ("role", role.rawValue)]
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
///
/// Valid keys are remembered for `ttlNanoseconds` so that a call does not pay a database
/// round trip; revoking a key through this server forgets it at once (`forget`), and another
/// server sharing the database notices within the TTL.
public final class KeyAuthenticator: Authenticator {
    let store: any OrganizationStore
    let ttlNanoseconds: UInt64
    let maxEntries = 10_000
    private let cache = Lock<[[UInt8]: (caller: Caller, expires: UInt64)]>([:])

    public init(store: any OrganizationStore, ttlNanoseconds: UInt64 = 5_000_000_000) {
        self.store = store
        self.ttlNanoseconds = ttlNanoseconds
    }

    public func authenticate(apiKey: String, context: ServerContext) async throws -> any Principal {
        let hash = SHA256.hash(Array(apiKey.utf8))
        let now = MonotonicClock.nanoseconds()
        if let hit = cache.withLock({ $0[hash] }), hit.expires > now { return hit.caller }
        let record: APIKey?
        do {
            record = try await store.key(hash: hash)
        } catch {
            throw RPCError(.unavailable, "cannot check the API key right now")
        }
        guard let record else { throw RPCError(.unauthenticated, "unknown API key") }
        guard record.revokedAt == nil else { throw RPCError(.unauthenticated, "this API key was revoked") }
        let caller = Caller(organizationID: record.organizationID, keyID: record.id, role: record.role)
        cache.withLock { c in
            if c.count >= maxEntries { c.removeAll() }
            c[hash] = (caller, now + ttlNanoseconds)
        }
        return caller
    }

    /// Forgets a key (it was revoked), so its next call is checked against the store.
    public func forget(keyID: ObjectID) {
        cache.withLock { c in
            for (hash, entry) in c where entry.caller.keyID == keyID { c[hash] = nil }
        }
    }
}

extension StorageError: RPCErrorConvertible {
    /// The operator needs the cause of a fault the client only hears about in general terms.
    public var logCause: String? {
        switch self {
        case .internal, .diskFull, .readOnly: description
        case .notFound, .alreadyExists, .failedPrecondition, .unavailable: nil
        }
    }

    /// Storage failures as statuses: internal details stay in the server log.
    public var rpcError: RPCError {
        switch self {
        case .notFound(let m): RPCError(.notFound, m)
        case .alreadyExists(let m): RPCError(.alreadyExists, m)
        case .failedPrecondition(let m): RPCError(.failedPrecondition, m)
        case .unavailable: RPCError(.unavailable, "storage is busy; retry")
        case .diskFull:
            RPCError(
                .resourceExhausted, "the server's disk is full: nothing of this call was stored; retry once space is freed")
        case .readOnly:
            RPCError(
                .failedPrecondition,
                "the server's database is read-only: writes are refused until it is writable again; reads still work")
        case .internal: RPCError(.internal, "internal error")
        }
    }
}
