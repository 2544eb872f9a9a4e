#if canImport(Glibc)
    import Glibc
#endif
import AssayNativeModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

/// A real `assay serve` process running a real model (Tesseract), killed with SIGKILL in the
/// middle of a run and started again.
@Suite("Run durability", .serialized)
struct RunDurabilityTests {
    @Test func aKilledServerResumesTheRunAndPredictsEveryRowExactlyOnce() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory)
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "scans"))
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
        let texts = (0..<48).map { "\(words[$0 % 8]) \(words[($0 / 8) % 8]) record" }
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
        try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(120)) { updates in
            for try await r in updates where (r.progress?.done ?? 0) >= 8 { break }
        }
        await server.kill9()

        let restarted = try await ServerProcess.start(directory: directory)
        let again = try await restarted.client()
        let stopped = try await again.unary(RunService.get, GetRunRequest(id: run.id))
        #expect((stopped.progress?.done ?? 0) >= 8)
        let final = try await again.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(300)) { updates in
            var last: ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(final?.state == .completed)
        #expect(final?.progress?.done == 48 && final?.progress?.withPredictions == 48 && final?.progress?.failed == 0)
        var predicted: [RowPredictions] = []
        var cursor = ""
        repeat {
            let page = try await again.unary(RunService.listRows, ListRunRowsRequest(id: run.id, pageSize: 100, cursor: cursor))
            predicted += page.rows
            cursor = page.nextCursor
        } while !cursor.isEmpty
        #expect(predicted.count == 48)
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
        // Billing charged the run once: 48 images at Tesseract's $0.001, 10 model units (48 / 5
        // rounded up once), however many times its rows were worked on.
        var charges: [Charge] = []
        for _ in 0..<500 {
            charges = try await again.unary(BillingService.listCharges, ListChargesRequest()).charges.filter { $0.runId == run.id }
            if charges.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(charges.count == 2)
        let inference = charges.filter { $0.kind == .inference }
        #expect(inference.count == 1 && inference.first?.quantity == 48 && inference.first?.microdollars == 48_000)
        let units = charges.filter { $0.kind == .model }
        #expect(units.count == 1 && units.first?.quantity == 48 && units.first?.units == 10)
        again.close()
        await restarted.stop()
    }
}
