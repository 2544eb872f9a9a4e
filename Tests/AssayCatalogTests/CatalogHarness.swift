#if canImport(Glibc)
import Glibc
#endif
import AssayAccess
import AssayCore
import AssayRPC
import AssayServer
import AssayStorage
import AssayTransport
import AssayWire
import Testing

/// A real server on 127.0.0.1 over a fresh SQLite file, with helpers to make organisations
/// and keys directly in the store.
final class CatalogHarness: Sendable {
    let storage: SQLiteStorage
    let assembly: ServerAssembly
    let loop: EventLoop
    let address: SocketAddress
    let directory: String
    private let runTask: Task<Void, Never>

    private init(storage: SQLiteStorage, assembly: ServerAssembly, loop: EventLoop, address: SocketAddress, directory: String, runTask: Task<Void, Never>) {
        self.storage = storage
        self.assembly = assembly
        self.loop = loop
        self.address = address
        self.directory = directory
        self.runTask = runTask
    }

    static func start() async throws -> CatalogHarness {
        let directory = makeTemporaryDirectory()
        let storage = try await SQLiteStorage.open(path: directory + "/assay.sqlite")
        let assembly = ServerAssembly(storage: storage, logger: .silent)
        let loop = try EventLoop(name: "catalog-test-io")
        let listener = try TCPListener(bindingTo: SocketAddress(host: "127.0.0.1", port: 0), loop: loop)
        let server = assembly.server
        let task = Task { await server.run(on: listener) }
        return CatalogHarness(storage: storage, assembly: assembly, loop: loop, address: listener.localAddress, directory: directory, runTask: task)
    }

    /// A new organisation and a key of `role` in it; returns a connected client using the key.
    func organization(_ name: String, role: Role = .admin) async throws -> (client: RPCClient, org: Organization, key: String) {
        let org = try await storage.createOrganization(name: name)
        let key = try await addKey(to: org.id, role: role)
        return (try await client(key: key), org, key)
    }

    func addKey(to org: ObjectID, role: Role) async throws -> String {
        let key = APIKeyGenerator.newKey()
        try await storage.insertKey(APIKey(
            id: ObjectID.random("key"), organizationID: org, name: "\(role.rawValue)-key", role: role,
            prefix: APIKeyGenerator.prefix(of: key), hash: SHA256.hash(Array(key.utf8)), createdAt: 1
        ))
        return key
    }

    func client(key: String?) async throws -> RPCClient {
        var metadata = Metadata()
        if let key { metadata.add("authorization", "Bearer \(key)") }
        return try await RPCClient.connect(to: address, metadata: metadata)
    }

    func stop() async {
        await assembly.server.shutdown()
        await runTask.value
        await loop.shutdown()
        await storage.close()
        removeTree(directory)
    }
}

func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/assay-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

func removeTree(_ path: String) {
    _ = path.withCString { p in
        // A test folder holds a few files and no subfolders.
        if let dir = opendir(p) {
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        return rmdir(p)
    }
}

/// The status code of what `body` threw, or nil when it did not throw.
func code(_ body: () async throws -> Void) async -> RPCCode? {
    do {
        try await body()
        return nil
    } catch let e as RPCError {
        return e.code
    } catch {
        return .unknown
    }
}

/// Rows of the ingest benchmark's shape.
func benchRow(_ i: Int) -> AssayWire.DataRow {
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return AssayWire.DataRow(
        globalKey: "row-\(pad(i, 10))", mediaType: .image,
        uri: "s3://bench-bucket/ingest/part-\(pad(i, 10)).parquet",
        content: (0..<70).map { UInt8(truncatingIfNeeded: i + $0) },
        metadata: ["source": "bench", "shard": pad(i % 16, 2), "ct": "application/octet-stream"]
    )
}
