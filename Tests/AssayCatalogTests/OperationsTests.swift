#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
@testable import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// `assay backup`, `assay serve --check` and the JSON log, against a real `assay serve`.
@Suite("Operations", .serialized)
struct OperationsTests {
    @Test func aBackupTakenDuringIngestHoldsAConsistentCommittedState() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory)
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "live"))
        let acknowledged = Probe(0)
        let batchSize = 500
        // Ingest keeps committing while the backup runs.
        async let ingest: Void = client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await ack in acks { acknowledged.update { $0 += Int(ack.created) } }
                }
                for b in 0..<60 {
                    try await writer.write(
                        IngestBatch(datasetId: b == 0 ? dataset.id : "", rows: (b * batchSize..<(b + 1) * batchSize).map(benchRow)))
                }
                close()
                try await group.waitForAll()
            }
        }
        while acknowledged.current < 5 * batchSize { try await Task.sleep(for: .milliseconds(5)) }
        let before = acknowledged.current
        let backup = directory + "/copy.sqlite"
        let result = await run([assayBinary, "backup", backup, "--data", directory, "--json"])
        let after = acknowledged.current
        try await ingest
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONValue.parse(result.stdout)
        #expect(report["integrity"] == .string("ok"))

        // The copy opens as a store of its own and holds whole batches: at least every row
        // acknowledged before the backup began, at most those acknowledged once it ended.
        let copy = try await SQLiteStorage.open(path: backup)
        let organization = try #require(try await copy.operatorOrganization())
        let rows = try await copy.dataset(organization: organization, id: AssayCore.ObjectID(rawValue: dataset.id)).rowCount
        #expect(rows >= before && rows <= after + batchSize, "copy has \(rows), acknowledged \(before)...\(after)")
        #expect(rows % batchSize == 0)
        await copy.close()

        // A second backup to the same name is refused and leaves the first one alone.
        let again = await run([assayBinary, "backup", backup, "--data", directory])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists; a backup never overwrites a file"))
        #expect(try SQLiteFileTools.inspect(path: backup).integrity == "ok")
        client.close()
        await server.stop()
    }

    @Test func checkReportsEachProblemAndChangesNothing() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        // A fresh folder: everything will be created.
        let fresh = await run([assayBinary, "serve", "--check", "--data", directory + "/new", "--addr", "127.0.0.1:\(freePort())"])
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(fresh.stdout.contains("will be created on the first start"))
        #expect(access(directory + "/new", F_OK) != 0)

        // A running server: its address is taken, its database is fine.
        let server = try await ServerProcess.start(directory: directory + "/live")
        let busy = await run([
            assayBinary, "serve", "--check", "--json", "--data", directory + "/live", "--addr", server.address.description,
        ])
        #expect(busy.status == 1)
        let checks = try JSONValue.parse(busy.stdout)["checks"]
        guard case .array(let items)? = checks else {
            Issue.record("no checks in \(busy.stdout)")
            return
        }
        let byName = Dictionary(uniqueKeysWithValues: items.map { ($0["check"], $0["ok"]) })
        #expect(byName[.string("address")] == .bool(false))
        #expect(byName[.string("data")] == .bool(true))
        #expect(byName[.string("database")] == .bool(true))
        await server.stop()

        // A file from a newer Assay, and a bad models config.
        let newer = directory + "/newer"
        _ = mkdir(newer, 0o700)
        let file = try SQLiteConnection.open(path: newer + "/assay.sqlite", mode: .readWrite)
        try file.exec("PRAGMA user_version = 999; CREATE TABLE t (x INTEGER) STRICT;")
        file.close()
        writeFile(directory + "/models.json", "{\"models\": 3}")
        let bad = await run([
            assayBinary, "serve", "--check", "--data", newer, "--addr", "127.0.0.1:\(freePort())", "--models-config",
            directory + "/models.json",
        ])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("FAIL database: \(newer)/assay.sqlite has schema version 999"))
        #expect(bad.stdout.contains("FAIL models-config: \(directory)/models.json"))
    }

    @Test func theJSONLogHasOneObjectPerLineWithTheCallsFields() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory, arguments: ["--log-format", "json", "--log-level", "debug"])
        let client = try await server.client()
        _ = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "logged"))
        await #expect(throws: RPCError.self) {
            _ = try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: "ds_missing"), metadata: ["x-request-id": "req-42"])
        }
        client.close()
        await server.stop()
        let log = String(decoding: try FileBytes(path: directory + "/server.log").bytes, as: UTF8.self)
        let lines = log.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        var calls: [JSONValue] = []
        for line in lines {
            let object = try JSONValue.parse(line)
            #expect(object["ts"] != nil && object["level"] != nil && object["msg"] != nil, "\(line)")
            if object["msg"] == .string("call") { calls.append(object) }
        }
        let created = try #require(calls.first { $0["method"] == .string("/assay.v1.Catalog/CreateDataset") })
        #expect(created["code"] == .string("OK"))
        #expect(created["org"].flatMap { if case .string(let v) = $0 { v.hasPrefix("org_") } else { nil } } == true)
        #expect(created["request_id"].flatMap { if case .string(let v) = $0 { v.count } else { nil } } == 16)
        #expect(created["micros"] != nil)
        let missing = try #require(calls.first { $0["method"] == .string("/assay.v1.Catalog/GetDataset") })
        #expect(missing["code"] == .string("NOT_FOUND"))
        #expect(missing["request_id"] == .string("req-42"))
    }
}

/// `assay serve --metrics-addr`: Prometheus' text format over HTTP.
@Suite("Metrics endpoint", .serialized)
struct MetricsEndpointTests {
    @Test func servesCountersOfCallsIngestAndTheLedgerAndRefusesOtherRequests() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let metricsPort = freePort()
        let server = try await ServerProcess.start(
            directory: directory, arguments: ["--metrics-addr", "127.0.0.1:\(metricsPort)"])
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "scraped"))
        var rows = (0..<300).map(benchRow)
        rows[7].globalKey = ""  // a row error
        let batch = rows
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: batch))
            close()
            for try await _ in acks {}
        }
        // Again: the same keys are updates now.
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: Array(batch.prefix(100))))
            close()
            for try await _ in acks {}
        }
        await #expect(throws: RPCError.self) { _ = try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: "ds_none")) }

        let (status, body) = try httpExchange(port: metricsPort, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(status == "HTTP/1.1 200 OK")
        let samples = Dictionary(
            body.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, String)? in
                guard let space = line.lastIndex(of: " ") else { return nil }
                return (String(line[..<space]), String(line[line.index(after: space)...]))
            }, uniquingKeysWith: { a, _ in a })
        #expect(samples[#"assay_ingest_rows_total{outcome="created"}"#] == "299")
        #expect(samples[#"assay_ingest_rows_total{outcome="updated"}"#] == "99")
        #expect(samples[#"assay_ingest_rows_total{outcome="rejected"}"#] == "2")  // row 7, sent twice
        #expect(samples[#"assay_rpc_calls_total{method="/assay.v1.Catalog/CreateDataset",code="OK"}"#] == "1")
        #expect(samples[#"assay_rpc_calls_total{method="/assay.v1.Catalog/GetDataset",code="NOT_FOUND"}"#] == "1")
        #expect(samples[#"assay_rpc_calls_total{method="/assay.v1.Catalog/Ingest",code="OK"}"#] == "2")
        #expect(samples["assay_connections"] == "1")
        #expect(Int(samples["assay_resident_memory_bytes"] ?? "") ?? 0 > 1 << 20)
        // Every sample line is NAME{LABELS} INTEGER.
        for (series, value) in samples {
            #expect(Int(value) != nil, "\(series) \(value)")
            #expect(series.first.map { $0.isLetter || $0 == "_" } == true)
        }

        #expect(try httpExchange(port: metricsPort, "GET /other HTTP/1.1\r\n\r\n").status == "HTTP/1.1 404 Not Found")
        #expect(try httpExchange(port: metricsPort, "DELETE /metrics HTTP/1.1\r\n\r\n").status == "HTTP/1.1 405 Method Not Allowed")
        #expect(try httpExchange(port: metricsPort, "nonsense\r\n\r\n").status == "HTTP/1.1 400 Bad Request")
        let huge = "GET /metrics HTTP/1.1\r\nX-Filler: " + String(repeating: "a", count: 10_000) + "\r\n\r\n"
        #expect(try httpExchange(port: metricsPort, huge).status == "HTTP/1.1 431 Request Header Fields Too Large")
        // The RPC port still serves.
        _ = try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id))
        client.close()
        await server.stop()
    }

    /// Sends `request` on a fresh connection, reads until the server closes; the status line and the body.
    func httpExchange(port: UInt16, _ request: String) throws -> (status: String, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RPCError(.unavailable, "cannot connect to the metrics port") }
        let bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may answer and close before reading it all
            offset += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        // "\r\n" is one Character in Swift: split on the string.
        let status = text.firstRange(of: "\r\n").map { String(text[..<$0.lowerBound]) } ?? text
        let body = text.firstRange(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
