import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

/// What a well-behaved client never sends, sent on a raw socket.
@Suite("Protocol errors")
struct ProtocolErrorTests {
    func goAway(from raw: RawConnection) async throws -> GoAway? {
        guard let frame = await raw.nextFrame(ofType: .goAway) else { return nil }
        return try GoAway(serializedBytes: frame.body)
    }

    @Test func wrongMagicIsRefusedCleanly() async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(await raw.readRaw(8) == Preface().bytes)
        let away = try #require(try await goAway(from: raw))
        #expect(away.message.contains("does not speak the Assay protocol"))
        #expect(await raw.peerClosed())
        await server.stop()
    }

    @Test func unsupportedVersionIsRefusedCleanly() async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.send(Preface(version: 2).bytes)
        #expect(await raw.readRaw(8) == Preface().bytes)
        let away = try #require(try await goAway(from: raw))
        #expect(away.message.contains("unsupported protocol version 2"))
        #expect(await raw.peerClosed())
        await server.stop()
    }

    @Test func invalidProtobufIsInvalidArgumentAndTheConnectionLivesOn() async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: "/assay.v1.Echo/Unary").serializedBytes()
        // Field 1 (text) as a length-delimited value claiming 100 bytes, with 2 present.
        raw.send(Frame(type: .headers, streamID: 1, body: start).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 1, body: [0x0a, 100, 0x41, 0x42]).encoded())
        let bad = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(bad.code == RPCCode.invalidArgument.rawValue)
        #expect(bad.message.contains("assay.v1.EchoRequest"))
        // The same connection still serves a good call.
        raw.send(Frame(type: .headers, streamID: 3, body: start).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 3, body: EchoRequest(text: "ok").serializedBytes()).encoded())
        let data = try #require(await raw.nextFrame(ofType: .data))
        #expect(data.streamID == 3)
        #expect(try EchoResponse(serializedBytes: data.body).text == "ok")
        let good = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(good.code == 0)
        await server.stop()
    }

    @Test func oversizedFrameIsRefusedBeforeItsBodyArrives() async throws {
        var limits = ServerLimits()
        limits.connection.maxFrameSize = 64 << 10
        let server = try TestServer.start(limits: limits)
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: "/assay.v1.Echo/Unary").serializedBytes()
        raw.send(Frame(type: .headers, streamID: 1, body: start).encoded())
        // A header announcing 512 MiB, and only the first 4 KiB of the body: the answer must
        // come now, without the server waiting for (or keeping) the rest.
        var header: [UInt8] = []
        Frame.appendHeader(to: &header, length: 512 << 20, type: .data, flags: .endStream, streamID: 1)
        raw.send(header + [UInt8](repeating: 0x41, count: 4096))
        let end = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(end.code == RPCCode.resourceExhausted.rawValue)
        #expect(end.message.contains("exceeds the limit of 65536 bytes"))
        await server.stop()
    }

    @Test func oversizedFrameSkippedThenConnectionUsable() async throws {
        var limits = ServerLimits()
        limits.connection.maxFrameSize = 1024
        let server = try TestServer.start(limits: limits)
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: "/assay.v1.Echo/Unary").serializedBytes()
        raw.send(Frame(type: .headers, streamID: 1, body: start).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 1, body: [UInt8](repeating: 1, count: 5000)).encoded())
        let end = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(end.code == RPCCode.resourceExhausted.rawValue)
        raw.send(Frame(type: .headers, streamID: 3, body: start).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 3, body: EchoRequest(text: "after").serializedBytes()).encoded())
        let data = try #require(await raw.nextFrame(ofType: .data))
        #expect(try EchoResponse(serializedBytes: data.body).text == "after")
        await server.stop()
    }

    @Test func clientRefusesToSendAMessageOverTheServersLimit() async throws {
        var limits = ServerLimits()
        limits.connection.maxFrameSize = 1024
        let server = try TestServer.start(limits: limits)
        let client = try await server.client()
        do {
            _ = try await client.unary(EchoService.unary, EchoRequest(payload: [UInt8](repeating: 0, count: 4096)))
            Issue.record("expected RESOURCE_EXHAUSTED")
        } catch let e as RPCError {
            #expect(e.code == .resourceExhausted)
        }
        client.close()
        await server.stop()
    }

    @Test func streamIDsMustGrow() async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: "/assay.v1.Health/Check").serializedBytes()
        let request = HealthCheckRequest().serializedBytes()
        raw.send(Frame(type: .headers, streamID: 5, body: start).encoded() + Frame(type: .data, flags: .endStream, streamID: 5, body: request).encoded())
        _ = await raw.nextFrame(ofType: .trailers)
        raw.send(Frame(type: .headers, streamID: 3, body: start).encoded())
        let away = try #require(await raw.nextFrame(ofType: .goAway))
        #expect(try GoAway(serializedBytes: away.body).message.contains("not above the last one"))
        #expect(await raw.peerClosed())
        await server.stop()
    }

    @Test func handshakeTimeoutClosesSilentPeers() async throws {
        var limits = ServerLimits()
        limits.connection.handshakeTimeoutNanoseconds = 100_000_000
        let server = try TestServer.start(limits: limits)
        let raw = try RawConnection(to: server.address)
        #expect(await raw.peerClosed())
        await server.stop()
    }

    @Test func pingIsAnswered() async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        raw.send(Frame(type: .ping, streamID: 0, body: [1, 2, 3, 4, 5, 6, 7, 8]).encoded())
        let pong = try #require(await raw.nextFrame(ofType: .ping))
        #expect(pong.flags.contains(.ack))
        #expect(pong.body == [1, 2, 3, 4, 5, 6, 7, 8])
        await server.stop()
    }
}
