import AssayRPC
import AssayWire

#if canImport(Glibc)
    import Glibc
#endif

/// `assay pref create|list|show|generate|judge|review|pairs|export|leaderboard`: preference
/// projects over the preference service (docs/preference.md).
enum PreferenceCommands {
    static let usage = """
        usage: assay pref create NAME --candidate NAME=MODEL[,PARAM=VALUE...] --candidate ...
                                 (--dataset ID [--where KEY=VALUE...] | --row ID... | --key GLOBAL_KEY...)
                                 [--judge MODEL[,PARAM=VALUE...]] [--inconsistent tie|drop]
                                 [--judge-instructions TEXT] [--tie-rule drop|kto]
               assay pref list | show PROJECT
               assay pref generate PROJECT [--estimate ID] [--watch]   one run per candidate
               assay pref judge PROJECT [--estimate ID] [--watch]      the judge model over every pair, in both orders
               assay pref review PROJECT [--reviewers N] [--seed N] [--instructions TEXT]   rank the responses in review
               assay pref pairs PROJECT [--source all|judge|human] [--min-agreement X] [--min-margin N]
               assay pref export PROJECT [--format assay|trl|trl_conversational|kto|openai|anthropic_hh] [--source ...]
                                 [--min-agreement X] [--min-margin N] [--out FILE]   one JSON object per line
               assay pref leaderboard PROJECT [--source ...] [--anchor CANDIDATE] [--seed N] [--resamples N]
        """

    static func run(_ args: inout Arguments) async throws -> Int32 {
        guard let verb = args.positional.first else { throw UsageError(usage) }
        let words = Array(args.positional.dropFirst())
        let json = args.flag("json")
        switch verb {
        case "create":
            guard words.count == 1 else { throw UsageError("pref create takes one NAME\n\(usage)") }
            let request = try createRequest(name: words[0], &args)
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let p = try await client.unary(PreferenceService.createProject, request, timeout: .seconds(120))
            printOut(json ? p.jsonString() : describe(p))
        case "list":
            guard words.isEmpty else { throw UsageError("pref list takes no arguments") }
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await client.unary(
                PreferenceService.listProjects, ListPreferenceProjectsRequest(), timeout: .seconds(30))
            if json {
                printOut(r.jsonString(pretty: true))
            } else {
                for p in r.projects {
                    printOut(
                        "\(p.id)  \(p.name)  \(p.promptRowIds.count) prompts  \(p.candidates.map(\.name).joined(separator: ", "))"
                    )
                }
            }
        case "show":
            let id = try project(words, verb)
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let p = try await client.unary(
                PreferenceService.getProject, GetPreferenceProjectRequest(id: id), timeout: .seconds(30))
            printOut(json ? p.jsonString(pretty: true) : describe(p))
        case "generate", "judge":
            let id = try project(words, verb)
            let estimate = args.option("estimate") ?? ""
            let watch = args.flag("watch")
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let p =
                verb == "generate"
                ? try await client.unary(
                    PreferenceService.generate, GeneratePreferenceRequest(projectId: id, estimateId: estimate),
                    timeout: .seconds(600))
                : try await client.unary(
                    PreferenceService.judge, JudgePreferenceRequest(projectId: id, estimateId: estimate),
                    timeout: .seconds(600))
            let runs =
                verb == "generate"
                ? p.candidates.map { ($0.name, $0.runId) } : [("judge \(p.judge?.modelId ?? "")", p.judgeRunId)]
            if json && !watch { printOut(p.jsonString()) }
            if !json {
                for (name, run) in runs { printOut("\(name): run \(run)") }
            }
            guard watch else { return 0 }
            var status: Int32 = 0
            for (_, run) in runs {
                if try await RunCommands.follow(client, run, quiet: json) != 0 { status = 1 }
            }
            return status
        case "review":
            let id = try project(words, verb)
            let reviewers: UInt32 = try ReviewCommands.number(args.option("reviewers"), "--reviewers") ?? 1
            let seed: UInt64 = try ReviewCommands.number(args.option("seed"), "--seed") ?? 0
            let instructions = args.option("instructions") ?? ""
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await client.unary(
                PreferenceService.sendToReview,
                SendPreferenceReviewRequest(
                    projectId: id, reviewersPerRow: reviewers, seed: seed, instructions: instructions),
                timeout: .seconds(120))
            printOut(
                json
                    ? r.jsonString()
                    : "review project \(r.reviewProjectId): \(r.rowsSent) prompt(s) sent, \(r.rowsAlreadyQueued) already queued, "
                        + "\(r.rowsWithoutResponses) without two responses")
        case "pairs":
            let id = try project(words, verb)
            let (source, minAgreement, minMargin) = try filters(&args)
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let r = try await client.unary(
                PreferenceService.listPairs,
                ListPreferencePairsRequest(
                    projectId: id, source: source, minAgreement: minAgreement, minMargin: minMargin),
                timeout: .seconds(120))
            if json {
                printOut(r.jsonString(pretty: true))
            } else {
                for p in r.pairs {
                    let verdict = p.tie ? "\(p.chosen) = \(p.rejected)" : "\(p.chosen) > \(p.rejected)"
                    printOut(
                        "\(p.promptRowId)  \(verdict)  agreement \(CompareCommands.fmt(p.agreement))  margin \(p.margin)  \(p.votes.count) vote(s)"
                    )
                }
                printOut("\(r.pairs.count) pair(s)")
            }
        case "export":
            let id = try project(words, verb)
            let format = try exportFormat(args.option("format"))
            let (source, minAgreement, minMargin) = try filters(&args)
            let out = args.option("out")
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let request = ExportPreferenceRequest(
                projectId: id, format: format, source: source, minAgreement: minAgreement, minMargin: minMargin)
            let bytes = try await client.serverStreaming(PreferenceService.export, request, timeout: .seconds(600)) {
                chunks in
                var all: [UInt8] = []
                for try await chunk in chunks { all += chunk.data }
                return all
            }
            if let out {
                try writeFile(out, bytes)
                printOut(
                    json
                        ? "{\"path\":\"\(out)\",\"lines\":\(bytes.filter { $0 == 10 }.count)}"
                        : "wrote \(bytes.filter { $0 == 10 }.count) line(s) to \(out)")
            } else {
                var offset = 0
                while offset < bytes.count {
                    let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                    guard n > 0 else { throw UsageError("write failed: \(String(cString: strerror(errno)))") }
                    offset += n
                }
            }
        case "leaderboard":
            let id = try project(words, verb)
            let (source, _, _) = try filters(&args, only: true)
            let anchor = args.option("anchor") ?? ""
            let seed = try LeaderboardCommand.integer(args.option("seed"), "seed", default: 0)
            let resamples = try LeaderboardCommand.integer(args.option("resamples"), "resamples", default: 1000)
            guard resamples >= 1, resamples <= 10_000 else { throw UsageError("--resamples must be from 1 to 10000") }
            let client = try await ClientCommands.connect(&args)
            try args.checkAllUsed()
            defer { client.close() }
            let board = try await client.unary(
                PreferenceService.leaderboard,
                PreferenceLeaderboardRequest(
                    projectId: id, source: source, anchor: anchor, seed: seed, resamples: UInt32(resamples)),
                timeout: .seconds(600))
            printOut(json ? board.jsonString(pretty: true) : table(board))
        default:
            throw UsageError("unknown pref command \(verb)\n\(usage)")
        }
        return 0
    }

    static let evalUsage = """
        usage: assay eval PROJECT [--reference-key KEY] [--judge MODEL[,PARAM=VALUE...] [--rubric TEXT]] [--estimate ID]
                          [--watch] [--per-row]
               assay eval --candidate NAME=MODEL[,PARAM=VALUE...] ...
                          (--dataset ID [--where KEY=VALUE...] | --row ID... | --key KEY...)
                          [--name NAME] [--reference-key KEY] [--judge ...] [--rubric TEXT] [--per-row]
                     the second form creates a project, generates (waiting for the runs) and evaluates, --watch implied
        """

    /// `assay eval`: candidates' responses scored against the rows' reference answers, and by a
    /// rubric judge (docs/preference.md).
    static func evaluate(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let showRows = args.flag("per-row")
        var watch = args.flag("watch")
        let referenceKey = args.option("reference-key") ?? ""
        let estimate = args.option("estimate") ?? ""
        var rubric: EvaluationRubric?
        let criteria = args.option("rubric")
        if let judge = args.option("judge") {
            let j = try candidate(judge)
            guard j.name.isEmpty else { throw UsageError("--judge takes MODEL[,PARAM=VALUE...]") }
            rubric = EvaluationRubric(judgeModelId: j.modelId, parameters: j.parameters, criteria: criteria ?? "")
        } else if criteria != nil {
            throw UsageError("--rubric needs --judge MODEL")
        }
        var create: CreatePreferenceProjectRequest?
        if args.positional.isEmpty {
            let name = args.option("name") ?? "eval"
            create = CreatePreferenceProjectRequest(name: name, prompts: try RunCommands.selection(&args))
            create!.candidates = try args.values("candidate").map(candidate)
            guard !create!.candidates.isEmpty else {
                throw UsageError("eval needs a PROJECT, or --candidate and the prompts\n\(evalUsage)")
            }
            create!.evaluation = true  // one candidate is enough
            watch = true
        } else if args.positional.count != 1 {
            throw UsageError(evalUsage)
        }
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        var projectID = args.positional.first ?? ""
        if let create {
            let p = try await client.unary(PreferenceService.createProject, create, timeout: .seconds(120))
            projectID = p.id
            if !json { printOut("created preference project \(p.id)") }
            let generated = try await client.unary(
                PreferenceService.generate, GeneratePreferenceRequest(projectId: p.id, estimateId: estimate),
                timeout: .seconds(600))
            for c in generated.candidates {
                if !json { printOut("\(c.name): run \(c.runId)") }
                guard try await RunCommands.follow(client, c.runId, quiet: true, silent: true) == 0 else {
                    printError(
                        "assay: \(c.name)'s generation run \(c.runId) did not complete (see assay run rows \(c.runId) --failed)"
                    )
                    return 1
                }
            }
        }
        let request = EvaluatePreferenceRequest(
            projectId: projectID, referenceKey: referenceKey, rubric: rubric, estimateId: estimate,
            includeRows: showRows)
        var result = try await client.unary(PreferenceService.evaluate, request, timeout: .seconds(600))
        if !result.rubricRunId.isEmpty && result.rubricRunState != .completed && watch {
            if !json { printOut("rubric: run \(result.rubricRunId)") }
            _ = try await RunCommands.follow(client, result.rubricRunId, quiet: true, silent: true)
            result = try await client.unary(PreferenceService.evaluate, request, timeout: .seconds(600))
        }
        printOut(json ? result.jsonString(pretty: true) : describe(result, rows: showRows))
        if !result.rubricRunId.isEmpty && result.rubricRunState != .completed {
            return result.rubricRunState == .queued || result.rubricRunState == .running ? 0 : 1
        }
        return 0
    }

    static func describe(_ e: PreferenceEvaluation, rows: Bool) -> String {
        var lines = [
            "project \(e.projectId): \(e.rowsWithReference) prompt row(s) with a reference answer (\"\(e.referenceKey)\"), "
                + "\(e.rowsWithoutReference) without"
        ]
        if !e.rubricRunId.isEmpty {
            let state = RunCommands.stateName(e.rubricRunState)
            lines.append(
                "rubric: run \(e.rubricRunId) \(state)"
                    + (e.rubricRunState == .completed ? "" : "; scores so far (add --watch to wait)"))
        }
        let header =
            ["candidate", "rows", "missing", "exact match", "token F1"]
            + (e.rubricRunId.isEmpty ? [] : ["rubric mean", "scored", "1-5 counts"])
        var table = [header]
        for c in e.candidates {
            var cells = [
                c.candidate, "\(c.rows)", "\(c.missing)", CompareCommands.fmt(c.exactMatch),
                CompareCommands.fmt(c.tokenF1),
            ]
            if !e.rubricRunId.isEmpty {
                cells += [
                    c.rubricScored > 0 ? CompareCommands.fmt(c.rubricMean) : "-", "\(c.rubricScored)",
                    c.rubricCounts.map(String.init).joined(separator: "/"),
                ]
            }
            table.append(cells)
        }
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        for row in table {
            lines.append(
                row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
        }
        if rows {
            for r in e.rows {
                let rubric = r.rubricScore > 0 ? "  rubric \(r.rubricScore)" : ""
                lines.append(
                    "\(r.promptRowId)  \(r.candidate)  EM \(r.exactMatch ? 1 : 0)  F1 \(CompareCommands.fmt(r.tokenF1))\(rubric)  "
                        + "response: \(r.response.isEmpty ? "(none)" : r.response)  reference: \(r.reference)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func project(_ words: [String], _ verb: String) throws(UsageError) -> String {
        guard words.count == 1 else { throw UsageError("pref \(verb) takes one PROJECT") }
        return words[0]
    }

    /// `NAME=MODEL[,PARAM=VALUE...]` (or `MODEL[,PARAM=VALUE...]`, named after the model).
    static func candidate(_ text: String) throws -> AssayWire.PreferenceCandidate {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let head = parts.removeFirst()
        var c = AssayWire.PreferenceCandidate()
        if let eq = head.firstIndex(of: "=") {
            c.name = String(head[..<eq])
            c.modelId = String(head[head.index(after: eq)...])
        } else {
            c.modelId = head
        }
        guard !c.modelId.isEmpty, c.name.isEmpty == !head.contains("=") else {
            throw UsageError("--candidate takes NAME=MODEL[,PARAM=VALUE...], got \(text)")
        }
        for p in parts {
            let (name, value) = try RunCommands.parameter(p)
            c.parameters[name] = value
        }
        return c
    }

    static func createRequest(name: String, _ args: inout Arguments) throws -> CreatePreferenceProjectRequest {
        var request = CreatePreferenceProjectRequest(name: name, prompts: try RunCommands.selection(&args))
        request.candidates = try args.values("candidate").map(candidate)
        guard request.candidates.count >= 2 else { throw UsageError("pref create needs at least two --candidate") }
        let instructions = args.option("judge-instructions") ?? ""
        let inconsistent = args.option("inconsistent")
        if let judge = args.option("judge") {
            let j = try candidate(judge)
            guard j.name.isEmpty else { throw UsageError("--judge takes MODEL[,PARAM=VALUE...]") }
            request.judge = PreferenceJudgeConfig(
                modelId: j.modelId, parameters: j.parameters, instructions: instructions)
            switch inconsistent {
            case nil, "tie": request.judge?.inconsistent = .tie
            case "drop": request.judge?.inconsistent = .drop
            default: throw UsageError("--inconsistent is tie or drop")
            }
        } else if inconsistent != nil || !instructions.isEmpty {
            throw UsageError("--inconsistent and --judge-instructions need --judge")
        }
        switch args.option("tie-rule") {
        case nil, "drop": request.tieRule = .drop
        case "kto": request.tieRule = .kto
        default: throw UsageError("--tie-rule is drop or kto")
        }
        guard
            !request.prompts!.datasetId.isEmpty || !request.prompts!.rowIds.isEmpty
                || !request.prompts!.globalKeys.isEmpty
        else {
            throw UsageError("pref create needs prompts: --dataset ID, --row ID or --key GLOBAL_KEY")
        }
        return request
    }

    static func filters(_ args: inout Arguments, only sourceOnly: Bool = false) throws -> (
        PreferenceSource, Double, UInt32
    ) {
        let source: PreferenceSource
        switch args.option("source") {
        case nil, "all": source = .all
        case "judge": source = .judge
        case "human": source = .human
        case let other?: throw UsageError("--source is all, judge or human, not \(other)")
        }
        if sourceOnly { return (source, 0, 0) }
        var agreement = 0.0
        if let text = args.option("min-agreement") {
            guard let d = Double(text), d >= 0, d <= 1 else {
                throw UsageError("--min-agreement must be a number from 0 to 1, got \(text)")
            }
            agreement = d
        }
        let margin: UInt32 = try ReviewCommands.number(args.option("min-margin"), "--min-margin") ?? 0
        return (source, agreement, margin)
    }

    static func exportFormat(_ text: String?) throws(UsageError) -> PreferenceExportFormat {
        switch text {
        case nil, "assay": .assay
        case "trl": .trl
        case "trl_conversational": .trlConversational
        case "kto": .kto
        case "openai": .openai
        case "anthropic_hh": .anthropicHh
        case let other?:
            throw UsageError("--format is assay, trl, trl_conversational, kto, openai or anthropic_hh, not \(other)")
        }
    }

    static func describe(_ p: AssayWire.PreferenceProject) -> String {
        var lines = [
            "\(p.id)  \(p.name)  \(p.promptRowIds.count) prompt(s), tie rule \(p.tieRule == .kto ? "kto" : "drop")"
        ]
        for c in p.candidates {
            let parameters = c.parameters.keys.sorted().map { "\($0)=\(RunCommands.describe(c.parameters[$0]!))" }
                .joined(separator: ",")
            lines.append(
                "  candidate \(c.name): \(c.modelId)\(parameters.isEmpty ? "" : " (\(parameters))")  run \(c.runId.isEmpty ? "-" : c.runId)"
            )
        }
        if let j = p.judge {
            lines.append(
                "  judge \(j.modelId) (inconsistent verdicts: \(j.inconsistent == .drop ? "dropped" : "ties"))  run \(p.judgeRunId.isEmpty ? "-" : p.judgeRunId)"
            )
        }
        if !p.reviewProjectId.isEmpty { lines.append("  review project \(p.reviewProjectId)") }
        return lines.joined(separator: "\n")
    }

    static func table(_ board: PreferenceLeaderboard) -> String {
        func f(_ d: Double) -> String { "\((d * 10).rounded() / 10)" }
        var lines = [
            "\(board.battles) battles, \(Int((board.confidence * 100).rounded()))% intervals from \(board.resamples) resamples (seed \(board.seed))"
        ]
        for (i, r) in board.ratings.enumerated() {
            let interval = r.hasInterval ? "[\(f(r.lower_)), \(f(r.upper))]" : "-"
            lines.append("\(i + 1). \(r.candidate)  \(f(r.rating))  \(interval)  W-L-T \(r.wins)-\(r.losses)-\(r.ties)")
        }
        if let b = board.positionBias, b.judgedPairs > 0 {
            lines.append(
                "judge: \(b.consistent)/\(b.judgedPairs) consistent, first shown wins \(CompareCommands.fmt(b.firstShownRate)) of verdicts"
            )
        }
        if board.degenerateResamples > 0 {
            lines.append("\(board.degenerateResamples) resample(s) without ratings left out")
        }
        return lines.joined(separator: "\n")
    }
}
