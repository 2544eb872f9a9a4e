import AssayBilling
import AssayCore
import AssayRPC
import AssayWire
import Testing

/// Who may read and change billing.
@Suite("Billing access")
struct AccessTests {
    @Test func rolesAndServerAdministrators() async throws {
        let h = try await BillingHarness.start()
        let (admin, org) = try await h.organization("acme")
        let member = try await h.client(of: org.id, role: .member)
        let reviewer = try await h.client(of: org.id, role: .reviewer)
        let (other, otherOrg) = try await h.organization("other")

        // Reviewers read nothing of billing.
        #expect(await failure { _ = try await reviewer.unary(BillingService.getAccount, GetAccountRequest()) }?.code == .permissionDenied)
        #expect(await failure {
            _ = try await reviewer.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", rowCount: 1))
        }?.code == .permissionDenied)
        #expect(await failure { _ = try await reviewer.unary(BillingService.getUsage, GetUsageRequest()) }?.code == .permissionDenied)

        // Members estimate and read usage and the ledger, and manage nothing.
        let estimate = try await member.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", rowCount: 3))
        #expect(estimate.inferenceMicrodollars == 12_000)
        #expect(estimate.runBlockers == [BillingReason.addPaymentMethod, BillingReason.enableAddon])
        // Usage is the caller's organisation's only: another's review units never show.
        try await h.billing.meterReview(organization: otherOrg.id, key: "other-task", rows: 7, datasetIDs: [], at: h.clock)
        let memberUsage = try await member.unary(BillingService.getUsage, GetUsageRequest(groupBy: .byDay))
        #expect(memberUsage.rows.isEmpty && memberUsage.totalUnits == 0)
        let otherUsage = try await other.unary(BillingService.getUsage, GetUsageRequest(groupBy: .byDay))
        #expect(otherUsage.rows == [UsageRow(group: BillingCycle.day(of: h.clock), kind: .review, quantity: 7, units: 7, microdollars: 700_000)])
        _ = try await member.unary(BillingService.listCharges, ListChargesRequest())
        #expect(try await member.unary(BillingService.getAccount, GetAccountRequest()).serverAdministrator == false)
        for call in [
            { _ = try await member.unary(BillingService.setPlan, SetPlanRequest(plan: .pro)) },
            { _ = try await member.unary(BillingService.setBudget, SetBudgetRequest(limitMicrodollars: 1)) },
            { _ = try await member.unary(BillingService.setPaymentMethod, SetPaymentMethodRequest()) },
            { _ = try await member.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version)) },
            { _ = try await member.unary(BillingService.listInvoices, ListInvoicesRequest()) },
        ] as [@Sendable () async throws -> Void] {
            #expect(await failure(call)?.code == .permissionDenied)
        }

        // Admins manage their own organisation, not others, and set no price overrides.
        #expect(try await admin.unary(BillingService.setPlan, SetPlanRequest(plan: .pro)).plan == .pro)
        #expect(await failure {
            _ = try await admin.unary(BillingService.getAccount, GetAccountRequest(organizationId: otherOrg.id.rawValue))
        }?.code == .permissionDenied)
        #expect(await failure {
            _ = try await admin.unary(BillingService.setPriceOverrides, SetPriceOverridesRequest(unitMicrodollars: 1))
        }?.code == .permissionDenied)
        // Card numbers are refused; references are kept.
        #expect(await failure {
            _ = try await admin.unary(
                BillingService.setPaymentMethod,
                SetPaymentMethodRequest(paymentMethod: AssayWire.PaymentMethod(reference: "4242 4242 4242 4242", displayHint: "visa")))
        }?.code == .invalidArgument)
        #expect(await failure {
            _ = try await admin.unary(BillingService.setPlan, SetPlanRequest(plan: AssayWire.Plan(rawValue: 42)))
        }?.code == .invalidArgument)
        #expect(await failure {
            _ = try await admin.unary(BillingService.listCharges, ListChargesRequest(cycle: "March"))
        }?.code == .invalidArgument)
        #expect(await failure {
            _ = try await admin.unary(BillingService.estimate, EstimateRequest(modelId: "nope", rowCount: 1))
        }?.code == .notFound)
        // A cycle that has not ended cannot be closed.
        #expect(await failure {
            _ = try await admin.unary(BillingService.closeCycle, CloseCycleRequest(cycle: BillingCycle(containing: h.clock).description))
        }?.code == .failedPrecondition)

        // The server administrator acts on any organisation and sets overrides.
        let account = try await h.operatorClient.unary(
            BillingService.setPriceOverrides,
            SetPriceOverridesRequest(organizationId: otherOrg.id.rawValue, unitMicrodollars: 50_000, modelPrices: ["detector-x": 3_000]))
        #expect(account.serverAdministrator)
        #expect(account.prices?.unitMicrodollars == 50_000)
        #expect(account.prices?.priceBookVersion == "2026-01+override")
        let discounted = try await other.unary(BillingService.estimate, EstimateRequest(modelId: "detector-x", rowCount: 500))
        #expect(discounted.inferenceMicrodollars == 1_500_000)
        #expect(discounted.totalMicrodollars == 1_500_000 + 100 * 50_000)
        let cleared = try await h.operatorClient.unary(
            BillingService.setPriceOverrides, SetPriceOverridesRequest(organizationId: otherOrg.id.rawValue, clear: true))
        #expect(cleared.prices?.unitMicrodollars == 100_000)
        #expect(cleared.prices?.modelPriceOverrides.isEmpty == true)
        for c in [admin, member, reviewer, other] { c.close() }
        await h.stop()
    }
}
