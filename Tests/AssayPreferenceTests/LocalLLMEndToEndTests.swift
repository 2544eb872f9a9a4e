import AssayCore
import AssayLLM
import AssayMetrics
import AssayModels
import AssayNativeModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// The acceptance run with the two local LLMs (`make models`): 10 prompts, both models
/// generate, gemma3 judges every pair in both orders, a person ranks the same responses, every
/// export is written and validated, and the leaderboard comes with intervals. Then an
/// evaluation of document images through OCR and each LLM, with gemma3 as the rubric judge.
@Suite("Preference end to end with the local LLMs", .serialized)
struct LocalLLMEndToEndTests {
    @Test("generate, judge both orders, export every format, leaderboard with intervals")
    func endToEnd() async throws {
        for model in LocalChatModel.all where !model.isInstalled() {
            throw TestFailure("\(model.card.id) is not installed in \(LocalChatModel.defaultCache): run `make models`")
        }
        let smol = LocalChatModel.smolLM2.provider()
        let gemma = LocalChatModel.gemma3.provider()
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [smol, gemma]), billing: AdmitAll())
        defer {
            Task {
                await harness.stop()
                await smol.shutdown()
                await gemma.shutdown()
            }
        }
        let prompts = [
            "What is the capital of France?", "Name a primary colour.", "What is 2 + 2?", "Give a synonym for happy.",
            "What do bees make?", "Name a planet.", "What is the opposite of cold?", "How many days are in a week?",
            "What animal says moo?", "What colour is grass?",
        ]
        let (client, _, dataset) = try await makePrompts(harness, prompts)
        let smolID = LocalChatModel.smolLM2.card.id, gemmaID = LocalChatModel.gemma3.card.id
        let short: [String: AssayWire.ParameterValue] = ["max_tokens": AssayWire.ParameterValue(value: .integer(24))]
        let project = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "small models", prompts: RowSelection(datasetId: dataset),
                candidates: [
                    AssayWire.PreferenceCandidate(name: smolID, modelId: smolID, parameters: short),
                    AssayWire.PreferenceCandidate(name: gemmaID, modelId: gemmaID, parameters: short),
                ],
                judge: PreferenceJudgeConfig(modelId: gemmaID, parameters: ["max_tokens": AssayWire.ParameterValue(value: .integer(16))], inconsistent: .tie)))
        let generating = try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        for c in generating.candidates {
            let run = try await waitCompleted(client, c.runId)
            #expect((run.progress?.withPredictions ?? 0) >= 9, "\(c.name)")
        }
        let judging = try await client.unary(PreferenceService.judge, JudgePreferenceRequest(projectId: project.id))
        let judgeRun = try await waitCompleted(client, judging.judgeRunId)
        #expect((judgeRun.progress?.total ?? 0) >= 18)  // both orders of each prompt with two responses

        let pairs = try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .judge)).pairs
        #expect(!pairs.isEmpty)
        for p in pairs {
            #expect(p.votes.count == 1 && p.votes[0].source == "judge")
            let v = p.votes[0]
            #expect(["A", "B", "tie"].contains(v.firstVerdict) && ["A", "B", "tie"].contains(v.secondVerdict))
            #expect(v.shown.count == 2)
            if !v.consistent { #expect(p.tie) }
        }
        let judgeTies = pairs.filter(\.tie).count
        print("[preference] \(pairs.count) judged pairs, \(judgeTies) ties")
        // The judge's own pairs in every format: only its decided pairs (none when every verdict
        // flipped with the order, as gemma3-270m's do) are in the trainer formats.
        for format in [PreferenceExportFormat.trl, .trlConversational, .kto, .openai, .anthropicHh, .assay] {
            let lines = try await exportLines(client, project.id, format, source: .judge)
            let decided = pairs.count - judgeTies
            #expect(lines.count == (format == .assay ? pairs.count : format == .kto ? 2 * decided : decided), "\(format.rawValue)")
            for line in lines { try validate(line, format) }
        }

        // A person ranks the same responses (shown in a random, recorded order; the first shown
        // is preferred): 10 decided pairs, so every trainer format has lines to validate whatever
        // the judge said.
        let sent = try await client.unary(PreferenceService.sendToReview, SendPreferenceReviewRequest(projectId: project.id, seed: 7))
        var ranked = 0
        while let task = try await client.unary(ReviewService.next, NextReviewTaskRequest(projectId: sent.reviewProjectId)).task {
            #expect(task.preLabels.count == 2)
            _ = try await client.unary(
                ReviewService.submit,
                SubmitReviewRequest(taskId: task.id, decisions: [ReviewDecision(action: .add, label: freeText("ranking", "A > B"))], acceptUndecided: true))
            ranked += 1
        }
        #expect(ranked == Int(sent.rowsSent) && ranked >= 9)
        let human = try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .human)).pairs
        #expect(human.count == ranked && human.allSatisfy { !$0.tie && $0.votes.count == 1 && $0.votes[0].source == "human" })
        let all = try await client.unary(PreferenceService.listPairs, ListPreferencePairsRequest(projectId: project.id, source: .all)).pairs
        #expect(all.count == Set(all.map(\.promptRowId)).count)  // one pair per prompt: judge and human votes together
        for format in [PreferenceExportFormat.trl, .trlConversational, .kto, .openai, .anthropicHh, .assay] {
            let humanLines = try await exportLines(client, project.id, format, source: .human)
            #expect(humanLines.count == (format == .kto ? 2 * ranked : ranked), "\(format.rawValue)")
            for line in humanLines { try validate(line, format) }
            let lines = try await exportLines(client, project.id, format, source: .all)
            let decided = all.filter { !$0.tie }.count
            #expect(lines.count == (format == .assay ? all.count : format == .kto ? 2 * decided : decided), "\(format.rawValue)")
            for line in lines { try validate(line, format) }
        }
        let board = try await client.unary(
            PreferenceService.leaderboard, PreferenceLeaderboardRequest(projectId: project.id, source: .judge, anchor: smolID, seed: 1, resamples: 500))
        #expect(board.ratings.count == 2)
        #expect(board.ratings.allSatisfy { $0.hasInterval && $0.lower_ <= $0.rating && $0.rating <= $0.upper })
        #expect(board.ratings.first { $0.candidate == smolID }?.rating == 1000)
        let bias = try #require(board.positionBias)
        #expect(bias.judgedPairs == UInt64(pairs.count))
        #expect(bias.firstShownWins + bias.secondShownWins + bias.ties == 2 * bias.judgedPairs)
        for r in board.ratings {
            print("[preference] \(r.candidate): \(r.rating) [\(r.lower_), \(r.upper)] W-L-T \(r.wins)-\(r.losses)-\(r.ties)")
        }
        print("[preference] judge consistency \(bias.consistency), first shown wins \(bias.firstShownRate)")
    }

    @Test("evaluation with the local models: document images through OCR then each LLM, exact match, token F1, gemma3's rubric")
    func evaluateDocuments() async throws {
        for model in LocalChatModel.all where !model.isInstalled() {
            throw TestFailure("\(model.card.id) is not installed in \(LocalChatModel.defaultCache): run `make models`")
        }
        let smol = LocalChatModel.smolLM2.provider()
        let gemma = LocalChatModel.gemma3.provider()
        let ocr = try TesseractProvider(threads: 1)
        let readers = [
            try DocumentQAProvider(ocr: ocr, ocrModel: TesseractProvider.modelID, llm: smol),
            try DocumentQAProvider(ocr: ocr, ocrModel: TesseractProvider.modelID, llm: gemma),
        ]
        let harness = try await ServerHarness.start(models: ModelRegistry(providers: [smol, gemma, ocr] + readers), billing: AdmitAll())
        defer {
            Task {
                await harness.stop()
                await smol.shutdown()
                await gemma.shutdown()
            }
        }
        let (client, _, _) = try await harness.organization("acme")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "documents"))
        let documents = [("TOTAL DUE 42", "What is the total due?", "42"), ("CITY OF PARIS", "Which city is named?", "Paris")]
        let rows = try documents.enumerated().map { i, d in
            AssayWire.DataRow(
                globalKey: "doc-\(i)", mediaType: .image, content: try renderTextPNG(d.0), metadata: ["question": d.1, "reference": d.2])
        }
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let short: [String: AssayWire.ParameterValue] = ["max_tokens": AssayWire.ParameterValue(value: .integer(12))]
        let project = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "documents", prompts: RowSelection(datasetId: dataset.id),
                candidates: readers.map { AssayWire.PreferenceCandidate(name: $0.card.id, modelId: $0.card.id, parameters: short) }))
        let generated = try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        for c in generated.candidates {
            let run = try await waitCompleted(client, c.runId)
            #expect(run.progress?.withPredictions == 2, "\(c.name): \(run.progress?.failed ?? 0) failed")
        }
        let rubric = EvaluationRubric(
            judgeModelId: LocalChatModel.gemma3.card.id, parameters: ["max_tokens": AssayWire.ParameterValue(value: .integer(16))])
        let request = EvaluatePreferenceRequest(projectId: project.id, rubric: rubric, includeRows: true)
        let started = try await client.unary(PreferenceService.evaluate, request)
        let judged = try await waitCompleted(client, started.rubricRunId)
        #expect(judged.progress?.total == 4 && judged.progress?.withPredictions == 4)  // the schema makes every answer a score
        // The judge saw each image row's question (its metadata: the rows have no text) and reference.
        let datasets = try await client.unary(CatalogService.listDatasets, ListDatasetsRequest()).datasets
        let prompts = try #require(datasets.first { $0.name == "preference \(project.id) rubric prompts" })
        let judgeRows = try await client.unary(CatalogService.listDataRows, ListDataRowsRequest(datasetId: prompts.id)).rows
        #expect(judgeRows.count == 4)
        for row in judgeRows {
            #expect(documents.contains { row.text.contains("[Question]\n\($0.1)\n\n[Reference answer]\n\($0.2)\n\n[Answer]\n") }, "\(row.text)")
        }
        let e = try await client.unary(PreferenceService.evaluate, request)
        #expect(e.rowsWithReference == 2 && e.rubricRunState == .completed && e.rows.count == 4)
        for r in e.rows {
            #expect(!r.response.isEmpty && (1...5).contains(r.rubricScore), "\(r)")
            #expect(r.exactMatch == Text.normalizedExactMatch(r.response, r.reference) && r.tokenF1 == Text.tokenF1(r.response, r.reference))
            print("[evaluation] \(r.candidate) on \(r.reference): \(r.response.debugDescription) EM \(r.exactMatch) F1 \(r.tokenF1) rubric \(r.rubricScore)")
        }
        for c in e.candidates {
            let mine = e.rows.filter { $0.candidate == c.candidate }
            #expect(c.rows == 2 && c.missing == 0 && c.rubricScored == 2 && c.rubricCounts.reduce(0, +) == 2)
            #expect(abs(c.tokenF1 - mine.map(\.tokenF1).reduce(0, +) / 2) < 1e-12)
            #expect(abs(c.rubricMean - Double(mine.map(\.rubricScore).reduce(0, +)) / 2) < 1e-12)
            print("[evaluation] \(c.candidate): EM \(c.exactMatch) F1 \(c.tokenF1) rubric \(c.rubricMean) \(c.rubricCounts)")
        }
    }
}
