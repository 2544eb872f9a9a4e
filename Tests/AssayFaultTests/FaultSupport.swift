import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import CSQLite3
import Dispatch
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// The fault-injection harness: real `assay serve` processes, killed, starved of disk or
// denied writes at points chosen by a seeded generator, then checked for every acknowledged
// write. `make test` runs one round of each (ASSAY_FAULT_ROUNDS unset); `make faults` many.

/// How many rounds each fault test runs and the seed its random points come from.
enum FaultPlan {
    /// ASSAY_FAULT_SEED, else a fresh seed; printed by every test so a failure can be replayed.
    static let seed: UInt64 = {
        if let text = environment("ASSAY_FAULT_SEED") {
            guard let seed = UInt64(text) else {
                fatalError("ASSAY_FAULT_SEED must be an unsigned integer, not \(text)")
            }
            return seed
        }
        var system = SystemRandomNumberGenerator()
        return system.next() >> 1
    }()

    /// ASSAY_FAULT_ROUNDS (at least 1), else 1: the short version `make test` runs.
    static let rounds: Int = {
        guard let text = environment("ASSAY_FAULT_ROUNDS") else { return 1 }
        guard let n = Int(text), n > 0 else { fatalError("ASSAY_FAULT_ROUNDS must be a positive number, not \(text)") }
        return n
    }()

    /// True under CI=true (or any CI value): a fault that cannot be staged fails the test there.
    static var isCI: Bool { environment("CI").map { !$0.isEmpty && $0 != "false" && $0 != "0" } ?? false }

    /// A generator for one test: the plan's seed mixed with the test's name, so each test has
    /// its own sequence and one seed replays all of them. Prints how to replay.
    static func generator(_ test: String) -> SplitMix64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in test.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        print(
            "fault test \(test): seed \(seed), \(rounds) round(s) "
                + "(replay with ASSAY_FAULT_SEED=\(seed) ASSAY_FAULT_ROUNDS=\(rounds))"
        )
        return SplitMix64(seed: seed ^ hash)
    }
}

/// A small, fast generator whose sequence depends only on its seed (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// The package's root, found from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/AssayFaultTests/FaultSupport.swift
    return parts.joined(separator: "/")
}()

/// The `assay` executable built next to the tests.
let assayBinary: String = {
    for configuration in ["debug", "release"] {
        let path = packageRoot + "/.build/\(configuration)/assay"
        if access(path, X_OK) == 0 { return path }
    }
    return packageRoot + "/.build/debug/assay"
}()

/// A real `assay serve` over a data folder, with its log kept outside that folder (which a
/// test may fill up or make read-only).
struct AssayProcess {
    let pid: pid_t
    let address: SocketAddress
    let directory: String
    let logFile: String

    /// Starts `assay serve` on a free port; returns once it accepts connections, or throws
    /// (with the end of its log) when it exits or does not come up within 60 s.
    static func start(directory: String, logFile: String) async throws -> AssayProcess {
        let process = launch(directory: directory, logFile: logFile)
        for _ in 0..<2400 {
            var status: Int32 = 0
            if waitpid(process.pid, &status, WNOHANG) == process.pid {
                running.update { $0[process.pid] = nil }
                throw RPCError(.unavailable, "the server exited at start: \(tail(logFile))")
            }
            if access(directory + "/admin.key", R_OK) == 0, let c = try? await RPCClient.connect(to: process.address) {
                c.close()
                return process
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        await process.kill9()
        throw RPCError(.unavailable, "the server did not start: \(tail(logFile))")
    }

    /// Starts `assay serve` without waiting for it (a test watching its database from outside).
    static func launch(directory: String, logFile: String) -> AssayProcess {
        let port = freePort()
        _ = mkdir(directory, 0o700)
        let pid = spawnLogging(
            [assayBinary, "serve", "--addr", "127.0.0.1:\(port)", "--data", directory, "--log-level", "warning"],
            logFile: logFile)
        running.update { $0[pid] = directory }
        return AssayProcess(
            pid: pid, address: SocketAddress(host: "127.0.0.1", port: port), directory: directory, logFile: logFile)
    }

    /// Servers started and not yet reaped, with their data folders.
    static let running = Probe<[pid_t: String]>([:])

    /// Kills and reaps every server still running on a data folder under `base`: what a test
    /// that failed half-way left behind (called from its `defer`).
    static func killAll(under base: String) {
        let left = running.current.filter { $0.value.hasPrefix(base) }
        for pid in left.keys {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            running.update { $0[pid] = nil }
        }
    }

    /// A client with the admin key the server wrote on its first start.
    func client() async throws -> RPCClient {
        guard let key = readText(directory + "/admin.key")?.split(separator: "\n").first else {
            throw RPCError(.unauthenticated, "no admin key in \(directory)")
        }
        return try await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"])
    }

    /// `kill -9` and reap; nothing when this server was already reaped.
    func kill9() async {
        guard Self.running.current[pid] != nil else { return }
        kill(pid, SIGKILL)
        _ = await reap(pid)
        Self.running.update { $0[pid] = nil }
    }

    /// SIGTERM, then the exit status once the graceful shutdown is over.
    @discardableResult
    func stop() async -> Int32 {
        kill(pid, SIGTERM)
        let status = await reap(pid)
        Self.running.update { $0[pid] = nil }
        return status
    }
}

/// The last 2,000 characters of a log, for failure messages.
func tail(_ path: String) -> String {
    String((readText(path) ?? "(no log)").suffix(2000))
}

/// Starts `arguments` with stdout and stderr appended to `logFile`.
func spawnLogging(_ arguments: [String], logFile: String) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var cargs = arguments.map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, environ)
    precondition(rc == 0, "cannot start \(arguments[0]): \(rc)")
    for p in cargs { free(p) }
    posix_spawn_file_actions_destroy(&actions)
    return pid
}

/// Waits for a child off the cooperative pool; its exit status (128 + signal when killed).
func reap(_ pid: pid_t) async -> Int32 {
    await withCheckedContinuation { c in
        DispatchQueue.global().async {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            c.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
        }
    }
}

/// Runs a command (mount, chattr) to completion off the cooperative pool; its exit status and
/// what it printed.
func command(_ arguments: [String]) async -> (status: Int32, output: String) {
    await withCheckedContinuation { c in
        DispatchQueue.global().async { c.resume(returning: blockingCommand(arguments)) }
    }
}

/// `command`, blocking the calling thread (the static probes, which run before any test).
func blockingCommand(_ arguments: [String]) -> (status: Int32, output: String) {
    var path = arguments[0]
    for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] where !path.hasPrefix("/") {
        if access(dir + "/" + arguments[0], X_OK) == 0 { path = dir + "/" + arguments[0] }
    }
    guard access(path, X_OK) == 0 else { return (127, "\(arguments[0]): not found") }
    let directory = makeTemporaryDirectory()
    defer { removeTree(directory) }
    let pid = spawnLogging([path] + arguments.dropFirst(), logFile: directory + "/out")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, readText(directory + "/out") ?? "")
}


func readText(_ path: String) -> String? {
    guard let bytes = readBytes(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return out
}

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Copies the files of one data folder (no subfolders) into a new one.
func copyFolder(_ from: String, to: String) {
    _ = mkdir(to, 0o700)
    for name in ["assay.sqlite", "admin.key"] {
        if let bytes = readBytes(from + "/" + name) { writeBytes(to + "/" + name, bytes) }
    }
}

// MARK: the database seen from outside the server

/// A direct sqlite3 connection to a server's file, for what the API does not show (raw
/// ledger rows, the integrity check) and for staging history the clock cannot.
final class DatabaseFile {
    private let handle: OpaquePointer

    init(_ path: String, readOnly: Bool = true) throws {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw RPCError(.internal, "cannot open \(path)")
        }
        sqlite3_busy_timeout(db, 5_000)
        handle = db
    }

    deinit { sqlite3_close_v2(handle) }

    /// Every result row of `sql`, each column as text.
    func rows(_ sql: String) throws -> [[String]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw RPCError(.internal, "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(statement) }
        var result: [[String]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return result }
            guard rc == SQLITE_ROW else {
                throw RPCError(.internal, "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
            }
            result.append(
                (0..<sqlite3_column_count(statement)).map { i in
                    sqlite3_column_text(statement, i).map { String(cString: $0) } ?? "NULL"
                })
        }
    }

    /// The first column of the first row as an integer (counts, sums).
    func integer(_ sql: String) throws -> Int64 {
        Int64(try rows(sql).first?.first ?? "0") ?? 0
    }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw RPCError(.internal, "\(sql.prefix(80)): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    /// `PRAGMA integrity_check`: "ok", or what is wrong.
    func integrity() throws -> String {
        try rows("PRAGMA integrity_check").map { $0.first ?? "" }.joined(separator: "; ")
    }
}

// MARK: catalog helpers

/// Every row of a dataset, through paging.
func allRows(_ client: RPCClient, _ dataset: String) async throws -> [AssayWire.DataRow] {
    var rows: [AssayWire.DataRow] = []
    var cursor = ""
    repeat {
        let page = try await client.unary(
            CatalogService.listDataRows, ListDataRowsRequest(datasetId: dataset, pageSize: 100, cursor: cursor))
        rows += page.rows
        cursor = page.nextCursor
    } while !cursor.isEmpty
    return rows
}

/// The status a call failed with, or nil when it succeeded.
func failure(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let e as RPCError {
        return e
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// Why a fault cannot be staged on this machine, or nil when it can. Off CI a test that
/// cannot stage its fault is skipped with this reason; under CI it runs and fails with it.
struct StagingProbe {
    let reason: String?

    init(reason: String?) {
        self.reason = reason
        if let reason { print("fault staging unavailable: \(reason)\(FaultPlan.isCI ? " (CI: the test fails)" : "")") }
    }

    /// Can this process mount a tmpfs (root with CAP_SYS_ADMIN)?
    static let tmpfs: StagingProbe = {
        let directory = makeTemporaryDirectory()
        defer { rmdir(directory) }
        let (status, output) = blockingCommand(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", directory])
        guard status == 0 else {
            return StagingProbe(reason: "cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): \(output)")
        }
        _ = blockingCommand(["umount", directory])
        return StagingProbe(reason: nil)
    }()

    /// Can this process make a file immutable (`chattr +i`, CAP_LINUX_IMMUTABLE) in
    /// `readOnlyBase`, such that a descriptor opened before can no longer write to it?
    static let immutable: StagingProbe = {
        let directory = readOnlyBase + "/assay-probe-\(getpid())"
        _ = mkdir(directory, 0o700)
        let file = directory + "/probe"
        defer {
            _ = blockingCommand(["chattr", "-i", file])
            unlink(file)
            rmdir(directory)
        }
        let fd = open(file, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { return StagingProbe(reason: "cannot create \(file)") }
        defer { close(fd) }
        let (status, output) = blockingCommand(["chattr", "+i", file])
        guard status == 0 else { return StagingProbe(reason: "chattr +i is not permitted here: \(output)") }
        let byte: [UInt8] = [1]
        if byte.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) == 1 {
            return StagingProbe(reason: "\(readOnlyBase) does not enforce chattr +i on open files")
        }
        return StagingProbe(reason: nil)
    }()

    /// Where read-only faults are staged: a disk file system (tmpfs lets open files write on).
    static let readOnlyBase = "/var/tmp"

    /// Whether the test runs: when the fault can be staged, or under CI (to fail there).
    var enabled: Bool { reason == nil || FaultPlan.isCI }

    /// Records the reason as a failure (under CI) and returns false when the fault cannot be staged.
    func check() -> Bool {
        guard let reason else { return true }
        Issue.record("the fault cannot be staged on this machine: \(reason)")
        return false
    }
}
