import Glibc
import AssayCore
import AssayStorage
import Testing

/// Billing's storage: accounts, the keyed ledger, atomic reservations, row count history and
/// invoices, the same on every backend.
extension StorageConformance {
    func billingAccounts() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            #expect(try await store.operatorOrganization() == org.id)
            #expect(try await store.organizationIDs() == [org.id, other.id])
            // Defaults until saved.
            #expect(try await store.billingAccount(organization: org.id) == BillingAccount(organizationID: org.id))
            await expectError(.notFound) { try await store.billingAccount(organization: .random("org")) }
            let account = BillingAccount(
                organizationID: org.id, plan: .pro, addonEnabled: true, termsVersion: "2026-01", termsAcceptedAt: 42,
                paymentMethod: PaymentMethod(reference: "pm_1", displayHint: "visa ending 4242"), budgetMicrodollars: 5_000_000,
                datasetBudgets: [ObjectID(rawValue: "ds_a"): 1_000_000],
                overrides: PriceOverrides(unitMicrodollars: 50_000, modelRowsPerUnit: 4, modelPrices: ["m": 3_000]))
            try await store.saveBillingAccount(account)
            #expect(try await store.billingAccount(organization: org.id) == account)
            var changed = account
            changed.paymentMethod = nil
            changed.datasetBudgets = [:]
            changed.overrides = PriceOverrides()
            try await store.saveBillingAccount(changed)
            #expect(try await store.billingAccount(organization: org.id) == changed)
            #expect(try await store.billingAccount(organization: other.id) == BillingAccount(organizationID: other.id))

            let estimate = StoredEstimate(
                id: "est_1", organizationID: org.id, modelID: "m", rowCount: 10, imageCount: 10, modelUnits: 2, inferenceMicrodollars: 40_000,
                createdAt: 1, expiresAt: 100)
            try await store.insertEstimate(estimate)
            #expect(try await store.estimate(organization: org.id, id: "est_1") == estimate)
            #expect(try await store.estimate(organization: other.id, id: "est_1") == nil)
        }
    }

    func billingLedgerAndReservations() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let cycle = BillingCycle("2026-03")!
            let run = ObjectID.random("run")
            let ds = ObjectID(rawValue: "ds_a")
            #expect(
                try await store.reserve(
                    organization: org.id, run: run, microdollars: 600, datasets: [ds], cycle: cycle, at: cycle.start, budget: 1_000,
                    datasetBudgets: [:]) == .admitted)
            // Admitting the same run again reserves nothing more.
            #expect(
                try await store.reserve(
                    organization: org.id, run: run, microdollars: 600, datasets: [ds], cycle: cycle, at: cycle.start, budget: 1_000,
                    datasetBudgets: [:]) == .admitted)
            #expect(
                try await store.reserve(
                    organization: org.id, run: .random("run"), microdollars: 401, datasets: [], cycle: cycle, at: cycle.start, budget: 1_000,
                    datasetBudgets: [:]) == .exceeded(dataset: nil, limitMicrodollars: 1_000, committedMicrodollars: 600))
            #expect(
                try await store.reserve(
                    organization: org.id, run: .random("run"), microdollars: 1, datasets: [ds], cycle: cycle, at: cycle.start, budget: nil,
                    datasetBudgets: [ds: 600]) == .exceeded(dataset: ds, limitMicrodollars: 600, committedMicrodollars: 600))

            let charge = LedgerEntry(
                key: ChargeKey.runInference(run), organizationID: org.id, kind: .inference, modelID: "m", datasetIDs: ds.rawValue,
                runID: run.rawValue, quantity: 100, units: 0, unitMicrodollars: 0, microdollars: 500, cycle: cycle, at: cycle.start + 5,
                priceBookVersion: "v")
            #expect(try await store.recordCharges(organization: org.id, [charge], releasing: run) == [charge])
            #expect(try await store.recordCharges(organization: org.id, [charge], releasing: run) == [])
            #expect(try await store.charges(organization: org.id, cycle: cycle) == [charge])
            #expect(try await store.charges(organization: org.id, cycle: cycle.next) == [])
            #expect(try await store.charges(organization: org.id, from: cycle.start, to: cycle.start + 5) == [])
            #expect(try await store.charges(organization: org.id, from: cycle.start + 5, to: cycle.end) == [charge])
            // The reservation is released and the charge counts instead: 500 committed.
            #expect(
                try await store.reserve(
                    organization: org.id, run: .random("run"), microdollars: 501, datasets: [], cycle: cycle, at: cycle.start, budget: 1_000,
                    datasetBudgets: [:]) == .exceeded(dataset: nil, limitMicrodollars: 1_000, committedMicrodollars: 500))
            // Another cycle's budget starts from nothing.
            #expect(
                try await store.reserve(
                    organization: org.id, run: .random("run"), microdollars: 1_000, datasets: [], cycle: cycle.next, at: cycle.end,
                    budget: 1_000, datasetBudgets: [:]) == .admitted)
        }
    }

    func billingRowCountHistory() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let dataset = try await store.createDataset(organization: org.id, name: "d", description: "")
            let before = SQLiteClock.now() - 1
            let rows = (0..<5).map { NewDataRow(globalKey: "k\($0)", mediaType: .image) }
            let outcomes = try await store.upsertRows(organization: org.id, dataset: dataset.id, rows: rows)
            // Updating the same rows holds nothing more.
            _ = try await store.upsertRows(organization: org.id, dataset: dataset.id, rows: rows)
            _ = try await store.deleteRows(organization: org.id, ids: [outcomes[0].id, outcomes[1].id])
            // Times taken between the steps (not guessed margins), so a slow machine cannot
            // move an event to the wrong side of a window.
            let mid = SQLiteClock.now() + 1
            try await Task.sleep(for: .milliseconds(2))
            var history = try await store.rowCountHistory(organization: org.id, from: before, to: mid)
            #expect(history.opening.isEmpty)
            #expect(history.events.map(\.delta) == [5, -2])
            #expect(history.events.allSatisfy { $0.datasetID == dataset.id.rawValue })
            try await store.deleteDataset(organization: org.id, id: dataset.id)
            let end = SQLiteClock.now() + 1
            history = try await store.rowCountHistory(organization: org.id, from: end, to: end + 1)
            #expect(history.opening == [:])
            history = try await store.rowCountHistory(organization: org.id, from: mid, to: end)
            #expect(history.opening[dataset.id.rawValue] == 3)
            #expect(history.events.map(\.delta) == [-3])
        }
    }

    func billingCyclesCloseOnce() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let cycle = BillingCycle("2026-03")!
            let catalog = LedgerEntry(
                key: ChargeKey.catalog(cycle, dataset: "ds_a"), organizationID: org.id, kind: .catalog, datasetIDs: "ds_a", quantity: 1_000,
                units: 17, unitMicrodollars: 100_000, microdollars: 1_700_000, cycle: cycle, at: cycle.end - 1, priceBookVersion: "v")
            let build: @Sendable ([LedgerEntry]) -> Invoice = { entries in
                Invoice(
                    id: "inv_\(entries.count)", organizationID: org.id, cycle: cycle, closedAt: 7, plan: .starter, priceBookVersion: "v",
                    lines: Invoice.lines(from: entries))
            }
            let invoice = try await store.closeCycle(organization: org.id, cycle: cycle, charges: [catalog], build: build)
            #expect(invoice.id == "inv_1")
            #expect(invoice.totalUnits == 17)
            // Closing again appends nothing and returns the stored invoice.
            var again = catalog
            again.key = "catalog:other"
            #expect(try await store.closeCycle(organization: org.id, cycle: cycle, charges: [again], build: build) == invoice)
            #expect(try await store.invoices(organization: org.id) == [invoice])
            #expect(try await store.charges(organization: org.id, cycle: nil) == [catalog])
            // A charge for the closed cycle goes to the next one.
            var late = catalog
            late.key = "late"
            late.kind = .review
            let appended = try await store.recordCharges(organization: org.id, [late], releasing: nil)
            #expect(appended.map(\.cycle) == [cycle.next])
        }
    }
}

/// The storage's notion of now, for row count events (microseconds since the epoch).
enum SQLiteClock {
    static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(ts.tv_sec) * 1_000_000 + Timestamp(ts.tv_nsec / 1_000)
    }
}
