#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
import AssayWire
import Dispatch
import Testing

/// `assay billing` against a live in-process server, as a person would run it.
@Suite("Billing command line")
struct BillingCLITests {
    /// The `assay` executable built next to the tests.
    static let binary: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/AssayBillingTests/CLITests.swift
        return parts.joined(separator: "/") + "/.build/debug/assay"
    }()

    /// Runs `assay ARGS` off the cooperative pool; returns its exit status, stdout and stderr.
    func assay(_ h: BillingHarness, _ key: String, _ args: [String]) async -> (status: Int32, out: String, err: String) {
        let arguments = [Self.binary] + args + ["--addr", h.address.description, "--api-key", key]
        let outFile = h.directory + "/cli.out"
        let errFile = h.directory + "/cli.err"
        let status: Int32 = await withCheckedContinuation { c in
            DispatchQueue(label: "assay-cli").async {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 1, outFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                posix_spawn_file_actions_addopen(&actions, 2, errFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                var cargs = arguments.map { strdup($0) } + [nil]
                var pid: pid_t = 0
                let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, environ)
                for p in cargs { free(p) }
                posix_spawn_file_actions_destroy(&actions)
                guard rc == 0 else { return c.resume(returning: -1) }
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                c.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
        }
        return (status, read(outFile), read(errFile))
    }

    func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

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
