/// The rules of billing that need no storage: plans, the price book, how units and fees are
/// counted, billing cycles and how money is written. Money is integer micro-dollars
/// (1 USD = 1,000,000) and units are integers everywhere; no amount ever passes through a
/// floating-point number.

/// What an organisation pays under, and what it may do.
public enum BillingPlan: String, Hashable, Sendable, CaseIterable {
    /// Teaching and research: catalog and review, but runs (the foundation-model add-on) are
    /// not available.
    case educational
    /// Self-service plans: the organisation enables the add-on itself (terms accepted, a
    /// payment method on file) and confirms each run's estimate.
    case free
    case starter
    case pro
    /// Contracted: a server administrator enables the add-on; runs need no confirmation.
    case enterprise

    /// The plan a new organisation starts on.
    public static let `default` = BillingPlan.free

    /// Whether the organisation manages the add-on itself.
    public var isSelfService: Bool {
        switch self {
        case .free, .starter, .pro: true
        case .educational, .enterprise: false
        }
    }

    /// Whether model runs can be enabled at all on this plan.
    public var allowsRuns: Bool { self != .educational }
}

/// The kinds of line a ledger holds.
public enum ChargeKind: String, Hashable, Sendable, CaseIterable, Comparable {
    /// Units for data rows held during a cycle, charged when the cycle closes.
    case catalog
    /// Units for the rows of a model run that got at least one prediction.
    case model
    /// Units for rows sent to human review.
    case review
    /// Micro-dollars for a run's model calls, charged as soon as the run ends.
    case inference

    public static func < (a: ChargeKind, b: ChargeKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The reason codes a refusal carries, for clients to act on.
public enum BillingReason {
    /// The plan does not allow runs (educational): upgrade the plan.
    public static let upgradePlan = "upgrade_plan"
    /// The foundation-model add-on is not enabled (self-service: enable it; enterprise: ask a
    /// server administrator).
    public static let enableAddon = "enable_addon"
    /// The terms accepted are not the current version (or none were accepted).
    public static let acceptTerms = "accept_terms"
    /// Self-service plans need a payment method on file.
    public static let addPaymentMethod = "add_payment_method"
    /// A self-service run must confirm the estimate it was shown.
    public static let confirmEstimate = "confirm_estimate"
    /// The confirmed estimate has expired: ask for a new one.
    public static let estimateExpired = "estimate_expired"
    /// The run is not the one the estimate was made for (another model, more rows).
    public static let estimateMismatch = "estimate_mismatch"
    /// No such estimate in the organisation.
    public static let unknownEstimate = "unknown_estimate"
    /// The run would cross a budget.
    public static let budgetExceeded = "budget_exceeded"
    /// The request itself is malformed.
    public static let invalidRequest = "invalid_request"
    /// Billing's storage failed.
    public static let unavailable = "billing_unavailable"
}

/// The terms a self-service organisation accepts when it enables the add-on. A new version
/// means every organisation accepts again before its next run.
public enum BillingTerms {
    public static let version = "2026-01"
    public static let text = """
        Assay foundation-model add-on terms, version 2026-01.
        1. Model runs are charged in units (1 per 5 data rows with predictions) and inference fees \
        (the model card's price), in US dollars, to the payment method on file.
        2. Inference fees are charged when a run completes or is cancelled, for the rows processed; \
        units are invoiced at the end of each monthly billing cycle (UTC).
        3. Catalog storage is 1 unit per 60 data rows held a month, review 1 unit per data row sent.
        4. Prices are those of the price book in force when a charge is made.
        """
}

/// The prices of one plan in one version of the price book. The unit rates are "rows per
/// unit", so units are `ceil(rows / rowsPerUnit)`, rounded up once per charge.
public struct PlanPrices: Hashable, Sendable {
    /// The dollar price of one unit.
    public var unitMicrodollars: Int64
    /// Data rows held a whole month per catalog unit.
    public var catalogRowsPerUnit: Int64
    /// Rows with predictions in a model run per model unit.
    public var modelRowsPerUnit: Int64
    /// Rows sent to review per review unit.
    public var reviewRowsPerUnit: Int64

    public init(unitMicrodollars: Int64, catalogRowsPerUnit: Int64 = 60, modelRowsPerUnit: Int64 = 5, reviewRowsPerUnit: Int64 = 1) {
        self.unitMicrodollars = unitMicrodollars
        self.catalogRowsPerUnit = catalogRowsPerUnit
        self.modelRowsPerUnit = modelRowsPerUnit
        self.reviewRowsPerUnit = reviewRowsPerUnit
    }
}

/// A versioned price book: the prices of every plan. Inference prices come from the model
/// cards; an organisation may have overrides of both.
public struct PriceBook: Hashable, Sendable {
    public var version: String
    public var plans: [BillingPlan: PlanPrices]

    public init(version: String, plans: [BillingPlan: PlanPrices]) {
        self.version = version
        self.plans = plans
    }

    /// The price book this build ships with.
    public static let standard = PriceBook(
        version: "2026-01",
        plans: [
            .educational: PlanPrices(unitMicrodollars: 0),
            .free: PlanPrices(unitMicrodollars: 100_000),
            .starter: PlanPrices(unitMicrodollars: 100_000),
            .pro: PlanPrices(unitMicrodollars: 80_000),
            .enterprise: PlanPrices(unitMicrodollars: 60_000),
        ])

    /// The prices an organisation on `plan` with `overrides` pays.
    public func prices(plan: BillingPlan, overrides: PriceOverrides) -> EffectivePrices {
        let base = plans[plan] ?? PlanPrices(unitMicrodollars: 0)
        return EffectivePrices(
            priceBookVersion: overrides.isEmpty ? version : version + "+override",
            plan: PlanPrices(
                unitMicrodollars: overrides.unitMicrodollars ?? base.unitMicrodollars,
                catalogRowsPerUnit: overrides.catalogRowsPerUnit ?? base.catalogRowsPerUnit,
                modelRowsPerUnit: overrides.modelRowsPerUnit ?? base.modelRowsPerUnit,
                reviewRowsPerUnit: overrides.reviewRowsPerUnit ?? base.reviewRowsPerUnit),
            modelPrices: overrides.modelPrices)
    }
}

/// An organisation's deviations from its plan's prices, set by a server administrator.
public struct PriceOverrides: Hashable, Sendable {
    public var unitMicrodollars: Int64?
    public var catalogRowsPerUnit: Int64?
    public var modelRowsPerUnit: Int64?
    public var reviewRowsPerUnit: Int64?
    /// Model id -> micro-dollars per the card's price unit.
    public var modelPrices: [String: Int64]

    public init(
        unitMicrodollars: Int64? = nil, catalogRowsPerUnit: Int64? = nil, modelRowsPerUnit: Int64? = nil, reviewRowsPerUnit: Int64? = nil,
        modelPrices: [String: Int64] = [:]
    ) {
        self.unitMicrodollars = unitMicrodollars
        self.catalogRowsPerUnit = catalogRowsPerUnit
        self.modelRowsPerUnit = modelRowsPerUnit
        self.reviewRowsPerUnit = reviewRowsPerUnit
        self.modelPrices = modelPrices
    }

    public var isEmpty: Bool {
        unitMicrodollars == nil && catalogRowsPerUnit == nil && modelRowsPerUnit == nil && reviewRowsPerUnit == nil && modelPrices.isEmpty
    }
}

/// The prices in force for one organisation, and the arithmetic of every charge.
public struct EffectivePrices: Hashable, Sendable {
    public var priceBookVersion: String
    public var plan: PlanPrices
    public var modelPrices: [String: Int64]

    public init(priceBookVersion: String, plan: PlanPrices, modelPrices: [String: Int64] = [:]) {
        self.priceBookVersion = priceBookVersion
        self.plan = plan
        self.modelPrices = modelPrices
    }

    /// Tokens assumed per row when estimating a per-1k-token model (the real count is charged).
    public static let assumedTokensPerRow: Int64 = 1_000

    /// The model's price for this organisation: the card's, or its override (same unit).
    public func price(of model: ModelCard) -> Price {
        guard let override = modelPrices[model.id], model.price.unit != .free else { return model.price }
        return Price(unit: model.price.unit, microdollars: override)
    }

    /// Model units for a run whose `rows` rows got predictions: one per `modelRowsPerUnit`,
    /// rounded up once for the whole run.
    public func modelUnits(rows: Int64) -> Int64 { Arithmetic.ceilDiv(rows, plan.modelRowsPerUnit) }

    /// Review units for `rows` rows sent to review, rounded up once.
    public func reviewUnits(rows: Int64) -> Int64 { Arithmetic.ceilDiv(rows, plan.reviewRowsPerUnit) }

    /// Catalog units for `rowSeconds` data-row-seconds held during a cycle `cycleSeconds`
    /// long: a row held the whole cycle counts 1/`catalogRowsPerUnit`, a row held part of it
    /// in proportion; rounded up once per charge.
    public func catalogUnits(rowSeconds: Int64, cycleSeconds: Int64) -> Int64 {
        Arithmetic.ceilDiv(rowSeconds, Arithmetic.multiply(plan.catalogRowsPerUnit, cycleSeconds))
    }

    /// What units cost at this organisation's unit price.
    public func unitsCost(_ units: Int64) -> Int64 { Arithmetic.multiply(units, plan.unitMicrodollars) }

    /// The inference fee of a model's calls: per row processed, per image read, or per 1,000
    /// tokens (rounded up once for the run).
    public func inferenceFee(model: ModelCard, rows: Int64, images: Int64, tokens: Int64) -> Int64 {
        let price = price(of: model)
        switch price.unit {
        case .free: return 0
        case .perRow: return Arithmetic.multiply(rows, price.microdollars)
        case .perImage: return Arithmetic.multiply(images, price.microdollars)
        case .per1kTokens: return Arithmetic.ceilDiv(Arithmetic.multiply(tokens, price.microdollars), 1_000)
        }
    }
}

/// Integer arithmetic for money and units: saturating (an absurd amount stays absurd rather
/// than wrapping to a small or negative one) and rounding up where a charge rounds.
public enum Arithmetic {
    /// `ceil(a / b)` for `a >= 0`, `b > 0`; 0 for a non-positive `a`.
    public static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 {
        guard a > 0 else { return 0 }
        precondition(b > 0, "a rate must be positive")
        return a / b + (a % b == 0 ? 0 : 1)
    }

    /// `a * b`, saturating at `Int64.max` (inputs are never negative here).
    public static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? (a < 0) != (b < 0) ? .min : .max : product
    }

    /// `a + b`, saturating.
    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : sum
    }
}

/// Writing and reading dollar amounts held as micro-dollars, with integer arithmetic only.
public enum Money {
    /// "2.00", "0.004", "1234.5678", "-3.10": at least two decimals, trailing zeros past
    /// the cents dropped.
    public static func format(_ microdollars: Int64) -> String {
        let negative = microdollars < 0
        let magnitude = microdollars.magnitude
        let whole = magnitude / 1_000_000
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + String(whole) + "." + fraction
    }

    /// Reads "2", "2.5", "0.004", "$1,234.56" (at most six decimals) as micro-dollars; nil
    /// for anything else, including a sign ("-0.5" is not half a dollar), more precision than
    /// a micro-dollar and more than `Int64.max` micro-dollars.
    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text.filter { $0 != "," })
        if s.hasPrefix("$") { s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        // Digits only: `Int64("-0")` is 0, so a sign would otherwise vanish from "-0.5".
        guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty,
            wholeText.allSatisfy({ $0.isASCII && $0.isNumber }), let whole = Int64(wholeText)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 6, f.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(f) else { return nil }
            fraction = v * Int64([1, 100_000, 10_000, 1_000, 100, 10, 1][f.count])
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1_000_000)
        let (total, carried) = scaled.addingReportingOverflow(fraction)
        guard !overflow, !carried else { return nil }
        return total
    }
}

/// A billing cycle: one calendar month, UTC.
public struct BillingCycle: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1...12.
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// The cycle that contains `timestamp`.
    public init(containing timestamp: Timestamp) {
        let days = Self.floorDiv(timestamp, Self.microsPerDay)
        let (y, m, _) = Self.civil(fromDays: days)
        self.year = max(1970, y)
        self.month = y < 1970 ? 1 : m
    }

    /// Reads "2026-03".
    public init?(_ name: String) {
        let parts = name.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]) else {
            return nil
        }
        self.init(year: y, month: m)
    }

    /// "2026-03".
    public var description: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }

    public var start: Timestamp { Self.days(year: year, month: month, day: 1) * Self.microsPerDay }
    public var end: Timestamp { next.start }
    public var next: BillingCycle { month == 12 ? BillingCycle(year: year + 1, month: 1)! : BillingCycle(year: year, month: month + 1)! }
    public var previous: BillingCycle? { month == 1 ? BillingCycle(year: year - 1, month: 12) : BillingCycle(year: year, month: month - 1) }
    /// The cycle's length in seconds (28 to 31 days).
    public var seconds: Int64 { (end - start) / 1_000_000 }

    public static func < (a: BillingCycle, b: BillingCycle) -> Bool { (a.year, a.month) < (b.year, b.month) }

    static let microsPerDay: Int64 = 86_400 * 1_000_000

    /// "2026-03-05", the UTC day of `timestamp`.
    public static func day(of timestamp: Timestamp) -> String {
        let (y, m, d) = civil(fromDays: floorDiv(timestamp, microsPerDay))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))"
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Days since 1970-01-01 of a civil date (proleptic Gregorian).
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civil(fromDays z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }
}
