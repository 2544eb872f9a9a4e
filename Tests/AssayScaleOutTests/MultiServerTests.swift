#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayTransport
import AssayWire
import Dispatch
import Testing

/// Several real `assay serve` processes on one PostgreSQL database ($ASSAY_TEST_POSTGRES,
/// which `make test` sets): work sharing, a server killed mid-run, concurrent ingest.
@Suite(
    "Scale-out: several servers on one PostgreSQL database", .serialized,
    .enabled(if: ScaleOut.url != nil || getenv("CI") != nil, "ASSAY_TEST_POSTGRES is unset: multi-server tests skipped (make test sets it)"))
struct MultiServerTests {
    @Test func aRunSurvivesOneServerKilledMidRunWithEveryRowPredictedAndChargedOnce() async throws {
        let cluster = try await ScaleOut.start(servers: 2, delay: 0.04)
        defer { cluster.remove() }
        let (a, b) = (cluster.servers[0], cluster.servers[1])
        var killedA = false
        defer { if !killedA { kill(a.pid, SIGKILL) }; kill(b.pid, SIGKILL) }
        let clientA = try await a.client(key: cluster.key)
        let dataset = try await clientA.unary(CatalogService.createDataset, CreateDatasetRequest(name: "rows"))
        let rows = (0..<200).map { i in AssayWire.DataRow(globalKey: "row-\(i)", mediaType: .text, text: "row \(i)") }
        try await clientA.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await clientA.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "o", features: [AssayWire.Feature(name: "kind", kind: .radio, options: [FeatureOption(value: "a"), FeatureOption(value: "b")])]))
        let run = try await clientA.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "slow-chat", ontologyId: ontology.id,
                mapping: [AssayWire.ClassMapping(modelClass: "kind", featureId: ontology.features[0].id)],
                rows: RowSelection(datasetId: dataset.id)))

        // Both servers work on it (B finds it by looking for unfinished runs); kill A once a
        // quarter is done and B has predicted some rows itself.
        let clientB = try await b.client(key: cluster.key)
        let deadline = ContinuousClock.now + .seconds(120)
        var shared = false
        while !shared, ContinuousClock.now < deadline {
            let now = try await clientB.unary(RunService.get, GetRunRequest(id: run.id))
            shared = (now.progress?.done ?? 0) >= 50 && cluster.callsBy(b) > 0
            if !shared { try await Task.sleep(for: .milliseconds(20)) }
        }
        // Without this the test would kill A anyway and could pass without B ever sharing the work.
        try #require(shared, "in 120 s the run never reached 50 rows done with server B predicting some of them")
        let doneAtKill = try await clientB.unary(RunService.get, GetRunRequest(id: run.id)).progress?.done ?? 0
        #expect(doneAtKill < 200, "the run finished before a server could be killed; slow the model down")
        kill(a.pid, SIGKILL)
        killedA = true
        await reap(a.pid)

        var final = try await clientB.unary(RunService.get, GetRunRequest(id: run.id))
        while final.state != .completed, final.state != .failed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            final = try await clientB.unary(RunService.get, GetRunRequest(id: run.id))
        }
        #expect(final.state == .completed)
        #expect(final.progress?.total == 200 && final.progress?.done == 200 && final.progress?.failed == 0)
        #expect(final.progress?.withPredictions == 200)

        // Every row has exactly one prediction of this run.
        var predicted: [String: Int] = [:]
        var cursor = ""
        repeat {
            let page = try await clientB.unary(RunService.listRows, ListRunRowsRequest(id: run.id, pageSize: 50, cursor: cursor))
            for row in page.rows { predicted[row.globalKey, default: 0] += row.predictions.count }
            cursor = page.nextCursor
        } while !cursor.isEmpty
        #expect(predicted.count == 200)
        #expect(predicted.values.allSatisfy { $0 == 1 })

        // Charged exactly once: one model-units charge for 200 rows and one inference charge,
        // whichever server settled (both may try; the ledger keeps one).
        let store = try await PostgresStorage.open(url: cluster.databaseURL, poolSize: 1)
        var settled = false
        var charges: [LedgerEntry] = []
        while ContinuousClock.now < deadline {
            let stored = try await store.run(organization: cluster.organization(store), id: ObjectID(rawValue: run.id))
            charges = try await store.charges(organization: stored.organizationID, cycle: nil).filter { $0.runID == run.id }
            if stored.settled { settled = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await store.close()
        #expect(settled)
        let model = charges.filter { $0.kind == .model }
        let inference = charges.filter { $0.kind == .inference }
        #expect(model.count == 1 && model.first?.quantity == 200 && model.first?.units == 40)
        #expect(inference.count == 1)
        // Rows predicted twice by the model (A's in-flight rows, redone by B) are stored once.
        #expect(cluster.totalCalls() >= 200)
    }

    @Test func ingestThroughBothServersOfOverlappingKeysLeavesOneRowPerKey() async throws {
        let cluster = try await ScaleOut.start(servers: 2, delay: 0)
        defer { cluster.remove() }
        defer { for s in cluster.servers { kill(s.pid, SIGKILL) } }
        let clients = [try await cluster.servers[0].client(key: cluster.key), try await cluster.servers[1].client(key: cluster.key)]
        let dataset = try await clients[0].unary(CatalogService.createDataset, CreateDatasetRequest(name: "shared"))
        // Both send keys 0..<2000 in batches of 100, one in ascending and one in descending
        // order, at the same time; every batch overlaps the other server's.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    let keys = index == 0 ? Array(0..<2000) : Array((0..<2000).reversed())
                    try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                        for start in stride(from: 0, to: keys.count, by: 100) {
                            let rows = keys[start..<start + 100].map { k in
                                AssayWire.DataRow(globalKey: "k\(k)", mediaType: .text, text: "from server \(index)")
                            }
                            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
                        }
                        close()
                        for try await ack in acks { #expect(ack.errors.isEmpty) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let counted = try await clients[1].unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id))
        #expect(counted.rowCount == 2000)
        var keys: [String: Int] = [:]
        var cursor = ""
        repeat {
            let page = try await clients[0].unary(
                CatalogService.listDataRows, ListDataRowsRequest(datasetId: dataset.id, pageSize: 500, cursor: cursor))
            for row in page.rows { keys[row.globalKey, default: 0] += 1 }
            cursor = page.nextCursor
        } while !cursor.isEmpty
        #expect(keys.count == 2000)
        #expect(keys.values.allSatisfy { $0 == 1 })
    }
}

/// A fresh database, a slow chat endpoint and N servers on them.
struct ScaleOut {
    static let url: String? = getenv("ASSAY_TEST_POSTGRES").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }

    struct Server {
        let pid: pid_t
        let address: SocketAddress
        let directory: String

        func client(key: String) async throws -> RPCClient {
            try await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"])
        }
    }

    let servers: [Server]
    let key: String
    let databaseURL: String
    let directory: String
    let endpoint: pid_t
    private let serverURL: String
    private let databaseName: String

    static func start(servers count: Int, delay: Double) async throws -> ScaleOut {
        guard let url else { throw TestFailure("ASSAY_TEST_POSTGRES is not set; make test starts PostgreSQL and sets it") }
        let name = "assay_scaleout_\(UInt32.random(in: 0...UInt32.max))"
        try await PostgresStorage.administer(url: url, "CREATE DATABASE \(name)")
        let databaseURL = PostgresStorage.url(url, database: name)
        let directory = makeTemporaryDirectory()
        let chatPort = freePort()
        let endpoint = spawnDetached(
            ["/usr/bin/env", "python3", packageRoot + "/Tests/AssayScaleOutTests/slow_chat.py", "\(chatPort)", "\(delay)", directory + "/calls.log"],
            logFile: directory + "/chat.log")
        var servers: [Server] = []
        for index in 0..<count {
            let data = directory + "/server\(index)"
            mkdir(data, 0o700)
            // Each server calls the endpoint under its own path, so the log tells them apart.
            writeText(
                data + "/models.json",
                """
                {"models": [{"id": "slow-chat", "base_url": "http://127.0.0.1:\(chatPort)/s\(index)/v1", "model": "slow", "concurrency": 2,
                             "structured_output": "prompt_only", "price": {"unit": "per_1k_tokens", "microdollars": 1000}}]}
                """)
            let port = freePort()
            let pid = spawnDetached(
                [
                    assayBinary, "serve", "--addr", "127.0.0.1:\(port)", "--data", data, "--postgres", databaseURL, "--postgres-pool", "4",
                    "--run-lease", "2", "--models-config", data + "/models.json", "--log-level", "info",
                ],
                logFile: data + "/server.log")
            let address = SocketAddress(host: "127.0.0.1", port: port)
            var up = false
            for _ in 0..<2400 {
                if index > 0 || access(data + "/admin.key", R_OK) == 0, let c = try? await RPCClient.connect(to: address) {
                    c.close()
                    up = true
                    break
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            guard up else { throw TestFailure("server \(index) did not start; see \(data)/server.log") }
            servers.append(Server(pid: pid, address: address, directory: data))
        }
        let key = readText(directory + "/server0/admin.key").prefix { $0 != "\n" }
        return ScaleOut(
            servers: servers, key: String(key), databaseURL: databaseURL, directory: directory, endpoint: endpoint, serverURL: url,
            databaseName: name)
    }

    /// The organisation the first server made on first start.
    func organization(_ store: PostgresStorage) async throws -> ObjectID {
        guard let org = try await store.operatorOrganization() else { throw TestFailure("no organisation") }
        return org
    }

    /// How many model calls the endpoint has answered.
    func totalCalls() -> Int { readText(directory + "/calls.log").split(separator: "\n").count }

    /// How many model calls `server` made.
    func callsBy(_ server: Server) -> Int {
        guard let index = servers.firstIndex(where: { $0.pid == server.pid }) else { return 0 }
        return readText(directory + "/calls.log").split(separator: "\n").count { $0.hasPrefix("/s\(index)/") }
    }

    /// Stops the endpoint and the servers, drops the database and removes the files.
    func remove() {
        for s in servers { kill(s.pid, SIGKILL) }
        kill(endpoint, SIGKILL)
        let (url, name, directory) = (serverURL, databaseName, directory)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            try? await PostgresStorage.administer(url: url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            removeTree(directory)
            done.signal()
        }
        done.wait()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The package's root, found from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
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

/// Starts a long-running process with its output going to `logFile`.
func spawnDetached(_ arguments: [String], logFile: String) -> pid_t {
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


/// Waits for a killed child and reaps it, off the cooperative pool.
func reap(_ pid: pid_t) async {
    await withCheckedContinuation { c in
        DispatchQueue(label: "reap").async {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            c.resume()
        }
    }
}

func writeText(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func readText(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}
