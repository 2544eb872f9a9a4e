public import AssayCore
public import AssayRPC
public import AssayStorage
import AssayAccess
import AssayWire

/// `assay.v1.Billing`: an organisation's plan, add-on, payment method, budgets, estimates,
/// ledger, usage and invoices.
///
/// Who may do what: reviewers nothing; members read the account, estimate, list charges
/// and read usage; admins also manage the plan (self-service ones), the add-on, the payment
/// method, budgets and invoices. Server administrators (admin keys of the first
/// organisation, the one `assay serve` creates on first start) also act on any
/// organisation (`organization_id`), set the educational and enterprise plans, enable the
/// add-on for enterprise organisations and set price overrides.
public struct BillingProvider: RPCService {
    let billing: AssayBilling.Billing
    let store: any Storage
    let models: @Sendable (String) -> AssayCore.ModelCard?

    /// `models` finds a model card by id (for estimates); the executable passes its registry's.
    public init(billing: AssayBilling.Billing, store: any Storage, models: @escaping @Sendable (String) -> AssayCore.ModelCard?) {
        self.billing = billing
        self.store = store
        self.models = models
    }

    public func register(in router: inout Router) {
        router.unary(BillingService.getAccount) { request, context in
            let caller = try reader(context)
            let org = try await target(request.organizationId, caller)
            return try await account(org, caller)
        }
        router.unary(BillingService.setPlan) { request, context in
            let caller = try admin(context)
            let org = try await target(request.organizationId, caller)
            guard let plan = Convert.plan(request.plan) else {
                throw RPCError(.invalidArgument, "plan must be one of EDUCATIONAL, FREE, STARTER, PRO, ENTERPRISE")
            }
            var account = try await store.billingAccount(organization: org)
            if !plan.isSelfService || !account.plan.isSelfService {
                guard try await isOperator(caller) else {
                    throw RPCError(
                        .permissionDenied,
                        "only a server administrator sets or leaves the educational and enterprise plans; self-service plans are FREE, STARTER and PRO")
                }
            }
            if plan.isSelfService != account.plan.isSelfService || !plan.allowsRuns {
                // Enablement does not carry across plan families: enterprise is enabled by an
                // administrator, self-service by the organisation accepting the terms.
                account.addonEnabled = false
            }
            account.plan = plan
            try await store.saveBillingAccount(account)
            return try await self.account(org, caller)
        }
        router.unary(BillingService.getTerms) { _, context in
            _ = try reader(context)
            return Terms(version: BillingTerms.version, text: BillingTerms.text)
        }
        router.unary(BillingService.enableAddon) { request, context in
            let caller = try admin(context)
            let org = try await target(request.organizationId, caller)
            var account = try await store.billingAccount(organization: org)
            if request.disable {
                account.addonEnabled = false
            } else if !account.plan.allowsRuns {
                throw Self.refusal(BillingReason.upgradePlan, Billing.explain(BillingReason.upgradePlan))
            } else if !account.plan.isSelfService {
                guard try await isOperator(caller) else {
                    throw RPCError(.permissionDenied, "the add-on of an enterprise organisation is enabled by a server administrator")
                }
                account.addonEnabled = true
            } else {
                guard request.acceptTermsVersion == BillingTerms.version else {
                    throw Self.refusal(
                        BillingReason.acceptTerms,
                        request.acceptTermsVersion.isEmpty
                            ? "enabling the add-on accepts its terms: pass accept_terms_version \(BillingTerms.version) (read them with GetTerms)"
                            : "the current terms are version \(BillingTerms.version), not \(request.acceptTermsVersion)")
                }
                guard account.paymentMethod != nil else {
                    throw Self.refusal(BillingReason.addPaymentMethod, Billing.explain(BillingReason.addPaymentMethod))
                }
                account.addonEnabled = true
                account.termsVersion = BillingTerms.version
                account.termsAcceptedAt = billing.clock()
            }
            try await store.saveBillingAccount(account)
            return try await self.account(org, caller)
        }
        router.unary(BillingService.setPaymentMethod) { request, context in
            let caller = try admin(context)
            var account = try await store.billingAccount(organization: caller.organizationID)
            if let method = request.paymentMethod {
                let reference = method.reference.trimmingWhitespace
                guard !reference.isEmpty, reference.utf8.count <= 200, method.displayHint.utf8.count <= 100 else {
                    throw RPCError(.invalidArgument, "a payment method needs a reference of 1 to 200 bytes and a hint of at most 100")
                }
                guard !PaymentMethod.looksLikeCardNumber(reference), !PaymentMethod.looksLikeCardNumber(method.displayHint) else {
                    throw RPCError(
                        .invalidArgument,
                        "that looks like a card number; Assay never stores one: pass the payment processor's reference and a hint such as \"visa ending 4242\"")
                }
                account.paymentMethod = AssayCore.PaymentMethod(reference: reference, displayHint: method.displayHint)
            } else {
                account.paymentMethod = nil
            }
            try await store.saveBillingAccount(account)
            return try await self.account(caller.organizationID, caller)
        }
        router.unary(BillingService.setBudget) { request, context in
            let caller = try admin(context)
            guard request.limitMicrodollars >= 0 else { throw RPCError(.invalidArgument, "a budget cannot be negative") }
            var account = try await store.billingAccount(organization: caller.organizationID)
            let limit = request.limitMicrodollars == 0 ? nil : request.limitMicrodollars
            if request.datasetId.isEmpty {
                account.budgetMicrodollars = limit
            } else {
                let dataset = ObjectID(rawValue: request.datasetId)
                if limit != nil { _ = try await store.dataset(organization: caller.organizationID, id: dataset) }
                account.datasetBudgets[dataset] = limit
            }
            try await store.saveBillingAccount(account)
            return try await self.account(caller.organizationID, caller)
        }
        router.unary(BillingService.setPriceOverrides) { request, context in
            let caller = try admin(context)
            guard try await isOperator(caller) else { throw RPCError(.permissionDenied, "only a server administrator sets price overrides") }
            let org = try await target(request.organizationId, caller)
            var account = try await store.billingAccount(organization: org)
            if request.clear { account.overrides = PriceOverrides() }
            guard request.unitMicrodollars >= 0, request.catalogRowsPerUnit >= 0, request.modelRowsPerUnit >= 0, request.reviewRowsPerUnit >= 0
            else { throw RPCError(.invalidArgument, "prices and rates cannot be negative") }
            if request.unitMicrodollars > 0 { account.overrides.unitMicrodollars = request.unitMicrodollars }
            if request.catalogRowsPerUnit > 0 { account.overrides.catalogRowsPerUnit = request.catalogRowsPerUnit }
            if request.modelRowsPerUnit > 0 { account.overrides.modelRowsPerUnit = request.modelRowsPerUnit }
            if request.reviewRowsPerUnit > 0 { account.overrides.reviewRowsPerUnit = request.reviewRowsPerUnit }
            for (model, price) in request.modelPrices { account.overrides.modelPrices[model] = price < 0 ? nil : price }
            try await store.saveBillingAccount(account)
            return try await self.account(org, caller)
        }
        router.unary(BillingService.estimate) { request, context in
            let caller = try reader(context)
            guard let model = models(request.modelId) else { throw RPCError(.notFound, "no model \(request.modelId)") }
            var rows = Int64(clamping: request.rowCount)
            var datasets: [ObjectID] = []
            if !request.datasetId.isEmpty {
                let dataset = try await store.dataset(organization: caller.organizationID, id: ObjectID(rawValue: request.datasetId))
                datasets = [dataset.id]
                if rows == 0 { rows = Int64(dataset.rowCount) }
            }
            guard rows > 0 else { throw RPCError(.invalidArgument, "estimate a run of at least one row: give row_count or a dataset with rows") }
            guard rows <= Int64(Int32.max) else { throw RPCError(.invalidArgument, "row_count is too large") }
            let images = request.imageCount == 0 ? rows : Int64(clamping: request.imageCount)
            guard images <= rows else { throw RPCError(.invalidArgument, "image_count (\(images)) cannot exceed the rows (\(rows))") }
            let runRequest = RunBillingRequest(
                organizationID: caller.organizationID, model: model, rowCount: Int(rows), imageCount: Int(images), datasetIDs: datasets,
                at: billing.clock())
            let (estimate, quote, account) = try await Self.rethrow {
                () async throws(BillingRefusal) in try await billing.estimate(runRequest, tokens: request.tokens == 0 ? nil : Int64(clamping: request.tokens))
            }
            var assumptions = estimate.assumptions
            if request.imageCount == 0 && model.price.unit == .perImage {
                assumptions.insert("every row is an image (\(images) images)", at: 0)
            }
            return BillingEstimate(
                id: estimate.id, modelUnits: estimate.modelUnits, inferenceMicrodollars: estimate.inferenceMicrodollars,
                unitMicrodollars: quote.unitMicrodollars, totalMicrodollars: quote.totalMicrodollars, assumptions: assumptions,
                expiresAtMicros: estimate.expiresAt, runBlockers: account.runBlockers)
        }
        router.unary(BillingService.listCharges) { request, context in
            let caller = try reader(context)
            let cycle = try Self.cycle(request.cycle)
            let charges = try await store.charges(organization: caller.organizationID, cycle: cycle)
            return ListChargesResponse(charges: charges.map(Convert.charge))
        }
        router.unary(BillingService.getUsage) { request, context in
            let caller = try reader(context)
            let now = billing.clock()
            let from = request.fromMicros == 0 ? BillingCycle(containing: now).start : request.fromMicros
            let to = request.toMicros == 0 ? now + 1 : request.toMicros
            guard from < to else { throw RPCError(.invalidArgument, "from_micros must be before to_micros") }
            let charges = try await store.charges(organization: caller.organizationID, from: from, to: to)
            var report = UsageReport(rows: Usage.rows(charges, grouping: request.groupBy))
            report.totalUnits = charges.reduce(0) { Arithmetic.add($0, $1.units) }
            report.totalMicrodollars = charges.reduce(0) { Arithmetic.add($0, $1.microdollars) }
            report.catalogUnitsAccrued = try await billing.catalogUnitsAccrued(organization: caller.organizationID)
            return report
        }
        router.unary(BillingService.closeCycle) { request, context in
            let caller = try admin(context)
            let org = try await target(request.organizationId, caller)
            let cycle: BillingCycle
            if request.cycle.isEmpty {
                guard let last = BillingCycle(containing: billing.clock()).previous else { throw RPCError(.failedPrecondition, "no cycle has ended yet") }
                cycle = last
            } else {
                cycle = try Self.cycle(request.cycle)!
            }
            return Convert.invoice(try await billing.closeCycle(organization: org, cycle: cycle))
        }
        router.unary(BillingService.listInvoices) { request, context in
            let caller = try admin(context)
            let org = try await target(request.organizationId, caller)
            return ListInvoicesResponse(invoices: try await billing.closeDueCycles(organization: org).map(Convert.invoice))
        }
        router.unary(BillingService.exportInvoice) { request, context in
            let caller = try admin(context)
            let org = try await target(request.organizationId, caller)
            guard let cycle = try Self.cycle(request.cycle) else { throw RPCError(.invalidArgument, "name the cycle, such as 2026-03") }
            guard let invoice = try await billing.closeDueCycles(organization: org).first(where: { $0.cycle == cycle }) else {
                throw RPCError(.notFound, "no invoice for \(cycle): a cycle is invoiced once it has ended")
            }
            switch request.format {
            case .csv:
                return ExportInvoiceResponse(fileName: "invoice-\(cycle).csv", content: Array(invoice.csv.utf8))
            case .json, .unspecified:
                return ExportInvoiceResponse(fileName: "invoice-\(cycle).json", content: Array((Convert.invoice(invoice).jsonString(pretty: true) + "\n").utf8))
            default:
                throw RPCError(.invalidArgument, "format must be JSON or CSV")
            }
        }
    }

    // MARK: access

    /// Any key but a reviewer's.
    func reader(_ context: ServerContext) throws(RPCError) -> Caller {
        let caller = try context.caller(for: .read)
        guard caller.role != .reviewer else { throw RPCError(.permissionDenied, "a reviewer key may not read billing") }
        return caller
    }

    /// An admin key.
    func admin(_ context: ServerContext) throws(RPCError) -> Caller {
        let caller = try context.caller(for: .read)
        guard caller.role == .admin else { throw RPCError(.permissionDenied, "a \(caller.role.rawValue) key may not manage billing") }
        return caller
    }

    /// Whether the caller is a server administrator: an admin key of the first organisation.
    func isOperator(_ caller: Caller) async throws -> Bool {
        guard caller.role == .admin else { return false }
        return try await store.operatorOrganization() == caller.organizationID
    }

    /// The organisation a request acts on: the caller's own, or (server administrators only)
    /// the one it names.
    func target(_ requested: String, _ caller: Caller) async throws -> ObjectID {
        guard !requested.isEmpty, requested != caller.organizationID.rawValue else { return caller.organizationID }
        guard try await isOperator(caller) else {
            throw RPCError(.permissionDenied, "only a server administrator may act on another organisation's billing")
        }
        let id = ObjectID(rawValue: requested)
        _ = try await store.organization(id)
        return id
    }

    func account(_ org: ObjectID, _ caller: Caller) async throws -> Account {
        let account = try await store.billingAccount(organization: org)
        return Convert.account(account, prices: billing.prices(for: account), serverAdministrator: try await isOperator(caller))
    }

    static func cycle(_ text: String) throws(RPCError) -> BillingCycle? {
        guard !text.isEmpty else { return nil }
        guard let cycle = BillingCycle(text) else { throw RPCError(.invalidArgument, "a cycle is written YYYY-MM, such as 2026-03; got \(text)") }
        return cycle
    }

    static func refusal(_ reason: String, _ message: String) -> RPCError {
        BillingRefusal(kind: .failedPrecondition, reason: reason, message: message).rpcError
    }

    static func rethrow<T>(_ body: () async throws(BillingRefusal) -> T) async throws(RPCError) -> T {
        do { return try await body() } catch { throw error.rpcError }
    }
}

extension BillingRefusal {
    /// The refusal as a status: its kind chooses the code, the reason code travels in the
    /// message ("enable_addon: …") and in the `assay-billing-reason` metadata.
    public var rpcError: RPCError {
        let code: RPCCode =
            switch kind {
            case .failedPrecondition: .failedPrecondition
            case .resourceExhausted: .resourceExhausted
            case .invalidArgument: .invalidArgument
            case .unavailable: .unavailable
            }
        var metadata = Metadata()
        metadata.add(Self.reasonMetadataKey, reason)
        return RPCError(code, "\(reason): \(message)", metadata: metadata)
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
