public import AssayCore

/// Billing in SQLite. Every check that guards money (budgets) runs in the writer's
/// transaction that records the reservation, and the single writer thread serialises those
/// transactions, so two admissions never both see the same headroom.
extension PostgresStorage {
    // MARK: accounts

    public func billingAccount(organization: ObjectID) async throws(StorageError) -> BillingAccount {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            return try connection.billingAccount(org: org, id: organization)
        }
    }

    public func saveBillingAccount(_ account: BillingAccount) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(account.organizationID) else {
                throw .notFound("organization \(account.organizationID)")
            }
            let o = account.overrides
            try connection.run(
                """
                INSERT INTO billing_accounts (org, plan, addon_enabled, terms_version, terms_accepted_at, payment_reference,
                    payment_hint, budget, unit_price, catalog_rows_per_unit, model_rows_per_unit, review_rows_per_unit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (org) DO UPDATE SET plan = excluded.plan, addon_enabled = excluded.addon_enabled,
                    terms_version = excluded.terms_version, terms_accepted_at = excluded.terms_accepted_at,
                    payment_reference = excluded.payment_reference, payment_hint = excluded.payment_hint,
                    budget = excluded.budget, unit_price = excluded.unit_price,
                    catalog_rows_per_unit = excluded.catalog_rows_per_unit,
                    model_rows_per_unit = excluded.model_rows_per_unit, review_rows_per_unit = excluded.review_rows_per_unit
                """,
                [
                    .integer(org), .text(account.plan.rawValue), .integer(account.addonEnabled ? 1 : 0),
                    .optionalText(account.termsVersion), .optionalInteger(account.termsAcceptedAt),
                    .optionalText(account.paymentMethod?.reference), .optionalText(account.paymentMethod?.displayHint),
                    .optionalInteger(account.budgetMicrodollars), .optionalInteger(o.unitMicrodollars),
                    .optionalInteger(o.catalogRowsPerUnit), .optionalInteger(o.modelRowsPerUnit), .optionalInteger(o.reviewRowsPerUnit),
                ])
            try connection.run("DELETE FROM billing_dataset_budgets WHERE org = ?", [.integer(org)])
            for (dataset, limit) in account.datasetBudgets {
                try connection.run(
                    "INSERT INTO billing_dataset_budgets (org, dataset_id, limit_microdollars) VALUES (?, ?, ?)",
                    [.integer(org), .text(dataset.rawValue), .integer(limit)])
            }
            try connection.run("DELETE FROM billing_model_prices WHERE org = ?", [.integer(org)])
            for (model, price) in o.modelPrices {
                try connection.run(
                    "INSERT INTO billing_model_prices (org, model_id, microdollars) VALUES (?, ?, ?)",
                    [.integer(org), .text(model), .integer(price)])
            }
        }
    }

    public func operatorOrganization() async throws(StorageError) -> ObjectID? {
        try await read { connection throws(StorageError) in
            try connection.queryFirst("SELECT id FROM organizations ORDER BY seq LIMIT 1") { ObjectID(rawValue: $0.text(0)) }
        }
    }

    public func organizationIDs() async throws(StorageError) -> [ObjectID] {
        try await read { connection throws(StorageError) in
            try connection.query("SELECT id FROM organizations ORDER BY seq") { ObjectID(rawValue: $0.text(0)) }
        }
    }

    // MARK: estimates

    public func insertEstimate(_ e: StoredEstimate) async throws(StorageError) {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(e.organizationID) else { throw .notFound("organization \(e.organizationID)") }
            // Expired estimates are of no use to anyone: drop them as new ones arrive.
            try connection.run("DELETE FROM billing_estimates WHERE org = ? AND expires_at < ?", [.integer(org), .integer(e.createdAt)])
            try connection.run(
                """
                INSERT INTO billing_estimates (id, org, model_id, row_count, image_count, model_units, inference, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(e.id), .integer(org), .text(e.modelID), .integer(e.rowCount), .integer(e.imageCount), .integer(e.modelUnits),
                    .integer(e.inferenceMicrodollars), .integer(e.createdAt), .integer(e.expiresAt),
                ])
        }
    }

    public func estimate(organization: ObjectID, id: String) async throws(StorageError) -> StoredEstimate? {
        try await read { connection throws(StorageError) in
            try connection.queryFirst(
                """
                SELECT e.id, e.model_id, e.row_count, e.image_count, e.model_units, e.inference, e.created_at, e.expires_at
                FROM billing_estimates e JOIN organizations o ON o.seq = e.org WHERE e.id = ? AND o.id = ?
                """,
                [.text(id), .text(organization.rawValue)]
            ) { s in
                StoredEstimate(
                    id: s.text(0), organizationID: organization, modelID: s.text(1), rowCount: s.int64(2), imageCount: s.int64(3),
                    modelUnits: s.int64(4), inferenceMicrodollars: s.int64(5), createdAt: s.int64(6), expiresAt: s.int64(7))
            }
        }
    }

    // MARK: budgets and the ledger

    public func reserve(
        organization: ObjectID, run: ObjectID, microdollars: Int64, datasets: [ObjectID], cycle: BillingCycle, at: Timestamp,
        budget: Int64?, datasetBudgets: [ObjectID: Int64]
    ) async throws(StorageError) -> BudgetCheck {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            // Admissions of one organisation queue here on every server, so two cannot both
            // see the same headroom.
            try connection.lock(.billing, org)
            let already = try connection.queryFirst(
                "SELECT 1 FROM billing_reservations WHERE org = ? AND run_id = ?", [.integer(org), .text(run.rawValue)]) { _ in true }
            if already == true { return .admitted }
            if let budget {
                let committed = try connection.committedSpend(org: org, cycle: cycle, dataset: nil)
                if Arithmetic.add(committed, microdollars) > budget {
                    return .exceeded(dataset: nil, limitMicrodollars: budget, committedMicrodollars: committed)
                }
            }
            for dataset in Set(datasets).sorted() {
                guard let limit = datasetBudgets[dataset] else { continue }
                let committed = try connection.committedSpend(org: org, cycle: cycle, dataset: dataset)
                if Arithmetic.add(committed, microdollars) > limit {
                    return .exceeded(dataset: dataset, limitMicrodollars: limit, committedMicrodollars: committed)
                }
            }
            try connection.run(
                "INSERT INTO billing_reservations (org, run_id, microdollars, datasets, cycle, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .integer(org), .text(run.rawValue), .integer(microdollars), .text(LedgerEntry.datasetList(datasets)),
                    .text(cycle.description), .integer(at),
                ])
            return .admitted
        }
    }

    @discardableResult
    public func recordCharges(organization: ObjectID, _ charges: [LedgerEntry], releasing run: ObjectID?) async throws(StorageError)
        -> [LedgerEntry]
    {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            // Serialised with closing a cycle, so a charge never lands in a cycle being closed.
            try connection.lock(.billing, org)
            let lastClosed = try connection.queryFirst(
                "SELECT max(cycle) FROM billing_invoices WHERE org = ?", [.integer(org)]) { $0.optionalText(0) }.flatMap { $0 }
                .flatMap(BillingCycle.init)
            var appended: [LedgerEntry] = []
            for var charge in charges {
                if let lastClosed, charge.cycle <= lastClosed { charge.cycle = lastClosed.next }
                if try connection.appendCharge(charge, org: org) { appended.append(charge) }
            }
            if let run {
                try connection.run(
                    "DELETE FROM billing_reservations WHERE org = ? AND run_id = ?", [.integer(org), .text(run.rawValue)])
            }
            return appended
        }
    }

    static let ledgerColumns = """
        SELECT key, kind, model_id, datasets, run_id, quantity, units, unit_price, microdollars, cycle, at, price_book
        FROM billing_ledger
        """

    public func charges(organization: ObjectID, cycle: BillingCycle?) async throws(StorageError) -> [LedgerEntry] {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            if let cycle {
                return try connection.query(
                    Self.ledgerColumns + " WHERE org = ? AND cycle = ? ORDER BY seq", [.integer(org), .text(cycle.description)]
                ) { s throws(StorageError) in try Self.decodeCharge(s, organization: organization) }
            }
            return try connection.query(Self.ledgerColumns + " WHERE org = ? ORDER BY seq", [.integer(org)]) {
                s throws(StorageError) in try Self.decodeCharge(s, organization: organization)
            }
        }
    }

    public func charges(organization: ObjectID, from: Timestamp, to: Timestamp) async throws(StorageError) -> [LedgerEntry] {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            return try connection.query(
                Self.ledgerColumns + " WHERE org = ? AND at >= ? AND at < ? ORDER BY seq", [.integer(org), .integer(from), .integer(to)]
            ) { s throws(StorageError) in try Self.decodeCharge(s, organization: organization) }
        }
    }

    static func decodeCharge(_ s: PostgresRow, organization: ObjectID) throws(StorageError) -> LedgerEntry {
        guard let kind = ChargeKind(rawValue: s.text(1)) else { throw .internal("stored charge has unknown kind \(s.text(1))") }
        guard let cycle = BillingCycle(s.text(9)) else { throw .internal("stored charge has unknown cycle \(s.text(9))") }
        return LedgerEntry(
            key: s.text(0), organizationID: organization, kind: kind, modelID: s.text(2), datasetIDs: s.text(3), runID: s.text(4),
            quantity: s.int64(5), units: s.int64(6), unitMicrodollars: s.int64(7), microdollars: s.int64(8), cycle: cycle,
            at: s.int64(10), priceBookVersion: s.text(11))
    }

    // MARK: catalog holdings

    public func rowCountHistory(organization: ObjectID, from: Timestamp, to: Timestamp) async throws(StorageError)
        -> (opening: [String: Int64], events: [RowCountEvent])
    {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            var opening: [String: Int64] = [:]
            for (dataset, count) in try connection.query(
                "SELECT dataset_id, sum(delta) FROM billing_row_events WHERE org = ? AND at < ? GROUP BY dataset_id",
                [.integer(org), .integer(from)], { ($0.text(0), $0.int64(1)) })
            where count != 0 {
                opening[dataset] = count
            }
            let events = try connection.query(
                "SELECT dataset_id, at, delta FROM billing_row_events WHERE org = ? AND at >= ? AND at < ? ORDER BY at, seq",
                [.integer(org), .integer(from), .integer(to)]
            ) { RowCountEvent(datasetID: $0.text(0), at: $0.int64(1), delta: $0.int64(2)) }
            return (opening, events)
        }
    }

    // MARK: invoices

    public func closeCycle(
        organization: ObjectID, cycle: BillingCycle, charges: [LedgerEntry], build: @escaping @Sendable ([LedgerEntry]) -> Invoice
    ) async throws(StorageError) -> Invoice {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            // One closer at a time per organisation, on every server: the second finds the invoice.
            try connection.lock(.billing, org)
            if let existing = try connection.invoices(org: org, organization: organization, cycle: cycle).first { return existing }
            for charge in charges where charge.cycle == cycle { _ = try connection.appendCharge(charge, org: org) }
            let entries = try connection.query(
                Self.ledgerColumns + " WHERE org = ? AND cycle = ? ORDER BY seq", [.integer(org), .text(cycle.description)]
            ) { s throws(StorageError) in try Self.decodeCharge(s, organization: organization) }
            let invoice = build(entries)
            guard
                let seq = try connection.queryFirst(
                    "INSERT INTO billing_invoices (id, org, cycle, closed_at, plan, price_book) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
                    [
                        .text(invoice.id), .integer(org), .text(cycle.description), .integer(invoice.closedAt),
                        .text(invoice.plan.rawValue), .text(invoice.priceBookVersion),
                    ], { $0.int64(0) })
            else { throw .internal("an invoice insert returned nothing") }
            for (position, line) in invoice.lines.enumerated() {
                try connection.run(
                    """
                    INSERT INTO billing_invoice_lines (invoice, position, kind, model_id, datasets, quantity, units, unit_price, microdollars)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(seq), .integer(Int64(position)), .text(line.kind.rawValue), .text(line.modelID), .text(line.datasetIDs),
                        .integer(line.quantity), .integer(line.units), .integer(line.unitMicrodollars), .integer(line.microdollars),
                    ])
            }
            return invoice
        }
    }

    public func invoices(organization: ObjectID) async throws(StorageError) -> [Invoice] {
        try await read { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(organization) else { throw .notFound("organization \(organization)") }
            return try connection.invoices(org: org, organization: organization, cycle: nil)
        }
    }
}

extension PostgresConnection {
    /// The stored account, or the defaults of a new organisation.
    func billingAccount(org: Int64, id: ObjectID) throws(StorageError) -> BillingAccount {
        var account =
            try queryFirst(
                """
                SELECT plan, addon_enabled, terms_version, terms_accepted_at, payment_reference, payment_hint, budget,
                       unit_price, catalog_rows_per_unit, model_rows_per_unit, review_rows_per_unit
                FROM billing_accounts WHERE org = ?
                """, [.integer(org)]
            ) { s throws(StorageError) -> BillingAccount in
                guard let plan = BillingPlan(rawValue: s.text(0)) else { throw .internal("stored account has unknown plan \(s.text(0))") }
                return BillingAccount(
                    organizationID: id, plan: plan, addonEnabled: s.int64(1) != 0, termsVersion: s.optionalText(2),
                    termsAcceptedAt: s.optionalInt64(3),
                    paymentMethod: s.optionalText(4).map { PaymentMethod(reference: $0, displayHint: s.optionalText(5) ?? "") },
                    budgetMicrodollars: s.optionalInt64(6),
                    overrides: PriceOverrides(
                        unitMicrodollars: s.optionalInt64(7), catalogRowsPerUnit: s.optionalInt64(8), modelRowsPerUnit: s.optionalInt64(9),
                        reviewRowsPerUnit: s.optionalInt64(10)))
            } ?? BillingAccount(organizationID: id)
        for (dataset, limit) in try query(
            "SELECT dataset_id, limit_microdollars FROM billing_dataset_budgets WHERE org = ?", [.integer(org)],
            { (ObjectID(rawValue: $0.text(0)), $0.int64(1)) })
        {
            account.datasetBudgets[dataset] = limit
        }
        for (model, price) in try query(
            "SELECT model_id, microdollars FROM billing_model_prices WHERE org = ?", [.integer(org)], { ($0.text(0), $0.int64(1)) })
        {
            account.overrides.modelPrices[model] = price
        }
        return account
    }

    /// Charges of `cycle` plus open reservations, for the whole organisation or for the
    /// charges and reservations that touch `dataset`.
    func committedSpend(org: Int64, cycle: BillingCycle, dataset: ObjectID?) throws(StorageError) -> Int64 {
        let touches = dataset == nil ? "" : " AND strpos(',' || datasets || ',', ',' || ? || ',') > 0"
        var values: [SQLValue] = [.integer(org), .text(cycle.description)]
        if let dataset { values.append(.text(dataset.rawValue)) }
        let charged = try queryFirst("SELECT coalesce(sum(microdollars), 0) FROM billing_ledger WHERE org = ? AND cycle = ?" + touches, values) {
            $0.int64(0)
        } ?? 0
        var reservationValues: [SQLValue] = [.integer(org)]
        if let dataset { reservationValues.append(.text(dataset.rawValue)) }
        let reserved = try queryFirst("SELECT coalesce(sum(microdollars), 0) FROM billing_reservations WHERE org = ?" + touches, reservationValues) {
            $0.int64(0)
        } ?? 0
        return Arithmetic.add(charged, reserved)
    }

    /// Appends a charge unless its key is in the ledger; true when appended.
    func appendCharge(_ c: LedgerEntry, org: Int64) throws(StorageError) -> Bool {
        try run(
            """
            INSERT INTO billing_ledger (org, key, kind, model_id, datasets, run_id, quantity, units, unit_price, microdollars,
                                        cycle, at, price_book)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (org, key) DO NOTHING
            """,
            [
                .integer(org), .text(c.key), .text(c.kind.rawValue), .text(c.modelID), .text(c.datasetIDs), .text(c.runID),
                .integer(c.quantity), .integer(c.units), .integer(c.unitMicrodollars), .integer(c.microdollars), .text(c.cycle.description),
                .integer(c.at), .text(c.priceBookVersion),
            ]) == 1
    }

    /// Invoices with their lines, oldest cycle first (only `cycle`'s when given).
    func invoices(org: Int64, organization: ObjectID, cycle: BillingCycle?) throws(StorageError) -> [Invoice] {
        var sql = "SELECT seq, id, cycle, closed_at, plan, price_book FROM billing_invoices WHERE org = ?"
        var values: [SQLValue] = [.integer(org)]
        if let cycle {
            sql += " AND cycle = ?"
            values.append(.text(cycle.description))
        }
        let heads = try query(sql + " ORDER BY cycle", values) { s throws(StorageError) -> (Int64, Invoice) in
            guard let cycle = BillingCycle(s.text(2)), let plan = BillingPlan(rawValue: s.text(4)) else {
                throw .internal("stored invoice \(s.text(1)) is unreadable")
            }
            return (
                s.int64(0),
                Invoice(id: s.text(1), organizationID: organization, cycle: cycle, closedAt: s.int64(3), plan: plan, priceBookVersion: s.text(5), lines: [])
            )
        }
        var result: [Invoice] = []
        for (seq, head) in heads {
            var invoice = head
            invoice.lines = try query(
                """
                SELECT kind, model_id, datasets, quantity, units, unit_price, microdollars FROM billing_invoice_lines
                WHERE invoice = ? ORDER BY position
                """, [.integer(seq)]
            ) { s throws(StorageError) in
                guard let kind = ChargeKind(rawValue: s.text(0)) else { throw .internal("stored invoice line has unknown kind \(s.text(0))") }
                return Invoice.Line(
                    kind: kind, modelID: s.text(1), datasetIDs: s.text(2), quantity: s.int64(3), units: s.int64(4),
                    unitMicrodollars: s.int64(5), microdollars: s.int64(6))
            }
            result.append(invoice)
        }
        return result
    }

    /// Records a change in a dataset's row count (catalog writes call this in their transaction).
    func recordRowCountChange(org: Int64, dataset: String, delta: Int64, at: Timestamp) throws(StorageError) {
        guard delta != 0 else { return }
        try run(
            "INSERT INTO billing_row_events (org, dataset_id, at, delta) VALUES (?, ?, ?, ?)",
            [.integer(org), .text(dataset), .integer(at), .integer(delta)])
    }
}
