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
        let server = try await ServerProcess.start(directory: directory, extraArguments: ["--log-format", "json", "--log-level", "debug"])
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
