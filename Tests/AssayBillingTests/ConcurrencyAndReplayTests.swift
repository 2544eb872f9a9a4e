import AssayBilling
import AssayCore
import AssayRPC
import AssayStorage
import AssayWire
import Testing

@Suite("Billing under concurrency and replay")
struct ConcurrencyAndReplayTests {
    /// 50 runs at once against a budget that fits 12: exactly 12 are admitted, the others
    /// say why, and what is charged never exceeds the budget.
    @Test func fiftyConcurrentRunsNeverOverspendABudget() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("bigco")
        _ = try await h.operatorClient.unary(BillingService.setPlan, SetPlanRequest(organizationId: org.id.rawValue, plan: .enterprise))
        _ = try await h.operatorClient.unary(BillingService.enableAddon, EnableAddonRequest(organizationId: org.id.rawValue))
        // Each run: 100 images x $0.004 = $0.40, plus 20 units x $0.06 = $1.20: $1.60. $20 fits 12.
        let budget: Int64 = 20_000_000
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: budget))
        let at = h.clock
        let billing = h.billing
        let outcomes = await withTaskGroup(of: (admitted: Bool, reason: String?).self) { group in
            for _ in 0..<50 {
                group.addTask {
                    let run = ObjectID.random("run")
                    do {
                        try await billing.admit(
                            RunBillingRequest(
                                organizationID: org.id, runID: run, model: BillingHarness.imageModel, rowCount: 100, imageCount: 100,
                                datasetIDs: [], at: at))
                    } catch {
                        return (false, (error as? BillingRefusal)?.reason ?? "\(error)")
                    }
                    do {
                        try await billing.settle(
                            RunUsage(
                                organizationID: org.id, runID: run, model: BillingHarness.imageModel, datasetIDs: [], rowsProcessed: 100,
                                rowsWithPredictions: 100, images: 100, tokens: 0, at: at))
                    } catch {
                        return (true, "settle failed: \(error)")
                    }
                    return (true, nil)
                }
            }
            var all: [(admitted: Bool, reason: String?)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.count(where: \.admitted) == 12)
        #expect(outcomes.filter { !$0.admitted }.allSatisfy { $0.reason == BillingReason.budgetExceeded })
        #expect(outcomes.filter(\.admitted).allSatisfy { $0.reason == nil })
        let charges = try await h.storage.charges(organization: org.id, cycle: BillingCycle(containing: at))
        let spent = charges.reduce(0) { $0 + $1.microdollars }
        #expect(spent <= budget)
        #expect(spent == 12 * 1_600_000)
        client.close()
        await h.stop()
    }

    /// The same through the run service: 50 `RunService.create` calls at once over one
    /// 100-image dataset, a budget that fits 12. Exactly 12 runs exist and complete, the 38
    /// refusals are RESOURCE_EXHAUSTED with `budget_exceeded`, and the ledger holds those 12
    /// runs' charges, never more than the budget.
    @Test func fiftyConcurrentRunCreatesThroughTheRunServiceNeverOverspend() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("bigco")
        _ = try await h.operatorClient.unary(BillingService.setPlan, SetPlanRequest(organizationId: org.id.rawValue, plan: .enterprise))
        _ = try await h.operatorClient.unary(BillingService.enableAddon, EnableAddonRequest(organizationId: org.id.rawValue))
        let dataset = try await h.ingest(client, dataset: "images", count: 100)
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(name: "objects", features: [AssayWire.Feature(name: "object", kind: .boundingBox)]))
        let budget: Int64 = 20_000_000
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: budget))
        let feature = ontology.features[0].id
        let outcomes = await withTaskGroup(of: Result<String, RPCError>.self) { group in
            for i in 0..<50 {
                group.addTask {
                    do {
                        let run = try await client.unary(
                            RunService.create,
                            CreateRunRequest(
                                modelId: "detector-x", ontologyId: ontology.id, mapping: [ClassMapping(modelClass: "object", featureId: feature)],
                                rows: RowSelection(datasetId: dataset.id), requestId: "concurrent-\(i)"))
                        return .success(run.id)
                    } catch let error as RPCError {
                        return .failure(error)
                    } catch {
                        return .failure(RPCError(.internal, "\(error)"))
                    }
                }
            }
            var all: [Result<String, RPCError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let admitted = outcomes.compactMap { try? $0.get() }
        let refusals = outcomes.compactMap { if case .failure(let e) = $0 { e } else { nil } }
        #expect(admitted.count == 12)
        #expect(refusals.count == 38)
        for refusal in refusals {
            #expect(refusal.code == .resourceExhausted, "\(refusal)")
            #expect(refusal.metadata["assay-billing-reason"] == BillingReason.budgetExceeded, "\(refusal)")
        }
        for id in admitted {
            let finished = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: id), timeout: .seconds(60)) { updates in
                var last: AssayWire.ModelRun?
                for try await r in updates { last = r }
                return last
            }
            #expect(finished?.state == .completed)
        }
        // Each run: 20 model units ($1.20) once done, plus $0.004 for each image the model was
        // called on: runs after the first find some rows in the prediction cache, which are not
        // images the model saw. The budget reserved the whole $1.60 of each.
        var charges: [LedgerEntry] = []
        for _ in 0..<3000 {
            charges = try await h.storage.charges(organization: org.id, cycle: nil)
            if charges.count(where: { $0.kind == .model }) == 12 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let model = charges.filter { $0.kind == .model }
        let inference = charges.filter { $0.kind == .inference }
        #expect(model.count == 12 && model.allSatisfy { $0.units == 20 && $0.microdollars == 1_200_000 })
        #expect(inference.count <= 12 && inference.allSatisfy { $0.microdollars == 4_000 * $0.quantity && $0.quantity <= 100 })
        #expect(Set(charges.map(\.runID)) == Set(admitted))
        let spent = charges.reduce(0) { $0 + $1.microdollars }
        #expect(spent <= budget)
        #expect(try await h.storage.runs(organization: org.id).count == 12)
        client.close()
        await h.stop()
    }

    /// Every charge-producing request, made twice: the replay leaves the ledger as it was.
    @Test func replayingEveryChargeProducingRequestChangesNothing() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.enabledSelfService("acme")
        let dataset = try await h.ingest(client, dataset: "images", count: 700)
        let datasetID = ObjectID(rawValue: dataset.id)
        let estimate = try await client.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", datasetId: dataset.id))
        #expect(estimate.modelUnits == 140)
        let run = ObjectID.random("run")
        let admission = RunBillingRequest(
            organizationID: org.id, runID: run, model: BillingHarness.imageModel, rowCount: 700, imageCount: 700, datasetIDs: [datasetID],
            estimateID: estimate.id, at: h.clock)
        let usage = RunUsage(
            organizationID: org.id, runID: run, model: BillingHarness.imageModel, datasetIDs: [datasetID], rowsProcessed: 700,
            rowsWithPredictions: 698, images: 700, tokens: 0, at: h.clock)
        let tokenRun = ObjectID.random("run")
        let tokenUsage = RunUsage(
            organizationID: org.id, runID: tokenRun, model: BillingHarness.tokenModel, datasetIDs: [datasetID], rowsProcessed: 3,
            rowsWithPredictions: 3, images: 0, tokens: 1_501, at: h.clock)
        let cycle = BillingCycle(containing: h.clock)

        func everything() async throws {
            try await h.billing.admit(admission)
            try await h.billing.settle(usage)
            try await h.billing.settle(tokenUsage)
            try await h.billing.meterReview(organization: org.id, key: "task-7", rows: 3, datasetIDs: [datasetID], at: h.clock)
            // A retried ingest stream: the same rows again are updates, not new rows held.
            _ = try await h.ingest(client, dataset: "images-again", count: 0)
            _ = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                let rows = (0..<700).map {
                    AssayWire.DataRow(globalKey: "images-\($0)", mediaType: .image, uri: "s3://bucket/images/\($0).jpg")
                }
                try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
                close()
                for try await _ in acks {}
            }
        }
        try await everything()
        h.advance(to: cycle.end + BillingHarness.day)
        let invoice = try await client.unary(BillingService.closeCycle, CloseCycleRequest(cycle: cycle.description))
        let ledger = try await h.storage.charges(organization: org.id, cycle: nil)
        // 700 rows: 12 catalog units; 698 rows: 140 model units; 3 review units; fees $2.80 and 1,501 tokens at $0.002/1k rounded up once.
        #expect(ledger.filter { $0.kind == .catalog && $0.cycle == cycle }.map(\.units) == [12])
        #expect(ledger.first { $0.key == ChargeKey.runModel(run) }?.units == 140)
        #expect(ledger.first { $0.key == ChargeKey.runInference(run) }?.microdollars == 2_800_000)
        #expect(ledger.first { $0.key == ChargeKey.runInference(tokenRun) }?.microdollars == 3_002)
        #expect(ledger.first { $0.key == ChargeKey.review("task-7") }?.units == 3)

        // The replay, with the clock now past the cycle.
        try await h.billing.settle(usage)
        try await h.billing.settle(tokenUsage)
        try await h.billing.meterReview(organization: org.id, key: "task-7", rows: 3, datasetIDs: [datasetID], at: usage.at)
        try await h.billing.admit(admission)
        let again = try await client.unary(BillingService.closeCycle, CloseCycleRequest(cycle: cycle.description))
        _ = try await client.unary(BillingService.listInvoices, ListInvoicesRequest())
        #expect(again == invoice)
        #expect(try await h.storage.charges(organization: org.id, cycle: nil) == ledger)
        #expect(try await h.storage.invoices(organization: org.id).filter { $0.cycle == cycle }.count == 1)
        client.close()
        await h.stop()
    }

    /// A repeated RunService.create with the same request id returns the run it made, even
    /// when billing would now refuse a new one (the estimate expired, the budget is spent),
    /// and leaves the ledger as it was.
    @Test func aRepeatedRunCreateReturnsTheSameRunWithoutAskingBillingAgain() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.enabledSelfService("acme")
        let dataset = try await h.ingest(client, dataset: "images", count: 10)
        let ontology = try await client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(name: "objects", features: [AssayWire.Feature(name: "object", kind: .boundingBox)]))
        let estimate = try await client.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", datasetId: dataset.id))
        func create(_ requestID: String) -> CreateRunRequest {
            CreateRunRequest(
                modelId: "detector-x", ontologyId: ontology.id,
                mapping: [ClassMapping(modelClass: "object", featureId: ontology.features[0].id)],
                rows: RowSelection(datasetId: dataset.id), estimateId: estimate.id, requestId: requestID)
        }
        let first = try await client.unary(RunService.create, create("retry-1"))
        let finished = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: first.id), timeout: .seconds(60)) {
            updates in
            var last: AssayWire.ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(finished?.state == .completed)
        for _ in 0..<3000 {
            if try await h.storage.charges(organization: org.id, cycle: nil).count >= 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let ledger = try await h.storage.charges(organization: org.id, cycle: nil)
        // 10 images x $0.004 and 2 units x $0.10.
        #expect(ledger.map(\.microdollars).sorted() == [40_000, 200_000])

        // The retry comes after the estimate expired and when the budget has no room left.
        h.advance(by: h.billing.estimateLifetime + 60_000_000)
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: 240_000))
        let again = try await client.unary(RunService.create, create("retry-1"))
        #expect(again.id == first.id)
        #expect(again.state == .completed)
        #expect(try await h.storage.charges(organization: org.id, cycle: nil) == ledger)
        #expect(try await h.storage.runs(organization: org.id).map(\.id.rawValue) == [first.id])
        // A new request with the same estimate is refused, as it should be.
        let refused = await failure { _ = try await client.unary(RunService.create, create("retry-2")) }
        #expect(refused?.code == .failedPrecondition && refused?.reason == BillingReason.estimateExpired, "\(String(describing: refused))")
        #expect(try await h.storage.charges(organization: org.id, cycle: nil) == ledger)
        client.close()
        await h.stop()
    }

    /// A run settled after its cycle was invoiced is charged in the next open cycle, once.
    @Test func aLateSettlementGoesToTheNextOpenCycle() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("bigco")
        _ = try await h.operatorClient.unary(BillingService.setPlan, SetPlanRequest(organizationId: org.id.rawValue, plan: .enterprise))
        _ = try await h.operatorClient.unary(BillingService.enableAddon, EnableAddonRequest(organizationId: org.id.rawValue))
        let cycle = BillingCycle(containing: h.clock)
        let run = ObjectID.random("run")
        try await h.billing.admit(
            RunBillingRequest(
                organizationID: org.id, runID: run, model: BillingHarness.imageModel, rowCount: 5, imageCount: 5, datasetIDs: [], at: h.clock))
        let usage = RunUsage(
            organizationID: org.id, runID: run, model: BillingHarness.imageModel, datasetIDs: [], rowsProcessed: 5, rowsWithPredictions: 5,
            images: 5, tokens: 0, at: h.clock)
        h.advance(to: cycle.end + BillingHarness.day)
        let closed = try await client.unary(BillingService.closeCycle, CloseCycleRequest(cycle: cycle.description))
        #expect(closed.totalMicrodollars == 0)
        try await h.billing.settle(usage)
        try await h.billing.settle(usage)
        let charges = try await h.storage.charges(organization: org.id, cycle: nil)
        #expect(charges.map(\.cycle) == [cycle.next, cycle.next])
        #expect(charges.map(\.microdollars).sorted() == [20_000, 60_000])
        client.close()
        await h.stop()
    }
}
