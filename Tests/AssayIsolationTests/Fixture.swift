import AssayCore
import AssayModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Classifies every text row as option "a" of its "kind" class.
final class KindClassifier: ModelProvider {
    let cards = [
        AssayCore.ModelCard(
            id: "iso-classifier", name: "Isolation classifier", version: "1", taskKinds: [.classification],
            mediaTypes: [.text],
            outputKinds: [.radio], classes: ["kind"], price: Price(unit: .perRow, microdollars: 10), provider: "test")
    ]
    let batchSize = 8
    let concurrency = 1

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        request.rows.map { _ in
            .success([RawPrediction(modelClass: "kind", value: .options(["a"]), confidencePPM: 900_000)], ModelUsage())
        }
    }
}

/// Writes "<style> answer to: <prompt>", so the responses carry the prompts' text.
final class PromptWriter: ModelProvider {
    let cards = [
        AssayCore.ModelCard(
            id: "iso-writer", name: "Isolation writer", version: "1", taskKinds: [.generation],
            mediaTypes: [.text, .conversation],
            outputKinds: [.freeText, .radio],
            parameters: [ParameterSpec(name: "style", kind: .string, defaultValue: .string("plain"))], provider: "test")
    ]
    let batchSize = 8
    let concurrency = 1

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard case .string(let style)? = request.parameters["style"] else {
            throw ModelError(.invalidRequest, "no style")
        }
        return request.rows.map { row in
            .success(
                [
                    RawPrediction(
                        modelClass: request.targets[0].modelClass, value: .text("\(style) answer to: \(row.text)"))
                ], ModelUsage())
        }
    }
}

/// The kinds of object an organisation owns, as request fields name them.
enum Kind: String, CaseIterable, Sendable {
    case dataset, row, globalKey, ontology, feature, run, reviewProject, preferenceProject, task, preLabel, estimate,
        key, organization
}

/// Organisation A, built through the real services: a dataset of text rows with ground truth,
/// an ontology, a completed model run, a review project with rows sent and a task leased, a
/// generated preference project, estimates and a second key. Every name and text carries
/// `marker`, so any byte of A's data that reaches another caller is recognisable.
struct OrganizationA {
    let client: RPCClient
    let organization: ObjectID
    let marker: String
    var ids: [Kind: [String]] = [:]
    /// Strings that must never reach another organisation: the marker, every id, the keys.
    var secrets: [String] = []
    let dataset: String
    let run: String
    let key: String

    func first(_ kind: Kind) -> String? { ids[kind]?.first }

    static func make(_ harness: ServerHarness) async throws -> OrganizationA {
        var hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        hex = String(repeating: "0", count: 16 - hex.count) + hex
        let marker = "secret\(hex)"
        let (client, org, adminKey) = try await harness.organization("org \(marker)")
        // Runs and reviews allowed, as an administrator enables them for an enterprise account.
        var account = try await harness.storage.billingAccount(organization: org.id)
        account.plan = .enterprise
        account.addonEnabled = true
        try await harness.storage.saveBillingAccount(account)

        let dataset = try await client.unary(
            CatalogService.createDataset, CreateDatasetRequest(name: "photos \(marker)", description: "about \(marker)")
        )
        let rows = (0..<3).map { i in
            AssayWire.DataRow(
                globalKey: "\(marker)-gk-\(i)", mediaType: .text, text: "\(marker) prompt \(i)",
                metadata: ["note": marker])
        }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks where !ack.errors.isEmpty { throw TestFailure("ingest: \(ack.errors)") }
        }
        let stored = try await client.unary(CatalogService.listDataRows, ListDataRowsRequest(datasetId: dataset.id))
            .rows
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "ontology \(marker)",
                features: [
                    AssayWire.Feature(
                        name: "kind \(marker)", kind: .radio,
                        options: [FeatureOption(value: "a"), FeatureOption(value: "b")])
                ]))
        let kind = ontology.features[0]
        try await client.bidirectional(CatalogService.importLabels) { writer, close, acks in
            try await writer.write(
                LabelBatch(
                    ontologyId: ontology.id,
                    labels: rows.map { r in
                        AssayWire.Label(
                            globalKey: r.globalKey, featureId: kind.id,
                            value: LabelValue(value: .radioOptionId(kind.options[0].id)))
                    }))
            close()
            for try await _ in acks {}
        }

        let estimate = try await client.unary(
            RunService.estimate,
            EstimateRunRequest(modelId: "iso-classifier", rows: RowSelection(datasetId: dataset.id)))
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(
                name: "run \(marker)", modelId: "iso-classifier", ontologyId: ontology.id,
                mapping: [ClassMapping(modelClass: "kind", featureId: kind.id)],
                rows: RowSelection(datasetId: dataset.id),
                estimateId: estimate.id))
        _ = try await waitCompleted(client, run.id)
        let billingEstimate = try await client.unary(
            BillingService.estimate, EstimateRequest(modelId: "iso-classifier", datasetId: dataset.id))

        let review = try await client.unary(
            ReviewService.createProject,
            CreateReviewProjectRequest(
                name: "review \(marker)", ontologyId: ontology.id, instructions: "look at \(marker)"))
        _ = try await client.unary(
            ReviewService.send, SendToReviewRequest(projectId: review.id, runId: run.id, conflict: .keepBoth))
        let task = try #require(
            try await client.unary(ReviewService.next, NextReviewTaskRequest(projectId: review.id)).task)

        let preference = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "preference \(marker)", prompts: RowSelection(datasetId: dataset.id),
                candidates: ["plain", "fancy"].map { style in
                    AssayWire.PreferenceCandidate(
                        name: style, modelId: "iso-writer", parameters: ["style": ParameterValue(value: .string(style))]
                    )
                }))
        let generated = try await client.unary(
            PreferenceService.generate, GeneratePreferenceRequest(projectId: preference.id))
        for candidate in generated.candidates { _ = try await waitCompleted(client, candidate.runId) }

        let created = try await client.unary(KeysService.create, CreateKeyRequest(name: "bot \(marker)", role: .member))
        let keys = try await client.unary(KeysService.list, ListKeysRequest()).keys

        var a = OrganizationA(
            client: client, organization: org.id, marker: marker, dataset: dataset.id, run: run.id, key: adminKey)
        a.ids[.dataset] = [dataset.id] + (generated.judgeDatasetId.isEmpty ? [] : [generated.judgeDatasetId])
        a.ids[.row] = stored.map(\.id)
        a.ids[.globalKey] = rows.map(\.globalKey)
        a.ids[.ontology] = [ontology.id] + (generated.ontologyId.isEmpty ? [] : [generated.ontologyId])
        a.ids[.feature] = [kind.id] + kind.options.map(\.id)
        a.ids[.run] = [run.id] + generated.candidates.map(\.runId)
        a.ids[.reviewProject] = [review.id]
        a.ids[.preferenceProject] = [preference.id]
        a.ids[.task] = [task.id]
        a.ids[.preLabel] = task.preLabels.map(\.id)
        a.ids[.estimate] = [estimate.id, billingEstimate.id].filter { !$0.isEmpty }
        a.ids[.key] = keys.map(\.id)
        a.ids[.organization] = [org.id.rawValue]
        a.secrets =
            [marker, adminKey, created.key]
            + a.ids.filter { $0.key != .globalKey && $0.key != .feature }.values.flatMap { $0 }
            // Feature and option ids may be short or generated from names: long ones only.
            + (a.ids[.feature] ?? []).filter { $0.count >= 12 }
        return a
    }
}

/// Waits for a run to finish; fails unless it completed.
func waitCompleted(_ client: RPCClient, _ id: String) async throws -> AssayWire.ModelRun {
    let last = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: id), timeout: .seconds(120)) {
        updates in
        var last: AssayWire.ModelRun?
        for try await run in updates { last = run }
        return last
    }
    guard let last, last.state == .completed else {
        throw TestFailure("run \(id) ended \(String(describing: last?.state)): \(last?.error ?? "")")
    }
    return last
}
