import AssayCore
import AssayMetrics
import AssayReport
import AssayWire

/// The HTML report of stored runs: per unit, AssayReport's detection or classification
/// document (or, for checklists, free text and spans, one made here from the same numbers the
/// service returns), over the rows every run predicted; several units are put one after another.
enum CompareReport {
    static func document(
        title: String, runs: [LoadedRun], units: [EvaluationUnit], thresholds: ResolvedThresholds, bootstrap: BootstrapSettings, worst: Int
    ) -> ReportDocument {
        let rows = commonRows(runs)
        let names = runNames(runs.map(\.run))
        let documents = units.map { unit in
            let doc = document(unit: unit, title: title, names: names, rows: rows, thresholds: thresholds, bootstrap: bootstrap, worst: worst)
            return (unit, doc)
        }
        let subtitle = "\(rows[0].count) rows predicted by every run; ontology \(runs[0].ontology.name)"
        if documents.count == 1 {
            var doc = documents[0].1
            doc.subtitle = doc.subtitle + " — " + subtitle
            return doc
        }
        var merged = ReportDocument(title: title, subtitle: subtitle, runs: names)
        for (unit, doc) in documents {
            let prefix = "[\(unit.categoryNames.joined(separator: ", "))] "
            merged.summary += doc.summary.map { SummaryRow(metric: prefix + $0.metric, values: $0.values) }
            merged.curves += doc.curves.map { CurvePanel(title: prefix + $0.title, series: $0.series) }
            merged.confusions += doc.confusions.map { ConfusionPanel(run: prefix + $0.run, labels: $0.labels, counts: $0.counts) }
            merged.deltas += doc.deltas.map { d in
                var d = d
                d.metric = prefix + d.metric
                return d
            }
            if merged.worstRows.rows.isEmpty, !doc.worstRows.rows.isEmpty {
                merged.worstRows = doc.worstRows
                merged.worstRows.title = prefix + doc.worstRows.title
            }
            for note in doc.notes where !merged.notes.contains(note) { merged.notes.append(note) }
        }
        return merged
    }

    /// Each run's rows restricted to the rows every run predicted, aligned, in the first run's order.
    static func commonRows(_ runs: [LoadedRun]) -> [[LoadedRow]] {
        let lookups = runs.map { run in Dictionary(run.rows.map { ($0.rowID, $0) }, uniquingKeysWith: { a, _ in a }) }
        let shared = runs[0].rows.filter { r in lookups.allSatisfy { $0[r.rowID] != nil } }
        return lookups.map { lookup in shared.map { lookup[$0.rowID]! } }
    }

    /// Run names, with the id added where two runs share a name.
    static func runNames(_ runs: [AssayCore.ModelRun]) -> [String] {
        runs.map { r in runs.filter { $0.name == r.name }.count > 1 ? "\(r.name) (\(r.id.rawValue))" : r.name }
    }

    static func document(
        unit: EvaluationUnit, title: String, names: [String], rows: [[LoadedRow]], thresholds: ResolvedThresholds,
        bootstrap: BootstrapSettings, worst: Int
    ) -> ReportDocument {
        let keys = rows[0].map(\.globalKey)
        switch unit.kind {
        case .detection:
            let inputs = rows.map { DetectionInputs($0, unit: unit) }
            let runs = zip(names, inputs).map { name, i in
                DetectionRun(name: name, evaluation: i.coco(), operatingPoint: i.operatingPoint(thresholds))
            }
            var doc = ReportDocument.detection(
                title: title, categories: inputs[0].categories, runs: runs, seed: bootstrap.seed, resamples: bootstrap.resamples, worst: worst)
            // Images are rows: show their global keys.
            doc.worstRows.columns[0] = "row"
            doc.worstRows.rows = doc.worstRows.rows.map { cells in
                var cells = cells
                if let image = Int(cells[0]), keys.indices.contains(image - 1) { cells[0] = keys[image - 1] }
                return cells
            }
            return doc
        case .classification:
            let first = SingleLabelInputs(rows[0], feature: unit.features[0])
            let runs = zip(names, rows).map { name, r in
                let i = SingleLabelInputs(r, feature: unit.features[0])
                return ClassificationRun(name: name, predicted: i.predicted, scores: i.scores)
            }
            return ReportDocument.classification(
                title: title, ids: keys, truth: first.truth, runs: runs, seed: bootstrap.seed, resamples: bootstrap.resamples, worst: worst)
        case .multilabel, .text, .spans:
            return generic(unit: unit, title: title, names: names, rows: rows, thresholds: thresholds, bootstrap: bootstrap, worst: worst)
        }
    }

    /// Checklists, free text and spans: the summary from ``Evaluation``, the deltas from
    /// ``RunComparison`` and the first run's worst rows by loss.
    static func generic(
        unit: EvaluationUnit, title: String, names: [String], rows: [[LoadedRow]], thresholds: ResolvedThresholds,
        bootstrap: BootstrapSettings, worst: Int
    ) -> ReportDocument {
        let evaluations = rows.map { Evaluation.evaluate(unit, rows: $0, thresholds: thresholds) }
        var summary: [SummaryRow] = []
        func add(_ metric: String, _ value: (FeatureEvaluation) -> Double?) {
            summary.append(SummaryRow(metric: metric, values: evaluations.map(value)))
        }
        switch unit.kind {
        case .multilabel:
            func m(_ e: FeatureEvaluation) -> MultiLabelMetrics? {
                if case .multilabel(let x)? = e.metrics { return x }
                return nil
            }
            add("micro F1") { m($0)?.micro?.f1 }
            add("macro F1") { m($0)?.macro?.f1 }
            add("weighted F1") { m($0)?.weighted?.f1 }
            add("samples F1") { m($0)?.samples?.f1 }
            for label in Set(evaluations.flatMap { m($0)?.perClass.map(\.label) ?? [] }).sorted() {
                add("F1 \(label)") { m($0)?.perClass.first { $0.label == label }?.scores?.f1 }
            }
        case .text:
            func m(_ e: FeatureEvaluation) -> TextMetrics? {
                if case .text(let x)? = e.metrics { return x }
                return nil
            }
            add("exact match") { m($0)?.exactMatch }
            add("normalized exact match") { m($0)?.normalizedExactMatch }
            add("token F1") { m($0)?.tokenF1 }
            add("WER") { m($0)?.wer }
            add("CER") { m($0)?.cer }
        default:
            func m(_ e: FeatureEvaluation) -> SpanScores? {
                if case .spans(let x)? = e.metrics { return x }
                return nil
            }
            add("micro F1") { m($0)?.micro?.f1 }
            add("macro F1") { m($0)?.macro?.f1 }
            for label in Set(evaluations.flatMap { m($0)?.perClass.map(\.label) ?? [] }).sorted() {
                add("F1 \(label)") { m($0)?.perClass.first { $0.label == label }?.scores?.f1 }
            }
        }
        var deltas: [DeltaRow] = []
        for (name, r) in zip(names, rows).dropFirst() {
            let c = RunComparison.compare(unit, first: rows[0], second: r, thresholds: thresholds, bootstrap: bootstrap)
            for d in c.deltas {
                deltas.append(
                    DeltaRow(
                        metric: d.metric, baseline: names[0], run: name, baselineValue: d.first, runValue: d.second, delta: d.delta,
                        lower: d.hasInterval ? d.low : nil, upper: d.hasInterval ? d.high : nil,
                        note: "agreement \(HTMLReport.fmt(c.agreement, 4))" + (c.hasKappa ? ", κ \(HTMLReport.fmt(c.kappa, 4))" : "")))
            }
        }
        let answers = rows.map { RowDiagnosis.Answers(unit, rows: $0, thresholds: thresholds) }
        let ranked = Diagnosis.rankedByLoss(ids: Array(rows[0].indices), losses: answers[0].loss, limit: worst).filter { $0.value > 0 }
        let table = RowTable(
            title: "Worst rows (by \(names[0]): loss, highest first)", columns: ["row", "truth"] + names + ["loss"],
            rows: ranked.map { r in [rows[0][r.id].globalKey, answers[0].truth[r.id]] + answers.map { $0.predicted[r.id] } + [HTMLReport.fmt(r.value, 4)] })
        return ReportDocument(
            title: title, subtitle: "\(unit.kind.rawValue), \(rows[0].count) rows, \(names.count) run(s): " + names.joined(separator: ", "),
            runs: names, summary: summary, deltas: deltas, worstRows: table,
            notes: [
                "Checklists: scikit-learn's multi-label scores; free text: SQuAD exact match and token F1, jiwer WER and CER; spans: seqeval.",
                "Intervals: paired bootstrap over rows, \(bootstrap.resamples) resamples, SplitMix64 seed \(bootstrap.seed), percentile 95% (docs/compare.md).",
            ])
    }
}
