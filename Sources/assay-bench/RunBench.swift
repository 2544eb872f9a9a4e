#if canImport(Glibc)
    import Glibc
#endif
import AssayNativeModels
import AssayRPC
import AssayTransport
import AssayWire
import Dispatch
import Synchronization

/// `make bench`, model runs: rows/s of a run of `images` rendered text images through
/// Tesseract, next to rows/s of calling the same engine directly from as many threads as the
/// server uses (one engine per thread, no Assay), in the same rounds. Each round renders
/// new images, so the run's prediction cache never answers. The server's CPU time over the
/// run's wall time says how many cores it kept busy.
func runBench(
    images: Int, rounds: Int, startServer: () async throws -> (pid: pid_t, client: RPCClient, data: String, address: SocketAddress),
    stopServer: (pid_t, String) -> Void
) async throws {
    let threads = NativeModels.cores
    var direct: [Double] = []
    var viaRuns: [Double] = []
    var cores: [Double] = []
    let (pid, client, data, _) = try await startServer()
    defer { stopServer(pid, data) }
    let ontology = try await client.unary(
        CatalogService.createOntology, CreateOntologyRequest(name: "bench-ocr", features: [Feature(name: "transcript", kind: .freeText)]))
    for round in 0..<rounds {
        let words = ["invoice", "receipt", "total", "amount", "payable", "order", "number", "date"]
        let pngs: [[UInt8]] = try (0..<images).map { i in
            try renderTextPNG("\(words[i % 8]) \(round) \(i) \(words[(i / 8) % 8])")
        }
        // Direct: `threads` threads, one engine each, pulling images from a shared counter.
        let next = Atomic(0)
        let failures = Atomic(0)
        let t0 = MonotonicClock.nanoseconds()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for _ in 0..<threads {
                group.enter()
                Thread.detached {
                    defer { group.leave() }
                    guard let engine = try? TesseractEngine() else {
                        failures.add(1, ordering: .relaxed)
                        return
                    }
                    while true {
                        let i = next.add(1, ordering: .relaxed).oldValue
                        guard i < pngs.count else { return }
                        if (try? engine.recognize(pngs[i])) == nil { failures.add(1, ordering: .relaxed) }
                    }
                }
            }
            group.notify(queue: .global()) { done.resume() }
        }
        let directSeconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        precondition(failures.load(ordering: .relaxed) == 0, "direct Tesseract calls failed")
        direct.append(Double(images) / directSeconds)

        // Through Assay: ingest (not timed), then create the run and watch it to the end.
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "bench-scans-\(round)"))
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            var first = 0
            while first < pngs.count {
                let rows = (first..<min(first + 100, pngs.count)).map { DataRow(globalKey: "scan-\(round)-\($0)", mediaType: .image, content: pngs[$0]) }
                try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
                first += 100
            }
            close()
            for try await ack in acks { precondition(ack.errors.isEmpty, "ingest errors: \(ack.errors)") }
        }
        let cpu0 = cpuSeconds(pid)
        let t1 = MonotonicClock.nanoseconds()
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "tesseract-ocr", ontologyId: ontology.id, mapping: [ClassMapping(modelClass: "text", featureId: ontology.features[0].id)],
                rows: RowSelection(datasetId: dataset.id)))
        let final = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id)) { updates in
            var last: ModelRun?
            for try await r in updates { last = r }
            return last
        }
        let runSeconds = Double(MonotonicClock.nanoseconds() - t1) / 1e9
        let cpu = cpuSeconds(pid) - cpu0
        precondition(final?.state == .completed && final?.progress?.withPredictions == UInt64(images), "the run did not predict every row: \(String(describing: final))")
        viaRuns.append(Double(images) / runSeconds)
        cores.append(cpu / runSeconds)
    }
    let ratio = median(viaRuns) / median(direct)
    let busy = median(cores)
    say(String(format: "model run, %d images through Tesseract (%d rounds, medians): direct from %d threads %.1f rows/s, Assay run %.1f rows/s",
               images, rounds, threads, median(direct), median(viaRuns)))
    say(String(format: "  run / direct = %.1f%% (target >= 90%%); server busy on %.2f of %d cores (CPU time / wall time; target: all of them, >= %.1f)",
               100 * ratio, busy, threads, RunTargets.busyCores(threads)))
    // Issue 4's targets; a miss is reported, not fatal (the machine is shared).
    say(String(format: "  %@ run throughput >= 90%% of direct Tesseract calls: %.1f%%", ratio >= RunTargets.ratio ? "PASS" : "MISS", 100 * ratio))
    say(String(format: "  %@ run uses every core (%d): busy on %.2f", busy >= RunTargets.busyCores(threads) ? "PASS" : "MISS", threads, busy))
}

/// What `make bench` holds a model run to (issue 4).
enum RunTargets {
    /// A run's rows/s over the same engine called directly from as many threads.
    static let ratio = 0.9
    /// A server counts as using `cores` cores when its CPU time is at least 90 % of that many
    /// cores' wall time (the rest is the client's, and the machine's other work).
    static func busyCores(_ cores: Int) -> Double { 0.9 * Double(cores) }
}

/// User + system CPU seconds of a process, from /proc.
func cpuSeconds(_ pid: pid_t) -> Double {
    guard let f = fopen("/proc/\(pid)/stat", "r") else { return 0 }
    defer { fclose(f) }
    var buffer = [CChar](repeating: 0, count: 4096)
    guard fgets(&buffer, 4096, f) != nil else { return 0 }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // Fields after the command name (which is in parentheses and may contain spaces).
    guard let close = line.lastIndex(of: ")") else { return 0 }
    let fields = line[line.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A detached POSIX thread.
enum Thread {
    static func detached(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed")
        pthread_detach(thread)
    }
}
