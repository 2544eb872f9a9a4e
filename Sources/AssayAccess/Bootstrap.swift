#if canImport(Glibc)
import Glibc
#endif
public import AssayCore
public import AssayStorage

/// First start: an empty store gets an organisation and an admin key, written to
/// `<data>/admin.key` with mode 0600 so only the server's user can read it.
public enum Bootstrap {
    /// Creates the first organisation and admin key when the store is empty. Returns the key
    /// when one was made (it exists nowhere else: only its hash is stored).
    public static func ensureAdmin(store: any OrganizationStore, keyFile: String, now: Timestamp) async throws -> String? {
        guard try await store.isEmpty() else { return nil }
        let org = try await store.createOrganization(name: "default")
        let key = APIKeyGenerator.newKey()
        try await store.insertKey(APIKey(
            id: ObjectID.random("key"), organizationID: org.id, name: "admin", role: .admin,
            prefix: APIKeyGenerator.prefix(of: key), hash: SHA256.hash(Array(key.utf8)), createdAt: now
        ))
        try writeSecret(key + "\n", to: keyFile)
        return key
    }

    /// Writes a file readable by its owner only (created 0600, never world-readable for a moment).
    public static func writeSecret(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BootstrapError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw BootstrapError(message: "cannot write \(path)") }
            offset += n
        }
        fsync(fd)
    }
}

public struct BootstrapError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
