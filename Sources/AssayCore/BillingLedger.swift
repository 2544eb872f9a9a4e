/// Billing's stored values: an organisation's account, the ledger's charges, estimates,
/// catalog holdings and invoices, with the pure rules that build them.

/// What the review service asks of billing: meter rows sent to review. Idempotent per key (a
/// review task id, or a task id and a batch number): metering the same key again charges
/// nothing more.
public protocol ReviewBilling: Sendable {
    func meterReview(organization: ObjectID, key: String, rows: Int, datasetIDs: [ObjectID], at: Timestamp) async throws(BillingRefusal)
}

/// An organisation's billing settings.
public struct BillingAccount: Hashable, Sendable {
    public var organizationID: ObjectID
    public var plan: BillingPlan
    public var addonEnabled: Bool
    /// The terms version accepted when the add-on was enabled; nil when never accepted.
    public var termsVersion: String?
    public var termsAcceptedAt: Timestamp?
    public var paymentMethod: PaymentMethod?
    /// Spend cap per cycle, in micro-dollars; nil for none.
    public var budgetMicrodollars: Int64?
    public var datasetBudgets: [ObjectID: Int64]
    public var overrides: PriceOverrides

    public init(
        organizationID: ObjectID, plan: BillingPlan = .default, addonEnabled: Bool = false, termsVersion: String? = nil,
        termsAcceptedAt: Timestamp? = nil, paymentMethod: PaymentMethod? = nil, budgetMicrodollars: Int64? = nil,
        datasetBudgets: [ObjectID: Int64] = [:], overrides: PriceOverrides = PriceOverrides()
    ) {
        self.organizationID = organizationID
        self.plan = plan
        self.addonEnabled = addonEnabled
        self.termsVersion = termsVersion
        self.termsAcceptedAt = termsAcceptedAt
        self.paymentMethod = paymentMethod
        self.budgetMicrodollars = budgetMicrodollars
        self.datasetBudgets = datasetBudgets
        self.overrides = overrides
    }

    /// Why a run would be refused now, most actionable first; empty when runs are allowed
    /// (the estimate confirmation and budgets are checked per run).
    public var runBlockers: [String] {
        guard plan.allowsRuns else { return [BillingReason.upgradePlan] }
        guard plan.isSelfService else { return addonEnabled ? [] : [BillingReason.enableAddon] }
        var blockers: [String] = []
        if paymentMethod == nil { blockers.append(BillingReason.addPaymentMethod) }
        if !addonEnabled {
            blockers.append(BillingReason.enableAddon)
        } else if termsVersion != BillingTerms.version {
            blockers.append(BillingReason.acceptTerms)
        }
        return blockers
    }
}

/// A payment method on file: the processor's reference and a hint for people. Card numbers
/// are never accepted (see `looksLikeCardNumber`).
public struct PaymentMethod: Hashable, Sendable {
    public var reference: String
    public var displayHint: String

    public init(reference: String, displayHint: String) {
        self.reference = reference
        self.displayHint = displayHint
    }

    /// True when `text` holds 12 or more digits in a row (spaces and dashes ignored): a card
    /// number, which Assay refuses to store.
    public static func looksLikeCardNumber(_ text: String) -> Bool {
        var run = 0
        for c in text {
            if c.isASCII && c.isNumber {
                run += 1
                if run >= 12 { return true }
            } else if c != " " && c != "-" {
                run = 0
            }
        }
        return false
    }
}

/// One line of the append-only ledger. `key` is derived from the charge's cause and unique
/// per organisation, so recording the same cause twice stores it once.
public struct LedgerEntry: Hashable, Sendable {
    public var key: String
    public var organizationID: ObjectID
    public var kind: ChargeKind
    public var modelID: String
    /// Sorted, comma-separated dataset ids ("" when none applies).
    public var datasetIDs: String
    public var runID: String
    /// What was counted: rows, images, tokens, or row-seconds for the catalog.
    public var quantity: Int64
    public var units: Int64
    /// The unit price when charged (units' dollar value is fixed then).
    public var unitMicrodollars: Int64
    /// Inference fee, or units x unit price.
    public var microdollars: Int64
    /// The cycle the charge belongs to (a charge for a closed cycle goes to the next open one).
    public var cycle: BillingCycle
    public var at: Timestamp
    public var priceBookVersion: String

    public init(
        key: String, organizationID: ObjectID, kind: ChargeKind, modelID: String = "", datasetIDs: String = "", runID: String = "",
        quantity: Int64, units: Int64, unitMicrodollars: Int64, microdollars: Int64, cycle: BillingCycle, at: Timestamp,
        priceBookVersion: String
    ) {
        self.key = key
        self.organizationID = organizationID
        self.kind = kind
        self.modelID = modelID
        self.datasetIDs = datasetIDs
        self.runID = runID
        self.quantity = quantity
        self.units = units
        self.unitMicrodollars = unitMicrodollars
        self.microdollars = microdollars
        self.cycle = cycle
        self.at = at
        self.priceBookVersion = priceBookVersion
    }

    /// Dataset ids as the ledger writes them: sorted, de-duplicated, comma-separated.
    public static func datasetList(_ ids: [ObjectID]) -> String {
        Set(ids.map(\.rawValue)).sorted().joined(separator: ",")
    }
}

/// The charge keys, one place: each names its cause so a repeat is recognised.
public enum ChargeKey {
    /// A run's model units; one per run, whatever retries or restarts happen.
    public static func runModel(_ run: ObjectID) -> String { "run:\(run.rawValue):model" }
    /// A run's inference fee; one per run.
    public static func runInference(_ run: ObjectID) -> String { "run:\(run.rawValue):inference" }
    /// Rows sent to review under the review service's key.
    public static func review(_ key: String) -> String { "review:\(key)" }
    /// A dataset's catalog units for a cycle.
    public static func catalog(_ cycle: BillingCycle, dataset: String) -> String { "catalog:\(cycle):\(dataset)" }
}

/// An estimate shown to a caller, kept until it expires so a run can confirm it.
public struct StoredEstimate: Hashable, Sendable {
    public var id: String
    public var organizationID: ObjectID
    public var modelID: String
    public var rowCount: Int64
    public var imageCount: Int64
    public var modelUnits: Int64
    public var inferenceMicrodollars: Int64
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        id: String, organizationID: ObjectID, modelID: String, rowCount: Int64, imageCount: Int64, modelUnits: Int64,
        inferenceMicrodollars: Int64, createdAt: Timestamp, expiresAt: Timestamp
    ) {
        self.id = id
        self.organizationID = organizationID
        self.modelID = modelID
        self.rowCount = rowCount
        self.imageCount = imageCount
        self.modelUnits = modelUnits
        self.inferenceMicrodollars = inferenceMicrodollars
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A change in a dataset's row count, recorded in the same transaction as the rows.
public struct RowCountEvent: Hashable, Sendable {
    public var datasetID: String
    public var at: Timestamp
    public var delta: Int64

    public init(datasetID: String, at: Timestamp, delta: Int64) {
        self.datasetID = datasetID
        self.at = at
        self.delta = delta
    }
}

/// Data-row-seconds held per dataset over a period, from the counts at its start and the
/// changes during it.
public enum CatalogHoldings {
    /// `opening`: rows per dataset at `start`; `events`: changes in [start, end).
    public static func rowSeconds(
        opening: [String: Int64], events: [RowCountEvent], start: Timestamp, end: Timestamp
    ) -> [String: Int64] {
        var count = opening
        var since: [String: Timestamp] = [:]
        var total: [String: Int64] = [:]
        func accrue(_ dataset: String, until t: Timestamp) {
            let from = since[dataset] ?? start
            let rows = max(count[dataset] ?? 0, 0)
            total[dataset] = Arithmetic.add(total[dataset] ?? 0, Arithmetic.multiply(rows, (t - from) / 1_000_000))
            since[dataset] = t
        }
        for event in events.sorted(by: { ($0.at, $0.datasetID) < ($1.at, $1.datasetID) }) where event.at >= start && event.at < end {
            // Whole seconds since the period's start, so splitting a period never loses time.
            let t = start + (event.at - start) / 1_000_000 * 1_000_000
            accrue(event.datasetID, until: t)
            count[event.datasetID, default: 0] += event.delta
        }
        for dataset in Set(count.keys).union(total.keys) { accrue(dataset, until: end) }
        return total.filter { $0.value > 0 }
    }
}

/// A closed cycle's statement.
public struct Invoice: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public var kind: ChargeKind
        public var modelID: String
        public var datasetIDs: String
        public var quantity: Int64
        public var units: Int64
        public var unitMicrodollars: Int64
        public var microdollars: Int64

        public init(kind: ChargeKind, modelID: String, datasetIDs: String, quantity: Int64, units: Int64, unitMicrodollars: Int64, microdollars: Int64) {
            self.kind = kind
            self.modelID = modelID
            self.datasetIDs = datasetIDs
            self.quantity = quantity
            self.units = units
            self.unitMicrodollars = unitMicrodollars
            self.microdollars = microdollars
        }
    }

    public var id: String
    public var organizationID: ObjectID
    public var cycle: BillingCycle
    public var closedAt: Timestamp
    public var plan: BillingPlan
    public var priceBookVersion: String
    public var lines: [Line]

    public init(id: String, organizationID: ObjectID, cycle: BillingCycle, closedAt: Timestamp, plan: BillingPlan, priceBookVersion: String, lines: [Line]) {
        self.id = id
        self.organizationID = organizationID
        self.cycle = cycle
        self.closedAt = closedAt
        self.plan = plan
        self.priceBookVersion = priceBookVersion
        self.lines = lines
    }

    public var totalUnits: Int64 { lines.reduce(0) { Arithmetic.add($0, $1.units) } }
    /// What the units cost (invoiced now).
    public var unitsMicrodollars: Int64 { lines.filter { $0.kind != .inference }.reduce(0) { Arithmetic.add($0, $1.microdollars) } }
    /// Inference fees of the cycle (charged already, when their runs ended).
    public var inferenceMicrodollars: Int64 { lines.filter { $0.kind == .inference }.reduce(0) { Arithmetic.add($0, $1.microdollars) } }
    public var totalMicrodollars: Int64 { Arithmetic.add(unitsMicrodollars, inferenceMicrodollars) }

    /// Line items by kind, model, dataset and unit price, from the cycle's ledger entries.
    public static func lines(from entries: [LedgerEntry]) -> [Line] {
        struct Group: Hashable {
            var kind: ChargeKind
            var model: String
            var datasets: String
            var unitPrice: Int64
        }
        var groups: [Group: Line] = [:]
        for e in entries {
            let g = Group(kind: e.kind, model: e.modelID, datasets: e.datasetIDs, unitPrice: e.unitMicrodollars)
            var line = groups[g] ?? Line(kind: e.kind, modelID: e.modelID, datasetIDs: e.datasetIDs, quantity: 0, units: 0, unitMicrodollars: e.unitMicrodollars, microdollars: 0)
            line.quantity = Arithmetic.add(line.quantity, e.quantity)
            line.units = Arithmetic.add(line.units, e.units)
            line.microdollars = Arithmetic.add(line.microdollars, e.microdollars)
            groups[g] = line
        }
        return groups.values.sorted {
            ($0.kind, $0.modelID, $0.datasetIDs, $0.unitMicrodollars) < ($1.kind, $1.modelID, $1.datasetIDs, $1.unitMicrodollars)
        }
    }

    /// The invoice as CSV (RFC 4180): one row per line item, then a total row. Amounts are
    /// decimal dollars written from micro-dollars with integer arithmetic.
    public var csv: String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
        }
        var out = "invoice,cycle,kind,model,datasets,quantity,units,unit_price_usd,amount_usd,charged_at_once\r\n"
        for l in lines {
            out += [
                id, cycle.description, l.kind.rawValue, l.modelID, l.datasetIDs, String(l.quantity), String(l.units),
                Money.format(l.unitMicrodollars), Money.format(l.microdollars), l.kind == .inference ? "true" : "false",
            ].map(field).joined(separator: ",") + "\r\n"
        }
        out += [id, cycle.description, "total", "", "", "", String(totalUnits), "", Money.format(totalMicrodollars), ""]
            .map(field).joined(separator: ",") + "\r\n"
        return out
    }
}
