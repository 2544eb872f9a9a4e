import AssayCore
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Synchronization
import Testing

typealias WireRow = AssayWire.DataRow

/// A clock tests move by hand (microseconds).
final class TestClock: Sendable {
    let now = Atomic<Int64>(1_800_000_000_000_000)
    func advance(seconds: Int64) { now.add(seconds * 1_000_000, ordering: .relaxed) }
    var read: @Sendable () -> Timestamp { { self.now.load(ordering: .relaxed) } }
}

/// An organisation with a dataset of text rows and an ontology with a box feature and a
/// radio feature (options a, b); runs are stored with scripted predictions directly.
struct ReviewFixture {
    let harness: ServerHarness
    let client: RPCClient
    let organization: ObjectID
    let dataset: String
    let ontology: AssayWire.Ontology
    let rows: [ObjectID]
    var boxFeature: String { ontology.features[0].id }
    var kindFeature: String { ontology.features[1].id }
    var optionA: String { ontology.features[1].options[0].id }
    var optionB: String { ontology.features[1].options[1].id }

    static func make(_ harness: ServerHarness, org: String = "acme", rows count: Int) async throws -> ReviewFixture {
        let (client, organization, _) = try await harness.organization(org)
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "rows"))
        let rows = (0..<count).map { i in WireRow(globalKey: "\(org)-row-\(i)", mediaType: .text, text: "row \(i)") }
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
        let page = try await harness.storage.rows(
            organization: organization.id, dataset: ObjectID(rawValue: dataset.id), metadataFilter: [:], after: nil, limit: 1000)
        return ReviewFixture(
            harness: harness, client: client, organization: organization.id, dataset: dataset.id, ontology: ontology,
            rows: page.items.map(\.id))
    }

    /// A scripted prediction of one row.
    enum Prediction {
        case kind(String, confidence: Int)
        case box(Double, Double, Double, Double, confidence: Int)
    }

    /// Stores a completed run over every row with these predictions per row index.
    func run(_ predictions: (Int) -> [Prediction]) async throws -> ObjectID {
        let store = harness.storage
        let run = AssayCore.ModelRun(
            id: .random("run"), organizationID: organization, name: "scripted", modelID: "scripted", modelVersion: "1",
            ontologyID: ObjectID(rawValue: ontology.id), mapping: [], parameters: [:], datasetIDs: [ObjectID(rawValue: dataset)],
            state: .completed, createdAt: 1)
        _ = try await store.createRun(run, rows: rows, requestID: nil)
        var labels: [AssayCore.Label] = []
        for (i, row) in rows.enumerated() {
            for p in predictions(i) {
                let (feature, value, confidence): (String, AssayCore.LabelValue, Int) =
                    switch p {
                    case .kind(let option, let c): (kindFeature, .radio(optionID: option), c)
                    case .box(let l, let t, let w, let h, let c): (boxFeature, .boundingBox(left: l, top: t, width: w, height: h), c)
                    }
                labels.append(
                    AssayCore.Label(
                        id: .random("lbl"), dataRowID: row, ontologyID: ObjectID(rawValue: ontology.id), featureID: feature, value: value,
                        modelRunID: run.id, confidencePPM: confidence, createdAt: 2))
            }
        }
        try await store.insertLabels(organization: organization, labels: labels)
        return run.id
    }

    func project(reviewers: UInt32 = 1, consensus: ReviewConsensusRule = .majority, tieBreaker: String = "") async throws -> AssayWire.ReviewProject {
        try await client.unary(
            ReviewService.createProject,
            CreateReviewProjectRequest(
                name: "check", ontologyId: ontology.id, reviewersPerRow: reviewers, instructions: "check the kind", consensus: consensus,
                tieBreakerKeyId: tieBreaker))
    }

    /// The row's ground truth as (feature, value) pairs, sorted for comparison.
    func groundTruth(_ row: ObjectID) async throws -> [String] {
        let labels = try await harness.storage.labels(organization: organization, rows: [row])[row] ?? []
        return labels.filter { $0.modelRunID == nil }.map { "\($0.featureID)=\($0.value)" }.sorted()
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
