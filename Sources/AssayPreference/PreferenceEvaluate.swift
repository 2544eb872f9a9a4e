import AssayAccess
import AssayCore
import AssayRPC
import AssayRuns
import AssayStorage
import AssayWire

extension PreferenceProvider {
    /// The most bytes of a reference key and of rubric criteria.
    static let maximumReferenceKey = 200
    static let maximumCriteria = 10_000

    /// `Evaluate`: every candidate's responses against the prompt rows' reference answers, and
    /// with a rubric the judge's scores (its run is started by the first call; see the proto).
    func evaluate(_ request: EvaluatePreferenceRequest, organization: ObjectID) async throws -> PreferenceEvaluation {
        let project = try await project(request.projectId, organization)
        let key = request.referenceKey.isEmpty ? "reference" : request.referenceKey
        guard key.utf8.count <= Self.maximumReferenceKey else {
            throw RPCError(.invalidArgument, "reference_key is at most \(Self.maximumReferenceKey) bytes")
        }
        for c in project.candidates {
            guard let id = c.runID else {
                throw RPCError(
                    .failedPrecondition, "candidate \(c.name) has no generation run yet: call Generate first")
            }
            let run = try await store.run(organization: organization, id: id)
            guard run.state == .completed else {
                throw RPCError(
                    .failedPrecondition,
                    "candidate \(c.name)'s generation run \(id.rawValue) is \(run.state.rawValue), not completed")
            }
        }
        let data = PreferenceData(store: store, organization: organization)
        let responses = try await data.responses(project)
        var rows: [(row: AssayCore.DataRow, reference: String)] = []
        var without = 0
        for id in project.promptRowIDs {
            guard let row = try? await store.row(organization: organization, id: id) else {
                without += 1
                continue
            }
            let reference = (row.metadata[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if reference.isEmpty { without += 1 } else { rows.append((row, reference)) }
        }
        guard !rows.isEmpty else {
            throw RPCError(
                .failedPrecondition,
                "no prompt row of project \(project.id.rawValue) has a reference answer in its metadata \"\(key)\"")
        }
        var scored = rows.flatMap { entry in
            project.candidates.indices.map { k in
                LLMEvaluation.Scored(
                    promptRowID: entry.row.id, candidate: k, response: responses[k][entry.row.id],
                    reference: entry.reference)
            }
        }

        var rubricRun: AssayCore.ModelRun?
        if let rubric = request.rubric,
            !(rubric.judgeModelId.isEmpty && rubric.criteria.isEmpty && rubric.parameters.isEmpty)
        {
            rubricRun = try await startRubric(
                rubric, project: project, key: key, rows: rows, scored: scored, estimateID: request.estimateId,
                organization: organization)
            let scores = try await rubricScores(rubricRun!, project: project, digest: rubricDigest(rubric, key: key))
            for i in scored.indices {
                scored[i].rubric = scores[RubricSlot(row: scored[i].promptRowID, candidate: scored[i].candidate)]
            }
        }

        let names = project.candidates.map(\.name)
        var out = PreferenceEvaluation(
            projectId: project.id.rawValue, referenceKey: key, rowsWithReference: UInt64(rows.count),
            rowsWithoutReference: UInt64(without))
        if let rubricRun {
            out.rubricRunId = rubricRun.id.rawValue
            out.rubricRunState = RunConvert.state(rubricRun.state)
        }
        for s in LLMEvaluation.summarize(scored, candidates: names.count) {
            var c = CandidateEvaluation(candidate: names[s.candidate], rows: UInt64(s.rows), missing: UInt64(s.missing))
            c.exactMatch = s.exactMatch
            c.tokenF1 = s.tokenF1
            c.rubricScored = UInt64(s.rubricScored)
            c.rubricMean = s.rubricMean
            c.rubricCounts = s.rubricCounts.map { UInt64($0) }
            out.candidates.append(c)
        }
        if request.includeRows {
            for s in scored {
                var row = EvaluationRow(
                    promptRowId: s.promptRowID.rawValue, candidate: names[s.candidate], response: s.response ?? "")
                row.reference = s.reference
                row.exactMatch = s.exactMatch
                row.tokenF1 = s.tokenF1
                row.rubricScore = UInt32(s.rubric ?? 0)
                out.rows.append(row)
            }
        }
        return out
    }

    struct RubricSlot: Hashable {
        var row: ObjectID
        var candidate: Int
    }

    func rubricDigest(_ rubric: EvaluationRubric, key: String) -> String {
        let parameters = rubric.parameters.keys.sorted().map { "\($0)=\(rubric.parameters[$0]!.jsonString())" }
        return LLMEvaluation.digest([rubric.judgeModelId, rubric.criteria, key] + parameters)
    }

    /// Finds the judge's run of this rubric, or writes one rubric prompt row per response
    /// (idempotent, by key) and starts the run over them (idempotent, by request id).
    private func startRubric(
        _ rubric: EvaluationRubric, project: AssayCore.PreferenceProject, key: String,
        rows: [(row: AssayCore.DataRow, reference: String)],
        scored: [LLMEvaluation.Scored], estimateID: String, organization: ObjectID
    ) async throws -> AssayCore.ModelRun {
        let card = try runs.card(rubric.judgeModelId, field: "rubric.judge_model_id")
        guard card.outputKinds.contains(.radio) else {
            throw RPCError(
                .invalidArgument, "rubric judge model \(card.id) cannot choose a score (it predicts no radio options)")
        }
        guard rubric.criteria.utf8.count <= Self.maximumCriteria else {
            throw RPCError(.invalidArgument, "rubric.criteria is at most \(Self.maximumCriteria) bytes")
        }
        let parameters = try RunConvert.parameters(rubric.parameters)
        _ = try runs.resolve(card, parameters, field: "rubric.parameters")
        let digest = rubricDigest(rubric, key: key)
        var byID: [ObjectID: AssayCore.DataRow] = [:]
        for entry in rows { byID[entry.row.id] = entry.row }
        var prompts: [NewDataRow] = []
        for s in scored {
            guard let response = s.response, let row = byID[s.promptRowID] else { continue }
            let text = PreferenceData.prompt(row).text
            let question = text.isEmpty ? row.metadata["question"] ?? "" : text
            prompts.append(
                NewDataRow(
                    globalKey: LLMEvaluation.rubricKey(
                        project: project.id, digest: digest, row: row.id, candidate: s.candidate), mediaType: .text,
                    text: LLMEvaluation.rubricPrompt(
                        criteria: rubric.criteria, question: question, reference: s.reference, response: response),
                    metadata: [
                        "preference_project": project.id.rawValue, "prompt_row": row.id.rawValue,
                        "candidate": project.candidates[s.candidate].name,
                    ]))
        }
        guard !prompts.isEmpty else {
            throw RPCError(.failedPrecondition, "no candidate has a response to a row with a reference answer")
        }
        let datasetName = "preference \(project.id.rawValue) rubric prompts"
        let runName = "\(project.name): rubric \(card.id) \(digest)"
        let dataset: AssayCore.Dataset
        if let existing = try await store.datasets(organization: organization).first(where: { $0.name == datasetName })
        {
            // A started rubric run is only read: no second admission (a budget reached since
            // must not hide the scores), no rewriting of its prompts.
            let started = try await store.runs(organization: organization).first {
                $0.name == runName && $0.modelID == card.id && $0.datasetIDs == [existing.id]
            }
            if let started { return started }
            dataset = existing
        } else {
            dataset = try await store.createDataset(
                organization: organization, name: datasetName,
                description: "rubric prompts of preference project \(project.name)")
        }
        var ids: [ObjectID] = []
        var start = 0
        while start < prompts.count {
            let chunk = Array(prompts[start..<min(prompts.count, start + 1000)])
            ids += try await store.upsertRows(organization: organization, dataset: dataset.id, rows: chunk).map(\.id)
            start += chunk.count
        }
        let ontology: AssayCore.Ontology
        if let existing = try await store.ontologies(organization: organization).first(where: {
            $0.name == LLMEvaluation.ontologyName
        }) {
            ontology = existing
        } else {
            ontology = try await store.createOntology(
                organization: organization, name: LLMEvaluation.ontologyName, features: LLMEvaluation.features)
        }
        let run = try await runs.start(
            organization: organization, name: runName, modelID: card.id,
            parameters: parameters, ontology: ontology,
            mapping: [
                AssayCore.ClassMapping(modelClass: LLMEvaluation.scoreFeature, featureID: LLMEvaluation.scoreFeature)
            ], rows: ids,
            datasets: [dataset.id], images: 0, estimateID: estimateID.isEmpty ? nil : estimateID,
            requestID: "pref:\(project.id.rawValue):rubric:\(digest)")
        return try await store.run(organization: organization, id: run.id)
    }

    /// The judge's scores so far, per prompt row and candidate.
    private func rubricScores(_ run: AssayCore.ModelRun, project: AssayCore.PreferenceProject, digest: String)
        async throws -> [RubricSlot: Int]
    {
        var rows: [RunRow] = []
        var after: Int64 = 0
        while true {
            let page = try await store.runRows(
                organization: run.organizationID, run: run.id, failedOnly: false, after: after, limit: 1000)
            rows += page
            guard page.count == 1000, let last = page.last else { break }
            after = last.position
        }
        let labels = try await PreferenceData(store: store, organization: run.organizationID).labels(rows.map(\.rowID))
        var out: [RubricSlot: Int] = [:]
        for r in rows {
            guard let (row, candidate) = LLMEvaluation.parseRubricKey(r.globalKey, project: project.id, digest: digest)
            else { continue }
            let label = (labels[r.rowID] ?? []).first {
                $0.modelRunID == run.id && $0.featureID == LLMEvaluation.scoreFeature
            }
            guard case .radio(let option)? = label?.value, let score = Int(option), LLMEvaluation.scale.contains(score)
            else { continue }
            out[RubricSlot(row: row, candidate: candidate)] = score
        }
        return out
    }
}
