import AssayCore
import AssayModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

typealias WireRow = AssayWire.DataRow

/// An organisation with a dataset of scripted text rows and an ontology with a box feature
/// and a radio feature (options a, b).
struct Fixture {
    let client: RPCClient
    let key: String
    let organization: ObjectID
    let dataset: String
    let ontology: AssayWire.Ontology
    var boxFeature: String { ontology.features[0].id }
    var kindFeature: String { ontology.features[1].id }
    var mapping: [AssayWire.ClassMapping] {
        [AssayWire.ClassMapping(modelClass: "box", featureId: boxFeature), AssayWire.ClassMapping(modelClass: "kind", featureId: kindFeature)]
    }

    static func make(_ harness: ServerHarness, org: String = "acme", scripts: [String], role: Role = .admin) async throws -> Fixture {
        let (client, organization, key) = try await harness.organization(org, role: role)
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "rows"))
        let rows = scripts.enumerated().map { i, s in WireRow(globalKey: "\(org)-row-\(i)", mediaType: .text, text: "\(s) \(i)") }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "o",
                features: [
                    AssayWire.Feature(name: "thing", kind: .boundingBox),
                    AssayWire.Feature(name: "kind", kind: .radio, options: [FeatureOption(value: "a"), FeatureOption(value: "b")]),
                ]))
        return Fixture(client: client, key: key, organization: organization.id, dataset: dataset.id, ontology: ontology)
    }

    func create(parameters: [String: AssayWire.ParameterValue] = [:], requestID: String = "") async throws -> AssayWire.ModelRun {
        try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "scripted", ontologyId: ontology.id, mapping: mapping, parameters: parameters, rows: RowSelection(datasetId: dataset),
                requestId: requestID))
    }

    /// Watches the run until it ends; returns every state seen.
    func watch(_ id: String) async throws -> [AssayWire.ModelRun] {
        try await client.serverStreaming(RunService.watch, WatchRunRequest(id: id), timeout: .seconds(120)) { updates in
            var seen: [AssayWire.ModelRun] = []
            for try await run in updates { seen.append(run) }
            return seen
        }
    }

    func rows(_ id: String, failedOnly: Bool = false) async throws -> [RowPredictions] {
        var all: [RowPredictions] = []
        var cursor = ""
        repeat {
            let page = try await client.unary(RunService.listRows, ListRunRowsRequest(id: id, failedOnly: failedOnly, pageSize: 7, cursor: cursor))
            all += page.rows
            cursor = page.nextCursor
        } while !cursor.isEmpty
        return all
    }
}

func status(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let e as RPCError {
        return e
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

@Suite struct RunServiceTests {
    @Test func aRunPredictsEveryRowAndRecordsRowErrorsWithoutFailing() async throws {
        let model = ScriptedModel()
        let billing = RecordingBilling()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: billing)
        let scripts = (0..<30).map { i in ["box", "kind:a", "kind:B", "class:zebra", "kind:purple", "fail", "none"][i % 7] }
        let f = try await Fixture.make(harness, scripts: scripts)
        let run = try await f.create()
        #expect(run.state == .queued)
        #expect(run.prog.total == 30)
        #expect(run.parameters["threshold"]?.value == .number(0.5))  // defaults filled in
        let seen = try await f.watch(run.id)
        let last = try #require(seen.last)
        #expect(last.state == .completed)
        // Per 7 rows: box, a, B (case aside, an option), zebra (unmapped class), purple (no such option), fail, none.
        let failing = scripts.filter { ["class:zebra", "kind:purple", "fail"].contains($0) }.count
        #expect(last.prog.done == 30)
        #expect(last.prog.failed == UInt64(failing))
        #expect(last.prog.withPredictions == UInt64(scripts.filter { ["box", "kind:a", "kind:B"].contains($0) }.count))
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.prog.done <= $1.prog.done })

        let rows = try await f.rows(run.id)
        #expect(rows.count == 30)
        for (row, script) in zip(rows, scripts) {
            switch script {
            case "box":
                #expect(row.predictions.count == 1)
                #expect(row.predictions.first?.featureId == f.boxFeature)
                #expect(row.predictions.first?.confidencePpm == 750_000)
                #expect(row.predictions.first?.modelRunId == run.id)
            case "kind:a", "kind:B":
                let option = f.ontology.features[1].options[script == "kind:a" ? 0 : 1].id
                #expect(row.predictions.first?.value?.value == .radioOptionId(option))
            case "class:zebra": #expect(row.error.contains("zebra") && row.error.contains("does not map"))
            case "kind:purple": #expect(row.error.contains("purple") && row.error.contains("options: a, b"))
            case "fail": #expect(row.error == "scripted failure")
            default: #expect(row.predictions.isEmpty && row.error.isEmpty)
            }
        }
        #expect(try await f.rows(run.id, failedOnly: true).count == failing)
        let settled = billing.settled.withLock { $0 }
        #expect(settled.count == 1)
        #expect(settled.first?.rowsProcessed == 30)
        #expect(settled.first?.rowsWithPredictions == Int(last.prog.withPredictions))
        await harness.stop()
    }

    @Test func anIdenticalRequestReusesStoredPredictions() async throws {
        let model = ScriptedModel(batchSize: 3)
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: Array(repeating: "box", count: 12))
        let first = try await f.create()
        #expect(try await f.watch(first.id).last?.prog.cached == 0)
        let calls = model.rowsCalled.load(ordering: .relaxed)
        #expect(calls == 12)
        let second = try await f.create()
        let done = try #require(try await f.watch(second.id).last)
        #expect(done.state == .completed)
        #expect(done.prog.cached == 12)
        #expect(done.prog.withPredictions == 12)
        #expect(done.prog.images == 0)  // nothing was read again
        #expect(model.rowsCalled.load(ordering: .relaxed) == calls)
        // Other parameters are another request.
        let third = try await f.create(parameters: ["threshold": AssayWire.ParameterValue(value: .number(0.9))])
        #expect(try await f.watch(third.id).last?.prog.cached == 0)
        #expect(model.rowsCalled.load(ordering: .relaxed) == calls + 12)
        await harness.stop()
    }

    @Test func badRequestsNameWhatIsWrong() async throws {
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [ScriptedModel()]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: ["box"])
        func create(_ r: CreateRunRequest) async -> RPCError? { await status { _ = try await f.client.unary(RunService.create, r) } }
        let rows = RowSelection(datasetId: f.dataset)
        var e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, parameters: ["treshold": .init(value: .number(1))], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("treshold") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, parameters: ["threshold": .init(value: .number(2))], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("threshold") == true && e?.message.contains("maximum") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, parameters: ["mode": .init(value: .string("turbo"))], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("turbo") == true)
        e = await create(CreateRunRequest(modelId: "nope", ontologyId: f.ontology.id, mapping: f.mapping, rows: rows))
        #expect(e?.code == .notFound && e?.message.contains("scripted") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: [.init(modelClass: "box", featureId: "missing")], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("missing") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: [.init(modelClass: "wolf", featureId: f.boxFeature)], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("wolf") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: [.init(modelClass: "box", featureId: f.boxFeature), .init(modelClass: "box", featureId: f.kindFeature)], rows: rows))
        #expect(e?.code == .invalidArgument && e?.message.contains("twice") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: [.init(modelClass: "box", featureId: f.kindFeature)], rows: rows))
        #expect(e == nil)  // a box model class may fill a radio feature only if it answers options; the card allows both kinds
        _ = try await f.client.unary(RunService.list, ListRunsRequest())
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping))
        #expect(e?.code == .invalidArgument && e?.message.contains("exactly one") == true)
        e = await create(CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, rows: RowSelection(rowIds: ["dr_forged"])))
        #expect(e?.code == .notFound)
        #expect(try await f.client.unary(RunService.list, ListRunsRequest()).runs.count == 1)
        await harness.stop()
    }

    @Test func billingRefusalsReachTheClientWithTheirReasonAndStoreNothing() async throws {
        let billing = RecordingBilling()
        billing.refusal.withLock { $0 = BillingRefusal(kind: .failedPrecondition, reason: "accept_terms", message: "accept the terms first") }
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [ScriptedModel()]), billing: billing)
        let f = try await Fixture.make(harness, scripts: ["box", "box"])
        let e = await status { _ = try await f.create() }
        #expect(e?.code == .failedPrecondition)
        #expect(e?.message.hasPrefix("accept_terms:") == true)
        #expect(try await f.client.unary(RunService.list, ListRunsRequest()).runs.isEmpty)
        billing.refusal.withLock { $0 = nil }
        let run = try await f.create()
        _ = try await f.watch(run.id)
        let admitted = try #require(billing.admitted.withLock { $0.first })
        #expect(admitted.rowCount == 2 && admitted.imageCount == 0 && admitted.runID?.rawValue == run.id)
        let estimate = try await f.client.unary(RunService.estimate, EstimateRunRequest(modelId: "scripted", rows: RowSelection(datasetId: f.dataset)))
        #expect(estimate.rows == 2 && estimate.modelUnits == 1)
        await harness.stop()
    }

    @Test func aRepeatedCreateWithTheSameRequestIDReturnsTheSameRun() async throws {
        let billing = RecordingBilling()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [ScriptedModel()]), billing: billing)
        let f = try await Fixture.make(harness, scripts: ["box", "box", "box"])
        let a = try await f.create(requestID: "req-1")
        let b = try await f.create(requestID: "req-1")
        #expect(a.id == b.id)
        _ = try await f.watch(a.id)
        #expect(try await f.client.unary(RunService.list, ListRunsRequest()).runs.count == 1)
        await harness.stop()
    }

    @Test func cancelStopsWorkPromptlyAndSettlesWhatWasProcessed() async throws {
        let model = ScriptedModel(batchSize: 1, concurrency: 1, delay: .milliseconds(100))
        let billing = RecordingBilling()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: billing)
        let f = try await Fixture.make(harness, scripts: Array(repeating: "box", count: 200))
        let run = try await f.create()
        let watched = try await f.client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(120)) { updates in
            var seen: [AssayWire.ModelRun] = []
            for try await r in updates {
                seen.append(r)
                if r.prog.done >= 3 && r.state == .running {
                    let cancelled = try await f.client.unary(RunService.cancel, CancelRunRequest(id: run.id))
                    #expect(cancelled.state == .cancelled)
                }
            }
            return seen
        }
        #expect(watched.last?.state == .cancelled)
        // Settled once, with no more rows than were done when it ended.
        var settled: [RunUsage] = []
        for _ in 0..<3000 where settled.isEmpty {
            settled = billing.settled.withLock { $0 }
            if settled.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let final = try await f.client.unary(RunService.get, GetRunRequest(id: run.id))
        #expect(final.state == .cancelled)
        #expect(final.prog.done < 50)
        #expect(settled.count == 1)
        #expect(settled.first?.rowsProcessed == Int(final.prog.done))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await f.client.unary(RunService.get, GetRunRequest(id: run.id)).prog.done == final.prog.done)
        #expect(await status { _ = try await f.client.unary(RunService.cancel, CancelRunRequest(id: run.id)) } == nil)  // idempotent
        await harness.stop()
    }

    @Test func aRestartedServerFinishesTheRunPredictingEachRowOnce() async throws {
        let directory = makeTemporaryDirectory()
        let billing = RecordingBilling()
        let first = try await ServerHarness.start(
            models: ModelRegistry(providers: [ScriptedModel(batchSize: 2, concurrency: 2, delay: .milliseconds(40))]), billing: billing,
            directory: directory)
        let f = try await Fixture.make(first, scripts: Array(repeating: "box", count: 80))
        let run = try await f.create()
        try await f.client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(60)) { updates in
            for try await r in updates where r.prog.done >= 10 { break }
        }
        await first.stop(keepFiles: true)
        // What the stopped server recorded, read from the file.
        let store = try await SQLiteStorage.open(path: directory + "/assay.sqlite")
        let atStop = try await store.run(organization: f.organization, id: ObjectID(rawValue: run.id))
        await store.close()
        #expect(atStop.state == .running)
        #expect(atStop.progress.done >= 10 && atStop.progress.done < 80)

        let model = ScriptedModel()
        let second = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: billing, directory: directory)
        let g = Fixture(client: try await second.client(key: f.key), key: f.key, organization: f.organization, dataset: f.dataset, ontology: f.ontology)
        let done = try #require(try await g.watch(run.id).last)
        #expect(done.state == .completed)
        #expect(done.prog.done == 80 && done.prog.withPredictions == 80 && done.prog.failed == 0)
        // The restarted server asked the model only for the rows not yet recorded.
        #expect(model.rowsCalled.load(ordering: .relaxed) == 80 - atStop.progress.done)
        let rows = try await g.rows(run.id)
        #expect(rows.count == 80)
        #expect(rows.allSatisfy { $0.predictions.count == 1 })
        let settled = billing.settled.withLock { $0 }
        #expect(settled.count == 1 && settled.first?.rowsProcessed == 80)
        await second.stop()
    }

    @Test func previewPredictsWithoutStoringARun() async throws {
        let model = ScriptedModel()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: ["box", "kind:b", "kind:zz", "fail", "none", "box", "box"])
        let keys = (0..<5).map { "acme-row-\($0)" }
        let preview = try await f.client.unary(
            RunService.preview, PreviewRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, rows: RowSelection(globalKeys: keys)))
        #expect(preview.rows.map(\.globalKey) == keys)
        #expect(preview.rows[0].predictions.first?.featureId == f.boxFeature)
        #expect(preview.rows[1].predictions.first?.value?.value == .radioOptionId(f.ontology.features[1].options[1].id))
        #expect(preview.rows[2].error.contains("zz"))
        #expect(preview.rows[3].error == "scripted failure")
        #expect(preview.rows[4].predictions.isEmpty && preview.rows[4].error.isEmpty)
        #expect(try await f.client.unary(RunService.list, ListRunsRequest()).runs.isEmpty)
        let tooMany = await status {
            _ = try await f.client.unary(RunService.preview, PreviewRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, rows: RowSelection(datasetId: f.dataset)))
        }
        #expect(tooMany?.code == .invalidArgument && tooMany?.message.contains("5") == true)
        await harness.stop()
    }

    @Test func exportsAreNDJSONAndCOCO() async throws {
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [ScriptedModel()]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: ["box", "kind:a", "fail", "box"])
        let run = try await f.create()
        _ = try await f.watch(run.id)
        func export(_ format: ExportFormat) async throws -> String {
            try await f.client.serverStreaming(RunService.export, ExportRunRequest(id: run.id, format: format)) { chunks in
                var bytes: [UInt8] = []
                for try await c in chunks { bytes += c.data }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        let lines = try await export(.ndjson).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(lines.count == 4)
        #expect(lines[0]["global_key"] == .string("acme-row-0"))
        #expect(lines[0]["predictions"]?.arrayItems?.first?["bounding_box"]?["width"] == .number("30"))
        #expect(lines[0]["predictions"]?.arrayItems?.first?["confidence"] == .number("0.75"))
        #expect(lines[1]["predictions"]?.arrayItems?.first?["radio"] == .string(f.ontology.features[1].options[0].id))
        #expect(lines[2]["state"] == .string("failed") && lines[2]["error"] == .string("scripted failure"))
        let coco = try JSONValue.parse(try await export(.coco))
        #expect(coco["images"]?.arrayItems?.count == 4)
        #expect(coco["categories"]?.arrayItems?.first?["name"] == .string("thing"))
        let annotations = try #require(coco["annotations"]?.arrayItems)
        #expect(annotations.count == 2)
        #expect(annotations.first?["bbox"] == .array([.number("1"), .number("2"), .number("30"), .number("40")]))
        #expect(annotations.first?["score"] == .number("0.75"))
        #expect(annotations.map { $0["image_id"] } == [.number("1"), .number("4")])
        await harness.stop()
    }

    @Test func anotherOrganisationCannotSeeOrTouchARun() async throws {
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [ScriptedModel()]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: ["box"])
        let run = try await f.create()
        _ = try await f.watch(run.id)
        let other = try await Fixture.make(harness, org: "rival", scripts: ["box"])
        #expect(await status { _ = try await other.client.unary(RunService.get, GetRunRequest(id: run.id)) }?.code == .notFound)
        #expect(await status { _ = try await other.client.unary(RunService.cancel, CancelRunRequest(id: run.id)) }?.code == .notFound)
        #expect(await status { _ = try await other.rows(run.id) }?.code == .notFound)
        #expect(await status { _ = try await other.watch(run.id) }?.code == .notFound)
        #expect(try await other.client.unary(RunService.list, ListRunsRequest()).runs.isEmpty)
        // Nor run a model over the first organisation's rows.
        let foreign = await status {
            _ = try await other.client.unary(
                RunService.create,
                CreateRunRequest(modelId: "scripted", ontologyId: other.ontology.id, mapping: other.mapping, rows: RowSelection(datasetId: f.dataset)))
        }
        #expect(foreign?.code == .notFound)
        let reviewer = try await harness.addKey(to: f.organization, role: .reviewer)
        let reviewerClient = try await harness.client(key: reviewer)
        let denied = await status {
            _ = try await reviewerClient.unary(
                RunService.create, CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, mapping: f.mapping, rows: RowSelection(datasetId: f.dataset)))
        }
        #expect(denied?.code == .permissionDenied)
        await harness.stop()
    }

    @Test func anUnavailableModelIsRetriedAndThenFailsItsRowsNotTheServer() async throws {
        let model = ScriptedModel(batchSize: 10, concurrency: 1)
        model.outages.store(2, ordering: .relaxed)
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [model]), billing: RecordingBilling())
        let f = try await Fixture.make(harness, scripts: Array(repeating: "box", count: 5))
        let run = try await f.create()
        let done = try #require(try await f.watch(run.id).last)
        #expect(done.state == .completed && done.prog.withPredictions == 5)
        #expect(model.calls.load(ordering: .relaxed) == 3)
        await harness.stop()
    }
}

extension JSONValue {
    var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

extension AssayWire.ModelRun {
    var prog: AssayWire.RunProgress { progress ?? AssayWire.RunProgress() }
}
