import AssayCore
import AssayLLM
import AssayModels
import AssayNativeModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

/// Real models through the whole run service: rows ingested, a run created, watched to the
/// end, its predictions read back.
@Suite("Runs with real models", .serialized)
struct RealModelRunTests {
    static let topics = ["sports", "politics", "food", "weather"]
    static let sentences = [
        ("The striker scored twice and the team won the cup final.", "sports"),
        ("Parliament passed the budget after a long debate between the parties.", "politics"),
        ("Slow-roast the lamb with garlic and rosemary, then rest it before carving.", "food"),
        ("Heavy snow and freezing winds are expected across the north tonight.", "weather"),
    ]

    /// A dataset of the sentences and an ontology with one radio feature over the topics.
    static func setUp(_ harness: ServerHarness) async throws -> (RPCClient, AssayWire.Dataset, AssayWire.Ontology) {
        let (client, _, _) = try await harness.organization("acme")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "news"))
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(
                IngestBatch(
                    datasetId: dataset.id,
                    rows: sentences.enumerated().map { AssayWire.DataRow(globalKey: "s\($0.offset)", mediaType: .text, text: $0.element.0) }))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "topics", features: [AssayWire.Feature(name: "topic", kind: .radio, options: topics.map { FeatureOption(value: $0) })]))
        return (client, dataset, ontology)
    }

    static func runToEnd(_ client: RPCClient, model: String, dataset: String, ontology: AssayWire.Ontology, modelClass: String, parameters: [String: AssayWire.ParameterValue] = [:]) async throws -> [RowPredictions] {
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: model, ontologyId: ontology.id, mapping: [ClassMapping(modelClass: modelClass, featureId: ontology.features[0].id)],
                parameters: parameters, rows: RowSelection(datasetId: dataset)))
        let final = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(300)) { updates in
            var last: AssayWire.ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(final?.state == .completed, "\(String(describing: final))")
        return try await client.unary(RunService.listRows, ListRunRowsRequest(id: run.id)).rows
    }

    func option(_ row: RowPredictions, _ ontology: AssayWire.Ontology) -> String? {
        guard case .radioOptionId(let id)? = row.predictions.first?.value?.value else { return nil }
        return ontology.features[0].options.first { $0.id == id }?.value
    }

    @Test func e5ZeroShotClassifiesThroughARun() async throws {
        let e5 = NativeModels.e5Files()
        let provider = try E5Provider(libraryPath: e5.library, modelPath: e5.model)
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [provider]), billing: RecordingBilling())
        let (client, dataset, ontology) = try await Self.setUp(harness)
        let rows = try await Self.runToEnd(client, model: "e5-zero-shot", dataset: dataset.id, ontology: ontology, modelClass: "topic")
        #expect(rows.count == 4)
        for (row, (_, topic)) in zip(rows, Self.sentences) {
            #expect(option(row, ontology) == topic, "\(row.globalKey): \(row)")
            #expect(row.predictions.first?.modelRunId.isEmpty == false)
        }
        await harness.stop()
    }

    @Test func smolLM2ClassifiesThroughARunWithAnOptionOfTheFeature() async throws {
        guard LocalChatModel.smolLM2.isInstalled() else {
            throw TestFailure("SmolLM2 is not installed in \(LocalChatModel.defaultCache): run `make models`")
        }
        let chat = LocalChatModel.smolLM2.provider()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [chat]), billing: RecordingBilling())
        let (client, dataset, ontology) = try await Self.setUp(harness)
        let rows = try await Self.runToEnd(
            client, model: LocalChatModel.smolLM2.card.id, dataset: dataset.id, ontology: ontology, modelClass: "topic",
            parameters: ["max_tokens": .init(value: .integer(16))])
        #expect(rows.count == 4)
        // A 135M model's choices are not reliably right; what the run guarantees is that every
        // answer is one of the feature's options, parsed and stored (or a row error naming it).
        for row in rows {
            if row.error.isEmpty {
                #expect(Self.topics.contains(option(row, ontology) ?? ""), "\(row)")
            } else {
                #expect(row.error.contains("option"), "\(row.error)")
            }
        }
        #expect(rows.contains { $0.error.isEmpty })
        await harness.stop()
        await chat.shutdown()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
