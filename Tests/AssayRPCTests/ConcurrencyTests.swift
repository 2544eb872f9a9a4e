import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

@Suite("Many calls, many connections")
struct ConcurrencyTests {
    @Test func thousandConcurrentCallsOnOneConnection() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<1000 {
                group.addTask {
                    // A small delay keeps many calls open at the same moment.
                    let r = try await client.unary(EchoService.unary, EchoRequest(text: "call-\(i)", delayMicros: 2000))
                    return (i, r.text)
                }
            }
            var all: [Int: String] = [:]
            for try await (i, text) in group { all[i] = text }
            return all
        }
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0.value == "call-\($0.key)" })
        client.close()
        await server.stop()
    }

    @Test func hundredConnections() async throws {
        let server = try TestServer.start()
        var clients: [RPCClient] = []
        for _ in 0..<100 { clients.append(try await server.client()) }
        #expect(await Probe(0).wait { _ in server.server.connectionCount == 100 })
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            for (i, client) in clients.enumerated() {
                group.addTask { try await client.unary(EchoService.unary, EchoRequest(text: "c\(i)")).text }
            }
            var all: Set<String> = []
            for try await t in group { all.insert(t) }
            return all
        }
        #expect(texts == Set((0..<100).map { "c\($0)" }))
        for c in clients { c.close() }
        await server.stop()
    }

    @Test func concurrentStreamLimitIsEnforced() async throws {
        var limits = ServerLimits()
        limits.connection.maxConcurrentStreams = 4
        // Handlers that sleep until cancelled: the first four calls hold their streams.
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe)], limits: limits)
        let client = try await server.client()
        let refused = Probe(0)
        let calls = (0..<8).map { _ in
            Task {
                do {
                    _ = try await client.unary(EchoService.unary, EchoRequest())
                } catch let e as RPCError where e.code == .resourceExhausted {
                    refused.update { $0 += 1 }
                }
            }
        }
        #expect(await probe.wait { $0.started == 4 })
        #expect(await refused.wait { $0 == 4 })
        #expect(probe.current.started == 4)
        for c in calls { c.cancel() }
        for c in calls { _ = await c.result }
        client.close()
        await server.stop()
    }

    @Test func connectionLimitIsEnforced() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 3
        let server = try TestServer.start(limits: limits)
        var clients: [RPCClient] = []
        for _ in 0..<3 { clients.append(try await server.client()) }
        #expect(await Probe(0).wait { _ in server.server.connectionCount == 3 })
        do {
            let extra = try await server.client()
            // The handshake may complete before the GOAWAY is read; the first call then fails.
            _ = try await extra.unary(EchoService.unary, EchoRequest())
            Issue.record("a fourth connection was served")
        } catch let e as RPCError {
            #expect(e.code == .resourceExhausted || e.code == .unavailable)
        }
        for c in clients { c.close() }
        await server.stop()
    }
}
