import AssayCore
import AssayModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// Human rankings through the review service: the order shown is random and recorded, and a
/// ranking of n responses becomes n(n−1)/2 pairs in the order it implies.
@Suite("Human rankings through review")
struct HumanRankingTests {
    @Test("rankings of 4 responses become 6 pairs each, in the order implied")
    func rankingsBecomePairs() async throws {
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [StyleWriter()]), billing: AdmitAll())
        defer { Task { await harness.stop() } }
        let (client, _, dataset) = try await makePrompts(harness, ["What is rain?", "Name a prime.", "Why is the sky blue?"])
        let styles = ["terse", "plain", "verbose", "poetic"]
        let project = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "styles", prompts: RowSelection(datasetId: dataset),
                candidates: styles.map { AssayWire.PreferenceCandidate(name: $0, modelId: "writer", parameters: ["style": ParameterValue(value: .string($0))]) }))
        let generated = try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        #expect(Set(generated.candidates.map(\.runId)).count == 4)
        for c in generated.candidates { _ = try await waitCompleted(client, c.runId) }
        // Generate again: the same runs, nothing new.
        let again = try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        #expect(again.candidates.map(\.runId) == generated.candidates.map(\.runId))

        let sent = try await client.unary(PreferenceService.sendToReview, SendPreferenceReviewRequest(projectId: project.id, seed: 42))
        #expect(sent.rowsSent == 3)

        // The reviewer ranks the responses as shown: C > A > D > B, so the implied pairs are
        // (C,A) (C,D) (C,B) (A,D) (A,B) (D,B) in candidate terms of the order shown.
        var expected: [(String, String, String)] = []
        var orders: Set<[String]> = []
        while let task = try await client.unary(ReviewService.next, NextReviewTaskRequest(projectId: sent.reviewProjectId)).task {
            #expect(task.preLabels.count == 4)
            let shown = task.preLabels.map { label in styles.first { text(of: label).hasPrefix("\($0) answer to:") }! }
            orders.insert(shown)
            let ranked = [shown[2], shown[0], shown[3], shown[1]]
            for x in 0..<4 { for y in x + 1..<4 { expected.append((task.dataRowId, ranked[x], ranked[y])) } }
            let done = try await client.unary(
                ReviewService.submit,
                SubmitReviewRequest(
                    taskId: task.id,
                    decisions: [
                        ReviewDecision(action: .add, label: freeText("ranking", "C > A > D > B")),
                        ReviewDecision(action: .add, label: freeText("rationale", "C is clearest")),
                    ],
                    acceptUndecided: true))
            #expect(done.rowFinalized)
        }
        #expect(expected.count == 18)
        // The order shown is randomised (three rows, three draws of 24 orders).
        #expect(orders.count > 1)

        let pairs = try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .human)).pairs
        #expect(pairs.count == 18)
        #expect(pairs.map { "\($0.promptRowId) \($0.chosen) \($0.rejected)" } == expected.map { "\($0.0) \($0.1) \($0.2)" })
        for p in pairs {
            #expect(!p.tie && p.agreement == 1 && p.votes.count == 1)
            #expect(p.votes[0].source == "human" && p.votes[0].rationale == "C is clearest" && p.votes[0].shown.count == 4)
        }
        // Margins: the rank gap (C > B is 3).
        #expect(pairs.prefix(6).map(\.margin) == [1, 2, 3, 1, 2, 1])
        let wide = try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .human, minMargin: 2))
        #expect(wide.pairs.count == 9)

        for format in [PreferenceExportFormat.trl, .trlConversational, .kto, .openai, .anthropicHh, .assay] {
            let lines = try await exportLines(client, project.id, format, source: .human)
            #expect(lines.count == (format == .kto ? 36 : 18), "\(format.rawValue)")
            for line in lines { try validate(line, format) }
        }
        let trl = try await exportLines(client, project.id, .trl, source: .human)
        let first = expected[0]
        #expect((trl[0]["chosen"] as? String)?.hasPrefix("\(first.1) answer to:") == true)
        #expect((trl[0]["rejected"] as? String)?.hasPrefix("\(first.2) answer to:") == true)

        // Every ranking is the same in terms of the order shown, so who beats whom depends on the
        // seeded orders: with seed 42, poetic is shown as B, last in "C > A > D > B", on every
        // row, so it never wins. Bradley-Terry ratings then do not exist
        // (the likelihood grows without bound as poetic's rating falls), and the leaderboard
        // refuses, naming the candidates that never lost to it.
        let neverWon = styles.filter { s in !expected.contains { $0.1 == s } }
        #expect(neverWon == ["poetic"])
        #expect(Set(expected.map(\.2)) == Set(styles))  // every candidate lost at least once
        await #expect {
            _ = try await client.unary(
                PreferenceService.leaderboard, PreferenceLeaderboardRequest(projectId: project.id, source: .human, seed: 3, resamples: 200))
        } throws: { error in
            guard let e = error as? RPCError else { return false }
            return e.code == .failedPrecondition
                && e.message.contains("plain, terse, verbose never lost to nor tied with poetic; more battles between them are needed")
        }

        // Another organisation sees nothing of the project.
        let (outsider, _, _) = try await harness.organization("other")
        await #expect(throws: RPCError.self) {
            _ = try await outsider.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id))
        }
    }
}
