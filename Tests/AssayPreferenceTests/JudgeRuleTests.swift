import AssayCore
import AssayModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

@testable import AssayPreference

/// The project's rules on judge verdicts and ties, and the pair filters, on deterministic
/// judges (no LLM): a judge that is consistent across orders, and one that always answers A.
@Suite("Judge rules, tie rules and pair filters")
struct JudgeRuleTests {
    static let prompts = ["What is rain?", "Name a prime."]
    static let styles = ["terse", "plain", "verbose"]

    func harness() async throws -> ServerHarness {
        try await ServerHarness.start(
            models: ModelRegistry(providers: [StyleWriter(), ScriptedJudge()]), billing: AdmitAll())
    }

    @Test("a consistent judge: decided pairs and ties; the KTO tie rule emits both responses of a tie as desirable")
    func consistentJudgeWithKTOTies() async throws {
        let h = try await harness()
        defer { Task { await h.stop() } }
        let (client, project) = try await generatedProject(
            h, prompts: Self.prompts, styles: Self.styles, judgeRule: "prefer:verbose", tieRule: .kto)
        let judged = try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: project.id))
        let run = try await waitCompleted(client, judged.judgeRunId)
        #expect(run.progress?.total == 12)  // 2 prompts x 3 pairs x 2 orders

        let pairs = try await client.unary(
            PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .judge)
        ).pairs
        #expect(pairs.count == 6)
        let ties = pairs.filter(\.tie)
        let decided = pairs.filter { !$0.tie }
        #expect(ties.count == 2 && ties.allSatisfy { Set([$0.chosen, $0.rejected]) == ["terse", "plain"] })
        #expect(
            decided.count == 4 && decided.allSatisfy { $0.chosen == "verbose" && $0.agreement == 1 && $0.margin == 1 })
        for p in pairs {
            #expect(p.votes.count == 1 && p.votes[0].consistent && p.votes[0].annotator == "scripted-judge")
            #expect(Set([p.votes[0].firstVerdict, p.votes[0].secondVerdict]) == (p.tie ? ["tie"] : ["A", "B"]))
        }

        let kto = try await exportLines(client, project.id, .kto)
        #expect(kto.count == 12)  // 4 decided pairs -> true + false, 2 ties -> true + true
        for line in kto { try validate(line, .kto) }
        let undesirable = kto.filter { $0["label"] as? Bool == false }.compactMap { $0["completion"] as? String }
        #expect(undesirable.count == 4 && undesirable.allSatisfy { !$0.hasPrefix("verbose") })
        let desirable = kto.filter { $0["label"] as? Bool == true }.compactMap { $0["completion"] as? String }
        #expect(desirable.filter { $0.hasPrefix("verbose") }.count == 4)
        #expect(desirable.filter { $0.hasPrefix("terse") || $0.hasPrefix("plain") }.count == 4)

        for format in [PreferenceExportFormat.trl, .trlConversational, .openai, .anthropicHh, .assay] {
            let lines = try await exportLines(client, project.id, format)
            #expect(lines.count == (format == .assay ? 6 : 4), "\(format.rawValue)")
            for line in lines { try validate(line, format) }
        }
        let trl = try await exportLines(client, project.id, .trl)
        #expect(trl.allSatisfy { ($0["chosen"] as? String)?.hasPrefix("verbose answer to:") == true })

        // verbose never lost: Bradley-Terry ratings do not exist, and the refusal says why.
        await #expect {
            _ = try await client.unary(
                PreferenceService.leaderboard, PreferenceLeaderboardRequest(projectId: project.id, resamples: 50))
        } throws: { error in
            guard let e = error as? RPCError else { return false }
            return e.code == .failedPrecondition && e.message.contains("verbose never lost")
        }
    }

    @Test("the drop tie rule: ties are in no export but Assay's own")
    func dropTieRule() async throws {
        let h = try await harness()
        defer { Task { await h.stop() } }
        let (client, project) = try await generatedProject(
            h, prompts: Self.prompts, styles: Self.styles, judgeRule: "prefer:verbose", tieRule: .drop)
        _ = try await waitCompleted(
            client,
            try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: project.id)).judgeRunId)
        let kto = try await exportLines(client, project.id, .kto)
        #expect(kto.count == 8)
        #expect(kto.filter { $0["label"] as? Bool == true }.count == 4)
        #expect(try await exportLines(client, project.id, .assay).filter { $0["tie"] as? Bool == true }.count == 2)
    }

    @Test("a judge that always answers A: inconsistent verdicts are dropped, or become ties, per the project's rule")
    func inconsistentVerdicts() async throws {
        let h = try await harness()
        defer { Task { await h.stop() } }
        let (client, dropped) = try await generatedProject(
            h, prompts: Self.prompts, styles: Self.styles, judgeRule: "first", inconsistent: .drop)
        _ = try await waitCompleted(
            client,
            try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: dropped.id)).judgeRunId)
        #expect(
            try await client.unary(
                PreferenceService.listPairs, ListPreferencePairsRequest(projectId: dropped.id, source: .judge)
            ).pairs.isEmpty)
        for format in [PreferenceExportFormat.trl, .kto, .assay] {
            #expect(try await exportLines(client, dropped.id, format).isEmpty, "\(format.rawValue)")
        }
        await #expect {
            _ = try await client.unary(
                PreferenceService.leaderboard, PreferenceLeaderboardRequest(projectId: dropped.id, resamples: 50))
        } throws: { error in
            (error as? RPCError).map { $0.code == .failedPrecondition && $0.message.contains("no judgments yet") }
                ?? false
        }

        // The same judge under the tie rule: every pair is a tie, recorded as inconsistent.
        var request = CreatePreferenceProjectRequest(
            name: "ties", prompts: RowSelection(rowIds: dropped.promptRowIds),
            candidates: dropped.candidates.map {
                AssayWire.PreferenceCandidate(name: $0.name, modelId: $0.modelId, parameters: $0.parameters)
            })
        request.judge = PreferenceJudgeConfig(
            modelId: "scripted-judge", parameters: ["rule": ParameterValue(value: .string("first"))], inconsistent: .tie
        )
        let tied = try await client.unary(PreferenceService.createProject, request)
        let generated = try await client.unary(
            PreferenceService.generate, GeneratePreferenceRequest(projectId: tied.id))
        for c in generated.candidates { _ = try await waitCompleted(client, c.runId) }
        _ = try await waitCompleted(
            client,
            try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: tied.id)).judgeRunId)
        let pairs = try await client.unary(
            PreferenceService.listPairs, ListPreferencePairsRequest(projectId: tied.id, source: .judge)
        ).pairs
        #expect(pairs.count == 6)
        #expect(
            pairs.allSatisfy { $0.tie && $0.votes.count == 1 && !$0.votes[0].consistent && $0.votes[0].winner.isEmpty })
        #expect(pairs.allSatisfy { $0.votes[0].firstVerdict == "A" && $0.votes[0].secondVerdict == "A" })
        #expect(try await exportLines(client, tied.id, .trl).isEmpty)
        #expect(try await exportLines(client, tied.id, .kto).isEmpty)  // tie rule drop
        let board = try await client.unary(
            PreferenceService.leaderboard, PreferenceLeaderboardRequest(projectId: tied.id, seed: 1, resamples: 50))
        let bias = try #require(board.positionBias)
        #expect(bias.judgedPairs == 6 && bias.consistent == 0 && bias.consistency == 0)
        #expect(bias.firstShownWins == 12 && bias.secondShownWins == 0 && bias.firstShownRate == 1)
        // All ties: every candidate rated the same.
        #expect(board.ratings.count == 3 && board.ratings.allSatisfy { abs($0.rating - 1000) < 1e-6 && $0.ties == 4 })
    }

    @Test("a vote that flips with the order: dropped under drop, a tie under tie; consistent votes stand")
    func voteRules() {
        let row = ObjectID(rawValue: "row1")
        let flip = JudgeVerdicts(promptRowID: row, i: 0, j: 1, iFirst: "A", jFirst: "A")
        #expect(Judgments.vote(flip, judge: "j", rule: .drop) == nil)
        let tie = Judgments.vote(flip, judge: "j", rule: .tie)
        #expect(tie?.winner == nil && tie?.consistent == false && tie?.shown == [0, 1])
        let agree = JudgeVerdicts(promptRowID: row, i: 0, j: 1, iFirst: "B", jFirst: "A")
        #expect(Judgments.vote(agree, judge: "j", rule: .drop)?.winner == 1)
        #expect(Judgments.vote(agree, judge: "j", rule: .drop)?.consistent == true)
        // An order without an answer (failed row) gives no vote under either rule.
        let half = JudgeVerdicts(promptRowID: row, i: 0, j: 1, iFirst: "A", jFirst: nil)
        #expect(Judgments.vote(half, judge: "j", rule: .tie) == nil)
    }

    func vote(_ row: String, _ first: Int, _ second: Int, winner: Int?, margin: Int = 1, annotator: String) -> Vote {
        Vote(
            promptRowID: ObjectID(rawValue: row), first: first, second: second, winner: winner, source: .human,
            annotator: annotator, margin: margin,
            shown: [first, second])
    }

    @Test("min_agreement keeps pairs whose share of agreeing votes reaches it; min_margin keeps wide pairs")
    func agreementAndMarginFilters() {
        let votes = [
            // r1: 2 of 3 votes for candidate 0.
            vote("r1", 0, 1, winner: 0, annotator: "a"), vote("r1", 1, 0, winner: 0, annotator: "b"),
            vote("r1", 0, 1, winner: 1, annotator: "c"),
            // r2: unanimous for 1, rank gap 2 and 3.
            vote("r2", 1, 0, winner: 1, margin: 2, annotator: "a"),
            vote("r2", 1, 0, winner: 1, margin: 3, annotator: "b"),
            // r3: one vote each way and a tie vote: a tie pair, agreement 1/3 (the tie vote).
            vote("r3", 0, 1, winner: 0, annotator: "a"), vote("r3", 0, 1, winner: 1, annotator: "b"),
            vote("r3", 0, 1, winner: nil, annotator: "c"),
        ]
        let all = Judgments.pairs(votes, minAgreement: 0, minMargin: 0)
        #expect(all.map(\.promptRowID.rawValue) == ["r1", "r2", "r3"])
        #expect(abs(all[0].agreement - 2.0 / 3.0) < 1e-12 && all[0].chosen == 0 && all[0].rejected == 1 && !all[0].tie)
        #expect(all[1].agreement == 1 && all[1].chosen == 1 && all[1].margin == 3)  // mean of 2 and 3, rounded
        #expect(all[2].tie && abs(all[2].agreement - 1.0 / 3.0) < 1e-12)
        #expect(Judgments.pairs(votes, minAgreement: 0.6, minMargin: 0).map(\.promptRowID.rawValue) == ["r1", "r2"])
        #expect(
            Judgments.pairs(votes, minAgreement: 2.0 / 3.0, minMargin: 0).map(\.promptRowID.rawValue) == ["r1", "r2"])
        #expect(Judgments.pairs(votes, minAgreement: 0.7, minMargin: 0).map(\.promptRowID.rawValue) == ["r2"])
        // min_margin applies to decided pairs; ties pass it.
        #expect(Judgments.pairs(votes, minAgreement: 0, minMargin: 2).map(\.promptRowID.rawValue) == ["r2", "r3"])
    }

    @Test("min_agreement over the wire: out of range is INVALID_ARGUMENT; 1 keeps only unanimous pairs")
    func agreementOverTheWire() async throws {
        let h = try await harness()
        defer { Task { await h.stop() } }
        let (client, project) = try await generatedProject(
            h, prompts: ["Why?"], styles: ["terse", "verbose"], judgeRule: "prefer:verbose")
        _ = try await waitCompleted(
            client,
            try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: project.id)).judgeRunId)
        // A reviewer disagrees with the judge: the pair has 2 votes, one each way, so it is a tie of agreement 0.
        let sent = try await client.unary(
            PreferenceService.sendToReview, SendPreferenceReviewRequest(projectId: project.id, seed: 1))
        let task = try #require(
            try await client.unary(ReviewService.next, NextReviewTaskRequest(projectId: sent.reviewProjectId)).task)
        let shown = task.preLabels.map { text(of: $0).hasPrefix("terse") ? "terse" : "verbose" }
        let ranking = shown[0] == "terse" ? "A > B" : "B > A"
        _ = try await client.unary(
            ReviewService.submit,
            SubmitReviewRequest(
                taskId: task.id, decisions: [ReviewDecision(action: .add, label: freeText("ranking", ranking))],
                acceptUndecided: true))
        let both = try await client.unary(
            PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .all)
        ).pairs
        #expect(
            both.count == 1 && both[0].tie && both[0].agreement == 0
                && both[0].votes.map(\.source).sorted() == ["human", "judge"])
        let human = try await client.unary(
            PreferenceService.listPairs,
            ListPreferencePairsRequest(projectId: project.id, source: .human, minAgreement: 1))
        #expect(human.pairs.count == 1 && human.pairs[0].chosen == "terse")
        #expect(
            try await client.unary(
                PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, minAgreement: 0.5)
            ).pairs.isEmpty)
        #expect(try await exportLines(client, project.id, .trl, minAgreement: 0.5).isEmpty)
        await #expect {
            _ = try await client.unary(
                PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, minAgreement: 1.5))
        } throws: { error in
            (error as? RPCError).map {
                $0.code == .invalidArgument && $0.message.contains("min_agreement must be in [0, 1]")
            } ?? false
        }
    }
}
