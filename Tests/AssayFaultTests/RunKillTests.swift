import AssayNativeModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of a server working on a Tesseract run, after a seeded random number of rows
/// plus a random delay; the restarted server resumes the run. Each round checks every row
/// was predicted exactly once (and read right), the run completed, and the ledger holds
/// exactly one inference fee and one model-units charge for it, of the whole run's size.
@Suite("Faults: kill -9 during a run", .serialized)
struct RunKillTests {
    static let rows = 48
    static let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]

    @Test func aRunKilledAtRandomPointsPredictsAndChargesEachRowOnce() async throws {
        var random = FaultPlan.generator("run-kill")
        let directory = makeTemporaryDirectory()
        let log = directory + ".log"
        defer {
            AssayProcess.killAll(under: directory)
            removeTree(directory)
            unlink(log)
        }
        for round in 0..<FaultPlan.rounds {
            let killAtDone = Int.random(in: 1...8, using: &random)
            let delayMicros = Int.random(in: 0..<5_000, using: &random)
            let saltIndex = Int.random(in: 0..<8, using: &random)
            // Words only: Tesseract reads a lone digit 0 as the letter o.
            let roundWords = "\(Self.words[round % 8]) \(Self.words[(round / 8) % 8])"
            // The watch's updates can reach a loaded client late, so the kill can land after the
            // run finished: that attempt proves nothing, and the round tries again with new images.
            var attempt = 0
            var texts: [String] = []
            var run = ModelRun()
            while true {
                // Distinct images in every attempt (and seed), so no row comes from the cache.
                let salt = Self.words[(saltIndex + attempt) % 8]
                texts = (0..<Self.rows).map { "\(Self.words[$0 % 8]) \(Self.words[$0 / 8]) \(salt) \(roundWords)" }
                run = try await startAndKill(
                    directory: directory, log: log, name: "\(round)-\(attempt)", texts: texts,
                    killAtDone: killAtDone, delayMicros: delayMicros)
                // What the killed server left: the run unfinished, so the rest is the restart's.
                let left = try DatabaseFile(directory + "/assay.sqlite").rows(
                    "SELECT state, rows_done, rows_total FROM model_runs WHERE id = '\(run.id)'")
                let atKill = try #require(left.first)
                print("round \(round) attempt \(attempt): kill at \(killAtDone) rows done + \(delayMicros) us: \(atKill)")
                #expect(Int(atKill[2]) == Self.rows)
                if atKill[0] != "completed" { break }
                attempt += 1
                try #require(attempt < 4, "every attempt's run finished before its kill: nothing was resumed")
            }
            // The predictions the killed server had stored: the restarted one must keep each of
            // them as it is (a finished row is never predicted again) and add only the rest.
            let labelsSQL = "SELECT data_row, id, created_at FROM labels WHERE model_run_id = '\(run.id)'"
            let storedAtKill = try DatabaseFile(directory + "/assay.sqlite").rows(labelsSQL)

            let restarted = try await AssayProcess.start(directory: directory, logFile: log)
            let again = try await restarted.client()
            let final = try await again.serverStreaming(
                RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(300)
            ) {
                updates in
                var last: ModelRun?
                for try await r in updates { last = r }
                return last
            }
            #expect(final?.state == .completed)
            #expect(final?.progress?.done == UInt64(Self.rows) && final?.progress?.failed == 0)
            #expect(final?.progress?.withPredictions == UInt64(Self.rows))
            var predicted: [RowPredictions] = []
            var cursor = ""
            repeat {
                let page = try await again.unary(
                    RunService.listRows, ListRunRowsRequest(id: run.id, pageSize: 100, cursor: cursor))
                predicted += page.rows
                cursor = page.nextCursor
            } while !cursor.isEmpty
            #expect(predicted.count == Self.rows)
            for row in predicted {
                #expect(row.predictions.count == 1, "\(row.globalKey) has \(row.predictions.count) predictions")
                let index = Int(row.globalKey.split(separator: "-").last ?? "") ?? -1
                if case .freeText(let text)? = row.predictions.first?.value?.value, texts.indices.contains(index) {
                    let read = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(
                        separator: " ")
                    #expect(read == texts[index], "row \(index)")
                } else {
                    Issue.record("\(row.globalKey) has no text")
                }
            }
            // Charged once for the whole run: Tesseract's $0.001 an image, 1 model unit per 5 rows.
            var charges: [Charge] = []
            for _ in 0..<3000 {
                charges = try await again.unary(BillingService.listCharges, ListChargesRequest()).charges.filter {
                    $0.runId == run.id
                }
                if charges.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let inference = charges.filter { $0.kind == .inference }
            let units = charges.filter { $0.kind == .model }
            #expect(charges.count == 2)
            #expect(inference.count == 1 && inference.first?.quantity == Int64(Self.rows))
            #expect(inference.first?.microdollars == Int64(Self.rows) * 1_000)
            #expect(units.count == 1 && units.first?.units == Int64((Self.rows + 4) / 5))
            again.close()
            #expect(await restarted.stop() == 0, "the server did not stop cleanly: \(tail(log))")
            let storedAtEnd = try DatabaseFile(directory + "/assay.sqlite").rows(labelsSQL)
            #expect(storedAtEnd.count == Self.rows)
            #expect(Set(storedAtEnd.map { $0[0] }).count == Self.rows, "a row has two predictions")
            let endByID = Dictionary(storedAtEnd.map { ($0[1], $0) }, uniquingKeysWith: { a, _ in a })
            for old in storedAtKill {
                #expect(endByID[old[1]] == old, "row \(old[0])'s prediction from before the kill was replaced")
            }
            print("round \(round): \(storedAtKill.count) rows predicted before the kill kept, \(Self.rows - storedAtKill.count) after")
            let ledger = try DatabaseFile(directory + "/assay.sqlite").integer(
                "SELECT count(*) FROM billing_ledger WHERE run_id = '\(run.id)'")
            #expect(ledger == 2, "the ledger holds \(ledger) entries for the run")
        }
        #expect(try DatabaseFile(directory + "/assay.sqlite").integrity() == "ok")
    }

    /// Starts a server, ingests the texts as images, starts a Tesseract run over them and
    /// `kill -9`s the server a little after the run reports `killAtDone` rows done.
    private func startAndKill(
        directory: String, log: String, name: String, texts: [String], killAtDone: Int, delayMicros: Int
    ) async throws -> ModelRun {
        let server = try await AssayProcess.start(directory: directory, logFile: log)
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "scans-\(name)"))
        var rows: [AssayWire.DataRow] = []
        for (i, text) in texts.enumerated() {
            rows.append(
                AssayWire.DataRow(globalKey: "scan-\(name)-\(i)", mediaType: .image, content: try renderTextPNG(text)))
        }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "ocr-\(name)", features: [AssayWire.Feature(name: "transcript", kind: .freeText)]))
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "tesseract-ocr", ontologyId: ontology.id,
                mapping: [ClassMapping(modelClass: "text", featureId: ontology.features[0].id)],
                rows: RowSelection(datasetId: dataset.id)))
        // Killed from inside the watch: leaving it first gives an idle machine time to finish
        // the 48 rows (a few milliseconds each) before the kill lands.
        do {
            try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(120)) {
                updates in
                for try await r in updates where (r.progress?.done ?? 0) >= UInt64(killAtDone) {
                    try await Task.sleep(for: .microseconds(delayMicros))
                    await server.kill9()
                    break
                }
            }
        } catch {
            // The watch may end with the server's death.
        }
        await server.kill9()  // when the watch failed before its kill
        client.close()
        return run
    }
}
