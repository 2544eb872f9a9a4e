public import AssayMetrics

/// One detection run for a report: its COCO evaluation and its operating point.
public struct DetectionRun: Sendable {
    public var name: String
    public var evaluation: COCOEvaluationResult
    public var operatingPoint: DetectionOperatingPoint.Report
    public init(name: String, evaluation: COCOEvaluationResult, operatingPoint: DetectionOperatingPoint.Report) {
        self.name = name
        self.evaluation = evaluation
        self.operatingPoint = operatingPoint
    }
}

/// One classification run for a report: a predicted label per row (in the truth's order) and,
/// when the model gave one, its confidence.
public struct ClassificationRun: Sendable {
    public var name: String
    public var predicted: [String]
    public var scores: [Double?]
    public init(name: String, predicted: [String], scores: [Double?]) {
        self.name = name
        self.predicted = predicted
        self.scores = scores
    }
}

extension ReportDocument {
    /// The names of COCO's 12 summary numbers, in `stats` order.
    public static let cocoStatNames = [
        "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
    ]

    /// A detection report: COCO's 12 numbers and the operating point's P/R/F1 per run, PR curves
    /// per category at IoU 0.5, each run's confusion matrix with background, every later run
    /// against the first (micro P/R/F1 with paired-bootstrap intervals over images; AP without
    /// one, since each resample would need a whole COCO evaluation), and the worst images.
    public static func detection(
        title: String, categories: [(id: Int, name: String)], runs: [DetectionRun], seed: UInt64 = 0,
        resamples: Int = 1000, worst: Int = 25
    ) -> ReportDocument {
        func name(_ id: Int) -> String { categories.first { $0.id == id }?.name ?? String(id) }
        let names = runs.map(\.name)
        var summary = cocoStatNames.enumerated().map { i, metric in
            SummaryRow(metric: metric, values: runs.map { $0.evaluation.stats[i] })
        }
        if let first = runs.first?.operatingPoint {
            let at = "@ conf \(HTMLReport.fmt(first.confidence, 2)), IoU \(HTMLReport.fmt(first.iouThreshold, 2))"
            summary.append(SummaryRow(metric: "precision \(at)", values: runs.map { $0.operatingPoint.micro.precision }))
            summary.append(SummaryRow(metric: "recall \(at)", values: runs.map { $0.operatingPoint.micro.recall }))
            summary.append(SummaryRow(metric: "F1 \(at)", values: runs.map { $0.operatingPoint.micro.f1 }))
        }
        for category in runs.first?.evaluation.categoryIDs ?? [] {
            summary.append(SummaryRow(metric: "AP \(name(category))", values: runs.map { $0.evaluation.perCategoryAP[category] }))
        }
        let curves = (runs.first?.evaluation.categoryIDs ?? []).map { category in
            CurvePanel(title: "\(name(category)) (IoU 0.50)", series: runs.compactMap { run in
                guard let c = run.evaluation.precisionRecallCurve(categoryID: category, iouThreshold: 0.5), c.isDefined else {
                    return CurvePanel.Series(run: run.name, points: [], label: "no ground truth")
                }
                return CurvePanel.Series(run: run.name, points: Array(zip(c.recall, c.precision)),
                                         label: "AP50 \(HTMLReport.fmt(c.averagePrecision, 3))")
            })
        }
        let confusions = runs.map { run in
            ConfusionPanel(run: run.name, labels: run.operatingPoint.categoryIDs.map(name) + ["background"],
                           counts: run.operatingPoint.confusion)
        }
        var deltas: [DeltaRow] = []
        if let base = runs.first {
            let baseImages = Dictionary(uniqueKeysWithValues: base.operatingPoint.images.map { ($0.imageID, $0) })
            for run in runs.dropFirst() {
                let images = run.operatingPoint.images.filter { baseImages[$0.imageID] != nil }
                let a = images.map { baseImages[$0.imageID]! }
                for (metric, score) in [("precision", precisionOf), ("recall", recallOf), ("F1", f1Of)] {
                    guard !images.isEmpty else { break }
                    let interval = PairedBootstrap.delta(count: images.count, resamples: resamples, seed: seed) { rows in
                        (score(rows.map { a[$0] }), score(rows.map { images[$0] }))
                    }
                    deltas.append(DeltaRow(metric: "\(metric) @ operating point", baseline: base.name, run: run.name,
                                           baselineValue: interval.first, runValue: interval.second, delta: interval.delta,
                                           lower: interval.lower, upper: interval.upper))
                }
                for (i, metric) in cocoStatNames.enumerated().prefix(3) {
                    let x = base.evaluation.stats[i], y = run.evaluation.stats[i]
                    guard x >= 0, y >= 0 else { continue }
                    deltas.append(DeltaRow(metric: metric, baseline: base.name, run: run.name, baselineValue: x, runValue: y,
                                           delta: y - x, lower: nil, upper: nil, note: "no interval (see notes)"))
                }
            }
        }
        // Worst images by the first run: most errors, then the lowest mean best IoU.
        var worstRows = RowTable(title: "Worst images", columns: ["image"], rows: [])
        if let base = runs.first {
            let ranked = base.operatingPoint.images.indices.sorted { i, j in
                let a = base.operatingPoint.images[i], b = base.operatingPoint.images[j]
                if a.errors != b.errors { return a.errors > b.errors }
                let ia = a.meanBestIoU ?? 1, ib = b.meanBestIoU ?? 1
                return ia != ib ? ia < ib : i < j
            }.prefix(worst)
            let byRun = runs.map { run in Dictionary(uniqueKeysWithValues: run.operatingPoint.images.map { ($0.imageID, $0) }) }
            worstRows.title = "Worst images (by \(base.name): false positives + false negatives, then lowest mean IoU)"
            for run in runs { worstRows.columns += ["\(run.name) TP/FP/FN", "\(run.name) mean IoU"] }
            for i in ranked {
                let image = base.operatingPoint.images[i].imageID
                var row = [String(image)]
                for lookup in byRun {
                    if let c = lookup[image] {
                        row += ["\(c.truePositives)/\(c.falsePositives)/\(c.falseNegatives)", HTMLReport.number(c.meanBestIoU)]
                    } else {
                        row += ["—", "—"]
                    }
                }
                worstRows.rows.append(row)
            }
        }
        let op = runs.first?.operatingPoint
        return ReportDocument(
            title: title,
            subtitle: "Detection, \(runs.count) run(s): " + names.joined(separator: ", ")
                + (op.map { "; operating point: confidence ≥ \(HTMLReport.fmt($0.confidence, 2)), IoU ≥ \(HTMLReport.fmt($0.iouThreshold, 2))" } ?? ""),
            runs: names, summary: summary, curves: curves, confusions: confusions, deltas: deltas, worstRows: worstRows,
            notes: [
                "AP/AR numbers are COCO's (pycocotools COCOeval, bbox, default parameters); a dash is undefined (-1).",
                "PR curves are COCO's interpolated precision at 101 recall points (IoU 0.50, all areas, 100 detections).",
                "Intervals: paired bootstrap over images, \(resamples) resamples, SplitMix64 seed \(seed), percentile 95% (docs/compare.md).",
                "AP deltas have no interval: each resample would need a whole COCO evaluation.",
            ])
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
        var tp = 0, errors = 0
        for c in images {
            tp += c.truePositives
            errors += c.falsePositives + c.falseNegatives
        }
        return tp == 0 ? 0 : Double(2 * tp) / Double(2 * tp + errors)
    }

    /// A classification report: accuracy and macro/weighted scores per run, a PR curve per class
    /// from the runs' confidences (rows predicted as the class, by descending confidence), each
    /// run's confusion matrix, every later run against the first (accuracy and macro F1 with
    /// paired-bootstrap intervals, McNemar's test, Cohen's kappa, agreement) and the rows the
    /// runs disagree on, most confident first.
    public static func classification(
        title: String, ids: [String], truth: [String], runs: [ClassificationRun], seed: UInt64 = 0,
        resamples: Int = 1000, worst: Int = 25
    ) -> ReportDocument {
        let reports = runs.map { Classification.classificationReport(truth: truth, predicted: $0.predicted) }
        let names = runs.map(\.name)
        var summary: [SummaryRow] = [
            SummaryRow(metric: "accuracy", values: reports.map(\.accuracy)),
            SummaryRow(metric: "macro precision", values: reports.map(\.macro.precision)),
            SummaryRow(metric: "macro recall", values: reports.map(\.macro.recall)),
            SummaryRow(metric: "macro F1", values: reports.map(\.macro.f1)),
            SummaryRow(metric: "weighted F1", values: reports.map(\.weighted.f1)),
            SummaryRow(metric: "micro F1", values: reports.map(\.micro.f1)),
        ]
        let classes = Classification.labels(truth: truth, predicted: runs.flatMap(\.predicted))
        for label in classes {
            summary.append(SummaryRow(metric: "F1 \(label)", values: reports.map { $0.perClass[label]?.f1 }))
        }
        var curves: [CurvePanel] = []
        if runs.contains(where: { $0.scores.contains { $0 != nil } }) {
            for label in classes where label != Classification.noLabel {
                let positives = truth.count { $0 == label }
                guard positives > 0 else { continue }
                curves.append(CurvePanel(title: label, series: runs.map { run in
                    let rows = run.predicted.indices.filter { run.predicted[$0] == label }
                        .sorted { (run.scores[$0] ?? 0) > (run.scores[$1] ?? 0) || ((run.scores[$0] ?? 0) == (run.scores[$1] ?? 0) && $0 < $1) }
                    var points: [(Double, Double)] = [(0, 1)]
                    var tp = 0
                    for (n, row) in rows.enumerated() {
                        if truth[row] == label { tp += 1 }
                        points.append((Double(tp) / Double(positives), Double(tp) / Double(n + 1)))
                    }
                    return CurvePanel.Series(run: run.name, points: points, label: "\(rows.count) predicted")
                }))
            }
        }
        let confusions = runs.map { run in
            let m = Classification.confusionMatrix(truth: truth, predicted: run.predicted)
            return ConfusionPanel(run: run.name, labels: m.labels, counts: m.counts)
        }
        var deltas: [DeltaRow] = []
        var worstRows = RowTable(title: "Worst rows", columns: ["id", "truth"] + names, rows: [])
        if let base = runs.first {
            for run in runs.dropFirst() {
                let accuracy = PairedBootstrap.meanDelta(
                    first: truth.indices.map { base.predicted[$0] == truth[$0] ? 1 : 0 },
                    second: truth.indices.map { run.predicted[$0] == truth[$0] ? 1 : 0 },
                    resamples: resamples, seed: seed)
                let test = McNemar.test(truth: truth, first: base.predicted, second: run.predicted)
                deltas.append(DeltaRow(metric: "accuracy", baseline: base.name, run: run.name, baselineValue: accuracy.first,
                                       runValue: accuracy.second, delta: accuracy.delta, lower: accuracy.lower, upper: accuracy.upper,
                                       note: "McNemar \(test.exact ? "exact" : "χ²") p = \(HTMLReport.fmt(test.pValue, 4)) (b \(test.b), c \(test.c))"))
                let macro = PairedBootstrap.delta(count: truth.count, resamples: resamples, seed: seed) { rows in
                    let t = rows.map { truth[$0] }
                    return (Classification.classificationReport(truth: t, predicted: rows.map { base.predicted[$0] }).macro.f1,
                            Classification.classificationReport(truth: t, predicted: rows.map { run.predicted[$0] }).macro.f1)
                }
                let kappa = Agreement.cohensKappa(base.predicted, run.predicted)
                deltas.append(DeltaRow(metric: "macro F1", baseline: base.name, run: run.name, baselineValue: macro.first,
                                       runValue: macro.second, delta: macro.delta, lower: macro.lower, upper: macro.upper,
                                       note: "agreement \(HTMLReport.fmt(Agreement.rate(base.predicted, run.predicted), 4)), κ \(HTMLReport.fmt(kappa, 4))"))
            }
            // With one run: its errors, most confident first; with more: rows where the runs disagree.
            let confidence = truth.indices.map { i in runs.compactMap { $0.scores[i] }.max() ?? 0 }
            let ranked: [Diagnosis.RankedRow<Int>]
            if runs.count > 1 {
                let disagreeing = truth.indices.filter { i in runs.contains { $0.predicted[i] != base.predicted[i] } }
                ranked = Diagnosis.rankedByLoss(ids: disagreeing, losses: disagreeing.map { confidence[$0] }, limit: worst)
                worstRows.title = "Rows the runs disagree on (most confident first)"
            } else {
                let wrong = truth.indices.filter { base.predicted[$0] != truth[$0] }
                ranked = Diagnosis.rankedByLoss(ids: wrong, losses: wrong.map { confidence[$0] }, limit: worst)
                worstRows.title = "Misclassified rows (most confident first)"
            }
            worstRows.rows = ranked.map { r in
                [ids[r.id], truth[r.id]] + runs.map { run in
                    run.predicted[r.id] + (run.scores[r.id].map { " (\(HTMLReport.fmt($0, 3)))" } ?? "")
                }
            }
        }
        return ReportDocument(
            title: title, subtitle: "Classification, \(truth.count) rows, \(runs.count) run(s): " + names.joined(separator: ", "),
            runs: names, summary: summary, curves: curves, confusions: confusions, deltas: deltas, worstRows: worstRows,
            notes: [
                "Scores are scikit-learn's (zero_division=0); \"none\" stands for a missing label or prediction.",
                "Intervals: paired bootstrap over rows, \(resamples) resamples, SplitMix64 seed \(seed), percentile 95% (docs/compare.md).",
                "McNemar: exact binomial below 25 discordant rows, χ² with continuity correction from 25 (statsmodels' mcnemar).",
            ])
    }
}
