import AssayCore
import AssayMetrics
import AssayWire

/// Bootstrap settings of a comparison.
struct BootstrapSettings: Sendable, Hashable {
    var seed: UInt64 = 0
    var resamples: Int = 1000
    static let confidence = 0.95
}

/// Two runs on the rows both predicted: agreement, Cohen's kappa and McNemar's test where the
/// answers are labels, and the metrics' deltas with paired-bootstrap intervals.
enum RunComparison {
    /// The rows both runs predicted, in the first run's order, as two aligned arrays.
    static func pair(_ first: LoadedRun, _ second: LoadedRun) -> (first: [LoadedRow], second: [LoadedRow]) {
        let other = Dictionary(second.rows.map { ($0.rowID, $0) }, uniquingKeysWith: { a, _ in a })
        var a: [LoadedRow] = [], b: [LoadedRow] = []
        for row in first.rows {
            guard let match = other[row.rowID] else { continue }
            a.append(row)
            b.append(match)
        }
        return (a, b)
    }

    static func compare(
        _ unit: EvaluationUnit, first: [LoadedRow], second: [LoadedRow], thresholds: ResolvedThresholds, bootstrap: BootstrapSettings
    ) -> FeatureComparison {
        var out = FeatureComparison(featureIds: unit.featureIDs, kind: unit.kind.rawValue, rows: UInt64(first.count))
        let n = first.count
        func interval(_ name: String, _ i: PairedBootstrap.Interval) -> MetricDelta {
            MetricDelta(metric: name, first: i.first, second: i.second, delta: i.delta, hasInterval: true, low: i.lower, high: i.upper)
        }
        func labels(truth: [String], a: [String], b: [String]) {
            out.agreement = n == 0 ? 0 : Agreement.rate(a, b)
            let kappa = Agreement.cohensKappa(a, b)
            out.hasKappa = !kappa.isNaN
            out.kappa = kappa.isNaN ? 0 : kappa
            let test = McNemar.test(truth: truth, first: a, second: b)
            out.hasMcnemar = true
            out.mcnemar = McNemarResult(b: UInt64(test.b), c: UInt64(test.c), statistic: test.statistic, pValue: test.pValue, exact: test.exact)
        }
        switch unit.kind {
        case .classification:
            let a = SingleLabelInputs(first, feature: unit.features[0]), b = SingleLabelInputs(second, feature: unit.features[0])
            labels(truth: a.truth, a: a.predicted, b: b.predicted)
            guard n > 0 else { break }
            let truth = a.truth
            out.deltas.append(
                interval(
                    "accuracy",
                    PairedBootstrap.meanDelta(
                        first: correct(truth, a.predicted), second: correct(truth, b.predicted), resamples: bootstrap.resamples,
                        seed: bootstrap.seed)))
            out.deltas.append(
                interval(
                    "macro F1",
                    PairedBootstrap.delta(count: n, resamples: bootstrap.resamples, seed: bootstrap.seed) { rows in
                        let t = rows.map { truth[$0] }
                        return (
                            Classification.classificationReport(truth: t, predicted: rows.map { a.predicted[$0] }).macro.f1,
                            Classification.classificationReport(truth: t, predicted: rows.map { b.predicted[$0] }).macro.f1
                        )
                    }))
        case .multilabel:
            let a = MultiLabelInputs(first, feature: unit.features[0]), b = MultiLabelInputs(second, feature: unit.features[0])
            labels(truth: a.truth.map(MultiLabelInputs.key), a: a.predicted.map(MultiLabelInputs.key), b: b.predicted.map(MultiLabelInputs.key))
            guard n > 0 else { break }
            let truth = a.truth
            for (name, pick) in [("micro F1", { (r: Classification.MultiLabelReport) in r.micro.f1 }), ("samples F1", { $0.samples.f1 })] {
                out.deltas.append(
                    interval(
                        name,
                        PairedBootstrap.delta(count: n, resamples: bootstrap.resamples, seed: bootstrap.seed) { rows in
                            let t = rows.map { truth[$0] }
                            return (
                                pick(Classification.multiLabelReport(truth: t, predicted: rows.map { a.predicted[$0] })),
                                pick(Classification.multiLabelReport(truth: t, predicted: rows.map { b.predicted[$0] }))
                            )
                        }))
            }
        case .text:
            let a = TextInputs(first, feature: unit.features[0]), b = TextInputs(second, feature: unit.features[0])
            out.agreement = n == 0 ? 0 : Double(zip(a.predicted, b.predicted).count { $0 == $1 }) / Double(n)
            guard n > 0 else { break }
            let t = a.truth
            out.deltas.append(
                interval(
                    "exact match",
                    PairedBootstrap.meanDelta(
                        first: t.indices.map { Text.exactMatch(a.predicted[$0], t[$0]) ? 1 : 0 },
                        second: t.indices.map { Text.exactMatch(b.predicted[$0], t[$0]) ? 1 : 0 }, resamples: bootstrap.resamples,
                        seed: bootstrap.seed)))
            out.deltas.append(
                interval(
                    "token F1",
                    PairedBootstrap.meanDelta(
                        first: t.indices.map { Text.tokenF1(a.predicted[$0], t[$0]) },
                        second: t.indices.map { Text.tokenF1(b.predicted[$0], t[$0]) }, resamples: bootstrap.resamples,
                        seed: bootstrap.seed)))
            for (name, rate) in [("WER", Text.wordErrorRate(reference:hypothesis:)), ("CER", Text.characterErrorRate(reference:hypothesis:))] {
                let ea = ErrorCounts(truth: t, predicted: a.predicted, rate: rate)
                let eb = ErrorCounts(truth: t, predicted: b.predicted, rate: rate)
                out.deltas.append(
                    interval(
                        name,
                        PairedBootstrap.delta(count: n, resamples: bootstrap.resamples, seed: bootstrap.seed) { rows in
                            (ea.rate(rows), eb.rate(rows))
                        }))
            }
        case .spans:
            let a = SpanInputs(first, unit: unit), b = SpanInputs(second, unit: unit)
            out.agreement = n == 0 ? 0 : Double((0..<n).count { Set(a.predicted[$0]) == Set(b.predicted[$0]) }) / Double(n)
            guard n > 0 else { break }
            let t = a.truth
            out.deltas.append(
                interval(
                    "micro F1",
                    PairedBootstrap.delta(count: n, resamples: bootstrap.resamples, seed: bootstrap.seed) { rows in
                        let truth = rows.map { t[$0] }
                        return (
                            SpanMetrics.report(truth: truth, predicted: rows.map { a.predicted[$0] }).micro.f1,
                            SpanMetrics.report(truth: truth, predicted: rows.map { b.predicted[$0] }).micro.f1
                        )
                    }))
        case .detection:
            let a = DetectionInputs(first, unit: unit), b = DetectionInputs(second, unit: unit)
            let disagreement = detectionDisagreement(a, b, thresholds: thresholds)
            out.agreement = n == 0 ? 0 : Double(disagreement.count { $0 == 0 }) / Double(n)
            guard n > 0 else { break }
            let pa = a.operatingPoint(thresholds).images, pb = b.operatingPoint(thresholds).images
            for (name, metric) in [("precision", precisionOf), ("recall", recallOf), ("F1", f1Of)] {
                out.deltas.append(
                    interval(
                        "\(name) @ operating point",
                        PairedBootstrap.delta(count: n, resamples: bootstrap.resamples, seed: bootstrap.seed) { rows in
                            (metric(rows.map { pa[$0] }), metric(rows.map { pb[$0] }))
                        }))
            }
            let sa = a.coco().stats, sb = b.coco().stats
            for (i, name) in ["AP", "AP50", "AP75"].enumerated() where sa[i] >= 0 && sb[i] >= 0 {
                out.deltas.append(MetricDelta(metric: name, first: sa[i], second: sb[i], delta: sb[i] - sa[i], hasInterval: false))
            }
        }
        return out
    }

    static func correct(_ truth: [String], _ predicted: [String]) -> [Double] {
        zip(truth, predicted).map { $0 == $1 ? 1 : 0 }
    }

    /// Per image: detections (above the confidence) of either run that the other run has no
    /// same-category box for at the IoU threshold; 0 means the runs agree on the image.
    static func detectionDisagreement(_ a: DetectionInputs, _ b: DetectionInputs, thresholds: ResolvedThresholds) -> [Int] {
        let asTruth = a.detections.enumerated().filter { $0.element.score >= thresholds.confidence }.map { i, d in
            COCOGroundTruth(id: i + 1, imageID: d.imageID, categoryID: d.categoryID, box: d.box, area: d.box.area)
        }
        let report = DetectionOperatingPoint.evaluate(
            truth: asTruth, detections: b.detections, confidence: thresholds.confidence, iouThreshold: thresholds.iou,
            imageIDs: a.imageIDs, categoryIDs: a.categories.map(\.id))
        var out = Array(repeating: 0, count: a.imageIDs.count)
        for image in report.images { out[image.imageID - 1] = image.falsePositives + image.falseNegatives - confusions(report, image.imageID) }
        return out
    }

    /// A confused pair counts once in the image's FP and once in its FN; count it once.
    static func confusions(_ report: DetectionOperatingPoint.Report, _ image: Int) -> Int {
        report.pairs.count { $0.imageID == image && $0.truthID != nil && $0.detectionIndex != nil && $0.truthIndex != $0.predictedIndex }
    }

    static func precisionOf(_ images: [DetectionOperatingPoint.ImageCounts]) -> Double {
        let tp = images.reduce(0) { $0 + $1.truePositives }, fp = images.reduce(0) { $0 + $1.falsePositives }
        return tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
    }

    static func recallOf(_ images: [DetectionOperatingPoint.ImageCounts]) -> Double {
        let tp = images.reduce(0) { $0 + $1.truePositives }, fn = images.reduce(0) { $0 + $1.falseNegatives }
        return tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
    }

    static func f1Of(_ images: [DetectionOperatingPoint.ImageCounts]) -> Double {
        let tp = images.reduce(0) { $0 + $1.truePositives }
        let errors = images.reduce(0) { $0 + $1.falsePositives + $1.falseNegatives }
        return tp == 0 ? 0 : Double(2 * tp) / Double(2 * tp + errors)
    }
}

/// Per-row edit counts and reference lengths of a corpus error rate (WER or CER), so that a
/// resample's rate is a sum, as jiwer computes it over the resampled pairs: edits over
/// reference tokens (the edits themselves when there are no reference tokens).
struct ErrorCounts: Sendable {
    var edits: [Int]
    var lengths: [Int]

    /// `rate(reference:hypothesis:)` is jiwer's per pair; a pair's reference length is the rate of
    /// an empty reference against it (jiwer then counts insertions), its edits rate × length.
    init(truth: [String], predicted: [String], rate: (String, String) -> Double) {
        let lengths = truth.map { Int(rate("", $0).rounded()) }
        self.lengths = lengths
        edits = zip(truth, predicted).enumerated().map { i, pair in
            let r = rate(pair.0, pair.1)
            return Int((lengths[i] == 0 ? r : r * Double(lengths[i])).rounded())
        }
    }

    func rate(_ rows: [Int]) -> Double {
        var e = 0, l = 0
        for r in rows {
            e += edits[r]
            l += lengths[r]
        }
        return l == 0 ? Double(e) : Double(e) / Double(l)
    }
}
