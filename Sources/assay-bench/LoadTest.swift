import AssayNativeModels
import AssayRPC
import AssayTransport
import AssayWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `make loadtest`: one release `assay serve` on loopback and, in this process, `clients`
/// connections (each its own RPCClient) for `seconds`: most make unary calls (Echo/Unary,
/// Catalog/GetDataset, Catalog/ListDataRows) with a short random pause between calls, some
/// run ingest streams (upserts over a bounded key space, so the database stops growing),
/// some create small Tesseract runs and watch them to the end. Prints throughput, p50/p99
/// per call kind, errors by status, and the server's RSS sampled every second.
///
/// Errors fail the load test (exit 1), except RESOURCE_EXHAUSTED, which the server's limits
/// send on purpose and which is counted apart. Latency and RSS targets print PASS or MISS
/// without failing it: the machine is shared.
struct LoadTest {
    var seconds: Int
    var clients: Int
    /// The mean pause of a unary client between two calls, in milliseconds (0: back to back).
    var thinkMilliseconds: Int

    /// What one client saw: latencies in microseconds by call kind, and errors by kind and status.
    struct Tally: Sendable {
        var latencies: [String: [UInt32]] = [:]
        var errors: [String: Int] = [:]
        var exhausted = 0
        var rows = 0
        var runs = 0

        mutating func add(_ kind: String, since start: UInt64) {
            latencies[kind, default: []].append(
                UInt32(min(UInt64(UInt32.max), (MonotonicClock.nanoseconds() - start) / 1000)))
        }

        mutating func fail(_ kind: String, _ error: any Error) {
            let code = (error as? RPCError)?.code ?? .unknown
            if code == .resourceExhausted {
                exhausted += 1
            } else {
                errors["\(kind) \(code.name)", default: 0] += 1
                if errors.values.reduce(0, +) <= 5 { say("loadtest: \(kind) failed: \(error)") }
            }
        }

        mutating func merge(_ other: Tally) {
            for (k, v) in other.latencies { latencies[k, default: []] += v }
            for (k, v) in other.errors { errors[k, default: 0] += v }
            exhausted += other.exhausted
            rows += other.rows
            runs += other.runs
        }
    }

    /// What the clients share: the server, its key and the objects made before the clock starts.
    struct Setup: Sendable {
        let address: SocketAddress
        let key: String
        let catalogDataset: String
        let runDataset: String
        let ontology: String
        let feature: String
        let loops: [EventLoop]
    }

    /// Runs the load against a server `startServer` starts (and `stopServer` stops); returns
    /// the exit status: 1 when any call failed other than with RESOURCE_EXHAUSTED.
    func run(
        startServer: () async throws -> (pid: pid_t, client: RPCClient, data: String, address: SocketAddress),
        stopServer: (pid_t, String) -> Void, adminKey: (String) -> String?
    ) async throws -> Int32 {
        let (pid, admin, data, address) = try await startServer()
        defer { stopServer(pid, data) }
        guard let key = adminKey(data) else { throw RPCError(.unauthenticated, "no admin key in \(data)") }
        let ingestClients = max(1, clients / 5)
        let runClients = max(1, clients / 10)
        let unaryClients = max(1, clients - ingestClients - runClients)
        say(
            "assay loadtest: \(unaryClients + ingestClients + runClients) clients (\(unaryClients) unary, "
                + "\(ingestClients) ingest, \(runClients) run watchers) for \(seconds) s "
                + "against pid \(pid) on \(address); "
                + "unary pause 0-\(2 * thinkMilliseconds) ms"
        )

        // Before the clock: a dataset to read, a dataset and an ontology to run Tesseract on, and
        // one run that fills the prediction cache (later runs of the same rows are cheap).
        let catalog = try await admin.unary(CatalogService.createDataset, CreateDatasetRequest(name: "load-catalog"))
        try await admin.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: catalog.id, rows: (0..<200).map { loadRow("catalog", $0) }))
            close()
            for try await _ in acks {}
        }
        let scans = try await admin.unary(CatalogService.createDataset, CreateDatasetRequest(name: "load-scans"))
        let words = ["invoice", "receipt", "total", "amount"]
        let images = try words.enumerated().map { i, w in
            DataRow(globalKey: "scan-\(i)", mediaType: .image, content: try renderTextPNG("\(w) \(i)"))
        }
        try await admin.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: scans.id, rows: images))
            close()
            for try await _ in acks {}
        }
        let ontology = try await admin.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(name: "load-ocr", features: [Feature(name: "text", kind: .freeText)]))
        let loops = try (0..<2).map { try EventLoop(name: "loadtest-io-\($0)") }
        let setup = Setup(
            address: address, key: key, catalogDataset: catalog.id, runDataset: scans.id, ontology: ontology.id,
            feature: ontology.features[0].id, loops: loops)
        var warm = Tally()
        try await Self.watchOneRun(admin, setup, &warm)
        guard warm.errors.isEmpty else { throw RPCError(.internal, "the warm-up run failed: \(warm.errors)") }
        admin.close()

        // Connected 25 at a time, so a burst of handshakes does not overflow the listen backlog.
        var connections: [Int: RPCClient] = [:]
        let count = unaryClients + ingestClients + runClients
        for first in stride(from: 0, to: count, by: 25) {
            try await withThrowingTaskGroup(of: (Int, RPCClient).self) { group in
                for i in first..<min(first + 25, count) {
                    group.addTask {
                        let metadata: Metadata = ["authorization": "Bearer \(key)"]
                        return (
                            i,
                            try await RPCClient.connect(to: address, metadata: metadata, loop: loops[i % loops.count])
                        )
                    }
                }
                for try await (i, c) in group { connections[i] = c }
            }
        }
        say("machine load average before: \(loadAverage()) (\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores)")
        let rssBefore = residentKilobytes(pid)
        let cpu0 = cpuSeconds(pid)
        let clientCPU0 = cpuSeconds(getpid())
        let start = MonotonicClock.nanoseconds()
        let end = start + UInt64(seconds) * 1_000_000_000
        let think = thinkMilliseconds
        enum Outcome: Sendable {
            case tally(Tally)
            case rss([Int])
        }
        let (total, samples) = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                // The server's RSS once a second, until the clients are done.
                var samples: [Int] = []
                while MonotonicClock.nanoseconds() < end {
                    try? await Task.sleep(for: .seconds(1))
                    samples.append(residentKilobytes(pid))
                }
                return .rss(samples)
            }
            for i in 0..<connections.count {
                let client = connections[i]!
                // Each client's task runs on its connection's event loop: the load spreads over
                // both loops' threads, and a call's bytes and its task never change threads.
                let loop = loops[i % loops.count]
                group.addTask(executorPreference: loop) {
                    var tally = Tally()
                    var random = SystemRandomNumberGenerator()
                    if i < unaryClients {
                        await Self.unaryClient(client, loop: loop, setup, end: end, think: think, &tally, &random)
                    } else if i < unaryClients + ingestClients {
                        await Self.ingestClient(client, loop: loop, setup, index: i, end: end, &tally)
                    } else {
                        await Self.runClient(client, loop: loop, setup, end: end, &tally)
                    }
                    client.close()
                    return .tally(tally)
                }
            }
            var total = Tally()
            var samples: [Int] = []
            for await outcome in group {
                switch outcome {
                case .tally(let tally): total.merge(tally)
                case .rss(let rss): samples = rss
                }
            }
            return (total, samples)
        }
        let wall = Double(MonotonicClock.nanoseconds() - start) / 1e9
        let cpu = cpuSeconds(pid) - cpu0
        let clientCPU = cpuSeconds(getpid()) - clientCPU0
        // The server's own view (Reflection/MethodStats: from a call's arrival to its status),
        // which tells time in the server from time waiting for a core on a busy machine.
        let stats = try await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"])
        let methods = try await stats.unary(ReflectionService.methodStats, MethodStatsRequest()).methods
        stats.close()
        say("machine load average after: \(loadAverage())")
        say("server-side latency (since the server started, setup included):")
        for m in methods.sorted(by: { $0.calls > $1.calls }) where m.calls >= 100 {
            say(
                "  \(m.path): \(m.calls) calls  p50 \(String(format: "%.2f", Double(m.latencyP50Micros) / 1000)) ms"
                    + "  p99 \(String(format: "%.2f", Double(m.latencyP99Micros) / 1000)) ms")
        }
        for loop in loops { await loop.shutdown() }
        say("client CPU (this process, 200 clients): \(String(format: "%.1f s = %.2f cores", clientCPU, clientCPU / wall))")
        return report(total, wall: wall, cpu: cpu, rssBefore: rssBefore, rss: samples, peak: peakRSSKilobytes(pid))
    }

    // MARK: the three kinds of client

    static func unaryClient(
        _ client: RPCClient, loop: EventLoop, _ setup: Setup, end: UInt64, think: Int, _ tally: inout Tally,
        _ random: inout SystemRandomNumberGenerator
    ) async {
        let payload = [UInt8](repeating: 0x5A, count: 64)
        var n = 0
        while MonotonicClock.nanoseconds() < end {
            n += 1
            let t0 = MonotonicClock.nanoseconds()
            do {
                switch n % 4 {
                case 0, 2:
                    _ = try await client.unary(EchoService.unary, EchoRequest(payload: payload))
                    tally.add("Echo/Unary", since: t0)
                case 1:
                    _ = try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: setup.catalogDataset))
                    tally.add("Catalog/GetDataset", since: t0)
                default:
                    _ = try await client.unary(
                        CatalogService.listDataRows,
                        ListDataRowsRequest(datasetId: setup.catalogDataset, pageSize: 20, cursor: ""))
                    tally.add("Catalog/ListDataRows", since: t0)
                }
            } catch {
                tally.fail(["Echo/Unary", "Catalog/GetDataset", "Echo/Unary", "Catalog/ListDataRows"][n % 4], error)
                if !client.isUsable { return }
            }
            if think > 0 {
                await loop.sleep(nanoseconds: 1000 * UInt64.random(in: 0...UInt64(2000 * think), using: &random))
            }
        }
    }

    /// Streams of 5 batches of 50 rows into the client's own dataset, keys cycling over 2,000
    /// (so after the first pass they are updates and the file stops growing), 500 ms apart.
    static func ingestClient(
        _ client: RPCClient, loop: EventLoop, _ setup: Setup, index: Int, end: UInt64, _ tally: inout Tally
    ) async {
        let dataset: String
        do {
            dataset = try await client.unary(
                CatalogService.createDataset, CreateDatasetRequest(name: "load-ingest-\(index)")
            ).id
        } catch {
            tally.fail("Catalog/CreateDataset", error)
            return
        }
        var next = 0
        while MonotonicClock.nanoseconds() < end {
            let t0 = MonotonicClock.nanoseconds()
            do {
                let first = next
                let (rows, batchMicros) = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                    try await withThrowingTaskGroup(of: (Int, [UInt32]).self) { group in
                        group.addTask {
                            var rows = 0
                            var micros: [UInt32] = []
                            var last = t0
                            for try await ack in acks {
                                let now = MonotonicClock.nanoseconds()
                                micros.append(UInt32((now - last) / 1000))
                                last = now
                                rows += Int(ack.created + ack.updated)
                            }
                            return (rows, micros)
                        }
                        for b in 0..<5 {
                            let rows = (0..<50).map { loadRow("c\(index)", (first + b * 50 + $0) % 2_000) }
                            try await writer.write(IngestBatch(datasetId: b == 0 ? dataset : "", rows: rows))
                        }
                        close()
                        return try await group.next()!
                    }
                }
                next = (next + 250) % 2_000
                tally.rows += rows
                tally.add("Catalog/Ingest stream", since: t0)
                tally.latencies["Catalog/Ingest batch ack", default: []] += batchMicros
            } catch {
                tally.fail("Catalog/Ingest", error)
                if !client.isUsable { return }
            }
            await loop.sleep(nanoseconds: 500_000_000)
        }
    }

    /// Creates a 4-row Tesseract run and watches it to the end, a second apart.
    static func runClient(_ client: RPCClient, loop: EventLoop, _ setup: Setup, end: UInt64, _ tally: inout Tally) async {
        while MonotonicClock.nanoseconds() < end {
            do {
                try await watchOneRun(client, setup, &tally)
            } catch {
                tally.fail("Run/Create+Watch", error)
                if !client.isUsable { return }
            }
            await loop.sleep(nanoseconds: 1_000_000_000)
        }
    }

    static func watchOneRun(_ client: RPCClient, _ setup: Setup, _ tally: inout Tally) async throws {
        let t0 = MonotonicClock.nanoseconds()
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "tesseract-ocr", ontologyId: setup.ontology,
                mapping: [ClassMapping(modelClass: "text", featureId: setup.feature)],
                rows: RowSelection(datasetId: setup.runDataset)))
        tally.add("Run/Create", since: t0)
        let last = try await client.serverStreaming(
            RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(60)
        ) { updates in
            var last: ModelRun?
            for try await r in updates { last = r }
            return last
        }
        guard last?.state == .completed else {
            tally.errors["Run/Watch ended \(last.map { "\($0.state)" } ?? "without an update")", default: 0] += 1
            return
        }
        tally.runs += 1
        tally.add("Run/Create to completed", since: t0)
    }

    // MARK: the report

    func report(_ total: Tally, wall: Double, cpu: Double, rssBefore: Int, rss: [Int], peak: Int) -> Int32 {
        func ms(_ micros: UInt32) -> String { String(format: "%.2f ms", Double(micros) / 1000) }
        func rate(_ n: Int) -> String { String(format: "%.0f/s", Double(n) / wall) }
        func percentile(_ sorted: [UInt32], _ p: Int) -> UInt32 {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)]
        }
        func padded(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        let unaryKinds = ["Echo/Unary", "Catalog/GetDataset", "Catalog/ListDataRows", "Run/Create"]
        let unary = unaryKinds.flatMap { total.latencies[$0] ?? [] }.sorted()
        say(
            "unary calls: \(unary.count) in \(String(format: "%.1f", wall)) s = \(rate(unary.count)); "
                + "p50 \(ms(percentile(unary, 50)))  p99 \(ms(percentile(unary, 99)))")
        for kind in total.latencies.keys.sorted() {
            let sorted = total.latencies[kind]!.sorted()
            say(
                "  \(padded(kind, 26)) \(padded(String(sorted.count), 9)) \(padded(rate(sorted.count), 9))"
                    + " p50 \(ms(percentile(sorted, 50)))"
                    + "  p99 \(ms(percentile(sorted, 99)))  max \(ms(sorted.last ?? 0))")
        }
        say(
            "ingest: \(total.rows) rows acknowledged = \(rate(total.rows)); "
                + "runs created and watched to completion: \(total.runs)"
        )
        let errorCount = total.errors.values.reduce(0, +)
        say(
            "errors: "
                + (errorCount == 0
                    ? "none"
                    : total.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        say("RESOURCE_EXHAUSTED (the server's limits, on purpose): \(total.exhausted)")
        let mb = { (kb: Int) in String(format: "%.1f", Double(kb) / 1024) }
        let sortedRSS = rss.sorted()
        say(
            "server RSS (MB), sampled every second: before \(mb(rssBefore)), first \(mb(rss.first ?? 0)), "
                + "median \(mb(sortedRSS.isEmpty ? 0 : sortedRSS[sortedRSS.count / 2])), last \(mb(rss.last ?? 0)), "
                + "peak (VmHWM) \(mb(peak))")
        say("server CPU: \(String(format: "%.1f s over %.1f s = %.2f cores", cpu, wall, cpu / wall))")
        let p99 = Double(percentile(unary, 99)) / 1000
        say("\(p99 < 5 ? "PASS" : "MISS") p99 of unary calls under 5 ms (\(String(format: "%.2f", p99)) ms)")
        // Flat: the last third's median within 10 % (or 8 MB) of the middle third's; the first is warm-up.
        let third = max(1, rss.count / 3)
        let middle = rss.dropFirst(third).prefix(third).sorted()
        let last = rss.suffix(third).sorted()
        if !middle.isEmpty && !last.isEmpty {
            let m = middle[middle.count / 2]
            let l = last[last.count / 2]
            let flat = l <= m + max(m / 10, 8 * 1024)
            say(
                "\(flat ? "PASS" : "MISS") RSS flat: median \(mb(m)) MB in the middle third of the run, "
                    + "\(mb(l)) MB in the last"
            )
        }
        say("\(errorCount == 0 ? "PASS" : "FAIL") no errors other than RESOURCE_EXHAUSTED (\(errorCount))")
        return errorCount == 0 ? 0 : 1
    }
}

/// A catalog row of about 300 bytes.
func loadRow(_ prefix: String, _ i: Int) -> DataRow {
    DataRow(
        globalKey: "\(prefix)-\(i)", mediaType: .text, uri: "s3://load/\(prefix)/\(i).txt",
        text: "load row \(i) " + String(repeating: "lorem ipsum ", count: 16),
        metadata: ["shard": "\(i % 16)", "source": "loadtest"])
}

/// /proc/loadavg's 1, 5 and 15 minute figures: how busy the shared machine was.
func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "?" }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, 128, f) != nil else { return "?" }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// The resident set of a process, from /proc (VmRSS), in kB.
func residentKilobytes(_ pid: pid_t) -> Int {
    guard let f = fopen("/proc/\(pid)/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, 512, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmRSS:") {
            return Int(s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
    }
    return 0
}
