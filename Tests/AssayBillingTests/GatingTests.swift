import AssayBilling
import AssayCore
import AssayRPC
import AssayWire
import Testing

/// Every plan and every missing condition refuses a run with its own reason code.
@Suite("Billing gating")
struct GatingTests {
    func request(_ org: ObjectID, rows: Int = 10, estimate: String? = nil, at: Timestamp) -> RunBillingRequest {
        RunBillingRequest(
            organizationID: org, runID: .random("run"), model: BillingHarness.imageModel, rowCount: rows, imageCount: rows, datasetIDs: [],
            estimateID: estimate, at: at)
    }

    func estimate(_ client: RPCClient, rows: UInt64 = 10) async throws -> String {
        try await client.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", rowCount: rows)).id
    }

    @Test func selfServicePlansNeedPaymentAddonTermsAndAConfirmedEstimate() async throws {
        let h = try await BillingHarness.start()
        for plan in [AssayWire.Plan.free, .starter, .pro] {
            let (client, org) = try await h.organization("org-\(plan.protoName!)")
            if plan != .free { _ = try await client.unary(BillingService.setPlan, SetPlanRequest(plan: plan)) }
            // Nothing on file: the payment method comes first (enabling needs it).
            var account = try await client.unary(BillingService.getAccount, GetAccountRequest())
            #expect(account.runBlockers == [BillingReason.addPaymentMethod, BillingReason.enableAddon])
            var refusal = await failure { try await h.billing.admit(request(org.id, at: h.clock)) }
            #expect(refusal?.code == .failedPrecondition)
            #expect(refusal?.reason == BillingReason.addPaymentMethod)

            // Enabling without a payment method, or without accepting the current terms: refused over RPC with the code.
            refusal = await failure {
                _ = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version))
            }
            #expect(refusal?.code == .failedPrecondition)
            #expect(refusal?.reason == BillingReason.addPaymentMethod)
            _ = try await client.unary(
                BillingService.setPaymentMethod,
                SetPaymentMethodRequest(paymentMethod: AssayWire.PaymentMethod(reference: "pm_1", displayHint: "visa ending 4242")))
            refusal = await failure { try await h.billing.admit(request(org.id, at: h.clock)) }
            #expect(refusal?.reason == BillingReason.enableAddon)
            refusal = await failure { _ = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: "2020-01")) }
            #expect(refusal?.reason == BillingReason.acceptTerms)
            account = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version))
            #expect(account.addonEnabled)
            #expect(account.termsVersionAccepted == BillingTerms.version)
            #expect(account.termsAcceptedAtMicros == h.clock)

            // Enabled: the estimate must be confirmed, known, current and for this run.
            refusal = await failure { try await h.billing.admit(request(org.id, at: h.clock)) }
            #expect(refusal?.code == .failedPrecondition)
            #expect(refusal?.reason == BillingReason.confirmEstimate)
            refusal = await failure { try await h.billing.admit(request(org.id, estimate: "est_nope", at: h.clock)) }
            #expect(refusal?.code == .invalidArgument)
            #expect(refusal?.reason == BillingReason.unknownEstimate)
            let id = try await estimate(client)
            refusal = await failure { try await h.billing.admit(request(org.id, rows: 11, estimate: id, at: h.clock)) }
            #expect(refusal?.reason == BillingReason.estimateMismatch)
            refusal = await failure {
                try await h.billing.admit(request(org.id, estimate: id, at: h.clock + h.billing.estimateLifetime + 1))
            }
            #expect(refusal?.reason == BillingReason.estimateExpired)
            try await h.billing.admit(request(org.id, estimate: id, at: h.clock))

            // New terms (simulated: the accepted version is an old one) must be accepted again.
            var stored = try await h.storage.billingAccount(organization: org.id)
            stored.termsVersion = "2025-01"
            try await h.storage.saveBillingAccount(stored)
            refusal = await failure { try await h.billing.admit(request(org.id, estimate: id, at: h.clock)) }
            #expect(refusal?.reason == BillingReason.acceptTerms)
            _ = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version))

            // A payment method removed after enabling.
            _ = try await client.unary(BillingService.setPaymentMethod, SetPaymentMethodRequest())
            refusal = await failure { try await h.billing.admit(request(org.id, estimate: id, at: h.clock)) }
            #expect(refusal?.reason == BillingReason.addPaymentMethod)
            client.close()
        }
        await h.stop()
    }

    @Test func educationalPlansCannotRun() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("school")
        // Only a server administrator sets the educational plan.
        let denied = await failure { _ = try await client.unary(BillingService.setPlan, SetPlanRequest(plan: .educational)) }
        #expect(denied?.code == .permissionDenied)
        let account = try await h.operatorClient.unary(BillingService.setPlan, SetPlanRequest(organizationId: org.id.rawValue, plan: .educational))
        #expect(account.plan == .educational)
        #expect(account.runBlockers == [BillingReason.upgradePlan])
        var refusal = await failure { try await h.billing.admit(request(org.id, at: h.clock)) }
        #expect(refusal?.code == .failedPrecondition)
        #expect(refusal?.reason == BillingReason.upgradePlan)
        refusal = await failure { _ = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version)) }
        #expect(refusal?.reason == BillingReason.upgradePlan)
        // And leaving it is the administrator's too.
        #expect(await failure { _ = try await client.unary(BillingService.setPlan, SetPlanRequest(plan: .starter)) }?.code == .permissionDenied)
        client.close()
        await h.stop()
    }

    @Test func enterpriseIsEnabledByAServerAdministratorAndNeedsNoConfirmation() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("bigco")
        #expect(await failure { _ = try await client.unary(BillingService.setPlan, SetPlanRequest(plan: .enterprise)) }?.code == .permissionDenied)
        _ = try await h.operatorClient.unary(BillingService.setPlan, SetPlanRequest(organizationId: org.id.rawValue, plan: .enterprise))
        var refusal = await failure { try await h.billing.admit(request(org.id, at: h.clock)) }
        #expect(refusal?.code == .failedPrecondition)
        #expect(refusal?.reason == BillingReason.enableAddon)
        // The organisation's own admin cannot enable it, even accepting the terms.
        refusal = await failure { _ = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version)) }
        #expect(refusal?.code == .permissionDenied)
        let account = try await h.operatorClient.unary(BillingService.enableAddon, EnableAddonRequest(organizationId: org.id.rawValue))
        #expect(account.addonEnabled && account.plan == .enterprise && account.runBlockers.isEmpty)
        // No payment method, no terms, no estimate: enterprise runs are contracted.
        try await h.billing.admit(request(org.id, at: h.clock))
        // A stale estimate given anyway is still checked.
        refusal = await failure { try await h.billing.admit(request(org.id, estimate: "est_nope", at: h.clock)) }
        #expect(refusal?.reason == BillingReason.unknownEstimate)
        // Disabling it refuses runs again.
        _ = try await h.operatorClient.unary(BillingService.enableAddon, EnableAddonRequest(organizationId: org.id.rawValue, disable: true))
        #expect(await failure { try await h.billing.admit(request(org.id, at: h.clock)) }?.reason == BillingReason.enableAddon)
        client.close()
        await h.stop()
    }

    @Test func budgetsRefuseARunThatWouldCrossThem() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.enabledSelfService("thrifty")
        let dataset = try await h.ingest(client, dataset: "d", count: 10)
        // 10 images: $0.04 inference + 2 units x $0.10 = $0.24 per run.
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: 500_000))
        var runs: [ObjectID] = []
        for _ in 0..<2 {
            let id = try await estimate(client)
            var r = request(org.id, estimate: id, at: h.clock)
            r.datasetIDs = [ObjectID(rawValue: dataset.id)]
            try await h.billing.admit(r)
            runs.append(r.runID!)
        }
        let id = try await estimate(client)
        let refusal = await failure { try await h.billing.admit(request(org.id, estimate: id, at: h.clock)) }
        #expect(refusal?.code == .resourceExhausted)
        #expect(refusal?.reason == BillingReason.budgetExceeded)
        // A dataset budget is checked on its own.
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: 0))
        _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(datasetId: dataset.id, limitMicrodollars: 600_000))
        var r = request(org.id, estimate: id, at: h.clock)
        r.datasetIDs = [ObjectID(rawValue: dataset.id)]
        let datasetRefusal = await failure { try await h.billing.admit(r) }
        #expect(datasetRefusal?.reason == BillingReason.budgetExceeded)
        // Rows of another dataset are not held against it.
        try await h.billing.admit(request(org.id, estimate: id, at: h.clock))
        // An unknown dataset cannot get a budget.
        #expect(await failure {
            _ = try await client.unary(BillingService.setBudget, SetBudgetRequest(datasetId: "ds_nope", limitMicrodollars: 1))
        }?.code == .notFound)
        client.close()
        await h.stop()
    }
}
