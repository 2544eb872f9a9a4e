import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of a server in the middle of ingest streams, at a seeded random acknowledgement
/// plus a random delay, again and again on the same data folder. After every restart each
/// acknowledged batch is there, every batch is all there or not at all (one transaction),
/// the dataset's row count matches its rows, and resending the input stores each key once.
@Suite("Faults: kill -9 during ingest", .serialized)
struct IngestKillTests {
    static let batchSize = 200
    static let batchCount = 30

    static func row(_ round: Int, _ i: Int) -> AssayWire.DataRow {
        AssayWire.DataRow(
            globalKey: "r\(round)-\(i)", mediaType: .text, uri: "s3://bucket/r\(round)/\(i).txt",
            text: "row \(i) of round \(round): " + String(repeating: "x", count: i % 97),
            metadata: ["round": "\(round)", "shard": "\(i % 8)"])
    }

    static func batch(_ round: Int, _ b: Int, dataset: String) -> IngestBatch {
        IngestBatch(
            datasetId: b == 0 ? dataset : "", rows: (b * batchSize..<(b + 1) * batchSize).map { row(round, $0) })
    }

    @Test func everyAcknowledgedBatchSurvivesKillsAtRandomPoints() async throws {
        var random = FaultPlan.generator("ingest-kill")
        let directory = makeTemporaryDirectory()
        let log = directory + ".log"
        defer {
            AssayProcess.killAll(under: directory)
            removeTree(directory)
            unlink(log)
        }
        var datasets: [(id: String, round: Int)] = []
        for round in 0..<FaultPlan.rounds {
            let killAfter = Int.random(in: 1...(Self.batchCount - 2), using: &random)
            let delayMicros = Int.random(in: 0..<5_000, using: &random)
            let server = try await AssayProcess.start(directory: directory, logFile: log)
            let client = try await server.client()
            let dataset = try await client.unary(
                CatalogService.createDataset, CreateDatasetRequest(name: "round-\(round)")
            ).id
            datasets.append((dataset, round))
            let acked = Probe(-1)
            let killed = Probe(false)
            let outcome = await failure {
                try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await ack in acks {
                                #expect(ack.errors.isEmpty)
                                acked.update { $0 = max($0, Int(ack.batch)) }
                            }
                        }
                        group.addTask {
                            // The kill: once `killAfter` batches were acknowledged, plus the delay.
                            while acked.current + 1 < killAfter {
                                try await Task.sleep(for: .microseconds(200))
                            }
                            try await Task.sleep(for: .microseconds(delayMicros))
                            await server.kill9()
                            killed.update { $0 = true }
                        }
                        for b in 0..<Self.batchCount { try await writer.write(Self.batch(round, b, dataset: dataset)) }
                        close()
                        try await group.waitForAll()
                    }
                }
            }
            client.close()
            // Had the stream failed otherwise, the kill task was cancelled: kill now, so no two
            // servers ever share the file.
            if !killed.current { await server.kill9() }
            let lastAcked = acked.current
            print(
                "round \(round): kill after ack \(killAfter) + \(delayMicros) us; last ack seen \(lastAcked); "
                    + "stream: \(outcome.map { "\($0)" } ?? "finished")"
            )
            #expect(lastAcked >= killAfter - 1)

            let restarted = try await AssayProcess.start(directory: directory, logFile: log)
            let again = try await restarted.client()
            // Every earlier round's rows too: each restart recovers all that was acknowledged.
            for (id, r) in datasets {
                let rows = try await allRows(again, id)
                let keys = rows.map(\.globalKey)
                #expect(Set(keys).count == keys.count, "round \(r): a row is stored twice")
                let info = try await again.unary(CatalogService.getDataset, GetDatasetRequest(id: id))
                #expect(info.rowCount == UInt64(rows.count), "round \(r): the row count disagrees with the rows")
                if r != round { continue }
                let present = Set(keys)
                for b in 0..<Self.batchCount {
                    let found = (b * Self.batchSize..<(b + 1) * Self.batchSize).filter {
                        present.contains(Self.row(r, $0).globalKey)
                    }.count
                    if b <= lastAcked {
                        #expect(
                            found == Self.batchSize,
                            "round \(r): acknowledged batch \(b) lost \(Self.batchSize - found) rows")
                    } else {
                        #expect(
                            found == 0 || found == Self.batchSize,
                            "round \(r): batch \(b) is half stored (\(found) rows)")
                    }
                }
                // Resending the whole input stores each key exactly once.
                let acks = try await again.bidirectional(CatalogService.ingest) { writer, close, acks in
                    for b in 0..<Self.batchCount { try await writer.write(Self.batch(r, b, dataset: id)) }
                    close()
                    var n = 0
                    for try await _ in acks { n += 1 }
                    return n
                }
                #expect(acks == Self.batchCount)
                let final = try await allRows(again, id)
                #expect(final.count == Self.batchCount * Self.batchSize)
                #expect(Set(final.map(\.globalKey)).count == Self.batchCount * Self.batchSize)
            }
            again.close()
            #expect(await restarted.stop() == 0, "the server did not stop cleanly: \(tail(log))")
        }
        #expect(try DatabaseFile(directory + "/assay.sqlite").integrity() == "ok")
    }
}
