#if canImport(Glibc)
import Glibc
#endif
import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

/// A real `assay serve` process over a data folder, killed and restarted by the test.
struct ServerProcess {
    let pid: pid_t
    let address: SocketAddress
    let directory: String

    /// `assay serve` on a free port with data in `directory`, plus `arguments`.
    static func start(directory: String, arguments: [String] = []) async throws -> ServerProcess {
        let port = freePort()
        _ = mkdir(directory, 0o700)
        let pid = spawnDetached(
            [assayBinary, "serve", "--addr", "127.0.0.1:\(port)", "--data", directory, "--log-level", "warning"] + arguments,
            logFile: directory + "/server.log")
        let address = SocketAddress(host: "127.0.0.1", port: port)
        for _ in 0..<2400 {
            if access(directory + "/admin.key", R_OK) == 0, let c = try? await RPCClient.connect(to: address) {
                c.close()
                return ServerProcess(pid: pid, address: address, directory: directory)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RPCError(.unavailable, "the server did not start; see \(directory)/server.log")
    }

    func client() async throws -> RPCClient {
        let key = String(decoding: try FileBytes(path: directory + "/admin.key").bytes, as: UTF8.self).trimmingNewline
        return try await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"])
    }

    func kill9() async {
        kill(pid, SIGKILL)
        await reap(pid)
    }

    func stop() async {
        kill(pid, SIGTERM)
        await reap(pid)
    }
}

extension String {
    var trimmingNewline: String { String(self.prefix { $0 != "\n" }) }
}

@Suite("Durability", .serialized)
struct DurabilityTests {
    @Test func acknowledgedRowsSurviveSIGKILLAndResendingDuplicatesNothing() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        var server = try await ServerProcess.start(directory: directory)
        var client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "durable"))
        let batchSize = 500
        let batchCount = 120
        var generator = SystemRandomNumberGenerator()
        let killAfter = Int.random(in: 5...60, using: &generator)
        let acked = Probe(-1)
        let victim = server
        do {
            try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await ack in acks {
                            acked.update { $0 = max($0, Int(ack.batch)) }
                            if ack.batch + 1 == UInt64(killAfter) { await victim.kill9() }
                        }
                    }
                    for b in 0..<batchCount {
                        try await writer.write(IngestBatch(datasetId: b == 0 ? dataset.id : "", rows: (b * batchSize..<(b + 1) * batchSize).map(benchRow)))
                    }
                    close()
                    try await group.waitForAll()
                }
            }
            Issue.record("the stream finished although the server was killed after \(killAfter) acks")
        } catch {
            // Expected: the connection died with the server.
        }
        client.close()
        let lastAcked = acked.current
        #expect(lastAcked >= killAfter - 1)

        server = try await ServerProcess.start(directory: directory)
        client = try await server.client()
        let afterCrash = try await allRows(client, dataset.id)
        let keys = afterCrash.map(\.globalKey)
        #expect(Set(keys).count == keys.count, "a row is stored twice")
        let present = Set(keys)
        let lost = (0..<((lastAcked + 1) * batchSize)).filter { !present.contains(benchRow($0).globalKey) }
        #expect(lost.isEmpty, "acknowledged rows lost after SIGKILL: \(lost.prefix(5))")

        // Resending the whole input leaves exactly one row per global key.
        let acks = try await ingest(client, (0..<batchCount).map { b in
            IngestBatch(datasetId: b == 0 ? dataset.id : "", rows: (b * batchSize..<(b + 1) * batchSize).map(benchRow))
        })
        #expect(acks.count == batchCount)
        let final = try await allRows(client, dataset.id)
        #expect(final.count == batchCount * batchSize)
        #expect(Set(final.map(\.globalKey)).count == batchCount * batchSize)
        #expect(try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id)).rowCount == UInt64(batchCount * batchSize))
        client.close()
        await server.stop()
    }
}
