import AssayRPC
import AssayWire

/// `assay compare ...` and `assay report RUN ...`: the compare service over stored runs.
enum CompareCommands {
    static func run(_ args: inout Arguments) async throws -> Int32 {
        guard let sub = args.positional.first else { throw UsageError("compare needs evaluate, runs, rank or cell") }
        let words = Array(args.positional.dropFirst())
        let json = args.flag("json")
        let feature = args.option("feature") ?? ""
        let thresholds = try thresholds(&args)
        switch sub {
        case "evaluate":
            guard words.count == 1 else { throw UsageError("compare evaluate takes one RUN") }
            let sliceBy = args.option("slice-by") ?? ""
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await client.unary(
                CompareService.evaluate, EvaluateRequest(runId: words[0], featureId: feature, thresholds: thresholds, sliceBy: sliceBy),
                timeout: .seconds(600))
            if json { printOut(r.jsonString(pretty: true)); return 0 }
            printOut("run \(r.runId): \(r.rows) rows evaluated, \(r.rowsNotPredicted) not predicted")
            for f in r.features { printOut(summary(f)) }
            for s in r.slices {
                printOut("\(r.sliceBy) = \(s.value.isEmpty ? "(none)" : s.value): \(s.rows) rows")
                for f in s.features { printOut("  " + summary(f)) }
            }
        case "runs":
            guard words.count == 2 else { throw UsageError("compare runs takes two runs: FIRST SECOND") }
            let (seed, resamples) = try bootstrap(&args)
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await client.unary(
                CompareService.compareRuns,
                CompareRunsRequest(
                    firstRunId: words[0], secondRunId: words[1], featureId: feature, thresholds: thresholds, seed: seed, resamples: resamples),
                timeout: .seconds(600))
            if json { printOut(r.jsonString(pretty: true)); return 0 }
            printOut("\(r.secondRunId) against \(r.firstRunId) on \(r.rows) shared rows (intervals \(Int(r.confidenceLevel * 100))%)")
            for f in r.features {
                var line = "[\(f.featureIds.joined(separator: ", "))] \(f.kind): agreement \(fmt(f.agreement))"
                if f.hasKappa { line += ", kappa \(fmt(f.kappa))" }
                if f.hasMcnemar, let m = f.mcnemar { line += ", McNemar b \(m.b) c \(m.c) p \(fmt(m.pValue))" }
                printOut(line)
                for d in f.deltas {
                    printOut("  \(d.metric): \(fmt(d.first)) -> \(fmt(d.second)), delta \(fmt(d.delta))"
                        + (d.hasInterval ? " [\(fmt(d.low)), \(fmt(d.high))]" : ""))
                }
            }
        case "rank", "cell":
            let limit = try count(args.option("limit"), "limit", default: 50)
            var request: (RPCClient) async throws -> DiagnosedRows
            if sub == "rank" {
                guard words.count == 1 else { throw UsageError("compare rank takes one RUN") }
                let by = args.option("by") ?? "loss"
                let other = args.option("other") ?? ""
                request = { client in
                    try await client.unary(
                        CompareService.rankRows,
                        RankRowsRequest(runId: words[0], featureId: feature, by: by, otherRunId: other, thresholds: thresholds, pageSize: UInt32(limit)),
                        timeout: .seconds(600))
                }
            } else {
                guard words.count == 3 else { throw UsageError("compare cell takes RUN TRUTH PREDICTED") }
                request = { client in
                    try await client.unary(
                        CompareService.cellRows,
                        CellRowsRequest(runId: words[0], featureId: feature, truth: words[1], predicted: words[2], thresholds: thresholds, pageSize: UInt32(limit)),
                        timeout: .seconds(600))
                }
            }
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await request(client)
            if json { printOut(r.jsonString(pretty: true)); return 0 }
            printOut("\(r.rows.count) of \(r.total) rows")
            for row in r.rows {
                printOut("\(row.globalKey)\t\(fmt(row.value))\ttruth: \(row.truth)\tpredicted: \(row.predicted)" + (row.other.isEmpty ? "" : "\tother: \(row.other)"))
            }
        default:
            throw UsageError("unknown compare command \(sub) (evaluate, runs, rank, cell)")
        }
        return 0
    }

    /// `assay report RUN [RUN ...] --out report.html`: the server renders, this writes the file.
    static func report(_ args: inout Arguments) async throws -> Int32 {
        let runs = args.positional
        guard let out = args.option("out") else { throw UsageError("report needs --out report.html") }
        let feature = args.option("feature") ?? ""
        let title = args.option("title") ?? ""
        let thresholds = try thresholds(&args)
        let (seed, resamples) = try bootstrap(&args)
        let worst = try count(args.option("worst"), "worst", default: 25)
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let request = ReportRequest(
            runIds: runs, featureId: feature, thresholds: thresholds, seed: seed, resamples: resamples, worstRows: UInt32(worst), title: title)
        let bytes = try await client.serverStreaming(CompareService.report, request, timeout: .seconds(600)) { chunks in
            var all: [UInt8] = []
            for try await chunk in chunks { all += chunk.data }
            return all
        }
        try writeFile(out, bytes)
        printOut("wrote \(out)")
        return 0
    }

    static func thresholds(_ args: inout Arguments) throws -> Thresholds {
        var t = Thresholds()
        if let c = args.option("confidence") {
            t.hasConfidence = true
            t.confidence = try MetricsCommands.number(c, "confidence", default: 0.5)
        }
        if let i = args.option("iou") {
            t.hasIou = true
            t.iou = try MetricsCommands.number(i, "iou", default: 0.5)
        }
        return t
    }

    static func bootstrap(_ args: inout Arguments) throws -> (UInt64, UInt32) {
        guard let seed = UInt64(args.option("seed") ?? "0") else { throw UsageError("--seed must be a non-negative integer") }
        guard let resamples = UInt32(args.option("resamples") ?? "1000"), resamples > 0 else {
            throw UsageError("--resamples must be a positive integer")
        }
        return (seed, resamples)
    }

    static func count(_ text: String?, _ name: String, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let v = Int(text), v > 0, v <= 1000 else { throw UsageError("--\(name) must be an integer from 1 to 1000, got \(text)") }
        return v
    }

    static func fmt(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        let scaled = (v * 10000).rounded() / 10000
        return String(scaled)
    }

    static func summary(_ f: FeatureEvaluation) -> String {
        let head = "[\(f.featureIds.joined(separator: ", "))] \(f.kind), \(f.rows) rows: "
        switch f.metrics {
        case .detection(let d)?:
            return head + "AP \(fmt(d.cocoStats.first ?? -1)), AP50 \(fmt(d.cocoStats.count > 1 ? d.cocoStats[1] : -1)), "
                + "P/R/F1 @ conf \(d.confidence) IoU \(d.iou): \(fmt(d.micro?.precision ?? 0))/\(fmt(d.micro?.recall ?? 0))/\(fmt(d.micro?.f1 ?? 0))"
        case .classification(let c)?:
            return head + "accuracy \(fmt(c.accuracy)), macro F1 \(fmt(c.macro?.f1 ?? 0)), weighted F1 \(fmt(c.weighted?.f1 ?? 0))"
        case .multilabel(let m)?:
            return head + "micro F1 \(fmt(m.micro?.f1 ?? 0)), macro F1 \(fmt(m.macro?.f1 ?? 0)), samples F1 \(fmt(m.samples?.f1 ?? 0))"
        case .text(let t)?:
            return head + "exact match \(fmt(t.exactMatch)), token F1 \(fmt(t.tokenF1)), WER \(fmt(t.wer)), CER \(fmt(t.cer))"
        case .spans(let s)?:
            return head + "micro F1 \(fmt(s.micro?.f1 ?? 0)), macro F1 \(fmt(s.macro?.f1 ?? 0))"
        case nil:
            return head + "no metrics"
        }
    }
}
