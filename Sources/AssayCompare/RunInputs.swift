import AssayCore
import AssayMetrics
import AssayRPC
import AssayStorage

/// One row a run predicted, with its ground truth and the run's predictions.
struct LoadedRow: Sendable {
    var rowID: ObjectID
    var globalKey: String
    /// Labels without a model run.
    var truth: [AssayCore.Label]
    /// This run's predictions.
    var predicted: [AssayCore.Label]
    /// The row's value of the slice key ("" when the row lacks it); nil when not slicing.
    var slice: String?
}

/// A stored run with the rows it predicted: what every metric is computed from.
struct LoadedRun: Sendable {
    var run: AssayCore.ModelRun
    var ontology: AssayCore.Ontology
    /// Rows in state predicted, in the run's order.
    var rows: [LoadedRow]
    /// Rows that failed or are still pending (left out of every metric).
    var notPredicted: Int
}

/// Reads a run, its ontology and its predicted rows' labels from the store, a page of rows at
/// a time, always within the caller's organisation.
struct RunReader: Sendable {
    let store: any Storage
    static let pageSize = 500

    /// The run itself; an empty id is INVALID_ARGUMENT, another organisation's run NOT_FOUND.
    func run(organization: ObjectID, id: String, field: String) async throws -> AssayCore.ModelRun {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "\(field) is required") }
        do {
            return try await store.run(organization: organization, id: ObjectID(rawValue: id))
        } catch .notFound {
            throw RPCError(.notFound, "run \(id) not found")
        }
    }

    func load(organization: ObjectID, id: String, field: String = "run_id", sliceBy: String? = nil) async throws -> LoadedRun {
        let run = try await run(organization: organization, id: id, field: field)
        let ontology = try await store.ontology(organization: organization, id: run.ontologyID)
        var rows: [LoadedRow] = []
        var notPredicted = 0
        var after: Int64 = 0
        while true {
            try Task.checkCancellation()
            let page = try await store.runRows(organization: organization, run: run.id, failedOnly: false, after: after, limit: Self.pageSize)
            let predicted = page.filter { $0.state == .predicted }
            notPredicted += page.count - predicted.count
            let labels = try await store.labels(organization: organization, rows: predicted.map(\.rowID))
            for r in predicted {
                let all = labels[r.rowID] ?? []
                var slice: String?
                if let sliceBy {
                    // One row at a time, keeping only the metadata value (rows may hold images).
                    slice = try await store.row(organization: organization, id: r.rowID).metadata[sliceBy] ?? ""
                }
                rows.append(
                    LoadedRow(
                        rowID: r.rowID, globalKey: r.globalKey, truth: all.filter { $0.modelRunID == nil },
                        predicted: all.filter { $0.modelRunID == run.id }, slice: slice))
            }
            guard page.count == Self.pageSize, let last = page.last else { break }
            after = last.position
        }
        return LoadedRun(run: run, ontology: ontology, rows: rows, notPredicted: notPredicted)
    }
}

/// What one set of metrics is computed over: a radio, checklist or free text feature alone,
/// or every box feature (each a category) or every span feature (each an entity type) of a
/// run's mapping together.
struct EvaluationUnit: Sendable, Hashable {
    enum Kind: String, Sendable {
        case detection, classification, multilabel, text, spans
    }

    var kind: Kind
    var features: [AssayCore.Feature]
    var featureIDs: [String] { features.map(\.id) }

    /// Display names of the features, made unique (a repeated name gets its id).
    var categoryNames: [String] {
        features.map { f in
            features.filter { $0.name == f.name }.count > 1 ? "\(f.name) (\(f.id))" : f.name
        }
    }

    /// The units of a run's mapping (one feature when `featureID` is given), checked.
    static func units(of run: AssayCore.ModelRun, ontology: AssayCore.Ontology, featureID: String) throws(RPCError) -> [EvaluationUnit] {
        var mapped: [AssayCore.Feature] = []
        for m in run.mapping where !mapped.contains(where: { $0.id == m.featureID }) {
            if let f = ontology.features.first(where: { $0.id == m.featureID }) { mapped.append(f) }
        }
        if !featureID.isEmpty {
            guard ontology.featuresByID[featureID] != nil else {
                throw RPCError(.notFound, "feature \(featureID) is not in ontology \(ontology.name) (\(ontology.id.rawValue))")
            }
            guard let f = mapped.first(where: { $0.id == featureID }) else {
                throw RPCError(
                    .invalidArgument,
                    "run \(run.id.rawValue) does not map feature \(featureID) (it maps: \(mapped.map(\.id).joined(separator: ", ")))")
            }
            guard let kind = kind(of: f.kind) else {
                throw RPCError(.invalidArgument, "feature \(featureID) is \(f.kind.rawValue); polygons are not evaluated")
            }
            return [EvaluationUnit(kind: kind, features: [f])]
        }
        var units: [EvaluationUnit] = []
        for f in mapped {
            guard let kind = kind(of: f.kind) else { continue }
            if kind == .detection || kind == .spans, let i = units.firstIndex(where: { $0.kind == kind }) {
                units[i].features.append(f)
            } else {
                units.append(EvaluationUnit(kind: kind, features: [f]))
            }
        }
        guard !units.isEmpty else {
            throw RPCError(.invalidArgument, "run \(run.id.rawValue) maps no feature that can be evaluated (polygons are not)")
        }
        return units
    }

    static func kind(of kind: FeatureKind) -> Kind? {
        switch kind {
        case .radio: .classification
        case .checklist: .multilabel
        case .freeText: .text
        case .boundingBox: .detection
        case .textSpan: .spans
        case .polygon: nil
        }
    }

    /// The units two runs share: the same features of the same ontology.
    static func shared(_ a: [EvaluationUnit], _ b: [EvaluationUnit]) -> [EvaluationUnit] {
        a.compactMap { u in
            let features = u.features.filter { f in b.contains { $0.features.contains(f) } }
            return features.isEmpty ? nil : EvaluationUnit(kind: u.kind, features: features)
        }
    }
}

// MARK: - Labels into metric inputs

/// The name an option's id stands for in metrics (its value; its id when it is not in the feature).
func optionName(_ id: String, in feature: AssayCore.Feature) -> String {
    feature.options.first { $0.id == id }?.value ?? id
}

/// Confidence as a fraction (1 when the model gave none).
func score(_ label: AssayCore.Label) -> Double {
    label.confidencePPM.map { Double($0) / 1_000_000 } ?? 1
}

/// Single-label inputs of a radio feature: "none" where a row has no label or prediction.
struct SingleLabelInputs: Sendable {
    var truth: [String]
    var predicted: [String]
    var scores: [Double?]

    init(_ rows: [LoadedRow], feature: AssayCore.Feature) {
        func first(_ labels: [AssayCore.Label]) -> AssayCore.Label? {
            labels.first { $0.featureID == feature.id && $0.value.kind == .radio }
        }
        func name(_ l: AssayCore.Label?) -> String {
            if case .radio(let id)? = l?.value { return optionName(id, in: feature) }
            return Classification.noLabel
        }
        truth = rows.map { name(first($0.truth)) }
        let predictions = rows.map { first($0.predicted) }
        predicted = predictions.map(name)
        scores = predictions.map { $0.map(score) }
    }
}

/// Multi-label inputs of a checklist feature: every chosen option of the feature's labels.
struct MultiLabelInputs: Sendable {
    var truth: [[String]]
    var predicted: [[String]]
    var scores: [Double?]

    init(_ rows: [LoadedRow], feature: AssayCore.Feature) {
        func names(_ labels: [AssayCore.Label]) -> [String] {
            var out: [String] = []
            for l in labels where l.featureID == feature.id {
                if case .checklist(let ids) = l.value {
                    for id in ids where !out.contains(optionName(id, in: feature)) { out.append(optionName(id, in: feature)) }
                }
            }
            return out
        }
        truth = rows.map { names($0.truth) }
        predicted = rows.map { names($0.predicted) }
        scores = rows.map { r in r.predicted.filter { $0.featureID == feature.id }.map(score).max() }
    }

    /// A row's set as one label (for agreement and kappa): sorted names joined by " | ", "none" when empty.
    static func key(_ names: [String]) -> String {
        names.isEmpty ? Classification.noLabel : names.sorted().joined(separator: " | ")
    }
}

/// Free text inputs: the first text of the feature, "" where there is none.
struct TextInputs: Sendable {
    var truth: [String]
    var predicted: [String]

    init(_ rows: [LoadedRow], feature: AssayCore.Feature) {
        func text(_ labels: [AssayCore.Label]) -> String {
            for l in labels where l.featureID == feature.id {
                if case .freeText(let t) = l.value { return t }
            }
            return ""
        }
        truth = rows.map { text($0.truth) }
        predicted = rows.map { text($0.predicted) }
    }
}

/// Span inputs: each span feature is an entity type named by its (unique) name.
struct SpanInputs: Sendable {
    var truth: [[LabeledSpan]]
    var predicted: [[LabeledSpan]]

    init(_ rows: [LoadedRow], unit: EvaluationUnit) {
        let names = Dictionary(uniqueKeysWithValues: zip(unit.featureIDs, unit.categoryNames))
        func spans(_ labels: [AssayCore.Label]) -> [LabeledSpan] {
            labels.compactMap { l in
                guard let name = names[l.featureID], case .textSpan(let s, let e) = l.value else { return nil }
                return LabeledSpan(label: name, start: s, end: e)
            }
        }
        truth = rows.map { spans($0.truth) }
        predicted = rows.map { spans($0.predicted) }
    }
}

/// Box inputs in COCO's shape: row i is image i + 1, the unit's feature k is category k + 1,
/// ground-truth objects get ids from 1 and their box area; a detection's score is its confidence.
struct DetectionInputs: Sendable {
    var imageIDs: [Int]
    var categories: [(id: Int, name: String)]
    var truth: [COCOGroundTruth]
    var detections: [COCODetection]

    init(_ rows: [LoadedRow], unit: EvaluationUnit) {
        let names = unit.categoryNames
        categories = names.enumerated().map { (id: $0 + 1, name: $1) }
        let category = Dictionary(uniqueKeysWithValues: unit.featureIDs.enumerated().map { ($1, $0 + 1) })
        imageIDs = rows.indices.map { $0 + 1 }
        truth = []
        detections = []
        for (i, row) in rows.enumerated() {
            for l in row.truth {
                guard let k = category[l.featureID], case .boundingBox(let x, let y, let w, let h) = l.value else { continue }
                truth.append(
                    COCOGroundTruth(
                        id: truth.count + 1, imageID: i + 1, categoryID: k, box: Box(x: x, y: y, width: w, height: h), area: w * h))
            }
            for l in row.predicted {
                guard let k = category[l.featureID], case .boundingBox(let x, let y, let w, let h) = l.value else { continue }
                detections.append(
                    COCODetection(imageID: i + 1, categoryID: k, box: Box(x: x, y: y, width: w, height: h), score: score(l)))
            }
        }
    }

    func coco() -> COCOEvaluationResult {
        COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: imageIDs, categoryIDs: categories.map(\.id))
    }

    func operatingPoint(_ t: ResolvedThresholds) -> DetectionOperatingPoint.Report {
        DetectionOperatingPoint.evaluate(
            truth: truth, detections: detections, confidence: t.confidence, iouThreshold: t.iou, imageIDs: imageIDs,
            categoryIDs: categories.map(\.id))
    }

    /// The category name of a confusion-matrix index (background last).
    func label(ofIndex index: Int) -> String {
        index < categories.count ? categories[index].name : "background"
    }
}

/// Thresholds with the defaults filled in and the ranges checked.
struct ResolvedThresholds: Sendable, Hashable {
    var confidence: Double
    var iou: Double

    static let `default` = ResolvedThresholds(confidence: 0.5, iou: 0.5)

    init(confidence: Double, iou: Double) {
        self.confidence = confidence
        self.iou = iou
    }
}
