#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayMetrics
import AssayModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Dispatch
import Synchronization
import Testing

/// A model whose answers the test writes down: per model id, per row text, the raw predictions.
final class TableModel: ModelProvider {
    let cards: [AssayCore.ModelCard]
    let batchSize = 5
    let concurrency = 1
    let table: [String: [String: [RawPrediction]]]

    init(_ table: [String: [String: [RawPrediction]]]) {
        self.table = table
        cards = table.keys.sorted().map { id in
            AssayCore.ModelCard(
                id: id, name: id, version: "1", taskKinds: [.detection, .classification], mediaTypes: [.text],
                outputKinds: [.boundingBox, .radio, .checklist, .freeText, .textSpan], classes: ["car", "person", "kind", "tags", "caption", "name", "place"],
                parameters: [], price: Price(unit: .free, microdollars: 0), provider: "test")
        }
    }

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        request.rows.map { .success(table[request.card.id]?[$0.text] ?? [], ModelUsage()) }
    }
}

/// Billing that admits every run.
final class AdmitAll: RunBilling {
    func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> AssayCore.RunEstimate {
        AssayCore.RunEstimate(id: "e", modelUnits: 0, inferenceMicrodollars: 0, assumptions: [], expiresAt: request.at + 1)
    }
    func admit(_ request: RunBillingRequest) async throws(BillingRefusal) {}
    func settle(_ usage: RunUsage) async throws(BillingRefusal) {}
}

/// What the test scripts, row by row: the ground truth and two models' answers.
enum Script {
    static let count = 12
    static let kinds = ["cat", "dog", "bird"]
    // Row 11 has no ground truth for kind ("none").
    static let truthKind: [String?] = ["cat", "cat", "dog", "dog", "bird", "cat", "dog", "cat", "bird", "bird", "cat", nil]
    static let kindA = ["cat", "dog", "dog", "dog", "bird", "cat", "cat", "cat", "bird", "dog", "cat", "dog"]
    static let confidenceA = [900_000, 800_000, 700_000, 950_000, 600_000, 550_000, 990_000, 500_000, 650_000, 750_000, 880_000, 610_000]
    static let kindB = ["cat", "cat", "dog", "cat", "bird", "cat", "dog", "dog", "bird", "bird", "dog", "dog"]
    static let confidenceB = [700_000, 720_000, 730_000, 740_000, 750_000, 760_000, 770_000, 780_000, 790_000, 800_000, 810_000, 820_000]
    static func truthTags(_ i: Int) -> [String] { [["x"], ["x", "y"], [], ["z"]][i % 4] }
    static func tagsA(_ i: Int) -> [String] { [["x"], ["x"], ["y"], ["z"]][i % 4] }
    static func truthCaption(_ i: Int) -> String { "a small cat sits on the mat \(i)" }
    static func captionA(_ i: Int) -> String { i % 3 == 0 ? "a big cat sits on a mat \(i)" : truthCaption(i) }
    static func captionB(_ i: Int) -> String { i % 4 == 0 ? "a small dog sits on the mat \(i)" : truthCaption(i) }
    /// One car per row; a person on even rows.
    static func truthBoxes(_ i: Int) -> [(String, Box)] {
        var out = [("car", Box(x: 10, y: 10, width: 50, height: 50))]
        if i % 2 == 0 { out.append(("person", Box(x: 100, y: 100, width: 40, height: 80))) }
        return out
    }
    /// Model A: the car shifted by i pixels (IoU falls with i), a person on rows divisible by 4,
    /// and a spurious car on row 5.
    static func boxesA(_ i: Int) -> [(String, Box, Int)] {
        var out = [("car", Box(x: 10 + Double(i * 3), y: 10, width: 50, height: 50), 990_000 - i * 10_000)]
        if i % 4 == 0 { out.append(("person", Box(x: 102, y: 100, width: 40, height: 80), 800_000 - i * 1000)) }
        if i == 5 { out.append(("car", Box(x: 300, y: 300, width: 20, height: 20), 300_000)) }
        return out
    }
    static func boxesB(_ i: Int) -> [(String, Box, Int)] {
        var out = [("car", Box(x: 11, y: 10, width: 50, height: 50), 950_000 - i * 10_000)]
        if i % 2 == 0 { out.append(("person", Box(x: 100, y: 102, width: 40, height: 80), 700_000 - i * 1000)) }
        return out
    }

    static func predictions(kind: [String], confidence: [Int], tags: (Int) -> [String], caption: (Int) -> String,
                            boxes: (Int) -> [(String, Box, Int)]) -> [String: [RawPrediction]] {
        var out: [String: [RawPrediction]] = [:]
        for i in 0..<count {
            var p = [RawPrediction(modelClass: "kind", value: .options([kind[i]]), confidencePPM: confidence[i])]
            if !tags(i).isEmpty { p.append(RawPrediction(modelClass: "tags", value: .options(tags(i)), confidencePPM: 500_000)) }
            p.append(RawPrediction(modelClass: "caption", value: .text(caption(i))))
            for (c, b, s) in boxes(i) {
                p.append(RawPrediction(modelClass: c, value: .box(left: b.x, top: b.y, width: b.width, height: b.height), confidencePPM: s))
            }
            out["r\(i)"] = p
        }
        return out
    }

    /// Spans: truth `name` [0, 2) on every row and `place` [1, 2) on even rows; model S finds the
    /// name on rows 0-8 and calls row 9's a place; model T finds every name and no place.
    static func spansS(_ i: Int) -> [RawPrediction] {
        i < 9 ? [RawPrediction(modelClass: "name", value: .span(start: 0, end: 2))]
            : [RawPrediction(modelClass: "place", value: .span(start: 0, end: 2))]
    }
    static func spansT(_ i: Int) -> [RawPrediction] { [RawPrediction(modelClass: "name", value: .span(start: 0, end: 2))] }

    static var model: TableModel {
        TableModel([
            "model-s": Dictionary(uniqueKeysWithValues: (0..<count).map { ("r\($0)", spansS($0)) }),
            "model-t": Dictionary(uniqueKeysWithValues: (0..<count).map { ("r\($0)", spansT($0)) }),
            "model-a": predictions(kind: kindA, confidence: confidenceA, tags: tagsA, caption: captionA, boxes: boxesA),
            "model-b": predictions(kind: kindB, confidence: confidenceB, tags: truthTags, caption: captionB, boxes: boxesB),
        ])
    }

    /// Model A's answers as the metrics read them: "none" where the truth has no kind.
    static var truthKindLabels: [String] { truthKind.map { $0 ?? "none" } }
}

/// An organisation with the scripted dataset, its ground truth, and helpers to run models.
struct Fixture {
    let harness: ServerHarness
    let client: RPCClient
    let key: String
    let dataset: String
    let ontology: AssayWire.Ontology

    static let features = [
        AssayWire.Feature(id: "car", name: "car", kind: .boundingBox),
        AssayWire.Feature(id: "person", name: "person", kind: .boundingBox),
        AssayWire.Feature(
            id: "kind", name: "kind", kind: .radio,
            options: Script.kinds.map { FeatureOption(id: "o-\($0)", value: $0) }),
        AssayWire.Feature(id: "tags", name: "tags", kind: .checklist, options: ["x", "y", "z"].map { FeatureOption(id: "t-\($0)", value: $0) }),
        AssayWire.Feature(id: "caption", name: "caption", kind: .freeText),
    ]

    static func make(_ harness: ServerHarness, org: String = "acme") async throws -> Fixture {
        let (client, _, key) = try await harness.organization(org)
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "rows"))
        let rows = (0..<Script.count).map { i in
            AssayWire.DataRow(globalKey: "\(org)-\(i)", mediaType: .text, text: "r\(i)", metadata: ["split": i < 6 ? "day" : "night"])
        }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let ontology = try await client.unary(CatalogService.createOntology, CreateOntologyRequest(name: "o", features: features))
        var labels: [AssayWire.Label] = []
        for i in 0..<Script.count {
            let key = "\(org)-\(i)"
            if let k = Script.truthKind[i] {
                labels.append(AssayWire.Label(globalKey: key, featureId: "kind", value: LabelValue(value: .radioOptionId("o-\(k)"))))
            }
            if !Script.truthTags(i).isEmpty {
                labels.append(AssayWire.Label(
                    globalKey: key, featureId: "tags", value: LabelValue(value: .checklist(Checklist(optionIds: Script.truthTags(i).map { "t-\($0)" })))))
            }
            labels.append(AssayWire.Label(globalKey: key, featureId: "caption", value: LabelValue(value: .freeText(Script.truthCaption(i)))))
            for (c, b) in Script.truthBoxes(i) {
                labels.append(AssayWire.Label(
                    globalKey: key, featureId: c,
                    value: LabelValue(value: .boundingBox(BoundingBox(left: b.x, top: b.y, width: b.width, height: b.height)))))
            }
        }
        try await client.bidirectional(CatalogService.importLabels) { writer, close, acks in
            try await writer.write(LabelBatch(ontologyId: ontology.id, labels: labels))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty, "\(ack.errors)") }
        }
        return Fixture(harness: harness, client: client, key: key, dataset: dataset.id, ontology: ontology)
    }

    static let mapping = ["car", "person", "kind", "tags", "caption"].map { AssayWire.ClassMapping(modelClass: $0, featureId: $0) }

    /// Creates a run and waits until it ends.
    func run(_ model: String, ontology: String? = nil, mapping: [AssayWire.ClassMapping] = Fixture.mapping) async throws -> AssayWire.ModelRun {
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(name: model, modelId: model, ontologyId: ontology ?? self.ontology.id, mapping: mapping, rows: RowSelection(datasetId: dataset)))
        let last = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: run.id), timeout: .seconds(120)) { updates in
            var last: AssayWire.ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(last?.state == .completed)
        return try #require(last)
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
