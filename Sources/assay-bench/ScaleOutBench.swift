import AssayNativeModels
import AssayRPC
import AssayTransport
import AssayWire

#if canImport(Glibc)
    import Glibc
#endif

/// `make bench`, scale-out (issue 10): rows/s of one model run through Tesseract with one
/// `assay serve` process on a PostgreSQL database, then with two processes on one database
/// sharing the run (rows claimed in batches under leases). The run is created on the first
/// server; the second finds it by its periodic look for unfinished runs. Each setting gets a
/// fresh database and new images, so no prediction is answered from the cache. The servers'
/// CPU time over the run's wall time shows how the work was split; on a machine with fewer
/// cores than the servers' workers the second server adds contention, not capacity.
///
/// `freshDatabase` makes a new database on the bench's PostgreSQL server and returns its URL;
/// `adminKey` reads the key a first server wrote in its data folder; `stopServer` stops one.
func scaleOutBench(
    images: Int, freshDatabase: () -> String, adminKey: (String) -> String?, stopServer: (pid_t, String) -> Void
) async throws {
    let words = ["invoice", "receipt", "total", "amount", "payable", "order", "number", "date"]
    var rates: [Int: Double] = [:]
    for count in [1, 2] {
        let pngs: [[UInt8]] = try (0..<images).map { i in
            try renderTextPNG("\(words[i % 8]) s\(count) \(i) \(words[(i / 8) % 8])")
        }
        let database = freshDatabase()
        var servers: [(pid: pid_t, data: String)] = []
        defer { for s in servers.reversed() { stopServer(s.pid, s.data) } }
        // The first server creates the schema and the admin key; the others join its database.
        var key = ""
        var clients: [RPCClient] = []
        for index in 0..<count {
            let port = freePort()
            let data = "/tmp/assay-bench-\(getpid())-\(port)"
            let pid = spawnServer(serverPath, port: port, data: data, postgres: database)
            servers.append((pid, data))
            let address = SocketAddress(host: "127.0.0.1", port: port)
            var client: RPCClient?
            for _ in 0..<400 {
                if index == 0, key.isEmpty { key = adminKey(data) ?? "" }
                if !key.isEmpty,
                    let c = try? await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"])
                {
                    client = c
                    break
                }
                usleep(25_000)
            }
            guard let client else { throw RPCError(.unavailable, "server \(index + 1) did not come up on \(address)") }
            clients.append(client)
        }
        defer { for c in clients { c.close() } }
        let first = clients[0]
        let ontology = try await first.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(name: "bench-ocr", features: [Feature(name: "transcript", kind: .freeText)]))
        let dataset = try await first.unary(CatalogService.createDataset, CreateDatasetRequest(name: "bench-scans"))
        try await first.bidirectional(CatalogService.ingest) { writer, close, acks in
            var start = 0
            while start < pngs.count {
                let rows = (start..<min(start + 100, pngs.count)).map {
                    DataRow(globalKey: "scan-\($0)", mediaType: .image, content: pngs[$0])
                }
                try await writer.write(IngestBatch(datasetId: start == 0 ? dataset.id : "", rows: rows))
                start += 100
            }
            close()
            for try await ack in acks { precondition(ack.errors.isEmpty, "ingest errors: \(ack.errors)") }
        }
        let cpu0 = servers.map { cpuSeconds($0.pid) }
        let t0 = MonotonicClock.nanoseconds()
        let run = try await first.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "tesseract-ocr", ontologyId: ontology.id,
                mapping: [ClassMapping(modelClass: "text", featureId: ontology.features[0].id)],
                rows: RowSelection(datasetId: dataset.id)))
        // Polled rather than watched: whichever server records the last rows, the store says when it is done.
        var final = run
        while final.state != .completed, final.state != .failed, final.state != .cancelled {
            usleep(50_000)
            final = try await first.unary(RunService.get, GetRunRequest(id: run.id))
        }
        let seconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let busy = zip(servers, cpu0).map { (cpuSeconds($0.0.pid) - $0.1) / seconds }
        precondition(
            final.state == .completed && final.progress?.withPredictions == UInt64(images),
            "the run did not predict every row: \(final)")
        rates[count] = Double(images) / seconds
        say(
            String(
                format:
                    "run throughput, %d images through Tesseract, %d server%@ on one PostgreSQL database: %.1f rows/s (%.1f s); servers busy on %@ cores",
                images, count, count == 1 ? "" : "s", Double(images) / seconds, seconds,
                busy.map { String(format: "%.2f", $0) }.joined(separator: " + ")))
    }
    if let one = rates[1], let two = rates[2] {
        say(
            String(
                format:
                    "  two servers / one server = %.2fx (this machine has %d cores; two servers run %d Tesseract workers on them)",
                two / one, NativeModels.cores, 2 * NativeModels.cores))
    }
}
