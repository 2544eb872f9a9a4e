import AssayCore
import AssayMetrics
import AssayModels
import AssayPreference
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// LLM evaluation of a project's candidates against reference answers: exact match, token F1
/// and a rubric judge, on deterministic models.
@Suite("LLM evaluation against reference answers")
struct EvaluationTests {
    /// Prompts with reference answers (one marked for the oracle to fail, one without a reference).
    static func ingest(_ client: RPCClient) async throws -> String {
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "qa"))
        let rows = [
            AssayWire.DataRow(
                globalKey: "q0", mediaType: .text, text: "What is rain?",
                metadata: ["reference": "Water falling from clouds."]),
            AssayWire.DataRow(
                globalKey: "q1", mediaType: .text, text: "Name a prime.",
                metadata: ["reference": "7", "oracle_fails": "yes"]),
            AssayWire.DataRow(globalKey: "q2", mediaType: .text, text: "Why?"),
        ]
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        return dataset.id
    }

    @Test(
        "exact match and token F1 per candidate, a failed row scoring 0; the rubric judge's scores once its run completed"
    )
    func evaluate() async throws {
        let billing = CountingBilling()
        let h = try await ServerHarness.start(
            models: ModelRegistry(providers: [StyleWriter(), ScriptedJudge()]), billing: billing)
        defer { Task { await h.stop() } }
        let (client, _, _) = try await h.organization("acme")
        let dataset = try await Self.ingest(client)
        let project = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "qa", prompts: RowSelection(datasetId: dataset),
                candidates: ["terse", "oracle"].map {
                    AssayWire.PreferenceCandidate(
                        name: $0, modelId: "writer", parameters: ["style": ParameterValue(value: .string($0))])
                }))
        await #expect {
            _ = try await client.unary(PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id))
        } throws: { error in
            (error as? RPCError).map {
                $0.code == .failedPrecondition && $0.message.contains("candidate terse has no generation run yet")
            } ?? false
        }
        let generated = try await client.unary(
            PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        for c in generated.candidates { _ = try await waitCompleted(client, c.runId) }

        let plain = try await client.unary(
            PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id, includeRows: true))
        #expect(plain.referenceKey == "reference" && plain.rowsWithReference == 2 && plain.rowsWithoutReference == 1)
        #expect(plain.rubricRunId.isEmpty && plain.rubricRunState == .unspecified)
        let f1 =
            (Text.tokenF1("terse answer to: What is rain?", "Water falling from clouds.")
                + Text.tokenF1("terse answer to: Name a prime.", "7")) / 2
        let terse = try #require(plain.candidates.first)
        let oracle = try #require(plain.candidates.last)
        #expect(
            terse.candidate == "terse" && terse.rows == 2 && terse.missing == 0 && terse.exactMatch == 0
                && abs(terse.tokenF1 - f1) < 1e-12)
        // The oracle's answer to q0 is the reference; it failed q1, which counts as 0.
        #expect(
            oracle.candidate == "oracle" && oracle.rows == 2 && oracle.missing == 1 && oracle.exactMatch == 0.5
                && oracle.tokenF1 == 0.5)
        #expect(plain.rows.count == 4)
        #expect(
            plain.rows.contains {
                $0.candidate == "oracle" && $0.response.isEmpty && $0.reference == "7" && !$0.exactMatch
            })
        #expect(plain.rows.allSatisfy { $0.rubricScore == 0 })

        let rubric = EvaluationRubric(
            judgeModelId: "scripted-judge", parameters: ["rule": ParameterValue(value: .string("grade"))])
        let started = try await client.unary(
            PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id, rubric: rubric))
        #expect(!started.rubricRunId.isEmpty)
        let run = try await waitCompleted(client, started.rubricRunId)
        #expect(run.progress?.total == 3)  // every response to a row with a reference; the failed one has none
        #expect(billing.admissions.withLock { $0 } == 3)  // two generation runs and the rubric run
        let graded = try await client.unary(
            PreferenceService.evaluate,
            EvaluatePreferenceRequest(projectId: project.id, rubric: rubric, includeRows: true))
        #expect(graded.rubricRunId == started.rubricRunId && graded.rubricRunState == .completed)
        #expect(billing.admissions.withLock { $0 } == 3)  // reading the scores admits nothing
        #expect(graded.candidates.map(\.rubricScored) == [2, 1])
        #expect(graded.candidates.map(\.rubricMean) == [1, 5])
        #expect(graded.candidates.map(\.rubricCounts) == [[2, 0, 0, 0, 0], [0, 0, 0, 0, 1]])
        #expect(graded.candidates.map(\.exactMatch) == plain.candidates.map(\.exactMatch))
        #expect(graded.rows.filter { $0.candidate == "oracle" }.map(\.rubricScore).sorted() == [0, 5])

        // Other criteria are another rubric: another run.
        var other = rubric
        other.criteria = "5 if right, 1 if wrong."
        let second = try await client.unary(
            PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id, rubric: other))
        #expect(!second.rubricRunId.isEmpty && second.rubricRunId != started.rubricRunId)
        _ = try await waitCompleted(client, second.rubricRunId)

        // Bad requests say exactly what is wrong.
        let failures: [(EvaluatePreferenceRequest, RPCCode, String)] = [
            (
                EvaluatePreferenceRequest(projectId: project.id, referenceKey: "answer"), .failedPrecondition,
                "has a reference answer in its metadata \"answer\""
            ),
            (
                EvaluatePreferenceRequest(projectId: project.id, rubric: EvaluationRubric(judgeModelId: "nobody")),
                .notFound, "model nobody"
            ),
            (
                EvaluatePreferenceRequest(projectId: project.id, rubric: EvaluationRubric(criteria: "x")),
                .invalidArgument, "rubric.judge_model_id is required"
            ),
            (
                EvaluatePreferenceRequest(projectId: project.id, referenceKey: String(repeating: "k", count: 201)),
                .invalidArgument, "reference_key is at most 200 bytes"
            ),
            (EvaluatePreferenceRequest(), .invalidArgument, "project_id is required"),
        ]
        for (request, code, message) in failures {
            await #expect {
                _ = try await client.unary(PreferenceService.evaluate, request)
            } throws: { error in
                (error as? RPCError).map { $0.code == code && $0.message.contains(message) } ?? false
            }
        }
        // One candidate is a project only for evaluation.
        let one = [
            AssayWire.PreferenceCandidate(
                name: "oracle", modelId: "writer", parameters: ["style": ParameterValue(value: .string("oracle"))])
        ]
        await #expect {
            _ = try await client.unary(
                PreferenceService.createProject,
                CreatePreferenceProjectRequest(name: "solo", prompts: RowSelection(datasetId: dataset), candidates: one)
            )
        } throws: { error in
            (error as? RPCError).map {
                $0.code == .invalidArgument && $0.message.contains("at least two candidates, got 1")
            } ?? false
        }
        let solo = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "solo", prompts: RowSelection(datasetId: dataset), candidates: one, evaluation: true))
        for c in try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: solo.id))
            .candidates
        {
            _ = try await waitCompleted(client, c.runId)
        }
        let soloScores = try await client.unary(
            PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: solo.id))
        #expect(soloScores.candidates.count == 1 && soloScores.candidates[0].exactMatch == 0.5)
        // It makes no pairs: nothing to rank, nothing to judge.
        let review = try await client.unary(
            PreferenceService.sendToReview, SendPreferenceReviewRequest(projectId: solo.id))
        #expect(review.rowsSent == 0 && review.rowsWithoutResponses == 3)
        #expect(
            try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: solo.id)).pairs
                .isEmpty)
        // Another organisation cannot evaluate the project.
        let (outsider, _, _) = try await h.organization("other")
        await #expect {
            _ = try await outsider.unary(PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id))
        } throws: { error in
            (error as? RPCError)?.code == .notFound
        }
    }

    @Test(
        "summaries: means over rows with a reference, missing responses as 0, rubric means over scored responses only")
    func summaries() {
        let row = { (n: Int) in ObjectID(rawValue: "r\(n)") }
        let scored = [
            LLMEvaluation.Scored(promptRowID: row(0), candidate: 0, response: "The Cat!", reference: "cat", rubric: 4),
            LLMEvaluation.Scored(
                promptRowID: row(1), candidate: 0, response: "a black dog", reference: "the dog", rubric: 2),
            LLMEvaluation.Scored(promptRowID: row(0), candidate: 1, response: nil, reference: "cat"),
            LLMEvaluation.Scored(promptRowID: row(1), candidate: 1, response: "dog", reference: "the dog", rubric: 5),
        ]
        #expect(scored[0].exactMatch && scored[0].tokenF1 == 1)  // SQuAD normalisation: case, punctuation, articles
        #expect(!scored[1].exactMatch && abs(scored[1].tokenF1 - 2.0 / 3.0) < 1e-12)  // P 1/2, R 1
        let s = LLMEvaluation.summarize(scored, candidates: 2)
        #expect(
            s[0].rows == 2 && s[0].missing == 0 && s[0].exactMatch == 0.5
                && abs(s[0].tokenF1 - (1 + 2.0 / 3.0) / 2) < 1e-12)
        #expect(s[0].rubricScored == 2 && s[0].rubricMean == 3 && s[0].rubricCounts == [0, 1, 0, 1, 0])
        #expect(s[1].rows == 2 && s[1].missing == 1 && s[1].exactMatch == 0.5 && s[1].tokenF1 == 0.5)
        #expect(s[1].rubricScored == 1 && s[1].rubricMean == 5 && s[1].rubricCounts == [0, 0, 0, 0, 1])
        #expect(LLMEvaluation.digest(["a", "bc"]) != LLMEvaluation.digest(["ab", "c"]))
        #expect(LLMEvaluation.digest(["judge", ""]).count == 16)
    }
}
