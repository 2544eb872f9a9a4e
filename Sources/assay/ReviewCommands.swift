
import AssayRPC
import AssayWire

/// `assay review create|send|next|submit|status|export`: review projects and working through
/// a review queue in a terminal (docs/review.md).
enum ReviewCommands {
    static let usage = """
        usage: assay review create NAME --ontology ONTOLOGY [--reviewers N] [--instructions TEXT]
                                   [--consensus majority|tie-breaker --tie-breaker KEY_ID]
               assay review send PROJECT (--run RUN | --dataset DATASET | --route RUN [--against RUN] [--max-rows N] [--max-units N]
                                   [--iou T] [--confidence C]) [--map SOURCE_FEATURE=PROJECT_FEATURE ...]
                                   [--conflict keep-existing|override|keep-both] [--priority N] [--request-id ID]
               assay review next PROJECT [--lease SECONDS]
               assay review submit TASK [--accept PRE_LABEL|all ...] [--reject PRE_LABEL ...] [--edit PRE_LABEL=VALUE ...]
                                   [--add FEATURE=VALUE ...] | --skip REASON
                     VALUE: option:NAME  options:NAME,NAME  box:LEFT,TOP,WIDTH,HEIGHT  span:START,END  text:TEXT
               assay review status PROJECT
               assay review export PROJECT [--decisions]   NDJSON on standard output
        """

    static func run(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let ontology = args.option("ontology")
        let reviewers = args.option("reviewers")
        let instructions = args.option("instructions") ?? ""
        let consensus = args.option("consensus")
        let tieBreaker = args.option("tie-breaker") ?? ""
        let runID = args.option("run") ?? ""
        let datasetID = args.option("dataset") ?? ""
        let route = args.option("route")
        let against = args.option("against") ?? ""
        let maxRows = args.option("max-rows")
        let maxUnits = args.option("max-units")
        let iou = args.option("iou")
        let confidence = args.option("confidence")
        let maps = args.values("map")
        let conflict = args.option("conflict")
        let priority = args.option("priority")
        let requestID = args.option("request-id") ?? ""
        let lease = args.option("lease")
        let accepts = args.values("accept")
        let rejects = args.values("reject")
        let edits = args.values("edit")
        let adds = args.values("add")
        let skip = args.option("skip")
        let decisions = args.flag("decisions")
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        let words = args.positional
        guard words.count == 2 else { throw UsageError(usage) }
        switch words[0] {
        case "create":
            guard let ontology else { throw UsageError("review create needs --ontology") }
            let rule: ReviewConsensusRule =
                switch consensus {
                case nil, "majority": .majority
                case "tie-breaker": .tieBreaker
                default: throw UsageError("--consensus is majority or tie-breaker")
                }
            let p = try await client.unary(
                ReviewService.createProject,
                CreateReviewProjectRequest(
                    name: words[1], ontologyId: ontology, reviewersPerRow: try number(reviewers, "--reviewers") ?? 1, instructions: instructions,
                    consensus: rule, tieBreakerKeyId: tieBreaker))
            printOut(json ? p.jsonString() : "\(p.id)  \(p.name)  (\(p.reviewersPerRow) reviewer(s) per row)")
        case "send":
            var request = SendToReviewRequest(projectId: words[1], runId: runID, datasetId: datasetID, priority: try number(priority, "--priority") ?? 0, requestId: requestID)
            if let route {
                request.routing = ReviewRouting(
                    runId: route, otherRunId: against, iouThreshold: try decimal(iou, "--iou") ?? 0,
                    confidenceThresholdPpm: UInt32(((try decimal(confidence, "--confidence") ?? 0) * 1_000_000).rounded()),
                    maxRows: try number(maxRows, "--max-rows") ?? 0, maxUnits: try number(maxUnits, "--max-units") ?? 0)
            }
            for m in maps {
                let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw UsageError("--map takes SOURCE_FEATURE=PROJECT_FEATURE") }
                request.featureMapping.append(ReviewFeatureMapping(sourceFeatureId: parts[0], projectFeatureId: parts[1]))
            }
            switch conflict {
            case nil, "keep-existing": request.conflict = .keepExisting
            case "override": request.conflict = .override
            case "keep-both": request.conflict = .keepBoth
            default: throw UsageError("--conflict is keep-existing, override or keep-both")
            }
            let r = try await client.unary(ReviewService.send, request)
            if json {
                printOut(r.jsonString())
            } else {
                printOut("sent \(r.rowsSent) row(s), \(r.units) review unit(s); \(r.rowsAlreadyQueued) already queued, \(r.rowsKeptExisting) kept (labelled)")
                if route != nil { printOut("routing: \(r.candidates) row(s) qualified, \(r.routed.count) chosen") }
                for row in r.routed {
                    printOut("  \(row.dataRowId)  score \(row.score)\(row.disagreement ? "  disagreement" : "")  min confidence \(row.minConfidencePpm)")
                }
            }
        case "next":
            let r = try await client.unary(
                ReviewService.next, NextReviewTaskRequest(projectId: words[1], leaseSeconds: try number(lease, "--lease") ?? 0))
            guard let task = r.task else {
                printOut(json ? "{}" : "nothing left to review in \(words[1])")
                return 0
            }
            printOut(json ? task.jsonString(pretty: true) : describe(task))
        case "submit":
            var request = SubmitReviewRequest(taskId: words[1])
            if let skip {
                request.skip = true
                request.skipReason = skip
            } else {
                for id in rejects { request.decisions.append(ReviewDecision(preLabelId: id, action: .reject)) }
                for e in edits {
                    let (id, value) = try pair(e, "--edit")
                    request.decisions.append(ReviewDecision(preLabelId: id, action: .edit, label: Label(value: try labelValue(value))))
                }
                for a in adds {
                    let (feature, value) = try pair(a, "--add")
                    request.decisions.append(ReviewDecision(action: .add, label: Label(featureId: feature, value: try labelValue(value))))
                }
                let explicit = accepts.filter { $0 != "all" }
                for id in explicit { request.decisions.append(ReviewDecision(preLabelId: id, action: .accept)) }
                request.acceptUndecided = accepts.contains("all")
            }
            let r = try await client.unary(ReviewService.submit, request)
            printOut(json ? r.jsonString() : (r.rowFinalized ? "submitted; the row is final (agreement \(r.agreement))" : "submitted"))
        case "status":
            let s = try await client.unary(ReviewService.status, ReviewStatusRequest(projectId: words[1]))
            printOut(
                json
                    ? s.jsonString(pretty: true)
                    : """
                    \(s.project?.name ?? words[1]): \(s.rows) row(s), \(s.rowsFinalized) final, \(s.rowsInReview) in review
                    leases held: \(s.leasesHeld), reviews: \(s.reviewsSubmitted), skips: \(s.skips), mean agreement: \(s.meanAgreement)
                    """)
        case "export":
            try await client.serverStreaming(ReviewService.export, ExportReviewRequest(projectId: words[1], includeDecisions: decisions)) { rows in
                for try await row in rows { printOut(row.jsonString()) }
            }
        default:
            throw UsageError(usage)
        }
        return 0
    }

    static func describe(_ t: ReviewTask) -> String {
        var lines = ["task \(t.id)  (lease until \(t.leaseExpiresAtMicros / 1_000_000) s since the epoch)", "row \(t.dataRowId)  \(t.globalKey)"]
        if let row = t.row {
            if !row.text.isEmpty { lines.append("text: \(row.text)") }
            if !row.uri.isEmpty { lines.append("uri: \(row.uri)") }
        }
        if !t.instructions.isEmpty { lines.append("instructions: \(t.instructions)") }
        lines.append("pre-labels (accept, edit or reject each):")
        for p in t.preLabels { lines.append("  \(p.id)  \(p.featureId)  \(p.value.map { $0.jsonString() } ?? "")  confidence \(p.confidencePpm)") }
        for e in t.existingLabels { lines.append("  existing  \(e.featureId)  \(e.value.map { $0.jsonString() } ?? "")") }
        return lines.joined(separator: "\n")
    }

    static func pair(_ text: String, _ flag: String) throws(UsageError) -> (String, String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw UsageError("\(flag) takes NAME=VALUE") }
        return (parts[0], parts[1])
    }

    /// `option:ID`, `options:ID,ID`, `box:L,T,W,H`, `span:S,E`, `text:TEXT`.
    static func labelValue(_ text: String) throws(UsageError) -> LabelValue {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw UsageError("a value is option:ID, options:ID,ID, box:L,T,W,H, span:S,E or text:TEXT") }
        let numbers = parts[1].split(separator: ",").compactMap { Double($0) }
        switch parts[0] {
        case "option": return LabelValue(value: .radioOptionId(parts[1]))
        case "options": return LabelValue(value: .checklist(Checklist(optionIds: parts[1].split(separator: ",").map(String.init))))
        case "box" where numbers.count == 4:
            return LabelValue(value: .boundingBox(BoundingBox(left: numbers[0], top: numbers[1], width: numbers[2], height: numbers[3])))
        case "span" where numbers.count == 2 && numbers.allSatisfy({ $0 >= 0 && $0 < 4e9 }):
            return LabelValue(value: .textSpan(TextSpan(start: UInt32(numbers[0]), end: UInt32(numbers[1]))))
        case "text": return LabelValue(value: .freeText(parts[1]))
        default: throw UsageError("cannot read the value \(text)")
        }
    }

    static func number<T: FixedWidthInteger>(_ text: String?, _ flag: String) throws(UsageError) -> T? {
        guard let text else { return nil }
        guard let n = T(text) else { throw UsageError("\(flag) needs a whole number") }
        return n
    }

    static func decimal(_ text: String?, _ flag: String) throws(UsageError) -> Double? {
        guard let text else { return nil }
        guard let d = Double(text), d.isFinite else { throw UsageError("\(flag) needs a number") }
        return d
    }
}
