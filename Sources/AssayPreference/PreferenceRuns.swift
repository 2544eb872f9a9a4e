import AssayAccess
public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayRuns
public import AssayStorage

/// Starts the project's runs (generation per candidate, the judge's) on the run machinery:
/// the same admission, billing, durable job, cache, cancel and resume as `assay run create`.
/// Each start has a request id derived from the project, so a repeated call returns the run
/// already started instead of starting another.
public struct PreferenceRuns: Sendable {
    let store: any Storage
    let engine: RunEngine
    let models: ModelRegistry
    let billing: any RunBilling
    let clock: @Sendable () -> Timestamp

    public init(store: any Storage, engine: RunEngine, models: ModelRegistry, billing: any RunBilling, clock: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.engine = engine
        self.models = models
        self.billing = billing
        self.clock = clock
    }

    func card(_ id: String, field: String) throws(RPCError) -> AssayCore.ModelCard {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "\(field) is required") }
        guard let card = models.card(id) else {
            throw RPCError(.notFound, "model \(id) (this server serves: \(models.cards.map(\.id).joined(separator: ", ")))")
        }
        guard card.outputKinds.contains(.freeText) || card.outputKinds.contains(.radio) else {
            throw RPCError(.invalidArgument, "model \(id) is not a chat model (it predicts \(card.outputKinds.map(\.rawValue).joined(separator: ", ")))")
        }
        return card
    }

    func resolve(_ card: AssayCore.ModelCard, _ parameters: [String: AssayCore.ParameterValue], field: String) throws(RPCError)
        -> [String: AssayCore.ParameterValue]
    {
        do { return try card.resolve(parameters) } catch { throw RPCError(.invalidArgument, "\(field): \(error)") }
    }

    /// Starts (or finds, by `requestID`) a run of `modelID` over `rows`.
    func start(
        organization: ObjectID, name: String, modelID: String, parameters: [String: AssayCore.ParameterValue], ontology: Ontology,
        mapping: [AssayCore.ClassMapping], rows: [ObjectID], datasets: [ObjectID], images: Int, estimateID: String?, requestID: String
    ) async throws -> AssayCore.ModelRun {
        let card = try card(modelID, field: "model_id")
        let resolved = try resolve(card, parameters, field: name)
        do {
            _ = try RunTargets(card: card, ontology: ontology, mapping: mapping)
        } catch {
            throw RPCError(.invalidArgument, "\(name): \(error.message)")
        }
        let now = clock()
        let run = AssayCore.ModelRun(
            id: .random("run"), organizationID: organization, name: name, modelID: card.id, modelVersion: card.version, ontologyID: ontology.id,
            mapping: mapping, parameters: resolved, datasetIDs: datasets, createdAt: now)
        return try await engine.admission.admit(organization: organization, requestID: requestID) {
            do {
                try await billing.admit(
                    RunBillingRequest(
                        organizationID: organization, runID: run.id, model: card, rowCount: rows.count,
                        imageCount: images, datasetIDs: datasets, estimateID: estimateID, at: now))
            } catch let refusal as BillingRefusal {
                throw RunConvert.refusal(refusal)
            }
            let stored: AssayCore.ModelRun
            do {
                stored = try await store.createRun(run, rows: rows, requestID: requestID)
            } catch {
                await release(run, card: card)
                throw error
            }
            if stored.id != run.id {
                await release(run, card: card)
            } else {
                engine.launch(stored)
            }
            return stored
        }
    }

    private func release(_ run: AssayCore.ModelRun, card: AssayCore.ModelCard) async {
        try? await billing.settle(
            RunUsage(
                organizationID: run.organizationID, runID: run.id, model: card, datasetIDs: run.datasetIDs, rowsProcessed: 0,
                rowsWithPredictions: 0, images: 0, tokens: 0, at: clock()))
    }
}
