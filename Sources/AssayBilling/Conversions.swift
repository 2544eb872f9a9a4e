import AssayCore
import AssayWire

// Domain and wire values share names (Invoice, ChargeKind, PaymentMethod); here the wire
// ones are spelled through AssayWire and the domain ones through AssayCore.

/// Domain values as wire messages and back.
enum Convert {
    static func plan(_ p: AssayWire.Plan) -> BillingPlan? {
        switch p {
        case .educational: .educational
        case .free: .free
        case .starter: .starter
        case .pro: .pro
        case .enterprise: .enterprise
        default: nil
        }
    }

    static func plan(_ p: BillingPlan) -> AssayWire.Plan {
        switch p {
        case .educational: .educational
        case .free: .free
        case .starter: .starter
        case .pro: .pro
        case .enterprise: .enterprise
        }
    }

    static func kind(_ k: AssayCore.ChargeKind) -> AssayWire.ChargeKind {
        switch k {
        case .catalog: .catalog
        case .model: .model
        case .review: .review
        case .inference: .inference
        }
    }

    static func account(_ a: BillingAccount, prices: EffectivePrices, serverAdministrator: Bool) -> Account {
        Account(
            organizationId: a.organizationID.rawValue, plan: plan(a.plan), addonEnabled: a.addonEnabled,
            termsVersionAccepted: a.termsVersion ?? "", termsAcceptedAtMicros: a.termsAcceptedAt ?? 0,
            currentTermsVersion: BillingTerms.version,
            paymentMethod: a.paymentMethod.map { AssayWire.PaymentMethod(reference: $0.reference, displayHint: $0.displayHint) },
            budgetMicrodollars: a.budgetMicrodollars ?? 0,
            datasetBudgets: a.datasetBudgets.sorted { $0.key < $1.key }.map { DatasetBudget(datasetId: $0.key.rawValue, limitMicrodollars: $0.value) },
            prices: Prices(
                priceBookVersion: prices.priceBookVersion, unitMicrodollars: prices.plan.unitMicrodollars,
                catalogRowsPerUnit: prices.plan.catalogRowsPerUnit, modelRowsPerUnit: prices.plan.modelRowsPerUnit,
                reviewRowsPerUnit: prices.plan.reviewRowsPerUnit, modelPriceOverrides: prices.modelPrices),
            runBlockers: a.runBlockers, serverAdministrator: serverAdministrator)
    }

    static func charge(_ c: LedgerEntry) -> Charge {
        Charge(
            key: c.key, kind: kind(c.kind), modelId: c.modelID, datasetIds: c.datasetIDs, runId: c.runID, quantity: c.quantity,
            units: c.units, unitMicrodollars: c.unitMicrodollars, microdollars: c.microdollars, cycle: c.cycle.description, atMicros: c.at,
            priceBookVersion: c.priceBookVersion)
    }

    static func invoice(_ i: AssayCore.Invoice) -> AssayWire.Invoice {
        AssayWire.Invoice(
            id: i.id, organizationId: i.organizationID.rawValue, cycle: i.cycle.description, periodStartMicros: i.cycle.start,
            periodEndMicros: i.cycle.end, closedAtMicros: i.closedAt, plan: plan(i.plan), priceBookVersion: i.priceBookVersion,
            lines: i.lines.map {
                InvoiceLine(
                    kind: kind($0.kind), modelId: $0.modelID, datasetIds: $0.datasetIDs, quantity: $0.quantity, units: $0.units,
                    unitMicrodollars: $0.unitMicrodollars, microdollars: $0.microdollars, chargedAtOnce: $0.kind == .inference)
            },
            totalUnits: i.totalUnits, unitsMicrodollars: i.unitsMicrodollars, inferenceMicrodollars: i.inferenceMicrodollars,
            totalMicrodollars: i.totalMicrodollars, total: Money.format(i.totalMicrodollars))
    }
}

/// Usage reports: ledger entries summed by day, model, dataset or kind.
enum Usage {
    static func rows(_ charges: [LedgerEntry], grouping: UsageGrouping) -> [UsageRow] {
        struct Key: Hashable {
            var group: String
            var kind: AssayCore.ChargeKind
        }
        var sums: [Key: UsageRow] = [:]
        for c in charges {
            let group: String =
                switch grouping {
                case .byDay: BillingCycle.day(of: c.at)
                case .byModel: c.modelID
                case .byDataset: c.datasetIDs
                default: c.kind.rawValue
                }
            let key = Key(group: group, kind: c.kind)
            var row = sums[key] ?? UsageRow(group: group, kind: Convert.kind(c.kind))
            row.quantity = Arithmetic.add(row.quantity, c.quantity)
            row.units = Arithmetic.add(row.units, c.units)
            row.microdollars = Arithmetic.add(row.microdollars, c.microdollars)
            sums[key] = row
        }
        return sums.sorted { ($0.key.group, $0.key.kind) < ($1.key.group, $1.key.kind) }.map(\.value)
    }
}
