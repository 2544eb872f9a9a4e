import Dispatch
import AssayAccess
import AssayCatalog
public import AssayCore
import AssayMetrics
public import AssayModels
public import AssayRPC
public import AssayRuns
public import AssayStorage
import AssayWire

/// `assay.v1.Preference`: preference projects, generation and judge runs on the run
/// machinery, human rankings through the review queue, pairs, exports, the leaderboard, and
/// evaluation against reference answers (exact match, token F1, a rubric judge).
/// Every call reads and writes the caller's organisation only.
public struct PreferenceProvider: RPCService {
    let store: any Storage
    let runs: PreferenceRuns
    let clock: @Sendable () -> Timestamp
    public static let maximumResamples = 10_000
    public static let maximumCandidates = 20

    public init(store: any Storage, runs: PreferenceRuns, clock: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.runs = runs
        self.clock = clock
    }

    public func register(in router: inout Router) {
        router.unary(PreferenceService.createProject) { request, context in
            let caller = try context.caller(for: .write)
            return Self.wire(try await create(request, organization: caller.organizationID))
        }
        router.unary(PreferenceService.getProject) { request, context in
            let caller = try context.caller(for: .read)
            return Self.wire(try await project(request.id, caller.organizationID))
        }
        router.unary(PreferenceService.listProjects) { _, context in
            let caller = try context.caller(for: .read)
            return ListPreferenceProjectsResponse(projects: try await store.preferenceProjects(organization: caller.organizationID).map(Self.wire))
        }
        router.unary(PreferenceService.generate) { request, context in
            let caller = try context.caller(for: .write)
            return Self.wire(try await generate(request, organization: caller.organizationID))
        }
        router.unary(PreferenceService.judge) { request, context in
            let caller = try context.caller(for: .write)
            return Self.wire(try await judge(request, organization: caller.organizationID))
        }
        router.unary(PreferenceService.sendToReview) { request, context in
            let caller = try context.caller(for: .write)
            return try await sendToReview(request, organization: caller.organizationID)
        }
        router.unary(PreferenceService.listPairs) { request, context in
            let caller = try context.caller(for: .read)
            let (project, pairs) = try await pairs(
                caller.organizationID, request.projectId, source: request.source, minAgreement: request.minAgreement, minMargin: request.minMargin)
            return ListPreferencePairsResponse(pairs: pairs.map { Self.wire($0, project) })
        }
        router.serverStreaming(PreferenceService.export) { request, writer, context in
            let caller = try context.caller(for: .read)
            let lines = try await export(request, organization: caller.organizationID)
            var buffer: [UInt8] = []
            for line in lines {
                buffer += Array(line.utf8) + [10]
                if buffer.count >= 64 * 1024 {
                    try await writer.write(ExportChunk(data: buffer))
                    buffer = []
                }
            }
            if !buffer.isEmpty { try await writer.write(ExportChunk(data: buffer)) }
        }
        router.unary(PreferenceService.leaderboard) { request, context in
            let caller = try context.caller(for: .read)
            return try await leaderboard(request, organization: caller.organizationID)
        }
        router.unary(PreferenceService.evaluate) { request, context in
            // Writes rubric prompts and may start the judge's run.
            let caller = try context.caller(for: .write)
            return try await evaluate(request, organization: caller.organizationID)
        }
    }

    func project(_ id: String, _ organization: ObjectID) async throws -> AssayCore.PreferenceProject {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "project_id is required") }
        return try await store.preferenceProject(organization: organization, id: ObjectID(rawValue: id))
    }

    // MARK: create

    func create(_ request: CreatePreferenceProjectRequest, organization: ObjectID) async throws -> AssayCore.PreferenceProject {
        guard !request.name.isEmpty, request.name.utf8.count <= 200 else { throw RPCError(.invalidArgument, "a project needs a name of at most 200 bytes") }
        guard request.candidates.count >= (request.evaluation ? 1 : 2) else {
            throw RPCError(
                .invalidArgument,
                request.evaluation
                    ? "an evaluation needs at least one candidate"
                    : "a preference project needs at least two candidates, got \(request.candidates.count)")
        }
        guard request.candidates.count <= Self.maximumCandidates else {
            throw RPCError(.invalidArgument, "a preference project has at most \(Self.maximumCandidates) candidates")
        }
        var candidates: [AssayCore.PreferenceCandidate] = []
        var names = Set<String>()
        for (k, c) in request.candidates.enumerated() {
            let card = try runs.card(c.modelId, field: "candidates[\(k)].model_id")
            guard card.outputKinds.contains(.freeText) else { throw RPCError(.invalidArgument, "candidates[\(k)]: model \(card.id) does not write free text") }
            let name = c.name.isEmpty ? c.modelId : c.name
            guard names.insert(name).inserted else {
                throw RPCError(.invalidArgument, "two candidates are named \(name); name candidates of the same model apart (e.g. by temperature)")
            }
            let parameters = try RunConvert.parameters(c.parameters)
            _ = try runs.resolve(card, parameters, field: "candidates[\(k)].parameters")
            candidates.append(AssayCore.PreferenceCandidate(name: name, modelID: card.id, parameters: parameters))
        }
        var judge: PreferenceJudge? = nil
        if let j = request.judge, !j.modelId.isEmpty {
            let card = try runs.card(j.modelId, field: "judge.model_id")
            guard card.outputKinds.contains(.radio) else { throw RPCError(.invalidArgument, "judge model \(card.id) cannot choose among options") }
            let parameters = try RunConvert.parameters(j.parameters)
            _ = try runs.resolve(card, parameters, field: "judge.parameters")
            let rule: InconsistentVerdictRule
            switch j.inconsistent {
            case .unspecified, .tie: rule = .tie
            case .drop: rule = .drop
            default: throw RPCError(.invalidArgument, "judge.inconsistent \(j.inconsistent.rawValue) is not a rule")
            }
            judge = PreferenceJudge(modelID: card.id, parameters: parameters, inconsistent: rule, instructions: j.instructions)
        }
        let tieRule: AssayCore.PreferenceTieRule
        switch request.tieRule {
        case .unspecified, .drop: tieRule = .drop
        case .kto: tieRule = .kto
        default: throw RPCError(.invalidArgument, "tie_rule \(request.tieRule.rawValue) is not a rule")
        }
        let p = request.prompts ?? RowSelection()
        let selection = try await RowSelector(store: store).resolve(
            organization: organization, ids: p.rowIds, globalKeys: p.globalKeys, dataset: p.datasetId, metadataFilter: p.metadataFilter,
            limit: 1_000_000)
        guard !selection.rowIDs.isEmpty else { throw RPCError(.failedPrecondition, "the prompts select no row") }
        let id = ObjectID.random("pref")
        let ontology = try await store.createOntology(organization: organization, name: "preference \(id.rawValue)", features: PreferenceData.features)
        return try await store.createPreferenceProject(
            AssayCore.PreferenceProject(
                id: id, organizationID: organization, name: request.name, promptRowIDs: selection.rowIDs, candidates: candidates, judge: judge,
                tieRule: tieRule, ontologyID: ontology.id, createdAt: clock()))
    }

    // MARK: runs

    func generate(_ request: GeneratePreferenceRequest, organization: ObjectID) async throws -> AssayCore.PreferenceProject {
        let stored = try await project(request.projectId, organization)
        let ontology = try await store.ontology(organization: organization, id: stored.ontologyID)
        var updated = stored
        var datasets: [ObjectID] = []
        var images = 0
        for id in stored.promptRowIDs.prefix(10_000) {
            if let row = try? await store.row(organization: organization, id: id) {
                if !datasets.contains(row.datasetID) { datasets.append(row.datasetID) }
                if row.mediaType == .image || row.mediaType == .document { images += 1 }
            }
        }
        for (k, c) in stored.candidates.enumerated() where c.runID == nil {
            let run = try await runs.start(
                organization: organization, name: "\(stored.name): \(c.name)", modelID: c.modelID, parameters: c.parameters, ontology: ontology,
                mapping: [AssayCore.ClassMapping(modelClass: PreferenceData.responseFeature, featureID: PreferenceData.responseFeature)],
                rows: stored.promptRowIDs, datasets: datasets, images: images, estimateID: request.estimateId.isEmpty ? nil : request.estimateId,
                requestID: "pref:\(stored.id.rawValue):generate:\(k)")
            updated.candidates[k].runID = run.id
        }
        if updated == stored { return stored }
        return try await store.updatePreferenceProject(updated, expected: stored).project
    }

    func judge(_ request: JudgePreferenceRequest, organization: ObjectID) async throws -> AssayCore.PreferenceProject {
        let stored = try await project(request.projectId, organization)
        guard let judge = stored.judge else { throw RPCError(.failedPrecondition, "project \(stored.id.rawValue) has no judge model") }
        if stored.judgeRunID != nil { return stored }
        for c in stored.candidates {
            guard let id = c.runID else { throw RPCError(.failedPrecondition, "candidate \(c.name) has no generation run yet: call Generate first") }
            let run = try await store.run(organization: organization, id: id)
            guard run.state == .completed else {
                throw RPCError(.failedPrecondition, "candidate \(c.name)'s generation run \(id.rawValue) is \(run.state.rawValue), not completed")
            }
        }
        let data = PreferenceData(store: store, organization: organization)
        let responses = try await data.responses(stored)
        let prompts = try await data.prompts(stored)
        var rows: [NewDataRow] = []
        for row in stored.promptRowIDs {
            guard let prompt = prompts[row] else { continue }
            for i in stored.candidates.indices {
                for j in stored.candidates.indices where i < j {
                    guard let a = responses[i][row], let b = responses[j][row] else { continue }
                    for (first, second, x, y) in [(i, j, a, b), (j, i, b, a)] {
                        rows.append(
                            NewDataRow(
                                globalKey: PreferenceData.judgeKey(project: stored.id, row: row, first: first, second: second), mediaType: .text,
                                text: PreferenceData.judgePrompt(instructions: judge.instructions, prompt: prompt.text, a: x, b: y),
                                metadata: [
                                    "preference_project": stored.id.rawValue, "prompt_row": row.rawValue, "shown_a": stored.candidates[first].name,
                                    "shown_b": stored.candidates[second].name,
                                ]))
                    }
                }
            }
        }
        guard !rows.isEmpty else { throw RPCError(.failedPrecondition, "no prompt has responses from two candidates to judge") }
        let datasetName = "preference \(stored.id.rawValue) judge prompts"
        let dataset: AssayCore.Dataset
        if let existing = try await store.datasets(organization: organization).first(where: { $0.name == datasetName }) {
            dataset = existing
        } else {
            dataset = try await store.createDataset(
                organization: organization, name: datasetName, description: "judge prompts of preference project \(stored.name)")
        }
        var ids: [ObjectID] = []
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(rows.count, start + 1000)])
            ids += try await store.upsertRows(organization: organization, dataset: dataset.id, rows: chunk).map(\.id)
            start += chunk.count
        }
        let ontology = try await store.ontology(organization: organization, id: stored.ontologyID)
        let run = try await runs.start(
            organization: organization, name: "\(stored.name): judge \(judge.modelID)", modelID: judge.modelID, parameters: judge.parameters,
            ontology: ontology, mapping: [AssayCore.ClassMapping(modelClass: PreferenceData.verdictFeature, featureID: PreferenceData.verdictFeature)],
            rows: ids, datasets: [dataset.id], images: 0, estimateID: request.estimateId.isEmpty ? nil : request.estimateId,
            requestID: "pref:\(stored.id.rawValue):judge")
        var updated = stored
        updated.judgeDatasetID = dataset.id
        updated.judgeRunID = run.id
        return try await store.updatePreferenceProject(updated, expected: stored).project
    }

    // MARK: review

    func sendToReview(_ request: SendPreferenceReviewRequest, organization: ObjectID) async throws -> SendPreferenceReviewResponse {
        let stored = try await project(request.projectId, organization)
        guard request.reviewersPerRow <= 10 else { throw RPCError(.invalidArgument, "reviewers_per_row is at most 10") }
        var current = stored
        if current.reviewProjectID == nil {
            let review = try await store.createReviewProject(
                ReviewProject(
                    id: .random("rvp"), organizationID: organization, name: "preference \(stored.name)", ontologyID: stored.ontologyID,
                    reviewersPerRow: max(1, Int(request.reviewersPerRow)),
                    instructions: request.instructions.isEmpty
                        ? "Read the prompt and the responses (pre-labels shown_a, shown_b, …: responses A, B, …). Accept them and add a "
                            + "\"ranking\" label, best first, e.g. \"B > A = D > C\" (= for a tie), and optionally a \"rationale\" label."
                        : request.instructions,
                    consensus: .majority, tieBreakerKeyID: nil, createdAt: clock()))
            var updated = stored
            updated.reviewProjectID = review.id
            current = try await store.updatePreferenceProject(updated, expected: stored).project
        }
        let reviewProject = current.reviewProjectID!
        let responses = try await PreferenceData(store: store, organization: organization).responses(current)
        var generator = SplitMix64(seed: request.seed)
        var rows: [NewReviewRow] = []
        var without = 0
        let now = clock()
        for row in current.promptRowIDs {
            var shown = current.candidates.indices.filter { responses[$0][row] != nil }
            guard shown.count >= 2 else {
                without += 1
                continue
            }
            // Fisher-Yates with the seeded generator: the order shown is random and reproducible.
            for k in stride(from: shown.count - 1, to: 0, by: -1) { shown.swapAt(k, generator.index(below: k + 1)) }
            let labels = shown.enumerated().map { position, k in
                Label(
                    id: .random("prl_c\(k)"), dataRowID: row, ontologyID: current.ontologyID, featureID: PreferenceData.shownFeature(position),
                    value: .freeText(responses[k][row]!), modelRunID: current.candidates[k].runID, createdAt: now)
            }
            rows.append(NewReviewRow(rowID: row, preLabels: labels, priority: 0, conflict: .keepBoth, sourceRunID: nil))
        }
        let queued = try await store.queueReviewRows(
            organization: organization, project: reviewProject, sendID: "pref:\(current.id.rawValue)", rows: rows, at: now)
        return SendPreferenceReviewResponse(
            reviewProjectId: reviewProject.rawValue, rowsSent: UInt64(queued.queued), rowsAlreadyQueued: UInt64(queued.alreadyQueued),
            rowsWithoutResponses: UInt64(without))
    }

    // MARK: pairs, exports, leaderboard

    func votes(_ project: AssayCore.PreferenceProject, source: PreferenceSource, organization: ObjectID) async throws
        -> (votes: [Vote], verdicts: [JudgeVerdicts])
    {
        let data = PreferenceData(store: store, organization: organization)
        var votes: [Vote] = []
        var verdicts: [JudgeVerdicts] = []
        switch source {
        case .unspecified, .all, .judge, .human: break
        default: throw RPCError(.invalidArgument, "source \(source.rawValue) is not a source")
        }
        if source != .human, let judge = project.judge {
            verdicts = try await data.judgeVerdicts(project)
            votes += verdicts.compactMap { Judgments.vote($0, judge: judge.modelID, rule: judge.inconsistent) }
        }
        if source != .judge { votes += try await data.humanVotes(project) }
        return (votes, verdicts)
    }

    func pairs(_ organization: ObjectID, _ id: String, source: PreferenceSource, minAgreement: Double, minMargin: UInt32) async throws
        -> (AssayCore.PreferenceProject, [Judgments.Pair])
    {
        guard minAgreement >= 0, minAgreement <= 1 else { throw RPCError(.invalidArgument, "min_agreement must be in [0, 1], got \(minAgreement)") }
        let project = try await project(id, organization)
        let (votes, _) = try await votes(project, source: source, organization: organization)
        return (project, Judgments.pairs(votes, minAgreement: minAgreement, minMargin: Int(minMargin)))
    }

    func export(_ request: ExportPreferenceRequest, organization: ObjectID) async throws -> [String] {
        let format: PreferenceExport.Format
        switch request.format {
        case .unspecified, .assay: format = .assay
        case .trl: format = .trl
        case .trlConversational: format = .trlConversational
        case .kto: format = .kto
        case .openai: format = .openai
        case .anthropicHh: format = .anthropicHH
        default: throw RPCError(.invalidArgument, "format \(request.format.rawValue) is not an export format")
        }
        let (project, pairs) = try await pairs(
            organization, request.projectId, source: request.source, minAgreement: request.minAgreement, minMargin: request.minMargin)
        let data = PreferenceData(store: store, organization: organization)
        let context = PreferenceExport.Context(
            prompts: try await data.prompts(project), responses: try await data.responses(project), candidates: project.candidates,
            tieRule: project.tieRule)
        return pairs.flatMap { PreferenceExport.lines($0, format: format, context: context) }
    }

    func leaderboard(_ request: PreferenceLeaderboardRequest, organization: ObjectID) async throws -> AssayWire.PreferenceLeaderboard {
        guard request.resamples <= Self.maximumResamples else { throw RPCError(.invalidArgument, "resamples is at most \(Self.maximumResamples)") }
        let project = try await project(request.projectId, organization)
        let names = project.candidates.map(\.name)
        if !request.anchor.isEmpty, !names.contains(request.anchor) {
            throw RPCError(.invalidArgument, "anchor \(request.anchor) is not a candidate (\(names.joined(separator: ", ")))")
        }
        let (votes, verdicts) = try await votes(project, source: request.source, organization: organization)
        let battles = votes.map { v in
            Battle(
                modelA: names[v.first], modelB: names[v.second],
                winner: v.winner == nil ? .tie : (v.winner == v.first ? .modelA : .modelB))
        }
        guard !battles.isEmpty else { throw RPCError(.failedPrecondition, "project \(project.id.rawValue) has no judgments yet") }
        let resamples = request.resamples == 0 ? 1000 : Int(request.resamples)
        let anchor = request.anchor.isEmpty ? nil : request.anchor
        let seed = request.seed
        let result: Result<Leaderboard, BradleyTerryError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(BradleyTerryError) in
                    try Leaderboard.build(battles, anchor: anchor, resamples: resamples, seed: seed)
                })
            }
        }
        let board: Leaderboard
        switch result {
        case .success(let b): board = b
        case .failure(let e): throw RPCError(.failedPrecondition, "\(e)")
        }
        let bias = Judgments.positionBias(verdicts)
        return AssayWire.PreferenceLeaderboard(
            ratings: board.entries.map { e in
                PreferenceRating(
                    candidate: e.model, rating: e.rating, hasInterval: e.lower != nil, lower_: e.lower ?? 0, upper: e.upper ?? 0,
                    battles: UInt64(e.battles), wins: UInt64(e.wins), losses: UInt64(e.losses), ties: UInt64(e.ties))
            },
            candidates: board.models,
            winRates: board.models.indices.map { i in
                PreferenceWinRates(candidate: board.models[i], winRates: board.winRates[i].map { $0 ?? -1 })
            },
            positionBias: PreferencePositionBias(
                judgedPairs: UInt64(bias.judgedPairs), consistent: UInt64(bias.consistent), consistency: bias.consistency,
                firstShownWins: UInt64(bias.firstShownWins), secondShownWins: UInt64(bias.secondShownWins), ties: UInt64(bias.ties),
                firstShownRate: bias.firstShownRate),
            confidence: board.confidence, resamples: UInt32(resamples), seed: seed, degenerateResamples: UInt64(board.degenerateResamples),
            battles: UInt64(battles.count))
    }

    // MARK: wire

    static func wire(_ p: AssayCore.PreferenceProject) -> AssayWire.PreferenceProject {
        var judge: PreferenceJudgeConfig? = nil
        if let j = p.judge {
            judge = PreferenceJudgeConfig(
                modelId: j.modelID, parameters: j.parameters.mapValues(RunConvert.parameter), inconsistent: j.inconsistent == .drop ? .drop : .tie,
                instructions: j.instructions)
        }
        return AssayWire.PreferenceProject(
            id: p.id.rawValue, name: p.name, promptRowIds: p.promptRowIDs.map(\.rawValue),
            candidates: p.candidates.map {
                AssayWire.PreferenceCandidate(
                    name: $0.name, modelId: $0.modelID, parameters: $0.parameters.mapValues(RunConvert.parameter), runId: $0.runID?.rawValue ?? "")
            },
            judge: judge, tieRule: p.tieRule == .kto ? .kto : .drop, ontologyId: p.ontologyID.rawValue,
            judgeDatasetId: p.judgeDatasetID?.rawValue ?? "", judgeRunId: p.judgeRunID?.rawValue ?? "",
            reviewProjectId: p.reviewProjectID?.rawValue ?? "", createdAtMicros: p.createdAt)
    }

    static func wire(_ pair: Judgments.Pair, _ project: AssayCore.PreferenceProject) -> AssayWire.PreferencePair {
        let names = project.candidates.map(\.name)
        return AssayWire.PreferencePair(
            promptRowId: pair.promptRowID.rawValue, chosen: names[pair.chosen], rejected: names[pair.rejected], tie: pair.tie,
            agreement: pair.agreement, margin: UInt32(pair.margin),
            votes: pair.votes.map { v in
                PreferenceVote(
                    source: v.source.rawValue, annotator: v.annotator, winner: v.winner.map { names[$0] } ?? "", margin: UInt32(v.margin),
                    shown: v.shown.map { names[$0] }, firstVerdict: v.firstVerdict, secondVerdict: v.secondVerdict, consistent: v.consistent,
                    rationale: v.rationale, taskId: v.taskID)
            })
    }
}
