import AssayCore
import AssayMetrics
import AssayWire

/// A run's metrics against the ground truth, per unit, as the wire reports them. Every number
/// is AssayMetrics' on inputs built from the stored labels (``SingleLabelInputs`` and friends).
enum Evaluation {
    static func evaluate(_ unit: EvaluationUnit, rows: [LoadedRow], thresholds: ResolvedThresholds) -> FeatureEvaluation {
        var out = FeatureEvaluation(featureIds: unit.featureIDs, kind: unit.kind.rawValue, rows: UInt64(rows.count))
        switch unit.kind {
        case .classification:
            let inputs = SingleLabelInputs(rows, feature: unit.features[0])
            let report = Classification.classificationReport(truth: inputs.truth, predicted: inputs.predicted)
            let matrix = Classification.confusionMatrix(truth: inputs.truth, predicted: inputs.predicted)
            out.metrics = .classification(
                ClassificationMetrics(
                    accuracy: report.accuracy, micro: scores(report.micro), macro: scores(report.macro), weighted: scores(report.weighted),
                    perClass: report.labels.map { ClassScores(label: $0, scores: scores(report.perClass[$0]!)) },
                    confusion: confusion(labels: matrix.labels, counts: matrix.counts)))
        case .multilabel:
            let inputs = MultiLabelInputs(rows, feature: unit.features[0])
            let report = Classification.multiLabelReport(truth: inputs.truth, predicted: inputs.predicted)
            out.metrics = .multilabel(
                MultiLabelMetrics(
                    micro: scores(report.micro), macro: scores(report.macro), weighted: scores(report.weighted),
                    samples: scores(report.samples),
                    perClass: report.labels.map { ClassScores(label: $0, scores: scores(report.perClass[$0]!)) }))
        case .text:
            let inputs = TextInputs(rows, feature: unit.features[0])
            out.metrics = .text(text(inputs.truth, inputs.predicted))
        case .spans:
            let inputs = SpanInputs(rows, unit: unit)
            let report = SpanMetrics.report(truth: inputs.truth, predicted: inputs.predicted)
            out.metrics = .spans(
                SpanScores(
                    micro: scores(report.micro), macro: scores(report.macro), weighted: scores(report.weighted),
                    perClass: report.labels.map { ClassScores(label: $0, scores: scores(report.perLabel[$0]!)) }))
        case .detection:
            out.metrics = .detection(detection(DetectionInputs(rows, unit: unit), unit: unit, thresholds: thresholds))
        }
        return out
    }

    static func detection(_ inputs: DetectionInputs, unit: EvaluationUnit, thresholds: ResolvedThresholds) -> DetectionMetrics {
        let coco = inputs.coco()
        let point = inputs.operatingPoint(thresholds)
        let ap = coco.perCategoryAP
        let names = point.categoryIDs.indices.map(inputs.label(ofIndex:)) + ["background"]
        return DetectionMetrics(
            cocoStats: coco.stats,
            categories: inputs.categories.map { c in
                CategoryAP(label: c.name, featureId: unit.featureIDs[c.id - 1], averagePrecision: ap[c.id] ?? -1)
            },
            confidence: thresholds.confidence, iou: thresholds.iou, micro: scores(point.micro), macro: scores(point.macro),
            perClass: inputs.categories.map { c in
                ClassScores(label: c.name, scores: scores(point.perCategory[c.id] ?? Classification.Scores(precision: 0, recall: 0, f1: 0, support: 0)))
            },
            confusion: confusion(labels: names, counts: point.confusion),
            curves: inputs.categories.compactMap { c in
                guard let curve = coco.precisionRecallCurve(categoryID: c.id, iouThreshold: 0.5) else { return nil }
                return PRCurve(label: c.name, recall: curve.recall, precision: curve.precision, averagePrecision: curve.averagePrecision)
            })
    }

    static func text(_ truth: [String], _ predicted: [String]) -> TextMetrics {
        let n = Double(max(1, truth.count))
        let pairs = zip(predicted, truth)
        return TextMetrics(
            exactMatch: Double(pairs.count { Text.exactMatch($0, $1) }) / n,
            normalizedExactMatch: Double(pairs.count { Text.normalizedExactMatch($0, $1) }) / n,
            tokenF1: pairs.reduce(0) { $0 + Text.tokenF1($1.0, $1.1) } / n,
            wer: Text.wordErrorRate(references: truth, hypotheses: predicted),
            cer: Text.characterErrorRate(references: truth, hypotheses: predicted))
    }

    static func scores(_ s: Classification.Scores) -> Scores {
        Scores(precision: s.precision, recall: s.recall, f1: s.f1, support: UInt64(max(0, s.support)))
    }

    static func confusion(labels: [String], counts: [[Int]]) -> Confusion {
        Confusion(labels: labels, rows: counts.map { ConfusionRow(counts: $0.map { UInt64(max(0, $0)) }) })
    }

    /// The metrics per distinct value of the slice key, sorted by value.
    static func slices(_ units: [EvaluationUnit], rows: [LoadedRow], thresholds: ResolvedThresholds) -> [SliceEvaluation] {
        var groups: [String: [LoadedRow]] = [:]
        for r in rows { groups[r.slice ?? "", default: []].append(r) }
        return groups.keys.sorted().map { value in
            let members = groups[value]!
            return SliceEvaluation(
                value: value, rows: UInt64(members.count),
                features: units.map { evaluate($0, rows: members, thresholds: thresholds) })
        }
    }
}
