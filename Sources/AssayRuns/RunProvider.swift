public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayStorage
import AssayAccess
import AssayCatalog
import AssayWire

/// `assay.v1.Run`: model cards, estimates, previews, and model runs as durable jobs.
public struct RunProvider: RPCService {
    let store: any Storage
    let engine: RunEngine
    let models: ModelRegistry
    let billing: any RunBilling
    let clock: @Sendable () -> Timestamp
    let selector: RowSelector
    /// The most rows a preview predicts.
    public static let previewLimit = 5

    public init(store: any Storage, engine: RunEngine, models: ModelRegistry, billing: any RunBilling, clock: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.engine = engine
        self.models = models
        self.billing = billing
        self.clock = clock
        self.selector = RowSelector(store: store)
    }

    public func register(in router: inout Router) {
        router.unary(RunService.listModels) { _, context in
            _ = try context.caller(for: .read)
            return ListModelsResponse(models: models.cards.map(RunConvert.card))
        }
        router.unary(RunService.estimate) { request, context in
            let caller = try context.caller(for: .read)
            let card = try card(request.modelId)
            let selection = try await select(request.rows, caller: caller, limit: RowSelector.maximumRows)
            do {
                let e = try await billing.estimate(
                    RunBillingRequest(
                        organizationID: caller.organizationID, model: card, rowCount: selection.rowIDs.count,
                        imageCount: selection.imageCount, datasetIDs: selection.datasetIDs, at: clock()))
                return WireRunEstimate(
                    id: e.id, rows: UInt64(selection.rowIDs.count), images: UInt64(selection.imageCount), modelUnits: e.modelUnits,
                    inferenceMicrodollars: e.inferenceMicrodollars, assumptions: e.assumptions, expiresAtMicros: e.expiresAt)
            } catch let refusal as BillingRefusal {
                throw RunConvert.refusal(refusal)
            }
        }
        router.unary(RunService.preview) { request, context in
            let caller = try context.caller(for: .write)
            return try await preview(request, caller: caller)
        }
        router.unary(RunService.create) { request, context in
            let caller = try context.caller(for: .write)
            return RunConvert.run(try await create(request, caller: caller))
        }
        router.unary(RunService.get) { request, context in
            let caller = try context.caller(for: .read)
            return RunConvert.run(try await store.run(organization: caller.organizationID, id: ObjectID(rawValue: request.id)))
        }
        router.unary(RunService.list) { _, context in
            let caller = try context.caller(for: .read)
            return ListRunsResponse(runs: try await store.runs(organization: caller.organizationID).map(RunConvert.run))
        }
        router.serverStreaming(RunService.watch) { request, writer, context in
            let caller = try context.caller(for: .read)
            let updates = try await engine.watch(organization: caller.organizationID, id: ObjectID(rawValue: request.id))
            for await run in updates { try await writer.write(RunConvert.run(run)) }
        }
        router.unary(RunService.cancel) { request, context in
            let caller = try context.caller(for: .write)
            return RunConvert.run(try await engine.cancel(organization: caller.organizationID, id: ObjectID(rawValue: request.id)))
        }
        router.unary(RunService.listRows) { request, context in
            let caller = try context.caller(for: .read)
            let size = request.pageSize == 0 ? 100 : Int(request.pageSize)
            guard size <= 1000 else { throw RPCError(.invalidArgument, "page_size is at most 1000") }
            var after: Int64 = 0
            if !request.cursor.isEmpty {
                guard let p = Int64(request.cursor), p >= 0 else { throw RPCError(.invalidArgument, "cursor is not one this server gave out") }
                after = p
            }
            let id = ObjectID(rawValue: request.id)
            let rows = try await store.runRows(organization: caller.organizationID, run: id, failedOnly: request.failedOnly, after: after, limit: size)
            let labels = try await store.labels(organization: caller.organizationID, rows: rows.map(\.rowID))
            return ListRunRowsResponse(
                rows: rows.map { r in
                    RowPredictions(
                        dataRowId: r.rowID.rawValue, globalKey: r.globalKey,
                        predictions: (labels[r.rowID] ?? []).filter { $0.modelRunID == id }.map { Convert.label($0, globalKey: r.globalKey) },
                        error: r.error)
                },
                nextCursor: rows.count == size ? String(rows.last!.position) : "")
        }
        router.serverStreaming(RunService.export) { request, writer, context in
            let caller = try context.caller(for: .read)
            try await RunExport(store: store).export(
                organization: caller.organizationID, run: ObjectID(rawValue: request.id), format: request.format
            ) { bytes in try await writer.write(ExportChunk(data: bytes)) }
        }
    }

    private func card(_ id: String) throws(RPCError) -> AssayCore.ModelCard {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "model_id is required") }
        guard let card = models.card(id) else {
            throw RPCError(.notFound, "model \(id) (this server serves: \(models.cards.map(\.id).joined(separator: ", ")))")
        }
        return card
    }

    private func select(_ rows: RowSelection?, caller: Caller, limit: Int, keepRows: Bool = false) async throws(RPCError) -> RowSelector.Selection {
        let r = rows ?? RowSelection()
        return try await selector.resolve(
            organization: caller.organizationID, ids: r.rowIds, globalKeys: r.globalKeys, dataset: r.datasetId,
            metadataFilter: r.metadataFilter, limit: limit, keepRows: keepRows)
    }

    /// Checks the request against the card and ontology: the card, the resolved parameters
    /// and the targets, or INVALID_ARGUMENT naming what is wrong.
    private func plan(modelID: String, ontologyID: String, mapping: [AssayWire.ClassMapping], parameters: [String: WireParameterValue], caller: Caller)
        async throws -> (AssayCore.ModelCard, [String: AssayCore.ParameterValue], RunTargets)
    {
        let card = try card(modelID)
        let resolved: [String: AssayCore.ParameterValue]
        do {
            resolved = try card.resolve(try RunConvert.parameters(parameters))
        } catch let error as ParameterError {
            throw RPCError(.invalidArgument, "\(error)")
        }
        guard !ontologyID.isEmpty else { throw RPCError(.invalidArgument, "ontology_id is required") }
        let ontology = try await store.ontology(organization: caller.organizationID, id: ObjectID(rawValue: ontologyID))
        do {
            return (card, resolved, try RunTargets(card: card, ontology: ontology, mapping: RunConvert.mapping(mapping)))
        } catch {
            throw RPCError(.invalidArgument, error.message)
        }
    }

    func create(_ request: CreateRunRequest, caller: Caller) async throws -> AssayCore.ModelRun {
        guard request.name.utf8.count <= 200 else { throw RPCError(.invalidArgument, "a run name is at most 200 bytes") }
        guard request.requestId.utf8.count <= 200 else { throw RPCError(.invalidArgument, "request_id is at most 200 bytes") }
        // A repeated request returns the run it made before billing is asked again: the retry
        // may come after the confirmed estimate expired, or when the first run's reservation
        // leaves no room under the budget, and must not be refused for it.
        if !request.requestId.isEmpty,
            let existing = try await store.run(organization: caller.organizationID, requestID: request.requestId)
        {
            return existing
        }
        let (card, parameters, targets) = try await plan(
            modelID: request.modelId, ontologyID: request.ontologyId, mapping: request.mapping, parameters: request.parameters, caller: caller)
        let selection = try await select(request.rows, caller: caller, limit: RowSelector.maximumRows)
        let now = clock()
        let run = AssayCore.ModelRun(
            id: .random("run"), organizationID: caller.organizationID, name: request.name.isEmpty ? "\(card.id) run" : request.name,
            modelID: card.id, modelVersion: card.version, ontologyID: targets.ontology.id, mapping: targets.mapping, parameters: parameters,
            datasetIDs: selection.datasetIDs, createdAt: now)
        let billingRequest = RunBillingRequest(
            organizationID: caller.organizationID, runID: run.id, model: card, rowCount: selection.rowIDs.count,
            imageCount: selection.imageCount, datasetIDs: selection.datasetIDs, estimateID: request.estimateId.isEmpty ? nil : request.estimateId,
            at: now)
        // The quota is checked before billing reserves anything, in the same turn as the store.
        return try await engine.admission.admit(organization: caller.organizationID, requestID: request.requestId) {
            do {
                try await billing.admit(billingRequest)
            } catch let refusal as BillingRefusal {
                throw RunConvert.refusal(refusal)
            }
            let stored: AssayCore.ModelRun
            do {
                stored = try await store.createRun(
                    run, rows: selection.rowIDs, requestID: request.requestId.isEmpty ? nil : request.requestId)
            } catch {
                await release(run, card: card)
                throw error
            }
            if stored.id != run.id {
                await release(run, card: card)  // a concurrent repeat of the request: the first run stands
            } else {
                engine.launch(stored)
            }
            return stored
        }
    }

    /// Gives back the reservation of a run that was admitted but not stored.
    private func release(_ run: AssayCore.ModelRun, card: AssayCore.ModelCard) async {
        try? await billing.settle(
            RunUsage(
                organizationID: run.organizationID, runID: run.id, model: card, datasetIDs: run.datasetIDs, rowsProcessed: 0,
                rowsWithPredictions: 0, images: 0, tokens: 0, at: clock()))
    }

    func preview(_ request: PreviewRunRequest, caller: Caller) async throws -> PreviewRunResponse {
        let (card, parameters, targets) = try await plan(
            modelID: request.modelId, ontologyID: request.ontologyId, mapping: request.mapping, parameters: request.parameters, caller: caller)
        let selection = try await select(request.rows, caller: caller, limit: Self.previewLimit, keepRows: true)
        guard let provider = models.provider(for: card.id) else { throw RPCError(.unavailable, "model \(card.id) has no provider") }
        var response = PreviewRunResponse()
        var callable: [AssayCore.DataRow] = []
        for row in selection.rows {
            if let refusal = targets.refusal(for: row) {
                response.rows.append(RowPredictions(dataRowId: row.id.rawValue, globalKey: row.globalKey, error: refusal))
            } else {
                callable.append(row)
            }
        }
        var start = 0
        while start < callable.count {
            let chunk = Array(callable[start..<min(callable.count, start + max(1, provider.batchSize))])
            start += chunk.count
            let results: [RowPrediction]
            switch await engine.callWithRetries(
                provider,
                PredictRequest(
                    card: card, parameters: parameters, targets: targets.targets,
                    rows: chunk.map { ModelInput(rowID: $0.id, mediaType: $0.mediaType, content: $0.content, text: $0.text, uri: $0.uri, metadata: $0.metadata) }))
            {
            case .success(let r) where r.count == chunk.count: results = r
            case .success: throw RPCError(.internal, "the model returned the wrong number of results")
            case .failure(let error):
                throw RPCError(error.kind == .unavailable ? .unavailable : .internal, "model \(card.id) failed: \(error.message)")
            }
            for (row, result) in zip(chunk, results) {
                var out = RowPredictions(dataRowId: row.id.rawValue, globalKey: row.globalKey)
                switch result {
                case .failure(let message): out.error = message
                case .success(let raw, _):
                    switch targets.labels(for: raw, row: row, run: nil, at: clock()) {
                    case .success(let labels): out.predictions = labels.map { Convert.label($0, globalKey: row.globalKey) }
                    case .failure(let f): out.error = f.message
                    }
                }
                response.rows.append(out)
            }
        }
        return response
    }
}
