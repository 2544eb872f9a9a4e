#if canImport(Glibc)
import Glibc
#endif
import AssayMetrics
import AssayReport

/// `assay metrics ...` and `assay report ...` on files users already have: no server.
enum MetricsCommands {
    static func run(_ command: String, _ args: inout Arguments) throws -> Int32 {
        command == "report" ? try report(&args) : try metrics(&args)
    }

    // MARK: assay metrics

    static func metrics(_ args: inout Arguments) throws -> Int32 {
        guard let task = args.positional.first, args.positional.count == 1 else {
            throw UsageError("metrics needs one task: detection, classification or text")
        }
        guard let gtPath = args.option("gt") else { throw UsageError("metrics \(task) needs --gt FILE") }
        guard let predPath = args.option("pred") else { throw UsageError("metrics \(task) needs --pred FILE") }
        let json = args.flag("json")
        let output: JSONOut
        let table: String
        switch task {
        case "detection":
            let iouType = args.option("iou-type") ?? "bbox"
            guard iouType == "bbox" else { throw UsageError("--iou-type \(iouType): only bbox is supported") }
            let confidence = try number(args.option("confidence"), "confidence", default: 0.5)
            let iou = try number(args.option("iou"), "iou", default: 0.5)
            try args.checkAllUsed()
            (output, table) = try detection(gtPath: gtPath, predPath: predPath, confidence: confidence, iou: iou)
        case "classification":
            try args.checkAllUsed()
            (output, table) = try classification(gtPath: gtPath, predPath: predPath)
        case "text":
            try args.checkAllUsed()
            (output, table) = try text(gtPath: gtPath, predPath: predPath)
        default:
            throw UsageError("unknown metrics task \(task) (detection, classification or text)")
        }
        printOut(json ? output.rendered : table)
        return 0
    }

    static func number(_ text: String?, _ name: String, default value: Double) throws -> Double {
        guard let text else { return value }
        guard let v = Double(text), v >= 0, v <= 1 else { throw UsageError("--\(name) must be a number from 0 to 1, got \(text)") }
        return v
    }

    static func loadDetection(gtPath: String, predPaths: [String]) throws -> (COCODataset, [[COCODetection]]) {
        let dataset = try COCOFiles.dataset(try readFile(gtPath), file: gtPath)
        let runs = try predPaths.map { try COCOFiles.detections(try readFile($0), file: $0, dataset: dataset) }
        return (dataset, runs)
    }

    static func evaluate(_ dataset: COCODataset, _ detections: [COCODetection], confidence: Double, iou: Double)
        -> (COCOEvaluationResult, DetectionOperatingPoint.Report)
    {
        let categories = dataset.categories.map(\.id)
        let coco = COCOEvaluation.evaluate(truth: dataset.truth, detections: detections, imageIDs: dataset.imageIDs,
                                           categoryIDs: categories)
        let point = DetectionOperatingPoint.evaluate(truth: dataset.truth, detections: detections, confidence: confidence,
                                                     iouThreshold: iou, imageIDs: dataset.imageIDs, categoryIDs: categories)
        return (coco, point)
    }

    static func detection(gtPath: String, predPath: String, confidence: Double, iou: Double) throws -> (JSONOut, String) {
        let (dataset, runs) = try loadDetection(gtPath: gtPath, predPaths: [predPath])
        let (coco, point) = evaluate(dataset, runs[0], confidence: confidence, iou: iou)
        let stats = coco.stats, perCategory = coco.perCategoryAP
        var statsOut = JSONOut.object([])
        for (name, value) in zip(ReportDocument.cocoStatNames, stats) { statsOut.add(name, .number(value)) }
        var perClass = JSONOut.object([])
        var pointPerClass = JSONOut.object([])
        var rows = [["class", "AP", "precision", "recall", "F1", "support"]]
        for category in dataset.categories {
            perClass.add(category.name, .object([("id", .number(Double(category.id))), ("AP", .number(perCategory[category.id] ?? -1))]))
            let s = point.perCategory[category.id]!
            pointPerClass.add(category.name, scores(s))
            rows.append([category.name, HTMLReport.fmt(perCategory[category.id] ?? -1, 4), HTMLReport.fmt(s.precision, 4),
                         HTMLReport.fmt(s.recall, 4), HTMLReport.fmt(s.f1, 4), String(s.support)])
        }
        var operating = JSONOut.object([("confidence", .number(confidence)), ("iou", .number(iou))])
        operating.add("precision", .number(point.micro.precision))
        operating.add("recall", .number(point.micro.recall))
        operating.add("f1", .number(point.micro.f1))
        operating.add("perClass", pointPerClass)
        let out = JSONOut.object([
            ("task", .string("detection")), ("iouType", .string("bbox")),
            ("images", .number(Double(dataset.imageIDs.count))), ("categories", .number(Double(dataset.categories.count))),
            ("groundTruth", .number(Double(dataset.truth.count))), ("detections", .number(Double(runs[0].count))),
            ("stats", statsOut), ("statsArray", .array(stats.map { .number($0) })), ("perClass", perClass),
            ("operatingPoint", operating),
        ])
        var text = "COCO bbox evaluation: \(dataset.imageIDs.count) images, \(dataset.categories.count) categories, "
        text += "\(dataset.truth.count) objects, \(runs[0].count) detections\n\n"
        text += layout(zip(ReportDocument.cocoStatNames, stats).map { [$0, HTMLReport.fmt($1, 4)] }) + "\n"
        text += "per class (AP over IoU .50:.95; P/R/F1 at confidence ≥ \(confidence), IoU ≥ \(iou)):\n"
        text += layout(rows)
        text += "\nall classes at the operating point: precision \(HTMLReport.fmt(point.micro.precision, 4)), "
        text += "recall \(HTMLReport.fmt(point.micro.recall, 4)), F1 \(HTMLReport.fmt(point.micro.f1, 4))"
        return (out, text)
    }

    /// Ground truth and predictions paired by id; a missing prediction is "none" (or no labels).
    static func loadLabels(gtPath: String, predPaths: [String], field: LabelFiles.Field) throws
        -> (truth: [LabelRecord], runs: [[LabelRecord?]])
    {
        let truth = try LabelFiles.records(try readFile(gtPath), file: gtPath, field: field)
        guard !truth.isEmpty else { throw InputError(file: gtPath, line: nil, "no rows") }
        let runs = try predPaths.map { path in
            try LabelFiles.align(truth: truth, predictions: try LabelFiles.records(try readFile(path), file: path, field: field),
                                 predictionFile: path)
        }
        return (truth, runs)
    }

    static func singleLabels(_ records: [LabelRecord?], file: String) throws -> [String] {
        try records.map { r in
            guard let r, !r.labels.isEmpty else { return Classification.noLabel }
            guard r.labels.count == 1, !r.isChecklist else {
                throw InputError(file: file, line: r.line, "a list of labels where the ground truth has single labels")
            }
            return r.labels[0]
        }
    }

    static func classification(gtPath: String, predPath: String) throws -> (JSONOut, String) {
        let (truth, runs) = try loadLabels(gtPath: gtPath, predPaths: [predPath], field: .label)
        let missing = runs[0].count { $0 == nil }
        if truth.contains(where: \.isChecklist) {
            let t = truth.map(\.labels), p = runs[0].map { $0?.labels ?? [] }
            let r = Classification.multiLabelReport(truth: t, predicted: p)
            var perClass = JSONOut.object([])
            var rows = [["label", "precision", "recall", "F1", "support"]]
            for label in r.labels {
                let s = r.perClass[label]!
                perClass.add(label, scores(s))
                rows.append(row(label, s))
            }
            let out = JSONOut.object([
                ("task", .string("classification")), ("multiLabel", .bool(true)), ("rows", .number(Double(truth.count))),
                ("missingPredictions", .number(Double(missing))), ("perClass", perClass), ("micro", scores(r.micro)),
                ("macro", scores(r.macro)), ("weighted", scores(r.weighted)), ("samples", scores(r.samples)),
            ])
            rows += [row("micro avg", r.micro), row("macro avg", r.macro), row("weighted avg", r.weighted), row("samples avg", r.samples)]
            return (out, "checklist classification: \(truth.count) rows, \(missing) without a prediction\n\n" + layout(rows))
        }
        let t = try singleLabels(truth, file: gtPath), p = try singleLabels(runs[0], file: predPath)
        let r = Classification.classificationReport(truth: t, predicted: p)
        let matrix = Classification.confusionMatrix(truth: t, predicted: p)
        var perClass = JSONOut.object([])
        var rows = [["label", "precision", "recall", "F1", "support"]]
        for label in r.labels {
            perClass.add(label, scores(r.perClass[label]!))
            rows.append(row(label, r.perClass[label]!))
        }
        let out = JSONOut.object([
            ("task", .string("classification")), ("multiLabel", .bool(false)), ("rows", .number(Double(truth.count))),
            ("missingPredictions", .number(Double(missing))), ("accuracy", .number(r.accuracy)), ("perClass", perClass),
            ("micro", scores(r.micro)), ("macro", scores(r.macro)), ("weighted", scores(r.weighted)),
            ("confusion", .object([("labels", .array(matrix.labels.map { .string($0) })),
                                   ("counts", .array(matrix.counts.map { .array($0.map { .number(Double($0)) }) }))])),
        ])
        rows += [row("macro avg", r.macro), row("weighted avg", r.weighted)]
        var text = "classification: \(truth.count) rows, \(missing) without a prediction (counted as \"none\")\n\n" + layout(rows)
        text += "\naccuracy \(HTMLReport.fmt(r.accuracy, 4))\n\nconfusion (rows truth, columns predicted):\n"
        text += layout([[""] + matrix.labels] + zip(matrix.labels, matrix.counts).map { [$0] + $1.map(String.init) })
        return (out, text)
    }

    static func text(gtPath: String, predPath: String) throws -> (JSONOut, String) {
        let (truth, runs) = try loadLabels(gtPath: gtPath, predPaths: [predPath], field: .text)
        let references = truth.map { $0.text ?? "" }, hypotheses = runs[0].map { $0?.text ?? "" }
        let n = Double(references.count)
        let exact = Double(zip(hypotheses, references).count { Text.exactMatch($0, $1) }) / n
        let normalized = Double(zip(hypotheses, references).count { Text.normalizedExactMatch($0, $1) }) / n
        let f1 = zip(hypotheses, references).reduce(0.0) { $0 + Text.tokenF1($1.0, $1.1) } / n
        let wer = Text.wordErrorRate(references: references, hypotheses: hypotheses)
        let cer = Text.characterErrorRate(references: references, hypotheses: hypotheses)
        let missing = runs[0].count { $0 == nil }
        let out = JSONOut.object([
            ("task", .string("text")), ("rows", .number(n)), ("missingPredictions", .number(Double(missing))),
            ("exactMatch", .number(exact)), ("normalizedExactMatch", .number(normalized)), ("tokenF1", .number(f1)),
            ("wer", .number(wer)), ("cer", .number(cer)),
        ])
        let rows = [["metric", "value"], ["exact match", HTMLReport.fmt(exact, 4)], ["normalized exact match", HTMLReport.fmt(normalized, 4)],
                    ["token F1", HTMLReport.fmt(f1, 4)], ["WER", HTMLReport.fmt(wer, 4)], ["CER", HTMLReport.fmt(cer, 4)]]
        return (out, "text: \(truth.count) rows, \(missing) without a prediction (counted as empty)\n\n" + layout(rows))
    }

    // MARK: assay report

    static func report(_ args: inout Arguments) throws -> Int32 {
        guard let gtPath = args.option("gt") else { throw UsageError("report needs --gt FILE") }
        let predPaths = args.values("pred")
        guard !predPaths.isEmpty else { throw UsageError("report needs at least one --pred FILE") }
        guard let outPath = args.option("out") else { throw UsageError("report needs --out report.html") }
        let confidence = try number(args.option("confidence"), "confidence", default: 0.5)
        let iou = try number(args.option("iou"), "iou", default: 0.5)
        guard let seed = UInt64(args.option("seed") ?? "0") else { throw UsageError("--seed must be a non-negative integer") }
        guard let resamples = Int(args.option("resamples") ?? "1000"), resamples > 0 else {
            throw UsageError("--resamples must be a positive integer")
        }
        try args.checkAllUsed()
        let names = runNames(predPaths)
        let document: ReportDocument
        if gtPath.hasSuffix(".jsonl") || gtPath.hasSuffix(".ndjson") {
            let (truth, runs) = try loadLabels(gtPath: gtPath, predPaths: predPaths, field: .label)
            let t = try singleLabels(truth, file: gtPath)
            let classificationRuns = try zip(names, zip(predPaths, runs)).map { name, pair in
                ClassificationRun(name: name, predicted: try singleLabels(pair.1, file: pair.0), scores: pair.1.map { $0?.score })
            }
            document = .classification(title: "Assay report: \(basename(gtPath))", ids: truth.map(\.id), truth: t,
                                        runs: classificationRuns, seed: seed, resamples: resamples)
        } else {
            let (dataset, runs) = try loadDetection(gtPath: gtPath, predPaths: predPaths)
            let detectionRuns = zip(names, runs).map { name, detections in
                let (coco, point) = evaluate(dataset, detections, confidence: confidence, iou: iou)
                return DetectionRun(name: name, evaluation: coco, operatingPoint: point)
            }
            document = .detection(title: "Assay report: \(basename(gtPath))", categories: dataset.categories,
                                  runs: detectionRuns, seed: seed, resamples: resamples)
        }
        try writeFile(outPath, Array(HTMLReport.render(document).utf8))
        printOut("wrote \(outPath)")
        return 0
    }

    static func basename(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// Run names from file names without extension, made unique.
    static func runNames(_ paths: [String]) -> [String] {
        var names: [String] = []
        for path in paths {
            var name = basename(path)
            if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
            var unique = name, n = 2
            while names.contains(unique) {
                unique = "\(name) (\(n))"
                n += 1
            }
            names.append(unique)
        }
        return names
    }

    // MARK: Output

    static func scores(_ s: Classification.Scores) -> JSONOut {
        .object([("precision", .number(s.precision)), ("recall", .number(s.recall)), ("f1", .number(s.f1)),
                 ("support", .number(Double(s.support)))])
    }

    static func row(_ label: String, _ s: Classification.Scores) -> [String] {
        [label, HTMLReport.fmt(s.precision, 4), HTMLReport.fmt(s.recall, 4), HTMLReport.fmt(s.f1, 4), String(s.support)]
    }

    /// Columns padded to their widest cell; the first left-aligned, the rest right-aligned.
    static func layout(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// A JSON document for `--json`: objects keep their key order.
indirect enum JSONOut {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONOut])
    case object([(String, JSONOut)])

    mutating func add(_ key: String, _ value: JSONOut) {
        if case .object(var members) = self {
            members.append((key, value))
            self = .object(members)
        }
    }

    var rendered: String {
        switch self {
        case .number(let d):
            guard d.isFinite else { return "null" }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
        case .string(let s): return quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .object(let members): return "{" + members.map { "\(quote($0.0)): \($0.1.rendered)" }.joined(separator: ", ") + "}"
        }
    }

    func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

/// Writes (creating or truncating) a file.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        offset += n
    }
}
