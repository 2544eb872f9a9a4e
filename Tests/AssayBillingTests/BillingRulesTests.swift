import AssayCore
import Testing

/// The pure rules: units, fees, money, cycles and catalog holdings.
@Suite("Billing rules")
struct BillingRulesTests {
    let standard = PriceBook.standard.prices(plan: .starter, overrides: PriceOverrides())

    @Test func unitsRoundUpOncePerCharge() {
        #expect(standard.modelUnits(rows: 500) == 100)
        #expect(standard.modelUnits(rows: 501) == 101)
        #expect(standard.modelUnits(rows: 1) == 1)
        #expect(standard.modelUnits(rows: 0) == 0)
        #expect(standard.reviewUnits(rows: 500) == 500)
        // 1,000 rows held a whole month (any month length) = 16.67, so 17.
        for days: Int64 in [28, 29, 30, 31] {
            let seconds = days * 86_400
            #expect(standard.catalogUnits(rowSeconds: 1_000 * seconds, cycleSeconds: seconds) == 17)
            #expect(standard.catalogUnits(rowSeconds: 60 * seconds, cycleSeconds: seconds) == 1)
            #expect(standard.catalogUnits(rowSeconds: 60 * seconds + 1, cycleSeconds: seconds) == 2)
        }
    }

    @Test func inferenceFeesAreExactMicrodollars() {
        let image = ModelCard(
            id: "m", name: "m", version: "1", taskKinds: [.detection], mediaTypes: [.image], outputKinds: [.boundingBox],
            price: Price(unit: .perImage, microdollars: 4_000), provider: "t")
        #expect(standard.inferenceFee(model: image, rows: 900, images: 500, tokens: 0) == 2_000_000)
        var row = image
        row.price = Price(unit: .perRow, microdollars: 3)
        #expect(standard.inferenceFee(model: row, rows: 7, images: 0, tokens: 0) == 21)
        var tokens = image
        tokens.price = Price(unit: .per1kTokens, microdollars: 2_000)
        // 1,501 tokens x 2,000 / 1,000 = 3,002 exactly; 1 token rounds 2 up from 2 (exact); 1 token at 1,001 µ$/1k rounds 1.001 to 2.
        #expect(standard.inferenceFee(model: tokens, rows: 0, images: 0, tokens: 1_501) == 3_002)
        tokens.price.microdollars = 1_001
        #expect(standard.inferenceFee(model: tokens, rows: 0, images: 0, tokens: 1) == 2)
        #expect(standard.inferenceFee(model: tokens, rows: 0, images: 0, tokens: 1_000) == 1_001)
        // An organisation's override replaces the card's amount, keeping its unit.
        let discounted = PriceBook.standard.prices(plan: .starter, overrides: PriceOverrides(modelPrices: ["m": 3_000]))
        #expect(discounted.inferenceFee(model: image, rows: 0, images: 500, tokens: 0) == 1_500_000)
        #expect(discounted.priceBookVersion == "2026-01+override")
        // Saturates instead of wrapping.
        #expect(standard.inferenceFee(model: image, rows: 0, images: .max, tokens: 0) == .max)
    }

    @Test func moneyIsWrittenAndReadWithIntegersOnly() {
        #expect(Money.format(2_000_000) == "2.00")
        #expect(Money.format(4_000) == "0.004")
        #expect(Money.format(63_700_000) == "63.70")
        #expect(Money.format(1) == "0.000001")
        #expect(Money.format(-1_500_000) == "-1.50")
        #expect(Money.format(.max) == "9223372036854.775807")
        #expect(Money.format(.min) == "-9223372036854.775808")
        #expect(Money.parse("2") == 2_000_000)
        #expect(Money.parse("$1,234.56") == 1_234_560_000)
        #expect(Money.parse("0.004") == 4_000)
        #expect(Money.parse("0.0000001") == nil)
        #expect(Money.parse("1e3") == nil)
        #expect(Money.parse("-1") == nil)
        // A sign is refused, even where the whole part reads as zero.
        #expect(Money.parse("-0.5") == nil)
        #expect(Money.parse("-0") == nil)
        #expect(Money.parse("$-2.00") == nil)
        #expect(Money.parse("+1") == nil)
        #expect(Money.parse("0.-5") == nil)
        #expect(Money.parse("9223372036854.775807") == .max)
        #expect(Money.parse("9223372036854.775808") == nil)
        #expect(Money.parse(".5") == nil)
        #expect(Money.parse("99999999999999999") == nil)
    }

    @Test func cyclesAreCalendarMonthsUTC() throws {
        let march = try #require(BillingCycle("2026-03"))
        #expect(march.start == 1_772_323_200_000_000)  // 2026-03-01T00:00:00Z
        #expect(march.seconds == 31 * 86_400)
        #expect(BillingCycle(containing: march.start) == march)
        #expect(BillingCycle(containing: march.start - 1) == BillingCycle("2026-02"))
        #expect(BillingCycle(containing: march.end - 1) == march)
        #expect(BillingCycle("2028-02")?.seconds == Int64(29 * 86_400))
        #expect(BillingCycle("2100-02")?.seconds == Int64(28 * 86_400))
        #expect(BillingCycle("2026-12")?.next == BillingCycle("2027-01"))
        #expect(BillingCycle("2027-01")?.previous == BillingCycle("2026-12"))
        #expect(BillingCycle("2026-13") == nil)
        #expect(BillingCycle("2026-3") == nil)
        #expect(BillingCycle.day(of: march.start + 4 * 86_400_000_000 + 5) == "2026-03-05")
        #expect(BillingCycle(containing: 0).description == "1970-01")
    }

    @Test func catalogHoldingsFollowRowCountsThroughTheCycle() throws {
        let cycle = try #require(BillingCycle("2026-04"))  // 30 days
        let day: Int64 = 86_400_000_000
        // Held the whole month from before it began.
        var held = CatalogHoldings.rowSeconds(opening: ["a": 1_000], events: [], start: cycle.start, end: cycle.end)
        #expect(held == ["a": 1_000 * cycle.seconds])
        // Ingested on day 15 (half the month): 8.33 units, so 9; deleted halfway through b.
        held = CatalogHoldings.rowSeconds(
            opening: ["b": 600],
            events: [
                RowCountEvent(datasetID: "a", at: cycle.start + 15 * day, delta: 1_000),
                RowCountEvent(datasetID: "b", at: cycle.start + 15 * day, delta: -600),
                RowCountEvent(datasetID: "c", at: cycle.end, delta: 5),
            ],
            start: cycle.start, end: cycle.end)
        #expect(held == ["a": 1_000 * 15 * 86_400, "b": 600 * 15 * 86_400])
        #expect(standard.catalogUnits(rowSeconds: held["a"]!, cycleSeconds: cycle.seconds) == 9)
        #expect(standard.catalogUnits(rowSeconds: held["b"]!, cycleSeconds: cycle.seconds) == 5)
    }

    @Test func accountsSayWhatBlocksARun() {
        var account = BillingAccount(organizationID: ObjectID(rawValue: "org_x"))
        #expect(account.runBlockers == ["add_payment_method", "enable_addon"])
        account.paymentMethod = PaymentMethod(reference: "pm_1", displayHint: "visa ending 4242")
        #expect(account.runBlockers == ["enable_addon"])
        account.addonEnabled = true
        #expect(account.runBlockers == ["accept_terms"])
        account.termsVersion = BillingTerms.version
        #expect(account.runBlockers.isEmpty)
        account.plan = .educational
        #expect(account.runBlockers == ["upgrade_plan"])
        account.plan = .enterprise
        #expect(account.runBlockers.isEmpty)
        account.addonEnabled = false
        account.paymentMethod = nil
        #expect(account.runBlockers == ["enable_addon"])
    }

    @Test func cardNumbersAreRecognised() {
        #expect(PaymentMethod.looksLikeCardNumber("4242 4242 4242 4242"))
        #expect(PaymentMethod.looksLikeCardNumber("4242-4242-4242-4242"))
        #expect(PaymentMethod.looksLikeCardNumber("card=4242424242424242"))
        #expect(!PaymentMethod.looksLikeCardNumber("pm_1Nv2hJ2eZvKYlo2C"))
        #expect(!PaymentMethod.looksLikeCardNumber("visa ending 4242"))
    }

    @Test func invoiceLinesGroupByKindModelAndDataset() throws {
        let cycle = try #require(BillingCycle("2026-05"))
        let org = ObjectID(rawValue: "org_x")
        func entry(_ key: String, _ kind: ChargeKind, model: String = "", datasets: String = "", units: Int64 = 0, money: Int64) -> LedgerEntry {
            LedgerEntry(
                key: key, organizationID: org, kind: kind, modelID: model, datasetIDs: datasets, quantity: 1, units: units,
                unitMicrodollars: kind == .inference ? 0 : 100_000, microdollars: money, cycle: cycle, at: cycle.start, priceBookVersion: "v")
        }
        let lines = Invoice.lines(from: [
            entry("1", .inference, model: "m", datasets: "ds_a", money: 2_000_000),
            entry("2", .inference, model: "m", datasets: "ds_a", money: 1),
            entry("3", .model, model: "m", datasets: "ds_a", units: 100, money: 10_000_000),
            entry("4", .model, model: "n", datasets: "ds_a", units: 1, money: 100_000),
            entry("5", .catalog, datasets: "ds_b", units: 17, money: 1_700_000),
        ])
        #expect(lines.map(\.kind) == [.catalog, .model, .model, .inference])
        #expect(lines.last?.microdollars == 2_000_001)
        #expect(lines.last?.quantity == 2)
        let invoice = Invoice(id: "inv_1", organizationID: org, cycle: cycle, closedAt: 0, plan: .starter, priceBookVersion: "v", lines: lines)
        #expect(invoice.totalUnits == 118)
        #expect(invoice.totalMicrodollars == 13_800_001)
        #expect(invoice.csv.hasSuffix("inv_1,2026-05,total,,,,118,,13.800001,\r\n"))
    }
}
