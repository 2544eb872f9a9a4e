import AssayRPC
import AssayWire
import Testing

@testable import AssayFuzzing

/// The fuzz targets' invariants catch what they claim to (a check that cannot fail finds
/// nothing), and the scripted connection they drive behaves as a socket-backed one does.
@Suite("Fuzz checks")
struct FuzzCheckTests {
    static let handshake = Preface().bytes + Frame(type: .settings, streamID: 0, body: []).encoded()

    @Test("the frame check rejects an outcome that does not match its stream")
    func frameCheckHasTeeth() throws {
        let frame = Frame(type: .data, streamID: 1, body: [1, 2, 3])
        let stream = frame.encoded()
        let good = FrameDecoderFuzz.Outcome(events: [.frame(frame)], atFrameBoundary: true)
        try stream.withUnsafeBytes { s throws in
            try FrameDecoderFuzz.checkAgainstStream(good, s, maxFrameSize: 16)
        }
        var other = frame
        other.streamID = 3
        let wrong = [
            FrameDecoderFuzz.Outcome(events: [.frame(other)], atFrameBoundary: true),
            FrameDecoderFuzz.Outcome(events: [.frame(frame)], atFrameBoundary: false),
            FrameDecoderFuzz.Outcome(events: [], atFrameBoundary: true),
        ]
        for outcome in wrong {
            #expect(throws: FuzzFinding.self) {
                try stream.withUnsafeBytes { s throws in
                    try FrameDecoderFuzz.checkAgainstStream(outcome, s, maxFrameSize: 16)
                }
            }
        }
        // Over the limit, the frame must have been reported as oversized.
        #expect(throws: FuzzFinding.self) {
            try stream.withUnsafeBytes { s throws in
                try FrameDecoderFuzz.checkAgainstStream(good, s, maxFrameSize: 2)
            }
        }
    }

    @Test("the connection check rejects malformed output")
    func connectionCheckHasTeeth() throws {
        let body = Settings(maxFrameSize: 1024, maxConcurrentStreams: 4).serializedBytes()
        let settings = Frame(type: .settings, streamID: 0, body: body).encoded()
        try ConnectionFuzz.checkWritten(Preface().bytes + settings, role: .server)
        let bad: [[UInt8]] = [
            settings,  // no preface
            Preface().bytes + Array(settings.dropLast()),  // half a frame
            Preface().bytes + settings + Frame(type: .windowUpdate, streamID: 1, body: [0, 0, 0, 0]).encoded(),
            Preface().bytes + settings + Frame(type: .windowUpdate, streamID: 0, body: [0x80, 0, 0, 0]).encoded(),
            Preface().bytes + settings + Frame(type: .headers, streamID: 1, body: []).encoded(),  // from a server
            Preface().bytes + settings + Frame(type: .goAway, streamID: 0, body: [0xFF]).encoded(),
            Preface().bytes + settings + Frame(type: FrameType(rawValue: 9), streamID: 0).encoded(),
        ]
        for written in bad {
            #expect(throws: FuzzFinding.self) { try ConnectionFuzz.checkWritten(written, role: .server) }
        }
    }

    @Test("a scripted server accepts a call and answers a bad preface with GOAWAY")
    func scriptedServer() throws {
        let start = CallStart(method: "/assay.v1.Echo/Unary", timeoutMicros: 5).serializedBytes()
        let bytes =
            Self.handshake + Frame(type: .headers, streamID: 1, body: start).encoded()
            + Frame(type: .data, flags: .endStream, streamID: 1, body: EchoRequest(text: "hi").serializedBytes())
            .encoded()
        let server = ScriptedConnection(role: .server)
        server.start()
        bytes.withUnsafeBytes { server.receive($0) }
        #expect(server.isReady)
        #expect(server.calls.map(\.method) == ["/assay.v1.Echo/Unary"])
        #expect(server.calls.first?.timeoutNanoseconds == 5_000)
        #expect(server.finishCall(streamID: 1, status: RPCError(.notFound, "gone")))
        let frames = try Self.frames(after: server.written)
        let trailers = try #require(frames.last)
        #expect(trailers.type == .trailers && trailers.streamID == 1)
        #expect(try CallEnd(serializedBytes: trailers.body).code == RPCCode.notFound.rawValue)

        let refused = ScriptedConnection(role: .server)
        refused.start()
        Array("GET / HTTP/1.1\r\n".utf8).withUnsafeBytes { refused.receive($0) }
        #expect(refused.isClosed)
        let goAway = try #require(try Self.frames(after: refused.written).last)
        #expect(goAway.type == .goAway)
        #expect(try GoAway(serializedBytes: goAway.body).code == RPCCode.failedPrecondition.rawValue)
    }

    @Test("the handshake timer of a scripted connection closes it")
    func handshakeTimeout() {
        let server = ScriptedConnection(role: .server)
        server.start()
        Preface().bytes.withUnsafeBytes { server.receive($0) }
        server.fireTimers()
        #expect(server.isClosed)
        #expect(server.closeReason?.message == "handshake timed out")
    }

    /// The frames a connection wrote after its preface.
    static func frames(after written: [UInt8]) throws -> [Frame] {
        var decoder = FrameDecoder(maxFrameSize: 1 << 20)
        var frames: [Frame] = []
        written.dropFirst(Preface.size).withUnsafeBytes { bytes in
            decoder.feed(bytes) { if case .frame(let f) = $0 { frames.append(f) } }
        }
        #expect(decoder.isAtFrameBoundary)
        return frames
    }
}
