import AssayBilling
import AssayCore
import AssayRPC
import AssayWire
import Testing

/// Cycles close on schedule in a running server, not only when someone lists invoices.
@Suite("Billing cycle scheduler")
struct CycleSchedulerTests {
    /// The server's scheduler closes the cycle once the injected clock passes its end: the
    /// invoice appears in the store while nobody lists, exports or closes anything.
    @Test(.timeLimit(.minutes(1))) func aDueCycleIsClosedByTheSchedulerWithoutAnyoneAsking() async throws {
        let h = try await BillingHarness.start(closeCyclesEvery: .milliseconds(20))
        let (client, org) = try await h.organization("acme")
        _ = try await h.ingest(client, dataset: "images", count: 60)
        let cycle = BillingCycle(containing: h.clock)

        // Passes run while the cycle is open and close nothing of it.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await h.storage.invoices(organization: org.id).filter { $0.cycle == cycle }.isEmpty)
        #expect(try await h.storage.charges(organization: org.id, cycle: cycle).isEmpty)

        h.advance(to: cycle.end + 3_600_000_000)
        var invoice: AssayCore.Invoice?
        let deadline = ContinuousClock.now + .seconds(20)
        while invoice == nil, ContinuousClock.now < deadline {
            invoice = try await h.storage.invoices(organization: org.id).first { $0.cycle == cycle }
            if invoice == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let closed = try #require(invoice, "the scheduler did not close \(cycle) within 20 s")
        // 60 rows held the whole month: one catalog unit, charged as the cycle closed.
        #expect(closed.lines.map(\.kind) == [.catalog])
        #expect(closed.lines.first?.units == 1)
        #expect(try await h.storage.charges(organization: org.id, cycle: cycle).map(\.units) == [1])
        // Later passes find it closed and write nothing more.
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await h.storage.invoices(organization: org.id).filter { $0.cycle == cycle } == [closed])
        client.close()
        // Shutdown cancels the scheduler; the time limit fails the test if it did not stop.
        await h.stop()
    }

    /// One pass per tick of the injected sleep, and the service returns when cancelled.
    @Test(.timeLimit(.minutes(1))) func passesFollowTheInjectedSleepAndEndOnCancellation() async throws {
        let h = try await BillingHarness.start()
        let (client, org) = try await h.organization("acme")
        _ = try await h.ingest(client, dataset: "images", count: 120)
        let cycle = BillingCycle(containing: h.clock)
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self)
        let (naps, nap) = AsyncStream.makeStream(of: Duration.self)
        let scheduler = CycleScheduler(billing: h.billing, interval: .seconds(3600), logger: .silent) { interval in
            // Reports each wait, then sleeps until the test ticks.
            nap.yield(interval)
            var it = ticks.makeAsyncIterator()
            guard await it.next() != nil else { throw CancellationError() }
            try Task.checkCancellation()
        }
        let task = Task { await scheduler.run() }
        var waits = naps.makeAsyncIterator()
        #expect(await waits.next() == .seconds(3600))  // the first pass ran, with the cycle open
        #expect(try await h.storage.invoices(organization: org.id).filter { $0.cycle == cycle }.isEmpty)
        h.advance(to: cycle.end + 1)
        tick.yield()
        #expect(await waits.next() == .seconds(3600))  // the second pass closed it
        #expect(try await h.storage.invoices(organization: org.id).first { $0.cycle == cycle }?.lines.first?.units == 2)
        task.cancel()
        tick.finish()
        await task.value
        client.close()
        await h.stop()
    }
}
