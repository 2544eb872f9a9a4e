import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

/// What a handler saw of its own cancellation.
struct HandlerOutcome: Sendable, Equatable {
    var started = 0
    var cancelled = 0
    var finished = 0
}

/// A unary handler that sleeps until cancelled (or 60 s), recording what happened.
func sleepyService(_ probe: Probe<HandlerOutcome>) -> AdHocService {
    AdHocService { router in
        router.unary(EchoService.unary) { request, _ in
            probe.update { $0.started += 1 }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                probe.update { $0.cancelled += 1 }
                throw error
            }
            probe.update { $0.finished += 1 }
            return EchoResponse(text: request.text)
        }
        router.clientStreaming(EchoService.clientStream) { requests, _ in
            // Reads slowly: one message per 20 ms.
            var n: UInt32 = 0
            for try await _ in requests {
                n += 1
                try await Task.sleep(for: .milliseconds(20))
            }
            return EchoResponse(index: n)
        }
    }
}

@Suite("Deadlines, cancellation, flow control, shutdown")
struct LifecycleTests {
    @Test func deadlineExpiresAndCancelsTheHandler() async throws {
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe), HealthProvider()])
        let client = try await server.client()
        let start = ContinuousClock.now
        do {
            _ = try await client.unary(EchoService.unary, EchoRequest(text: "slow"), timeout: .milliseconds(500))
            Issue.record("expected DEADLINE_EXCEEDED")
        } catch let e as RPCError {
            #expect(e.code == .deadlineExceeded)
        }
        #expect(ContinuousClock.now - start < .seconds(30))  // the handler would sleep 60 s
        // A handler that started was cancelled; under heavy load the deadline can pass before the
        // handler reads its request, and then it is never entered (also right).
        #expect(await probe.wait { $0.cancelled == $0.started && $0.started <= 1 })
        #expect(probe.current.finished == 0)
        // The connection outlives the call.
        #expect(try await client.unary(HealthService.check, HealthCheckRequest()).status == .serving)
        client.close()
        await server.stop()
    }

    @Test func serverEnforcesTheDeadlineItIsSent() async throws {
        // A raw client that never gives up on its own: only the server's timer can end the call.
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe)])
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: "/assay.v1.Echo/Unary", timeoutMicros: 500_000)
        raw.send(Frame(type: .headers, streamID: 1, body: start.serializedBytes()).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 1, body: EchoRequest(text: "x").serializedBytes()).encoded())
        let trailers = try #require(await raw.nextFrame(ofType: .trailers))
        let end = try CallEnd(serializedBytes: trailers.body)
        #expect(end.code == RPCCode.deadlineExceeded.rawValue)
        // A handler that started was cancelled; under heavy load the deadline can pass before the
        // handler reads its request, and then it is never entered (also right).
        #expect(await probe.wait { $0.cancelled == $0.started && $0.started <= 1 })
        await server.stop()
    }

    @Test func clientCancelReachesTheHandler() async throws {
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe)])
        let client = try await server.client()
        let call = Task {
            try await client.unary(EchoService.unary, EchoRequest(text: "cancel me"))
        }
        #expect(await probe.wait { $0.started == 1 })
        call.cancel()
        let result = await call.result
        #expect(throws: (any Error).self) { try result.get() }
        #expect(await probe.wait { $0.cancelled == 1 })
        #expect(probe.current.finished == 0)
        client.close()
        await server.stop()
    }

    @Test func fastSenderIsHeldBackByFlowControl() async throws {
        // Windows of 64 KiB: a client sending 2 MiB to a handler that reads slowly must wait.
        var limits = ServerLimits()
        limits.connection.initialStreamWindow = 64 << 10
        limits.connection.initialConnectionWindow = 128 << 10
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe)], limits: limits)
        let client = try await server.client()
        let sent = Probe(0)
        let call = Task {
            try await client.clientStreaming(EchoService.clientStream) { writer in
                for _ in 0..<64 {
                    try await writer.write(EchoRequest(payload: [UInt8](repeating: 7, count: 32 << 10)))
                    sent.update { $0 += 1 }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(150))
        // 150 ms of a reader taking one message per 20 ms: far fewer than 64 sent, and never
        // more than the window allows beyond what was read.
        let early = sent.current
        #expect(early < 20)
        let response = try await call.value
        #expect(response.index == 64)
        client.close()
        await server.stop()
    }

    @Test func gracefulShutdownLetsCallsInFlightFinish() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let calls = (0..<10).map { i in
            Task { try await client.unary(EchoService.unary, EchoRequest(text: "f\(i)", delayMicros: 300_000)) }
        }
        try await Task.sleep(for: .milliseconds(100))
        let stop = Task { await server.stop() }
        // No new calls once the GOAWAY is out.
        #expect(await Probe(0).wait { _ in !client.isUsable })
        do {
            _ = try await client.unary(EchoService.unary, EchoRequest(text: "late"))
            Issue.record("a call started after shutdown began")
        } catch let e as RPCError {
            #expect(e.code == .unavailable)
        }
        for (i, call) in calls.enumerated() {
            #expect(try await call.value.text == "f\(i)")
        }
        await stop.value
        #expect(server.server.connectionCount == 0)
    }

    @Test func shutdownCancelsCallsThatOutliveTheGracePeriod() async throws {
        var limits = ServerLimits()
        limits.shutdownGraceNanoseconds = 100_000_000
        let probe = Probe(HandlerOutcome())
        let server = try TestServer.start(services: [sleepyService(probe)], limits: limits)
        let client = try await server.client()
        let call = Task { try await client.unary(EchoService.unary, EchoRequest()) }
        #expect(await probe.wait { $0.started == 1 })
        let start = ContinuousClock.now
        await server.stop()
        // Without the grace period it would wait for the handler's 60 s sleep.
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(await probe.wait { $0.cancelled == 1 })
        let result = await call.result
        #expect(throws: RPCError.self) { try result.get() }
    }
}
