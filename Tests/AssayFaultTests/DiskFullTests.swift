import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The data folder on a small tmpfs, filled by an ingest stream of seeded random rows until
/// the disk is full: the client gets RESOURCE_EXHAUSTED saying so, reads go on working, the
/// same server stores again once the file system is grown, and after a `kill -9` and a
/// restart every acknowledged batch is there and the file passes `PRAGMA integrity_check`.
@Suite(
    "Faults: a full disk", .serialized,
    .enabled(
        if: StagingProbe.tmpfs.enabled,
        "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): disk-full faults skipped (under CI=true they fail)"
    ))
struct DiskFullTests {
    static func batch(_ round: Int, _ b: Int, rows: Int, bytes: Int, seed: UInt64, dataset: String) -> IngestBatch {
        var random = SplitMix64(seed: seed &+ UInt64(round) << 32 &+ UInt64(b))
        return IngestBatch(
            datasetId: b == 0 ? dataset : "",
            rows: (0..<rows).map { i in
                AssayWire.DataRow(
                    globalKey: "r\(round)-b\(b)-\(i)", mediaType: .image,
                    content: (0..<bytes).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            })
    }

    @Test func aFullDiskRefusesWritesClearlyAndLosesNothingAcknowledged() async throws {
        guard StagingProbe.tmpfs.check() else { return }
        var random = FaultPlan.generator("disk-full")
        for round in 0..<FaultPlan.rounds {
            let rows = Int.random(in: 20...80, using: &random)
            let bytes = Int.random(in: 1_000...6_000, using: &random)
            let seed = random.next()
            let base = makeTemporaryDirectory()
            let data = base + "/data"
            let log = base + "/server.log"
            _ = mkdir(data, 0o700)
            let mounted = await command(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data])
            try #require(mounted.status == 0, "mount -t tmpfs failed: \(mounted.output)")
            defer {
                AssayProcess.killAll(under: base)
                _ = blockingCommand(["umount", "-l", data])
                _ = blockingCommand(["rm", "-rf", base])
            }
            let server = try await AssayProcess.start(directory: data, logFile: log)
            let client = try await server.client()
            let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "fill")).id
            let acked = Probe(-1)
            let status = await failure {
                try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await ack in acks {
                                #expect(ack.errors.isEmpty && ack.created == UInt32(rows))
                                acked.update { $0 = Int(ack.batch) }
                            }
                        }
                        do {
                            // Far more than 8 MB: the stream must end with the disk full.
                            for b in 0..<(64 << 20) / (rows * bytes) {
                                try await writer.write(
                                    Self.batch(round, b, rows: rows, bytes: bytes, seed: seed, dataset: dataset))
                            }
                            close()
                        } catch {
                            // The server ended the call: its status comes through the acks.
                        }
                        try await group.waitForAll()
                    }
                }
            }
            let lastAcked = acked.current
            print(
                "round \(round): \(rows) rows of \(bytes) B a batch; \(lastAcked + 1) batches acknowledged; "
                    + "then \(status.map { "\($0)" } ?? "no error")"
            )
            #expect(status?.code == .resourceExhausted, "\(status.map { "\($0)" } ?? "no error"): \(tail(log))")
            #expect(status?.message.contains("disk is full") == true)
            #expect(lastAcked >= 1, "the disk filled before two batches: the test proves little")

            // Reads still work on the full disk, and show exactly the acknowledged batches.
            let info = try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset))
            #expect(info.rowCount == UInt64((lastAcked + 1) * rows))
            // Once the file system is larger, the same server stores again.
            let grown = await command(["mount", "-o", "remount,size=64m", data])
            try #require(grown.status == 0, "remount failed: \(grown.output)")
            var extra = Self.batch(round, 100_000, rows: rows, bytes: bytes, seed: seed, dataset: dataset)
            extra.datasetId = dataset
            let after = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                try await writer.write(extra)
                close()
                var created = 0
                for try await ack in acks { created += Int(ack.created) }
                return created
            }
            #expect(after == rows)
            client.close()
            await server.kill9()

            let restarted = try await AssayProcess.start(directory: data, logFile: log)
            let again = try await restarted.client()
            let present = Set(try await allRows(again, dataset).map(\.globalKey))
            for b in 0...lastAcked {
                let missing = (0..<rows).filter { !present.contains("r\(round)-b\(b)-\($0)") }.count
                #expect(missing == 0, "acknowledged batch \(b) lost \(missing) rows")
            }
            #expect(extra.rows.allSatisfy { present.contains($0.globalKey) })
            #expect(present.count == (lastAcked + 2) * rows)
            again.close()
            #expect(await restarted.stop() == 0, "the server did not stop cleanly: \(tail(log))")
            #expect(try DatabaseFile(data + "/assay.sqlite").integrity() == "ok")
        }
    }
}
