#if canImport(Glibc)
    import Glibc
#endif
import AssayNativeModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// A real `assay serve` process running a real model (Tesseract), killed with SIGKILL in the
/// middle of a run and started again. The run is long (96 distinct images, a few rows a
/// worker per 50 ms or so) and the kill early (4 rows done), so that even on a loaded 2-core
/// machine most rows are left to the restarted server; the test checks that they were.
@Suite("Run durability", .serialized)
struct RunDurabilityTests {
    static let rows = 96

    @Test func aKilledServerResumesTheRunAndPredictsEveryRowExactlyOnce() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory)
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "scans"))
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
        // Every image distinct, so no row is answered from the prediction cache.
        let texts = (0..<Self.rows).map { "\(words[$0 % 8]) \(words[($0 / 8) % 8]) \(words[$0 / 64]) record" }
        var rows: [AssayWire.DataRow] = []
        for (i, text) in texts.enumerated() {
            rows.append(AssayWire.DataRow(globalKey: "scan-\(i)", mediaType: .image, content: try renderTextPNG(text)))
        }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await client.unary(
            CatalogService.createOntology, CreateOntologyRequest(name: "ocr", features: [AssayWire.Feature(name: "transcript", kind: .freeText)]))
        let feature = ontology.features[0].id
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "tesseract-ocr", ontologyId: ontology.id, mapping: [ClassMapping(modelClass: "text", featureId: feature)],
                rows: RowSelection(datasetId: dataset.id)))
        // Killed from inside the watch, the moment it shows 4 rows done: leaving the watch first
        // would wait for the stream to close, and an idle machine finishes the run meanwhile.
        let killed = Probe(false)
        do {
            try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(120)) { updates in
                for try await r in updates where (r.progress?.done ?? 0) >= 4 {
                    await server.kill9()
                    killed.update { $0 = true }
                    break
                }
            }
        } catch {
            // The stream may end with the server's death; what matters is that it was killed.
        }
        #expect(killed.current)

        // What the killed server left, read from its database before anything resumes: some
        // rows done and recorded, the run unfinished, so the rest is the restart's to do.
        let left = try await SQLiteStorage.open(path: directory + "/assay.sqlite")
        let unfinished = try await left.unfinishedRuns().first { $0.id.rawValue == run.id }
        await left.close()
        let atKill = try #require(unfinished, "the run finished before the kill: the test proves nothing about resuming")
        #expect(!atKill.state.isTerminal)
        #expect(atKill.progress.done >= 4)
        #expect(atKill.progress.done < atKill.progress.total, "done \(atKill.progress.done) of \(atKill.progress.total) at the kill")
        print("run durability: \(atKill.progress.done) of \(atKill.progress.total) rows done at the kill")
        #expect(atKill.progress.total == Self.rows)

        let restarted = try await ServerProcess.start(directory: directory)
        let again = try await restarted.client()
        let stopped = try await again.unary(RunService.get, GetRunRequest(id: run.id))
        #expect((stopped.progress?.done ?? 0) >= atKill.progress.done)
        let final = try await again.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(300)) { updates in
            var last: ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(final?.state == .completed)
        #expect(final?.progress?.done == 96 && final?.progress?.withPredictions == 96 && final?.progress?.failed == 0)
        var predicted: [RowPredictions] = []
        var cursor = ""
        repeat {
            let page = try await again.unary(RunService.listRows, ListRunRowsRequest(id: run.id, pageSize: 100, cursor: cursor))
            predicted += page.rows
            cursor = page.nextCursor
        } while !cursor.isEmpty
        #expect(predicted.count == Self.rows)
        for row in predicted {
            // Exactly one prediction per row, however often the row was worked on.
            #expect(row.predictions.count == 1)
            let index = Int(row.globalKey.dropFirst("scan-".count)) ?? -1
            if case .freeText(let text)? = row.predictions.first?.value?.value {
                let read = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
                #expect(read == texts[index], "row \(index)")
            } else {
                Issue.record("row \(index) has no text")
            }
        }
        // Billing charged the run once: 96 images at Tesseract's $0.001, 20 model units (96 / 5
        // rounded up once), however many times its rows were worked on.
        var charges: [Charge] = []
        for _ in 0..<3000 {
            charges = try await again.unary(BillingService.listCharges, ListChargesRequest()).charges.filter { $0.runId == run.id }
            if charges.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(charges.count == 2)
        let inference = charges.filter { $0.kind == .inference }
        #expect(inference.count == 1 && inference.first?.quantity == 96 && inference.first?.microdollars == 96_000)
        let units = charges.filter { $0.kind == .model }
        #expect(units.count == 1 && units.first?.quantity == 96 && units.first?.units == 20)
        again.close()
        await restarted.stop()
    }
}
