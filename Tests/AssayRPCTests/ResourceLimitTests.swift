import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

/// Peers that try to make the server hold memory or connections: slow senders, half-sent
/// frames, and more buffered bytes than the server-wide budget.
@Suite("Resource limits")
struct ResourceLimitTests {
    /// Waits until `condition` holds, polling; false after `seconds`.
    func eventually(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Sends `bytes` one at a time, `gap` apart, until they are all sent or `stop` holds.
    /// Returns how many it sent: fewer than all of them means the server ended the connection
    /// before the last one, however slowly this test ran (a stalled test sends fewer, never more).
    func dribble(_ raw: RawConnection, _ bytes: [UInt8], gap: Duration, stop: () -> Bool) async -> Int {
        var sent = 0
        for byte in bytes {
            if stop() { break }
            raw.send([byte])
            sent += 1
            try? await Task.sleep(for: gap)
        }
        return sent
    }

    @Test func aHandshakeSentAByteAtATimeEndsAtTheHandshakeTimeout() async throws {
        var limits = ServerLimits()
        limits.connection.handshakeTimeoutNanoseconds = 1_500_000_000
        let server = try TestServer.start(limits: limits)
        let raw = try RawConnection(to: server.address)
        // 18 bytes at 400 ms: 7.2 s if the server waited for all of them; it closes after ~1.5 s.
        // The end is seen from this side, so a test that stalls on a loaded machine cannot miss
        // the connection's short life on the server.
        let handshake = Preface().bytes + Frame(type: .settings, streamID: 0).encoded()
        let sent = await dribble(raw, handshake, gap: .milliseconds(400)) { raw.hasEnded() }
        #expect(await raw.peerClosed() || raw.hasEnded())
        #expect(sent < handshake.count, "the server waited for the whole handshake")
        #expect(await eventually(seconds: 10) { server.server.connectionCount == 0 })
        await server.stop()
    }

    @Test func bytesOfAFrameAndPingsDoNotKeepAnIdleConnectionOpen() async throws {
        var limits = ServerLimits()
        limits.connection.idleTimeoutNanoseconds = 400_000_000
        let server = try TestServer.start(limits: limits)
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        // PING frames, a byte every 100 ms: a frame completes every 1.7 s, a byte arrives far
        // more often than the idle timeout, and neither is a call making progress.
        var pings: [UInt8] = []
        for i in 0..<4 { pings += Frame(type: .ping, streamID: 0, body: [0, 0, 0, 0, 0, 0, 0, UInt8(i)]).encoded() }
        let sent = await dribble(raw, pings, gap: .milliseconds(100)) { server.server.connectionCount == 0 }
        #expect(server.server.connectionCount == 0)
        #expect(sent < pings.count, "the pings kept the connection open")
        await server.stop()
    }

    @Test func aHalfSentFrameBodyLosesItsBufferAtTheIdleTimeoutEvenWithACallOpen() async throws {
        var limits = ServerLimits()
        limits.connection.idleTimeoutNanoseconds = 1_500_000_000
        let server = try TestServer.start(limits: limits)
        let budget = server.server.inboundBudget
        let raw = try RawConnection(to: server.address)
        // The handshake, a client-streaming call (open: no END_STREAM) and the header of a
        // 100 kB DATA frame in one write, so a test that stalls (its turn on the cooperative
        // pool can take seconds on a loaded machine) cannot let the idle timeout fall between
        // them. The peak shows the body was reserved, however briefly it was held.
        var opening = Preface().bytes + Frame(type: .settings, streamID: 0).encoded()
        opening += Frame(
            type: .headers, streamID: 1, body: CallStart(method: "/assay.v1.Echo/ClientStream").serializedBytes()
        ).encoded()
        Frame.appendHeader(to: &opening, length: 100_000, type: .data, flags: [], streamID: 1)
        raw.send(opening)
        #expect(await eventually(seconds: 10) { budget.peakBufferedBytes >= 100_000 })
        // Then a few bytes of the body, one every 100 ms: 80 take 8 s if each kept the connection
        // alive; the idle timeout is 1.5 s.
        let body = [UInt8](repeating: 0x0a, count: 80)
        let sent = await dribble(raw, body, gap: .milliseconds(100)) { server.server.connectionCount == 0 }
        #expect(server.server.connectionCount == 0)
        #expect(sent < body.count, "the body's bytes kept the connection open")
        #expect(budget.bufferedBytes == 0)
        await server.stop()
    }

    @Test func theGlobalBudgetRefusesAFrameThatWouldGoOverItAndRecovers() async throws {
        var limits = ServerLimits()
        limits.maxBufferedInboundBytes = 64 << 10
        let server = try TestServer.start(limits: limits)
        let budget = server.server.inboundBudget
        let start = CallStart(method: "/assay.v1.Echo/ClientStream").serializedBytes()
        let message = EchoRequest(text: "big", payload: [UInt8](repeating: 7, count: 40_000)).serializedBytes()

        // Connection A announces a 40 kB message and sends half of it: the budget holds 40 kB.
        let a = try RawConnection(to: server.address)
        a.handshake()
        _ = await a.readRaw(8)
        var aHeader: [UInt8] = []
        Frame.appendHeader(to: &aHeader, length: message.count, type: .data, flags: .endStream, streamID: 1)
        a.send(Frame(type: .headers, streamID: 1, body: start).encoded() + aHeader + Array(message[0..<20_000]))
        #expect(await eventually(seconds: 10) { budget.bufferedBytes == message.count })

        // Connection B's 40 kB would go over 64 KiB: its call fails at once, with a retry hint.
        let b = try RawConnection(to: server.address)
        b.handshake()
        _ = await b.readRaw(8)
        b.send(
            Frame(type: .headers, streamID: 1, body: start).encoded()
                + Frame(type: .data, flags: .endStream, streamID: 1, body: message).encoded())
        let refused = try CallEnd(serializedBytes: try #require(await b.nextFrame(ofType: .trailers)).body)
        #expect(refused.code == RPCCode.resourceExhausted.rawValue)
        #expect(refused.message.contains("65536 bytes"))
        #expect(
            refused.metadata.first { $0.key == RetryHint.metadataKey }?.value
                == String(InboundMemoryBudget.retryAfterMilliseconds))
        #expect(budget.refusedFrames == 1)

        // A finishes; its handler takes the message and the budget is free again.
        a.send(Array(message[20_000...]))
        let done = try CallEnd(serializedBytes: try #require(await a.nextFrame(ofType: .trailers)).body)
        #expect(done.code == 0)
        #expect(await eventually(seconds: 10) { budget.bufferedBytes == 0 })

        // B's retry on the same connection goes through.
        b.send(
            Frame(type: .headers, streamID: 3, body: start).encoded()
                + Frame(type: .data, flags: .endStream, streamID: 3, body: message).encoded())
        let data = try #require(await b.nextFrame(ofType: .data))
        #expect(try EchoResponse(serializedBytes: data.body).index == 1)
        let retried = try CallEnd(serializedBytes: try #require(await b.nextFrame(ofType: .trailers)).body)
        #expect(retried.code == 0)
        #expect(await eventually(seconds: 10) { budget.bufferedBytes == 0 })
        await server.stop()
    }

    @Test func queuedMessagesCountAgainstTheBudgetUntilTheirHandlerTakesThem() async throws {
        var limits = ServerLimits()
        limits.maxBufferedInboundBytes = 64 << 10
        let server = try TestServer.start(limits: limits)
        let budget = server.server.inboundBudget
        let client = try await server.client()
        let payload = [UInt8](repeating: 1, count: 20_000)
        // The handler sleeps 10 s on the first message: the next ones queue, 20 kB each,
        // until the fourth would pass 64 KiB.
        var sent = 0
        do {
            _ = try await client.clientStreaming(EchoService.clientStream) { writer in
                try await writer.write(EchoRequest(text: "slow", delayMicros: 10_000_000))
                for _ in 0..<20 {
                    try await writer.write(EchoRequest(payload: payload))
                    sent += 1
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            Issue.record("the call went over the budget without a refusal")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(RetryHint.milliseconds(in: error.metadata) == InboundMemoryBudget.retryAfterMilliseconds)
        }
        #expect(sent >= 3 && sent < 20)
        // The refused call's queued messages were dropped with it.
        #expect(await eventually(seconds: 10) { budget.bufferedBytes == 0 })
        // And the connection serves the next call.
        #expect(try await client.unary(EchoService.unary, EchoRequest(text: "after")).text == "after")
        client.close()
        await server.stop()
    }
}
