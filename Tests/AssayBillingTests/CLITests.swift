#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

/// `assay billing` against a live in-process server, as a person would run it.
@Suite("Billing command line")
struct BillingCLITests {
    /// Runs `assay ARGS` against the harness's server; returns its exit status, stdout and stderr.
    func assay(_ h: BillingHarness, _ key: String, _ args: [String]) async -> (status: Int32, out: String, err: String) {
        await AssayCommand.run(args + ["--addr", h.address.description, "--api-key", key], in: h.directory)
    }

    func read(_ path: String) -> String { AssayCommand.read(path) }

    @Test func planEnableEstimateUsageAndInvoiceFiles() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("acme")
        let key = try await BillingHarness.addKey(h.storage, to: org.id, role: .admin)

        var r = await assay(h, key, ["billing", "plan"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("plan            free"))
        #expect(r.out.contains("runs            refused: add_payment_method, enable_addon"))
        #expect(await assay(h, key, ["billing", "plan", "set", "starter"]).out.contains("plan            starter"))
        r = await assay(h, key, ["billing", "enable"])
        #expect(r.status == 1)
        #expect(r.out.contains("terms, version \(BillingTerms.version)"))
        #expect(r.err.contains("--accept-terms \(BillingTerms.version)"))
        r = await assay(h, key, ["billing", "enable", "--accept-terms", BillingTerms.version])
        #expect(r.status == 1)
        #expect(r.err.contains("FAILED_PRECONDITION: add_payment_method"))
        #expect(await assay(h, key, ["billing", "payment", "set", "pm_42", "--hint", "visa ending 4242"]).status == 0)
        r = await assay(h, key, ["billing", "enable", "--accept-terms", BillingTerms.version])
        #expect(r.out.contains("runs            allowed"), "\(r.err)")
        r = await assay(h, key, ["billing", "budget", "set", "1.2.3"])
        #expect(r.status == 2)
        r = await assay(h, key, ["billing", "budget", "set", "250"])
        #expect(r.out.contains("budget          $250.00 per cycle"))

        r = await assay(h, key, ["billing", "estimate", "detector-x", "--rows", "500"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("model units     100 x $0.10 = $10.00"))
        #expect(r.out.contains("inference fee   $2.00"))
        #expect(r.out.contains("total           $12.00"))
        #expect(r.out.contains("every row is an image (500 images)"))

        try await h.billing.meterReview(organization: org.id, key: "t-1", rows: 5, datasetIDs: [], at: h.clock)
        r = await assay(h, key, ["billing", "usage", "--by", "kind"])
        #expect(r.out.contains("total: 5 units, $0.50"), "\(r.out)")

        let cycle = BillingCycle(containing: h.clock)
        h.advance(to: cycle.end + BillingHarness.day)
        r = await assay(h, key, ["billing", "invoice", "close", cycle.description])
        #expect(r.out.contains("\(cycle)"))
        #expect(r.out.contains("5 units  $0.50"))
        let csvPath = h.directory + "/inv.csv"
        r = await assay(h, key, ["billing", "invoice", "export", cycle.description, "--format", "csv", "--out", csvPath])
        #expect(r.status == 0, "\(r.err)")
        #expect(read(csvPath).hasSuffix(",total,,,,5,,0.50,\r\n"))
        let jsonPath = h.directory + "/inv.json"
        r = await assay(h, key, ["billing", "invoice", "export", cycle.description, "--out", jsonPath])
        let invoice = try AssayWire.Invoice(jsonString: read(jsonPath))
        #expect(invoice.total == "0.50")
        #expect(invoice.totalUnits == 5)
        unlink(csvPath)
        unlink(jsonPath)
        client.close()
        await h.stop()
    }
}
