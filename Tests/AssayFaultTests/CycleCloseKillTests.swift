import AssayCore
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kill -9` of a server while its cycle scheduler closes years of ended billing cycles.
///
/// The history is staged in the database file (the organisation made thirty years ago, its
/// datasets' row counts changing at seeded random times since), so a server starting on it
/// has ~360 cycles to invoice at once. A control server closes them undisturbed; each round
/// starts on a fresh copy, is killed after a random number of invoices plus a random delay,
/// and restarted. The result must be the control's exactly: one invoice per cycle, the same
/// lines, the same ledger entries (none twice), and every invoice equal to its ledger.
@Suite("Faults: kill -9 during billing cycle close", .serialized)
struct CycleCloseKillTests {
    static let years: Int64 = 30
    /// Rows added to a dataset and removed later: enough history that closing the cycles takes
    /// a while (each close sums the events before its cycle), so the kill lands mid-way.
    static let changes = 4_000
    static let microsPerDay: Int64 = 86_400_000_000

    @Test func invoicesAreWrittenOnceWhereverTheCloseIsKilled() async throws {
        var random = FaultPlan.generator("cycle-close-kill")
        let base = makeTemporaryDirectory()
        defer {
            AssayProcess.killAll(under: base)
            _ = blockingCommand(["rm", "-rf", base])
        }
        let log = base + "/server.log"
        let template = base + "/template"
        let cycles = try await Self.stageHistory(in: template, log: log, random: &random)
        #expect(cycles.count >= 12 * Int(Self.years) - 1)

        let control = base + "/control"
        copyFolder(template, to: control)
        let undisturbed = AssayProcess.launch(directory: control, logFile: log)
        try await Self.waitForInvoices(control, count: cycles.count)
        #expect(await undisturbed.stop() == 0, "the control server did not stop cleanly: \(tail(log))")
        let expected = try Self.snapshot(control)
        #expect(expected.filter { $0.hasPrefix("invoice ") }.count == cycles.count)
        #expect(
            expected.contains { $0.hasPrefix("line ") }, "the staged history charges nothing: the test proves little")

        for round in 0..<FaultPlan.rounds {
            let killAfter = Int64.random(in: 1...Int64(cycles.count / 2), using: &random)
            let delayMicros = Int.random(in: 0..<1_000, using: &random)
            let directory = base + "/round-\(round)"
            copyFolder(template, to: directory)
            let server = AssayProcess.launch(directory: directory, logFile: log)
            let watcher = try DatabaseFile(directory + "/assay.sqlite")
            var seen: Int64 = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while seen < killAfter && ContinuousClock.now < deadline {
                seen = (try? watcher.integer("SELECT count(*) FROM billing_invoices")) ?? 0
            }
            usleep(UInt32(delayMicros))
            await server.kill9()
            let atKill = try watcher.integer("SELECT count(*) FROM billing_invoices")
            print(
                "round \(round): kill after \(killAfter) invoices + \(delayMicros) us: "
                    + "\(atKill) of \(cycles.count) written"
            )
            #expect(atKill >= killAfter, "the server never wrote \(killAfter) invoices: \(tail(log))")
            #expect(atKill < Int64(cycles.count), "every cycle was closed before the kill: this round proves nothing")

            let restarted = try await AssayProcess.start(directory: directory, logFile: log)
            try await Self.waitForInvoices(directory, count: cycles.count)
            // Through the API too: one invoice per ended cycle, none twice.
            let client = try await restarted.client()
            let listed = try await client.unary(BillingService.listInvoices, ListInvoicesRequest()).invoices
            #expect(listed.map(\.cycle).sorted() == cycles)
            client.close()
            #expect(await restarted.stop() == 0, "the server did not stop cleanly: \(tail(log))")
            let after = try Self.snapshot(directory)
            #expect(
                after == expected,
                "round \(round) differs from the undisturbed close: \(Self.difference(after, expected))")
            let file = try DatabaseFile(directory + "/assay.sqlite")
            let unbalanced = try file.rows(
                """
                SELECT i.cycle FROM billing_invoices i WHERE
                    (SELECT coalesce(sum(units), 0) || '/' || coalesce(sum(microdollars), 0)
                     FROM billing_invoice_lines WHERE invoice = i.seq)
                    != (SELECT coalesce(sum(units), 0) || '/' || coalesce(sum(microdollars), 0)
                        FROM billing_ledger WHERE org = i.org AND cycle = i.cycle)
                """)
            #expect(unbalanced.isEmpty, "invoices that disagree with the ledger: \(unbalanced)")
            #expect(try file.integrity() == "ok")
        }
    }

    /// A data folder whose organisation was made `years` ago, with three datasets whose row
    /// counts changed at random times since; returns the ended cycles ("2021-04", …) in order.
    static func stageHistory(in directory: String, log: String, random: inout SplitMix64) async throws -> [String] {
        let server = try await AssayProcess.start(directory: directory, logFile: log)
        let client = try await server.client()
        var datasets: [String] = []
        for (i, count) in [12, 40, 3].enumerated() {
            let id = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "held-\(i)")).id
            datasets.append(id)
            try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
                let rows = (0..<count).map {
                    AssayWire.DataRow(globalKey: "held-\(i)-\($0)", mediaType: .text, text: "row \($0)")
                }
                try await writer.write(IngestBatch(datasetId: id, rows: rows))
                close()
                for try await _ in acks {}
            }
        }
        client.close()
        #expect(await server.stop() == 0)

        let file = try DatabaseFile(directory + "/assay.sqlite", readOnly: false)
        let now = Timestamp(try file.integer("SELECT max(created_at) FROM organizations"))
        let shift = years * 365 * microsPerDay
        try file.exec("UPDATE organizations SET created_at = created_at - \(shift)")
        try file.exec("UPDATE datasets SET created_at = created_at - \(shift)")
        let start = now - shift
        let org = try file.integer("SELECT seq FROM organizations ORDER BY seq LIMIT 1")
        let span = shift - 2 * microsPerDay
        // The ingests above, moved into the past; then rows added and later removed again.
        for seq in try file.rows("SELECT seq FROM billing_row_events").map({ $0[0] }) {
            try file.exec(
                "UPDATE billing_row_events SET at = \(start + Int64.random(in: 0..<span / 2, using: &random))"
                    + " WHERE seq = \(seq)"
            )
        }
        try file.exec("BEGIN")
        for _ in 0..<changes {
            let dataset = datasets[Int.random(in: 0..<datasets.count, using: &random)]
            let rows = Int64.random(in: 1...5_000, using: &random)
            let added = start + Int64.random(in: 0..<span, using: &random)
            let removed = Int64.random(in: (added + 1)...(start + span), using: &random)
            try file.exec(
                """
                INSERT INTO billing_row_events (org, dataset_id, at, delta)
                VALUES (\(org), '\(dataset)', \(added), \(rows)), (\(org), '\(dataset)', \(removed), \(-rows))
                """)
        }
        try file.exec("COMMIT")
        var cycles: [String] = []
        var cycle = BillingCycle(containing: start)
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let current = BillingCycle(containing: Timestamp(clock.tv_sec) * 1_000_000)
        while cycle < current {
            cycles.append(cycle.description)
            cycle = cycle.next
        }
        return cycles
    }

    /// Invoices, their lines and the ledger, without what differs between two closes of the
    /// same history (invoice ids, closing times, row sequence numbers).
    static func snapshot(_ directory: String) throws -> [String] {
        let file = try DatabaseFile(directory + "/assay.sqlite")
        let invoices = try file.rows("SELECT cycle, plan, price_book FROM billing_invoices ORDER BY cycle")
        let lines = try file.rows(
            """
            SELECT i.cycle, l.position, l.kind, l.model_id, l.datasets, l.quantity, l.units, l.unit_price,
                   l.microdollars
            FROM billing_invoice_lines l JOIN billing_invoices i ON i.seq = l.invoice ORDER BY i.cycle, l.position
            """)
        let ledger = try file.rows(
            "SELECT key, kind, datasets, quantity, units, unit_price, microdollars, cycle, at FROM billing_ledger"
                + " ORDER BY key"
        )
        return invoices.map { "invoice " + $0.joined(separator: " ") }
            + lines.map { "line " + $0.joined(separator: " ") }
            + ledger.map { "ledger " + $0.joined(separator: " ") }
    }

    static func difference(_ a: [String], _ b: [String]) -> String {
        let extra = Set(a).subtracting(b).sorted().prefix(3)
        let missing = Set(b).subtracting(a).sorted().prefix(3)
        return "\(a.count) vs \(b.count) entries; extra \(Array(extra)); missing \(Array(missing))"
    }

    /// Polls the file until it holds `count` invoices (the scheduler's first pass is at start).
    static func waitForInvoices(_ directory: String, count: Int) async throws {
        let file = try DatabaseFile(directory + "/assay.sqlite")
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if (try? file.integer("SELECT count(*) FROM billing_invoices")) ?? 0 >= Int64(count) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the server did not close the \(count) ended cycles within 120 s")
    }
}
