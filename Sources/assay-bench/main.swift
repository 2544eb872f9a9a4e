#if canImport(Glibc)
import Glibc
#endif
import AssayRPC
import AssayTransport
import AssayWire
import Foundation

// `make bench`: starts `assay serve` as its own process on 127.0.0.1 and measures it from
// this one, so client and server each have a core. Prints medians over several rounds.

func arg(_ name: String, _ fallback: String) -> String {
    let a = CommandLine.arguments
    if let i = a.firstIndex(of: "--\(name)"), i + 1 < a.count { return a[i + 1] }
    return fallback
}

func say(_ s: String) {
    var b = Array(s.utf8)
    b.append(10)
    _ = b.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
            bind(fd, sp, len)
            return getsockname(fd, sp, &len)
        }
    }
    return UInt16(bigEndian: a.sin_port)
}

/// Spawns the server process; returns its pid.
func spawnServer(_ path: String, port: UInt16, data: String, postgres: String? = nil, extra: [String] = []) -> pid_t {
    let argv = [path, "serve", "--addr", "127.0.0.1:\(port)", "--data", data, "--log-level", "warning"]
        + (postgres.map { ["--postgres", $0] } ?? []) + extra
    var cargs = argv.map { strdup($0) }
    cargs.append(nil)
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, nil, nil, &cargs, environ)
    for p in cargs { free(p) }
    guard rc == 0 else {
        say("cannot start \(path): \(String(cString: strerror(rc)))")
        exit(1)
    }
    return pid
}

/// The peak resident set of a process, from /proc (VmHWM), in kB.
func peakRSSKilobytes(_ pid: pid_t) -> Int {
    guard let f = fopen("/proc/\(pid)/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, 512, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmHWM:") {
            return Int(s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
    }
    return 0
}

/// The row of the ingest benchmark (issue 2): id, uri, metadata, 70-byte payload.
func benchRow(_ i: Int) -> EchoRow {
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return EchoRow(
        id: "row-\(pad(i, 10))",
        uri: "s3://bench-bucket/ingest/part-\(pad(i, 10)).parquet",
        metadata: ["source": "bench", "shard": pad(i % 16, 2), "ct": "application/octet-stream"],
        payload: (0..<70).map { UInt8(truncatingIfNeeded: i + $0) }
    )
}

let serverPath = arg("server", ".build/release/assay")
let rows = Int(arg("rows", "1000000"))!
let only = arg("only", "all")
let batchSize = Int(arg("batch", "1000"))!
let unaryCalls = Int(arg("unary-calls", "20000"))!
let rounds = Int(arg("rounds", "5"))!

func benchMain() async throws {
/// Reads the admin key the server wrote on its first start.
func readAdminKey(_ data: String) -> String? {
    guard let f = fopen(data + "/admin.key", "r") else { return nil }
    var line = [CChar](repeating: 0, count: 128)
    fgets(&line, 128, f)
    fclose(f)
    let key = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return key.isEmpty ? nil : key
}

/// Starts `assay serve` on a fresh data folder and connects to it with its admin key.
func startServer() async throws -> (pid: pid_t, client: RPCClient, data: String, address: SocketAddress) {
    try await startServer(postgres: nil)
}

/// `--postgres URL` (make bench starts a throwaway cluster): PostgreSQL figures beside SQLite's.
let benchPostgres: String? = CommandLine.arguments.contains("--postgres") ? arg("postgres", "") : nil

/// A fresh database on the bench's PostgreSQL server (through psql), as a URL.
func freshPostgresDatabase(_ server: String) -> String {
    let name = "assay_bench_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    guard system("psql -q '\(server)' -c 'CREATE DATABASE \(name)' >/dev/null") == 0 else {
        say("cannot create a PostgreSQL database on \(server)")
        exit(1)
    }
    return server + (server.contains("?") ? "&" : "?") + "dbname=\(name)"
}

func startServer(postgres: String?) async throws -> (pid: pid_t, client: RPCClient, data: String, address: SocketAddress) {
    let port = freePort()
    let data = "/tmp/assay-bench-\(getpid())-\(port)"
    let pid = spawnServer(serverPath, port: port, data: data, postgres: postgres.map(freshPostgresDatabase))
    let address = SocketAddress(host: "127.0.0.1", port: port)
    for _ in 0..<400 {
        if let key = readAdminKey(data), let c = try? await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"]) {
            return (pid, c, data, address)
        }
        usleep(25_000)
    }
    throw RPCError(.unavailable, "the server did not come up on \(address)")
}

func stopServer(_ pid: pid_t, _ data: String) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    _ = system("rm -rf '\(data)'")
}

if CommandLine.arguments.contains("--loadtest") {
    // `make loadtest`: on the global executor, not the client loop: 200 clients' bookkeeping
    // needs both cores, not one thread.
    let test = LoadTest(
        seconds: Int(arg("seconds", getenv("ASSAY_LOADTEST_SECONDS").map { String(cString: $0) } ?? "60")) ?? 60,
        clients: Int(arg("clients", "200")) ?? 200, thinkMilliseconds: Int(arg("think-ms", "10")) ?? 10)
    let status = try await withTaskExecutorPreference(globalConcurrentExecutor) {
        try await test.run(startServer: startServer, stopServer: stopServer, adminKey: readAdminKey)
    }
    exit(status)
}
if CommandLine.arguments.contains("--runs-only") {
    try await runBench(images: Int(arg("images", "1000")) ?? 1000, rounds: rounds, startServer: startServer, stopServer: stopServer)
    return
}
if CommandLine.arguments.contains("--scaleout-only") {
    guard let benchPostgres else {
        say("--scaleout-only needs --postgres URL (a PostgreSQL server the bench may create databases on)")
        exit(2)
    }
    try await scaleOutBench(
        images: Int(arg("scaleout-images", "600")) ?? 600, freshDatabase: { freshPostgresDatabase(benchPostgres) },
        adminKey: readAdminKey, stopServer: stopServer)
    return
}
if CommandLine.arguments.contains("--tls-only") {
    try await tlsUnaryBench(
        serverPath: serverPath, payload: [UInt8](repeating: 0x5A, count: 64), calls: unaryCalls, rounds: rounds,
        adminKey: readAdminKey, stopServer: stopServer)
    return
}
if CommandLine.arguments.contains("--coco-only") {
    try cocoBench(python: arg("python", "python3"), rounds: rounds)
    return
}
if let existing = CommandLine.arguments.firstIndex(of: "--unary-only") {
    // Profiling aid: unary calls against a running server: --unary-only HOST:PORT KEY
    let a = CommandLine.arguments
    let c = try await RPCClient.connect(to: SocketAddress(parsing: a[existing + 1])!, metadata: ["authorization": "Bearer \(a[existing + 2])"])
    let p = [UInt8](repeating: 0x5A, count: 64)
    for _ in 0..<unaryCalls { _ = try await c.unary(EchoService.unary, EchoRequest(payload: p)) }
    say("done")
    return
}
if let existing = CommandLine.arguments.firstIndex(of: "--ingest-only") {
    // Profiling aid: Echo/Ingest of --rows rows against a running server: --ingest-only HOST:PORT KEY
    let a = CommandLine.arguments
    let c = try await RPCClient.connect(to: SocketAddress(parsing: a[existing + 1])!, metadata: ["authorization": "Bearer \(a[existing + 2])"])
    let batches: [[UInt8]] = stride(from: 0, to: rows, by: batchSize).map { first in
        EchoRowBatch(rows: (first..<min(first + batchSize, rows)).map(benchRow)).serializedBytes()
    }
    let t = MonotonicClock.nanoseconds()
    _ = try await c.clientStreaming(EchoService.ingest) { writer in for b in batches { try await writer.write(serialized: b) } }
    say("\(Double(rows) / (Double(MonotonicClock.nanoseconds() - t) / 1e9)) rows/s")
    return
}
// --durable-only: just the durable ingest figures (Catalog/Ingest into fresh stores).
let durableOnly = CommandLine.arguments.contains("--durable-only")
// The decode reference (pure CPU, one thread), for the ratios the later figures print.
var decodeReference: Double?
if !durableOnly {
let (pid, client, data, address) = try await startServer()
say("assay bench: server pid \(pid) on \(address), \(rounds) rounds, medians reported")

// The transport's floor: PING round trips (no handler, no task on the server).
var pings: [Double] = []
for _ in 0..<2000 { try await client.ping() }
for _ in 0..<rounds {
    var samples = [UInt64]()
    for _ in 0..<5000 {
        let t0 = MonotonicClock.nanoseconds()
        try await client.ping()
        samples.append(MonotonicClock.nanoseconds() - t0)
    }
    samples.sort()
    pings.append(Double(samples[samples.count / 2]) / 1000)
}
say(String(format: "ping round trip (transport floor): p50 %.1f us", median(pings)))

// Unary echo: one call outstanding, 64-byte payload.
let payload = [UInt8](repeating: 0x5A, count: 64)
for _ in 0..<2000 { _ = try await client.unary(EchoService.unary, EchoRequest(payload: payload)) }
var p50s: [Double] = [], p99s: [Double] = [], rates: [Double] = []
for _ in 0..<rounds {
    var latencies = [UInt64]()
    latencies.reserveCapacity(unaryCalls)
    let start = MonotonicClock.nanoseconds()
    for _ in 0..<unaryCalls {
        let t0 = MonotonicClock.nanoseconds()
        _ = try await client.unary(EchoService.unary, EchoRequest(payload: payload))
        latencies.append(MonotonicClock.nanoseconds() - t0)
    }
    let total = Double(MonotonicClock.nanoseconds() - start) / 1e9
    latencies.sort()
    p50s.append(Double(latencies[latencies.count / 2]) / 1000)
    p99s.append(Double(latencies[latencies.count * 99 / 100]) / 1000)
    rates.append(Double(unaryCalls) / total)
}
say(String(format: "unary echo (64 B, 1 outstanding, %d calls x %d): p50 %.1f us  p99 %.1f us  %.0f calls/s",
           unaryCalls, rounds, median(p50s), median(p99s), median(rates)))
say(String(format: "  %@ unary p50 under 60 us (issue 2's target on the 2-core VM): %.1f us",
           median(p50s) < 60 ? "PASS" : "MISS", median(p50s)))
try await tlsUnaryBench(
    serverPath: serverPath, payload: payload, calls: unaryCalls, rounds: rounds, adminKey: readAdminKey,
    stopServer: stopServer)

// Client streaming: rows batched into EchoRowBatch messages, decoded into Swift values on the server.
let batches: [[UInt8]] = stride(from: 0, to: rows, by: batchSize).map { first in
    EchoRowBatch(rows: (first..<min(first + batchSize, rows)).map(benchRow)).serializedBytes()
}
let wireBytes = batches.reduce(0) { $0 + $1.count }
// The reference: the same batches decoded in this process on one thread, no transport.
var localRates: [Double] = []
for _ in 0..<3 {
    let t = MonotonicClock.nanoseconds()
    var n = 0
    for b in batches { n += try EchoRowBatch(serializedBytes: b).rows.count }
    localRates.append(Double(n) / (Double(MonotonicClock.nanoseconds() - t) / 1e9))
}
say(String(format: "reference: the same batches decoded in one thread of this process, no transport: %.0f rows/s", median(localRates)))
decodeReference = median(localRates)
var preRates: [Double] = []
var liveRates: [Double] = []
for _ in 0..<max(3, rounds / 2) {
    let t0 = MonotonicClock.nanoseconds()
    let summary = try await client.clientStreaming(EchoService.ingest) { writer in
        for b in batches { try await writer.write(serialized: b) }
    }
    let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
    precondition(summary.rows == UInt64(rows), "server saw \(summary.rows) rows")
    preRates.append(Double(rows) / seconds)

    let t1 = MonotonicClock.nanoseconds()
    let live = try await client.clientStreaming(EchoService.ingest) { writer in
        var first = 0
        while first < rows {
            try await writer.write(EchoRowBatch(rows: (first..<min(first + batchSize, rows)).map(benchRow)))
            first += batchSize
        }
    }
    precondition(live.rows == UInt64(rows))
    liveRates.append(Double(rows) / (Double(MonotonicClock.nanoseconds() - t1) / 1e9))
}
say(String(format: "client streaming (%d rows, %d per batch, %.0f MB on the wire): %.0f rows/s decoded on the server (client sends pre-encoded batches)",
           rows, batchSize, Double(wireBytes) / 1e6, median(preRates)))
say(String(format: "client streaming, client encoding as it sends: %.0f rows/s", median(liveRates)))
// The reference is pure CPU in one thread: on a slower host it falls, and the served rate with it.
say(String(format: "  %@ streaming over 1,000,000 rows/s decoded on the server: %.0f rows/s = %.2f of the reference",
           median(preRates) > 1_000_000 ? "PASS" : "MISS", median(preRates), median(preRates) / median(localRates)))
say("server peak RSS after the echo benchmarks: \(peakRSSKilobytes(pid) / 1024) MB")
client.close()
stopServer(pid, data)
// --transport-only: the foundation's figures (ping, unary, client streaming) and nothing else.
if CommandLine.arguments.contains("--transport-only") { return }
}

// Durable ingest over the wire: Catalog/Ingest into a fresh SQLite store per round, each
// batch acknowledged only after its transaction committed.
let durableRows = Int(arg("durable-rows", "1000000"))!
let rssRows = Int(arg("rss-rows", "5000000"))!

func catalogRow(_ i: Int) -> DataRow {
    let r = benchRow(i)
    return DataRow(globalKey: r.id, mediaType: .image, uri: r.uri, content: r.payload, metadata: r.metadata)
}

/// Starts a server on a fresh data folder, ingests `count` rows, returns (rows/s, peak RSS in MB).
func durableIngest(_ count: Int, preEncoded: [[UInt8]]?, postgres: String? = nil) async throws -> (Double, Int) {
    let (pid, client, data, _) = try await startServer(postgres: postgres)
    defer {
        client.close()
        stopServer(pid, data)
    }
    let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "bench"))
    let t0 = MonotonicClock.nanoseconds()
    let stored = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var n = 0
                for try await ack in acks { n += Int(ack.created + ack.updated) }
                return n
            }
            if let preEncoded {
                for (i, batch) in preEncoded.enumerated() {
                    try await writer.write(serialized: i == 0 ? IngestBatch(datasetId: dataset.id, rows: (0..<min(batchSize, count)).map(catalogRow)).serializedBytes() : batch)
                }
            } else {
                var first = 0
                while first < count {
                    try await writer.write(IngestBatch(datasetId: first == 0 ? dataset.id : "", rows: (first..<min(first + batchSize, count)).map(catalogRow)))
                    first += batchSize
                }
            }
            close()
            return try await group.next()!
        }
    }
    let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
    precondition(stored == count, "stored \(stored) of \(count) rows")
    return (Double(count) / seconds, peakRSSKilobytes(pid) / 1024)
}

var durableRates: [Double] = []
var durableRSS: [Int] = []
// The batches are encoded before the clock starts (the first one again, to name the
// dataset): the number is the server's, not this client's encoder's.
let durableBatches: [[UInt8]] = stride(from: 0, to: durableRows, by: batchSize).map { first in
    IngestBatch(rows: (first..<min(first + batchSize, durableRows)).map(catalogRow)).serializedBytes()
}
for _ in 0..<3 {
    let (rate, rss) = try await durableIngest(durableRows, preEncoded: durableBatches)
    durableRates.append(rate)
    durableRSS.append(rss)
}
say(String(format: "durable ingest over the wire (%d rows into a fresh SQLite store, %d per batch, 3 rounds): %.0f rows/s, server peak RSS %d MB",
           durableRows, batchSize, median(durableRates), durableRSS.max() ?? 0))
say(String(format: "  %@ durable SQLite ingest over 250,000 rows/s: %.0f rows/s%@",
           median(durableRates) > 250_000 ? "PASS" : "MISS", median(durableRates),
           decodeReference.map { String(format: " = %.3f of the decode reference", median(durableRates) / $0) } ?? ""))
if let benchPostgres {
    let (rate, rss) = try await durableIngest(durableRows, preEncoded: durableBatches, postgres: benchPostgres)
    say(String(format: "durable ingest over the wire (%d rows into a fresh PostgreSQL database, %d per batch): %.0f rows/s, server peak RSS %d MB",
               durableRows, batchSize, rate, rss))
}
if rssRows > 0 {
    let (rate, rss) = try await durableIngest(rssRows, preEncoded: nil)
    say(String(format: "durable ingest of %d rows (client encoding as it sends): %.0f rows/s, server peak RSS %d MB", rssRows, rate, rss))
    say("  \(rss < 300 ? "PASS" : "MISS") server peak RSS under 300 MB after \(rssRows) rows: \(rss) MB")
}
if durableOnly { return }
try await runBench(images: Int(arg("images", "1000")) ?? 1000, rounds: rounds, startServer: startServer, stopServer: stopServer)
if let benchPostgres {
    try await scaleOutBench(
        images: Int(arg("scaleout-images", "600")) ?? 600, freshDatabase: { freshPostgresDatabase(benchPostgres) },
        adminKey: readAdminKey, stopServer: stopServer)
} else {
    say("run throughput with one and two servers: skipped (needs --postgres URL; make bench passes one)")
}
try cocoBench(python: arg("python", "python3"), rounds: rounds)
}

try await withTaskExecutorPreference(RPCClient.sharedLoop) {
    try await benchMain()
}
