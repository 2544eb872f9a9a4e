public import AssayCore
public import AssayStorage
import AssayRPC

/// Billing's rules over a store: gating, estimates, budgets, metering and invoices. It is
/// what the run service calls (`RunBilling`), what the review service calls
/// (`ReviewBilling`), and what `BillingProvider` serves over RPC.
///
/// Every charge is keyed by its cause (`ChargeKey`), so repeating any call bills nothing
/// more; budget checks and reservations happen in one store transaction.
public final class Billing: RunBilling, ReviewBilling {
    let store: any Storage
    public let priceBook: PriceBook
    let clock: @Sendable () -> Timestamp
    /// How long an estimate can be confirmed (15 minutes).
    public let estimateLifetime: Timestamp

    public init(
        store: any Storage, priceBook: PriceBook = .standard, estimateLifetime: Timestamp = 15 * 60 * 1_000_000,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.priceBook = priceBook
        self.estimateLifetime = estimateLifetime
        self.clock = clock
    }

    /// The prices in force for an account.
    public func prices(for account: BillingAccount) -> EffectivePrices {
        priceBook.prices(plan: account.plan, overrides: account.overrides)
    }

    // MARK: estimates

    /// What a run would use and cost, and why: the numbers and the assumptions behind them.
    public struct Quote: Sendable {
        public var modelUnits: Int64
        public var inferenceMicrodollars: Int64
        public var unitMicrodollars: Int64
        public var assumptions: [String]
        /// Inference plus the model units at the unit price: what a budget must have room for.
        public var totalMicrodollars: Int64 { Arithmetic.add(inferenceMicrodollars, Arithmetic.multiply(modelUnits, unitMicrodollars)) }
    }

    /// Prices a run of `rows` rows (`images` of them images, `tokens` tokens when known).
    public func quote(model: ModelCard, rows: Int64, images: Int64, tokens: Int64?, prices: EffectivePrices) -> Quote {
        let price = prices.price(of: model)
        var assumptions = [
            "every one of the \(rows) rows gets at least one prediction: \(rows) rows / \(prices.plan.modelRowsPerUnit) per unit, rounded up",
            "unit price $\(Money.format(prices.plan.unitMicrodollars)) (price book \(prices.priceBookVersion))",
        ]
        let tokenCount = tokens ?? Arithmetic.multiply(rows, EffectivePrices.assumedTokensPerRow)
        switch price.unit {
        case .free:
            assumptions.append("model \(model.id) has no inference fee")
        case .perRow:
            assumptions.append("\(rows) rows x $\(Money.format(price.microdollars)) per row")
        case .perImage:
            assumptions.append("\(images) images x $\(Money.format(price.microdollars)) per image")
        case .per1kTokens:
            if tokens == nil {
                assumptions.append("\(EffectivePrices.assumedTokensPerRow) tokens per row (the tokens actually used are charged)")
            }
            assumptions.append("\(tokenCount) tokens x $\(Money.format(price.microdollars)) per 1,000 tokens, rounded up")
        }
        assumptions.append("rows that fail or come from the prediction cache are charged as processed")
        return Quote(
            modelUnits: prices.modelUnits(rows: rows),
            inferenceMicrodollars: prices.inferenceFee(model: model, rows: rows, images: images, tokens: tokenCount),
            unitMicrodollars: prices.plan.unitMicrodollars, assumptions: assumptions)
    }

    public func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> RunEstimate {
        let (estimate, _, _) = try await estimate(request, tokens: nil)
        return estimate
    }

    /// An estimate stored so a run can confirm it, with the quote and the account it was made for.
    public func estimate(_ request: RunBillingRequest, tokens: Int64?) async throws(BillingRefusal) -> (RunEstimate, Quote, BillingAccount) {
        try Self.check(request)
        let account = try await storage { () async throws(StorageError) in try await store.billingAccount(organization: request.organizationID) }
        let quote = quote(
            model: request.model, rows: Int64(request.rowCount), images: Int64(request.imageCount), tokens: tokens, prices: prices(for: account))
        let now = clock()
        let stored = StoredEstimate(
            id: ObjectID.random("est").rawValue, organizationID: request.organizationID, modelID: request.model.id,
            rowCount: Int64(request.rowCount), imageCount: Int64(request.imageCount), modelUnits: quote.modelUnits,
            inferenceMicrodollars: quote.inferenceMicrodollars, createdAt: now, expiresAt: now + estimateLifetime)
        try await storage { () async throws(StorageError) in try await store.insertEstimate(stored) }
        return (
            RunEstimate(
                id: stored.id, modelUnits: quote.modelUnits, inferenceMicrodollars: quote.inferenceMicrodollars, assumptions: quote.assumptions,
                expiresAt: stored.expiresAt),
            quote, account
        )
    }

    // MARK: admission

    public func admit(_ request: RunBillingRequest) async throws(BillingRefusal) {
        try Self.check(request)
        guard let run = request.runID else {
            throw BillingRefusal(kind: .invalidArgument, reason: BillingReason.invalidRequest, message: "admitting a run needs its run id")
        }
        let account = try await storage { () async throws(StorageError) in try await store.billingAccount(organization: request.organizationID) }
        try Self.gate(account)
        if account.plan.isSelfService || request.estimateID != nil {
            try await checkEstimate(request, required: account.plan.isSelfService)
        }
        let quote = quote(
            model: request.model, rows: Int64(request.rowCount), images: Int64(request.imageCount), tokens: nil, prices: prices(for: account))
        let check = try await storage { () async throws(StorageError) in
            try await store.reserve(
                organization: request.organizationID, run: run, microdollars: quote.totalMicrodollars, datasets: request.datasetIDs,
                cycle: BillingCycle(containing: request.at), at: request.at, budget: account.budgetMicrodollars,
                datasetBudgets: account.datasetBudgets)
        }
        if case .exceeded(let dataset, let limit, let committed) = check {
            let which = dataset.map { "the budget of dataset \($0)" } ?? "the organisation's budget"
            throw BillingRefusal(
                kind: .resourceExhausted, reason: BillingReason.budgetExceeded,
                message: "the run would cost up to $\(Money.format(quote.totalMicrodollars)); \(which) is $\(Money.format(limit)) "
                    + "for \(BillingCycle(containing: request.at)) and $\(Money.format(committed)) of it is spent or reserved")
        }
    }

    /// The plan, add-on, payment and terms conditions, first failing one named; the message
    /// lists every one that fails.
    static func gate(_ account: BillingAccount) throws(BillingRefusal) {
        let blockers = account.runBlockers
        guard let first = blockers.first else { return }
        let all = blockers.map(Self.explain).joined(separator: "; ")
        throw BillingRefusal(kind: .failedPrecondition, reason: first, message: all)
    }

    /// What a reason code asks of the organisation, in words.
    static func explain(_ reason: String) -> String {
        switch reason {
        case BillingReason.upgradePlan: "model runs are not available on the educational plan: upgrade the plan"
        case BillingReason.enableAddon: "the foundation-model add-on is not enabled (self-service plans enable it with `assay billing enable`; enterprise organisations ask a server administrator)"
        case BillingReason.acceptTerms: "the add-on terms changed to version \(BillingTerms.version): accept them again (`assay billing enable`)"
        case BillingReason.addPaymentMethod: "self-service plans need a payment method on file (`assay billing payment`)"
        default: reason
        }
    }

    func checkEstimate(_ request: RunBillingRequest, required: Bool) async throws(BillingRefusal) {
        guard let id = request.estimateID, !id.isEmpty else {
            if required {
                throw BillingRefusal(
                    kind: .failedPrecondition, reason: BillingReason.confirmEstimate,
                    message: "a self-service run must confirm the estimate it was shown: ask for one, then pass its id")
            }
            return
        }
        let found = try await storage { () async throws(StorageError) in try await store.estimate(organization: request.organizationID, id: id) }
        guard let estimate = found else {
            throw BillingRefusal(kind: .invalidArgument, reason: BillingReason.unknownEstimate, message: "no estimate \(id) in this organisation")
        }
        guard request.at <= estimate.expiresAt else {
            throw BillingRefusal(
                kind: .failedPrecondition, reason: BillingReason.estimateExpired, message: "estimate \(id) expired; ask for a new one")
        }
        guard estimate.modelID == request.model.id, Int64(request.rowCount) <= estimate.rowCount, Int64(request.imageCount) <= estimate.imageCount
        else {
            throw BillingRefusal(
                kind: .failedPrecondition, reason: BillingReason.estimateMismatch,
                message: "estimate \(id) was for model \(estimate.modelID) over \(estimate.rowCount) rows (\(estimate.imageCount) images); "
                    + "this run is model \(request.model.id) over \(request.rowCount) rows (\(request.imageCount) images)")
        }
    }

    static func check(_ request: RunBillingRequest) throws(BillingRefusal) {
        guard request.rowCount >= 0, request.imageCount >= 0, request.imageCount <= request.rowCount else {
            throw BillingRefusal(
                kind: .invalidArgument, reason: BillingReason.invalidRequest,
                message: "row and image counts must be non-negative, with no more images (\(request.imageCount)) than rows (\(request.rowCount))")
        }
    }

    // MARK: metering

    public func settle(_ usage: RunUsage) async throws(BillingRefusal) {
        guard usage.rowsProcessed >= 0, usage.rowsWithPredictions >= 0, usage.images >= 0, usage.tokens >= 0,
            usage.rowsWithPredictions <= usage.rowsProcessed
        else {
            throw BillingRefusal(
                kind: .invalidArgument, reason: BillingReason.invalidRequest,
                message: "usage counts must be non-negative, with no more rows with predictions than rows processed")
        }
        let account = try await storage { () async throws(StorageError) in try await store.billingAccount(organization: usage.organizationID) }
        let prices = prices(for: account)
        let cycle = BillingCycle(containing: usage.at)
        let datasets = LedgerEntry.datasetList(usage.datasetIDs)
        var charges: [LedgerEntry] = []
        let fee = prices.inferenceFee(
            model: usage.model, rows: Int64(usage.rowsProcessed), images: Int64(usage.images), tokens: usage.tokens)
        if fee > 0 {
            let quantity: Int64 =
                switch prices.price(of: usage.model).unit {
                case .perImage: Int64(usage.images)
                case .per1kTokens: usage.tokens
                case .perRow, .free: Int64(usage.rowsProcessed)
                }
            charges.append(
                LedgerEntry(
                    key: ChargeKey.runInference(usage.runID), organizationID: usage.organizationID, kind: .inference, modelID: usage.model.id,
                    datasetIDs: datasets, runID: usage.runID.rawValue, quantity: quantity, units: 0, unitMicrodollars: 0, microdollars: fee,
                    cycle: cycle, at: usage.at, priceBookVersion: prices.priceBookVersion))
        }
        let units = prices.modelUnits(rows: Int64(usage.rowsWithPredictions))
        if units > 0 {
            charges.append(
                LedgerEntry(
                    key: ChargeKey.runModel(usage.runID), organizationID: usage.organizationID, kind: .model, modelID: usage.model.id,
                    datasetIDs: datasets, runID: usage.runID.rawValue, quantity: Int64(usage.rowsWithPredictions), units: units,
                    unitMicrodollars: prices.plan.unitMicrodollars, microdollars: prices.unitsCost(units), cycle: cycle, at: usage.at,
                    priceBookVersion: prices.priceBookVersion))
        }
        let ready = charges
        let appended = try await storage { () async throws(StorageError) in
            try await store.recordCharges(organization: usage.organizationID, ready, releasing: usage.runID)
        }
        LedgerTelemetry.record(appended)
    }

    public func meterReview(organization: ObjectID, key: String, rows: Int, datasetIDs: [ObjectID], at: Timestamp) async throws(BillingRefusal) {
        guard !key.isEmpty, rows > 0 else {
            throw BillingRefusal(kind: .invalidArgument, reason: BillingReason.invalidRequest, message: "review metering needs a key and a positive row count")
        }
        let account = try await storage { () async throws(StorageError) in try await store.billingAccount(organization: organization) }
        let prices = prices(for: account)
        let units = prices.reviewUnits(rows: Int64(rows))
        let charge = LedgerEntry(
            key: ChargeKey.review(key), organizationID: organization, kind: .review, datasetIDs: LedgerEntry.datasetList(datasetIDs),
            quantity: Int64(rows), units: units, unitMicrodollars: prices.plan.unitMicrodollars, microdollars: prices.unitsCost(units),
            cycle: BillingCycle(containing: at), at: at, priceBookVersion: prices.priceBookVersion)
        let appended = try await storage { () async throws(StorageError) in
            try await store.recordCharges(organization: organization, [charge], releasing: nil)
        }
        LedgerTelemetry.record(appended)
    }

    // MARK: cycles and invoices

    /// Catalog units a dataset accrues over [start, end) of `cycle`, per dataset.
    func catalogCharges(organization: ObjectID, cycle: BillingCycle, until end: Timestamp, prices: EffectivePrices) async throws(StorageError)
        -> [LedgerEntry]
    {
        let history = try await store.rowCountHistory(organization: organization, from: cycle.start, to: end)
        let held = CatalogHoldings.rowSeconds(opening: history.opening, events: history.events, start: cycle.start, end: end)
        return held.keys.sorted().compactMap { dataset in
            let rowSeconds = held[dataset]!
            let units = prices.catalogUnits(rowSeconds: rowSeconds, cycleSeconds: cycle.seconds)
            guard units > 0 else { return nil }
            return LedgerEntry(
                key: ChargeKey.catalog(cycle, dataset: dataset), organizationID: organization, kind: .catalog, datasetIDs: dataset,
                quantity: Arithmetic.ceilDiv(rowSeconds, cycle.seconds), units: units, unitMicrodollars: prices.plan.unitMicrodollars,
                microdollars: prices.unitsCost(units), cycle: cycle, at: cycle.end - 1, priceBookVersion: prices.priceBookVersion)
        }
    }

    /// Closes `cycle` for the organisation (and every earlier cycle since it was created that
    /// is still open, oldest first): charges its catalog units and stores its invoice. A
    /// cycle that has not ended is refused; closing again returns the same invoice.
    public func closeCycle(organization: ObjectID, cycle: BillingCycle) async throws(StorageError) -> Invoice {
        let now = clock()
        guard cycle.end <= now else {
            throw .failedPrecondition("cycle \(cycle) has not ended yet (it ends \(BillingCycle.day(of: cycle.end)) 00:00 UTC)")
        }
        let created = try await store.organization(organization).createdAt
        let invoices = try await store.invoices(organization: organization)
        if let existing = invoices.first(where: { $0.cycle == cycle }) { return existing }
        let closed = Set(invoices.map(\.cycle))
        var c = min(BillingCycle(containing: created), cycle)
        var last: Invoice?
        while c <= cycle {
            if !closed.contains(c) { last = try await closeOne(organization: organization, cycle: c, now: now) }
            c = c.next
        }
        return last!
    }

    func closeOne(organization: ObjectID, cycle: BillingCycle, now: Timestamp) async throws(StorageError) -> Invoice {
        let account = try await store.billingAccount(organization: organization)
        let prices = prices(for: account)
        let catalog = try await catalogCharges(organization: organization, cycle: cycle, until: cycle.end, prices: prices)
        let id = ObjectID.random("inv").rawValue
        return try await store.closeCycle(organization: organization, cycle: cycle, charges: catalog) { entries in
            Invoice(
                id: id, organizationID: organization, cycle: cycle, closedAt: now, plan: account.plan,
                priceBookVersion: prices.priceBookVersion, lines: Invoice.lines(from: entries))
        }
    }

    /// Closes every cycle of the organisation that has ended (the schedule calls this; so do
    /// invoice listings, so an invoice is there as soon as its cycle is over).
    @discardableResult
    public func closeDueCycles(organization: ObjectID) async throws(StorageError) -> [Invoice] {
        let now = clock()
        guard let lastEnded = BillingCycle(containing: now).previous else { return [] }
        let created = try await store.organization(organization).createdAt
        guard BillingCycle(containing: created) <= lastEnded else { return try await store.invoices(organization: organization) }
        _ = try await closeCycle(organization: organization, cycle: lastEnded)
        return try await store.invoices(organization: organization)
    }

    /// Closes every organisation's ended cycles; a long-running server calls this daily.
    public func closeDueCycles() async throws(StorageError) {
        for organization in try await store.organizationIDs() { try await closeDueCycles(organization: organization) }
    }

    /// Catalog units accrued in the current cycle so far (charged when it closes).
    public func catalogUnitsAccrued(organization: ObjectID) async throws(StorageError) -> Int64 {
        let now = clock()
        let account = try await store.billingAccount(organization: organization)
        let charges = try await catalogCharges(organization: organization, cycle: BillingCycle(containing: now), until: now, prices: prices(for: account))
        return charges.reduce(0) { Arithmetic.add($0, $1.units) }
    }

    // MARK: helpers

    /// Runs a store call, turning its failure into a refusal the run service can pass on.
    func storage<T>(_ body: () async throws(StorageError) -> T) async throws(BillingRefusal) -> T {
        do {
            return try await body()
        } catch {
            switch error {
            case .notFound(let m):
                throw BillingRefusal(kind: .invalidArgument, reason: BillingReason.invalidRequest, message: "unknown \(m)")
            default:
                throw BillingRefusal(kind: .unavailable, reason: BillingReason.unavailable, message: "billing cannot be reached right now; retry")
            }
        }
    }
}

/// The ledger totals the server's metrics endpoint shows: what this process appended to the
/// ledger as charges happened (inference fees, model and review units), never a replay.
/// Catalog units are charged when a cycle closes and are read from invoices instead.
enum LedgerTelemetry {
    static let units = Dictionary(uniqueKeysWithValues: ChargeKind.allCases.map { kind in
        (kind, Telemetry.shared.counter(
            "assay_ledger_units_total", help: "Units charged to the ledger by this process, by kind.", labels: [("kind", kind.rawValue)]))
    })
    static let microdollars = Dictionary(uniqueKeysWithValues: ChargeKind.allCases.map { kind in
        (kind, Telemetry.shared.counter(
            "assay_ledger_microdollars_total", help: "Micro-dollars charged to the ledger by this process, by kind.",
            labels: [("kind", kind.rawValue)]))
    })

    static func record(_ appended: [LedgerEntry]) {
        for entry in appended {
            units[entry.kind]?.add(entry.units)
            microdollars[entry.kind]?.add(entry.microdollars)
        }
    }
}
