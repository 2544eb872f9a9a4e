import AssayBilling
import AssayCore
import AssayRPC
import AssayWire
import Testing

/// DESIGN.md's reference example, through the real catalog, run, review and billing services
/// (the model is a test double that finds one box per image).
@Suite("Billing reference example")
struct ReferenceExampleTests {
    @Test func thousandImagesFiveHundredRowRunFiveHundredReviewed() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.enabledSelfService("acme")
        let dataset = try await h.ingest(client, dataset: "images", count: 1_000)
        #expect(dataset.rowCount == 1_000)

        // The estimate a person is shown, then confirms.
        let estimate = try await client.unary(
            BillingService.estimate, EstimateRequest(modelId: "detector-x", rowCount: 500, imageCount: 500, datasetId: dataset.id))
        #expect(estimate.modelUnits == 100)
        #expect(estimate.inferenceMicrodollars == 2_000_000)
        #expect(estimate.unitMicrodollars == 100_000)
        #expect(estimate.totalMicrodollars == 12_000_000)
        #expect(estimate.assumptions.contains { $0.contains("500 images x $0.004 per image") })
        #expect(estimate.runBlockers.isEmpty)

        // The run, through the run service: 500 of the images, the estimate confirmed.
        let ontology = try await client.unary(
            CatalogService.createOntology, CreateOntologyRequest(name: "objects", features: [AssayWire.Feature(name: "object", kind: .boundingBox)]))
        let created = try await client.unary(
            RunService.create,
            CreateRunRequest(
                modelId: "detector-x", ontologyId: ontology.id, mapping: [ClassMapping(modelClass: "object", featureId: ontology.features[0].id)],
                rows: RowSelection(globalKeys: (0..<500).map { "images-\($0)" }), estimateId: estimate.id))
        let finished = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: created.id), timeout: .seconds(120)) { updates in
            var last: AssayWire.ModelRun?
            for try await r in updates { last = r }
            return last
        }
        #expect(finished?.state == .completed && finished?.progress?.withPredictions == 500 && finished?.progress?.images == 500)
        let run = ObjectID(rawValue: created.id)
        // Settling happens right after the run ends; wait for the ledger to show it.
        for _ in 0..<3000 {
            if try await client.unary(BillingService.listCharges, ListChargesRequest()).charges.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }

        // The inference fee is in the ledger at once, before any cycle closes.
        var charges = try await client.unary(BillingService.listCharges, ListChargesRequest()).charges
        #expect(charges.count == 2)
        let inference = try #require(charges.first { $0.kind == .inference })
        #expect(inference.microdollars == 2_000_000)
        #expect(inference.quantity == 500)
        #expect(inference.key == ChargeKey.runInference(run))
        let model = try #require(charges.first { $0.kind == .model })
        #expect(model.units == 100)
        #expect(model.quantity == 500)

        // The run's 500 rows sent to review through the review service, which meters them.
        h.advance(by: 3_600_000_000)
        let project = try await client.unary(
            ReviewService.createProject, CreateReviewProjectRequest(name: "check the boxes", ontologyId: ontology.id))
        let sent = try await client.unary(
            ReviewService.send, SendToReviewRequest(projectId: project.id, runId: created.id, requestId: "review-run-1"))
        #expect(sent.rowsSent == 500)
        #expect(sent.units == 500)
        charges = try await client.unary(BillingService.listCharges, ListChargesRequest()).charges
        let reviews = charges.filter { $0.kind == .review }
        #expect(reviews.count == 1)
        let review = try #require(reviews.first)
        #expect(review.units == 500)
        #expect(review.quantity == 500)
        #expect(review.datasetIds == dataset.id)
        // Sending again with the same request id queues and bills nothing more.
        let resent = try await client.unary(
            ReviewService.send, SendToReviewRequest(projectId: project.id, runId: created.id, requestId: "review-run-1"))
        #expect(resent.rowsSent == 0 && resent.rowsAlreadyQueued == 500)
        #expect(try await client.unary(BillingService.listCharges, ListChargesRequest()).charges.count == 3)
        let runDay = BillingCycle.day(of: h.clock)

        // The cycle ends; its invoice: 17 + 100 + 500 units, plus the $2.00 already charged.
        let cycle = BillingCycle(containing: h.clock)
        h.advance(to: cycle.end + BillingHarness.day)
        let invoice = try await client.unary(BillingService.closeCycle, CloseCycleRequest(cycle: cycle.description))
        #expect(invoice.cycle == cycle.description)
        #expect(invoice.totalUnits == 617)
        #expect(invoice.inferenceMicrodollars == 2_000_000)
        #expect(invoice.unitsMicrodollars == 61_700_000)
        #expect(invoice.totalMicrodollars == 63_700_000)
        #expect(invoice.total == "63.70")
        let catalogLine = try #require(invoice.lines.first { $0.kind == .catalog })
        #expect(catalogLine.units == 17)
        #expect(catalogLine.quantity == 1_000)
        #expect(catalogLine.datasetIds == dataset.id)
        #expect(invoice.lines.first { $0.kind == .model }?.units == 100)
        #expect(invoice.lines.first { $0.kind == .review }?.units == 500)
        #expect(invoice.lines.first { $0.kind == .inference }?.chargedAtOnce == true)

        // The ledger now holds the month's 17 catalog units too.
        let cycleCharges = try await client.unary(BillingService.listCharges, ListChargesRequest(cycle: cycle.description)).charges
        #expect(cycleCharges.filter { $0.kind == .catalog }.map(\.units) == [17])
        #expect(cycleCharges.reduce(0) { $0 + $1.units } == 617)

        // Exports: JSON reads back as the same invoice, CSV has the lines and the total.
        let json = try await client.unary(BillingService.exportInvoice, ExportInvoiceRequest(cycle: cycle.description, format: .json))
        #expect(json.fileName == "invoice-\(cycle).json")
        #expect(try AssayWire.Invoice(jsonString: String(decoding: json.content, as: UTF8.self)) == invoice)
        let csv = try await client.unary(BillingService.exportInvoice, ExportInvoiceRequest(cycle: cycle.description, format: .csv))
        let csvLines = String(decoding: csv.content, as: UTF8.self).split(separator: "\r\n").map(String.init)
        #expect(csvLines.first == "invoice,cycle,kind,model,datasets,quantity,units,unit_price_usd,amount_usd,charged_at_once")
        #expect(csvLines.contains("\(invoice.id),\(cycle),inference,detector-x,\(dataset.id),500,0,0.00,2.00,true"))
        #expect(csvLines.contains("\(invoice.id),\(cycle),catalog,,\(dataset.id),1000,17,0.10,1.70,false"))
        #expect(csvLines.last == "\(invoice.id),\(cycle),total,,,,617,,63.70,")

        // Usage by model, by day and by dataset: every row of each report.
        let byModel = try await client.unary(
            BillingService.getUsage, GetUsageRequest(fromMicros: cycle.start, toMicros: cycle.end, groupBy: .byModel))
        #expect(byModel.rows.first { $0.group == "detector-x" && $0.kind == .inference }?.microdollars == 2_000_000)
        #expect(byModel.totalUnits == 617)
        #expect(byModel.totalMicrodollars == 63_700_000)
        let byDay = try await client.unary(
            BillingService.getUsage, GetUsageRequest(fromMicros: cycle.start, toMicros: cycle.end, groupBy: .byDay))
        // The run and the review on the day they happened; the catalog units on the cycle's last day.
        let lastDay = BillingCycle.day(of: cycle.end - 1)
        #expect(runDay != lastDay)
        #expect(
            byDay.rows == [
                UsageRow(group: runDay, kind: .model, quantity: 500, units: 100, microdollars: 10_000_000),
                UsageRow(group: runDay, kind: .review, quantity: 500, units: 500, microdollars: 50_000_000),
                UsageRow(group: runDay, kind: .inference, quantity: 500, units: 0, microdollars: 2_000_000),
                UsageRow(group: lastDay, kind: .catalog, quantity: 1_000, units: 17, microdollars: 1_700_000),
            ])
        #expect(byDay.totalUnits == 617)
        let byDataset = try await client.unary(
            BillingService.getUsage, GetUsageRequest(fromMicros: cycle.start, toMicros: cycle.end, groupBy: .byDataset))
        #expect(
            byDataset.rows == [
                UsageRow(group: dataset.id, kind: .catalog, quantity: 1_000, units: 17, microdollars: 1_700_000),
                UsageRow(group: dataset.id, kind: .model, quantity: 500, units: 100, microdollars: 10_000_000),
                UsageRow(group: dataset.id, kind: .review, quantity: 500, units: 500, microdollars: 50_000_000),
                UsageRow(group: dataset.id, kind: .inference, quantity: 500, units: 0, microdollars: 2_000_000),
            ])
        #expect(byDataset.totalMicrodollars == 63_700_000)
        // Half-open: a range that ends before the cycle's last day leaves the catalog units out.
        let early = try await client.unary(
            BillingService.getUsage, GetUsageRequest(fromMicros: cycle.start, toMicros: cycle.end - BillingHarness.day, groupBy: .byDay))
        #expect(early.rows.map(\.group) == [runDay, runDay, runDay])
        #expect(early.totalUnits == 600)
        client.close()
        await h.stop()
    }
}
