#if canImport(Glibc)
    import Glibc
#endif
public import AssayAccess
public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayRuns
public import AssayServer
public import AssayStorage
public import AssayTransport
import AssaySync
import AssayWire

/// A real server on 127.0.0.1 over a fresh SQLite file, with helpers to make organisations
/// and keys directly in the store.
public final class ServerHarness: Sendable {
    public let storage: SQLiteStorage
    public let assembly: ServerAssembly
    public let loop: EventLoop
    public let address: SocketAddress
    public let directory: String
    private let runTask: Task<Void, Never>

    private init(storage: SQLiteStorage, assembly: ServerAssembly, loop: EventLoop, address: SocketAddress, directory: String, runTask: Task<Void, Never>) {
        self.storage = storage
        self.assembly = assembly
        self.loop = loop
        self.address = address
        self.directory = directory
        self.runTask = runTask
    }

    public static func start(
        models: ModelRegistry = ModelRegistry(providers: []), billing: (any RunBilling)? = nil,
        clock: @escaping @Sendable () -> Timestamp = ServerAssembly.now, directory: String? = nil,
        closeCyclesEvery: Duration? = nil, limits: ServerLimits = ServerLimits(), requestRate: RequestRate? = nil,
        requestRateClock: (@Sendable () -> UInt64)? = nil, runQuota: RunQuota = RunQuota()
    ) async throws -> ServerHarness {
        let directory = directory ?? makeTemporaryDirectory()
        let storage = try await SQLiteStorage.open(path: directory + "/assay.sqlite")
        // No cycle scheduler unless asked: tests that move the clock close cycles themselves.
        let assembly = ServerAssembly(
            storage: storage, models: models, runBilling: billing, limits: limits, logger: .silent, clock: clock,
            closeCyclesEvery: closeCyclesEvery, requestRate: requestRate, requestRateClock: requestRateClock, runQuota: runQuota)
        try await assembly.start()
        let loop = try EventLoop(name: "catalog-test-io")
        let listener = try TCPListener(bindingTo: SocketAddress(host: "127.0.0.1", port: 0), loop: loop)
        // On the handler threads `assay serve` uses, not on the cooperative pool that CPU-bound
        // tests beside it can hold for seconds.
        let task = Task(executorPreference: PollingExecutor.shared) { await assembly.run(on: listener) }
        return ServerHarness(storage: storage, assembly: assembly, loop: loop, address: listener.localAddress, directory: directory, runTask: task)
    }

    /// A new organisation and a key of `role` in it; returns a connected client using the key.
    public func organization(_ name: String, role: Role = .admin) async throws -> (client: RPCClient, org: Organization, key: String) {
        let org = try await storage.createOrganization(name: name)
        let key = try await addKey(to: org.id, role: role)
        return (try await client(key: key), org, key)
    }

    public func addKey(to org: ObjectID, role: Role) async throws -> String {
        let key = APIKeyGenerator.newKey()
        try await storage.insertKey(APIKey(
            id: ObjectID.random("key"), organizationID: org, name: "\(role.rawValue)-key", role: role,
            prefix: APIKeyGenerator.prefix(of: key), hash: SHA256.hash(Array(key.utf8)), createdAt: 1
        ))
        return key
    }

    public func client(key: String?) async throws -> RPCClient {
        var metadata = Metadata()
        if let key { metadata.add("authorization", "Bearer \(key)") }
        return try await RPCClient.connect(to: address, metadata: metadata)
    }

    /// Stops the server and the run workers; with `keepFiles` the database stays for a restart.
    public func stop(keepFiles: Bool = false) async {
        await assembly.server.shutdown()
        await runTask.value
        await assembly.stop()
        await loop.shutdown()
        await storage.close()
        if !keepFiles { removeTree(directory) }
    }
}

public func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/assay-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

public func removeTree(_ path: String) {
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

/// A loopback port that was free a moment ago (for a server a test starts as a process).
///
/// Taken below the kernel's ephemeral range, so that no client connection of the tests running
/// beside it (hundreds of them) is given the port as its own local port before the server
/// binds it; and never handed out twice by this process.
public func freePort() -> UInt16 {
    let (low, high) = portsBelowEphemeralRange()
    if low < high {
        for _ in 0..<200 {
            let port = UInt16.random(in: low..<high)
            let fresh = handedOutPorts.withLock { $0.insert(port).inserted }
            if fresh && canBind(port) { return port }
        }
    }
    return kernelChosenPort()
}

private let handedOutPorts = Lock(Set<UInt16>())

/// 20000 up to the start of `ip_local_port_range` (empty when that starts lower).
private func portsBelowEphemeralRange() -> (UInt16, UInt16) {
    let low: UInt16 = 20_000
    guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return (low, low) }
    defer { fclose(file) }
    var start: Int32 = 0
    var end: Int32 = 0
    guard readPortRange(file, &start, &end), start > Int32(low) + 1000 else { return (low, low) }
    return (low, UInt16(min(start, 65_535)))
}

private func readPortRange(_ file: UnsafeMutablePointer<FILE>, _ start: inout Int32, _ end: inout Int32) -> Bool {
    var line = [CChar](repeating: 0, count: 64)
    guard fgets(&line, Int32(line.count), file) != nil else { return false }
    let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
    guard fields.count >= 2, let a = Int32(fields[0]), let b = Int32(fields[1]) else { return false }
    start = a
    end = b
    return true
}

private func withLoopback<T>(_ port: UInt16, _ body: (Int32, UnsafeMutablePointer<sockaddr>, inout socklen_t) -> T) -> T {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    a.sin_port = port.bigEndian
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in body(fd, sp, &len) }
    }
}

private func canBind(_ port: UInt16) -> Bool {
    withLoopback(port) { fd, address, len in bind(fd, address, len) == 0 }
}

private func kernelChosenPort() -> UInt16 {
    withLoopback(0) { fd, address, len -> UInt16 in
        bind(fd, address, len)
        getsockname(fd, address, &len)
        return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
    }
}
