import AssayCore
import AssayMetrics
import AssayRPC
import AssayReport

/// The rows worth a look: ranked by loss, lowest IoU or disagreement with another run, and the
/// rows behind one confusion-matrix cell. Rankings are AssayMetrics' `Diagnosis` (stable: ties
/// keep the run's row order).
enum RowDiagnosis {
    /// A row (by index into the rows given) with the value it was ranked by and its answers as text.
    struct Entry: Sendable, Hashable {
        var row: Int
        var value: Double
        var truth: String
        var predicted: String
        var other: String = ""
    }

    enum Ranking: String, Sendable {
        case loss, iou, disagreement
    }

    /// What each row's answers read as (for the lists and the report).
    struct Answers {
        var truth: [String]
        var predicted: [String]
        /// Per row: the loss of the prediction against the truth (see docs/compare.md).
        var loss: [Double]
        /// Per row: the confidence shown with a disagreement.
        var confidence: [Double]

        init(_ unit: EvaluationUnit, rows: [LoadedRow], thresholds: ResolvedThresholds) {
            switch unit.kind {
            case .classification:
                let i = SingleLabelInputs(rows, feature: unit.features[0])
                truth = i.truth
                predicted = i.predicted
                confidence = i.scores.map { $0 ?? 1 }
                loss = rows.indices.map { r in
                    let c = i.scores[r] ?? 1
                    return Diagnosis.logLoss(probabilityOfTruth: i.truth[r] == i.predicted[r] ? c : 1 - c)
                }
            case .multilabel:
                let i = MultiLabelInputs(rows, feature: unit.features[0])
                truth = i.truth.map(MultiLabelInputs.key)
                predicted = i.predicted.map(MultiLabelInputs.key)
                confidence = i.scores.map { $0 ?? 1 }
                loss = rows.indices.map { setLoss(Set(i.truth[$0]), Set(i.predicted[$0])) }
            case .text:
                let i = TextInputs(rows, feature: unit.features[0])
                truth = i.truth
                predicted = i.predicted
                confidence = rows.map { r in r.predicted.filter { $0.featureID == unit.features[0].id }.map(score).max() ?? 1 }
                loss = rows.indices.map { 1 - Text.tokenF1(i.predicted[$0], i.truth[$0]) }
            case .spans:
                let i = SpanInputs(rows, unit: unit)
                func text(_ spans: [LabeledSpan]) -> String {
                    spans.isEmpty ? Classification.noLabel : spans.map { "\($0.label)[\($0.start),\($0.end))" }.joined(separator: " ")
                }
                truth = i.truth.map(text)
                predicted = i.predicted.map(text)
                confidence = Array(repeating: 1, count: rows.count)
                loss = rows.indices.map { setLoss(Set(i.truth[$0]), Set(i.predicted[$0])) }
            case .detection:
                let i = DetectionInputs(rows, unit: unit)
                let point = i.operatingPoint(thresholds)
                truth = rows.indices.map { r in "\(i.truth.count { $0.imageID == r + 1 }) objects" }
                predicted = point.images.map { "TP \($0.truePositives) FP \($0.falsePositives) FN \($0.falseNegatives)" }
                loss = point.images.map { Double($0.errors) }
                confidence = rows.indices.map { r in i.detections.filter { $0.imageID == r + 1 }.map(\.score).max() ?? 0 }
            }
        }
    }

    /// 1 − F1 of the two sets (0 when they are equal, empty ones included).
    static func setLoss<T: Hashable>(_ truth: Set<T>, _ predicted: Set<T>) -> Double {
        if truth == predicted { return 0 }
        return 1 - Double(2 * truth.intersection(predicted).count) / Double(truth.count + predicted.count)
    }

    static func rank(
        _ ranking: Ranking, unit: EvaluationUnit, rows: [LoadedRow], other: [LoadedRow]?, thresholds: ResolvedThresholds
    ) throws(RPCError) -> [Entry] {
        let answers = Answers(unit, rows: rows, thresholds: thresholds)
        func entries(_ ranked: [Diagnosis.RankedRow<Int>], other: [String]? = nil) -> [Entry] {
            ranked.map { Entry(row: $0.id, value: $0.value, truth: answers.truth[$0.id], predicted: answers.predicted[$0.id], other: other?[$0.id] ?? "") }
        }
        switch ranking {
        case .loss:
            return entries(Diagnosis.rankedByLoss(ids: Array(rows.indices), losses: answers.loss))
        case .iou:
            guard unit.kind == .detection else {
                throw RPCError(.invalidArgument, "by \"iou\" ranks box features; feature \(unit.featureIDs.joined(separator: ", ")) is \(unit.kind.rawValue)")
            }
            let point = DetectionInputs(rows, unit: unit).operatingPoint(thresholds)
            return entries(Diagnosis.rankedByLowestIoU(ids: Array(rows.indices), ious: point.images.map { $0.meanBestIoU ?? .nan }))
        case .disagreement:
            guard let other else { throw RPCError(.invalidArgument, "by \"disagreement\" needs other_run_id") }
            let theirs = Answers(unit, rows: other, thresholds: thresholds)
            if unit.kind == .detection {
                let counts = RunComparison.detectionDisagreement(
                    DetectionInputs(rows, unit: unit), DetectionInputs(other, unit: unit), thresholds: thresholds)
                let ids = rows.indices.filter { counts[$0] > 0 }
                return entries(Diagnosis.rankedByLoss(ids: ids, losses: ids.map { Double(counts[$0]) }), other: theirs.predicted)
            }
            let confidence = rows.indices.map { max(answers.confidence[$0], theirs.confidence[$0]) }
            return entries(
                Diagnosis.disagreements(
                    ids: Array(rows.indices), first: answers.predicted, second: theirs.predicted, confidences: confidence),
                other: theirs.predicted)
        }
    }

    /// The rows behind the cell (truth, predicted) of the unit's confusion matrix; the value is
    /// how many of the row's pairs fall in the cell (1 for a radio feature).
    static func cell(
        unit: EvaluationUnit, rows: [LoadedRow], truth: String, predicted: String, thresholds: ResolvedThresholds
    ) throws(RPCError) -> [Entry] {
        let answers = Answers(unit, rows: rows, thresholds: thresholds)
        func check(_ label: String, _ field: String, in labels: [String]) throws(RPCError) {
            guard labels.contains(label) else {
                throw RPCError(
                    .invalidArgument,
                    "\(field) \"\(label)\" is not a label of the confusion matrix of feature \(unit.featureIDs.joined(separator: ", ")) "
                        + "(labels: \(labels.joined(separator: ", ")))")
            }
        }
        switch unit.kind {
        case .classification:
            let i = SingleLabelInputs(rows, feature: unit.features[0])
            let labels = Classification.labels(truth: i.truth, predicted: i.predicted)
            try check(truth, "truth", in: labels)
            try check(predicted, "predicted", in: labels)
            return Diagnosis.rows(ids: Array(rows.indices), truth: i.truth, predicted: i.predicted, inCell: (truth, predicted)).map {
                Entry(row: $0, value: 1, truth: answers.truth[$0], predicted: answers.predicted[$0])
            }
        case .detection:
            let i = DetectionInputs(rows, unit: unit)
            let labels = i.categories.map(\.name) + ["background"]
            try check(truth, "truth", in: labels)
            try check(predicted, "predicted", in: labels)
            let category = { (name: String) in i.categories.first { $0.name == name }?.id }
            let pairs = i.operatingPoint(thresholds).pairs(truth: category(truth), predicted: category(predicted))
            var counts: [Int: Int] = [:]
            for p in pairs { counts[p.imageID, default: 0] += 1 }
            return counts.keys.sorted().map { image in
                Entry(row: image - 1, value: Double(counts[image]!), truth: answers.truth[image - 1], predicted: answers.predicted[image - 1])
            }
        default:
            throw RPCError(
                .invalidArgument,
                "a confusion matrix exists for radio and box features; feature \(unit.featureIDs.joined(separator: ", ")) is \(unit.kind.rawValue)")
        }
    }
}
