import AssayRPC
import AssayWire
import Testing

@testable import AssayFuzzing

/// Inputs the fuzzers found, each with what its fix guarantees. Every input is also in its
/// target's corpus (Tests/Fuzz/<target>/corpus/regression-*), so fuzzing starts from it.
@Suite("Fuzz regressions")
struct RegressionTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static let serverHandshake = Preface().bytes + Frame(type: .settings, streamID: 0, body: []).encoded()

    /// A client whose handshake is done and which has one call open on stream 1.
    static func clientWithCall() throws -> ScriptedConnection {
        let client = ScriptedConnection(role: .client)
        client.start()
        serverHandshake.withUnsafeBytes { client.receive($0) }
        try client.openCall(method: "/assay.v1.Echo/Bidirectional", message: nil, endStream: false)
        return client
    }

    /// fuzz-connection: a client got a GOAWAY that left it no stream, and then, in the same read,
    /// a frame that is a protocol error (an oversized WINDOW_UPDATE). It answered that frame
    /// (with a GOAWAY of its own) though it had already decided to close; had the frame come in
    /// a later read it would have been ignored. Now nothing behind the GOAWAY is handled,
    /// whichever read it arrives in.
    @Test func framesAfterAClosingGoAwayAreIgnoredInTheSameRead() throws {
        let input = Self.hex(
            "01052341535341590000010000001105000000000008808080021080081880804020808080040000000d0700000000000008"
                + "808080021080081880804020808080040000000d0700000000000801100000000801100e1a0772657374617274000000"
                + "0404000000000300000005000000080601000000000000000000000001"
        )
        try input.withUnsafeBytes { try ConnectionFuzz.check($0) }

        // The same, spelled out: GOAWAY (last stream 0) then a PING, in one read or in two.
        let goAway = Frame(type: .goAway, streamID: 0, body: GoAway(lastStreamId: 0, code: 14).serializedBytes())
        let ping = Frame(type: .ping, streamID: 0, body: [1, 2, 3, 4, 5, 6, 7, 8])
        var written: [[UInt8]] = []
        for reads in [[goAway.encoded() + ping.encoded()], [goAway.encoded(), ping.encoded()]] {
            let client = try Self.clientWithCall()
            for read in reads { read.withUnsafeBytes { client.receive($0) } }
            #expect(client.isClosed)
            #expect(!client.written.suffix(8).elementsEqual(ping.body), "the PING was answered")
            written.append(client.written)
        }
        #expect(written[0] == written[1])
    }

    /// fuzz-connection (corpus/regression-oversized-data-fuzzed: a DATA header announcing
    /// 0xEF000000 bytes, granted back in one WINDOW_UPDATE over 2^31 - 1), and the worst case
    /// of it spelled out here: a 1-byte DATA frame for a stream that does not exist, then a
    /// DATA header announcing 2^32 - 1 bytes, made the server grant 2^32 bytes back and trap
    /// converting that to 32 bits: two frames took the server down. Smaller oversized frames
    /// grew the connection window for good: granted back without ever being taken from it.
    @Test func anOversizedDataFrameIsCountedAgainstTheWindow() throws {
        var input: [UInt8] = [0, 0, 0] + Self.serverHandshake
        input += Frame(type: .data, streamID: 1, body: [0x78]).encoded()
        Frame.appendHeader(to: &input, length: Int(UInt32.max), type: .data, flags: [], streamID: 3)
        try input.withUnsafeBytes { try ConnectionFuzz.check($0) }

        let server = ScriptedConnection(role: .server)
        server.start()
        input.dropFirst(3).withUnsafeBytes { server.receive($0) }
        #expect(!server.isClosed, "an oversized DATA frame fails one call, not the connection")
        let updates = try FuzzCheckTests.frames(after: server.written).filter { $0.type == .windowUpdate }
        let increments = updates.map { $0.body.reduce(0) { $0 << 8 | Int($1) } }
        #expect(increments.allSatisfy { $0 > 0 && $0 <= Int(Int32.max) })
        #expect(increments.reduce(0, +) == Int(UInt32.max) + 1, "the frame's length and the 1-byte frame, granted back")
    }

    /// The other half of that fix: an oversized DATA frame while the peer has spent the
    /// connection window violates flow control like any DATA frame, and closes the connection.
    @Test func anOversizedDataFrameBeyondTheWindowClosesTheConnection() throws {
        var limits = ConnectionLimits()
        limits.maxFrameSize = 64
        limits.initialStreamWindow = 100
        limits.initialConnectionWindow = 150
        let server = ScriptedConnection(role: .server, limits: limits)
        server.start()
        let chunk = [UInt8](repeating: 0x61, count: 64)
        var bytes = Self.serverHandshake
        for stream: UInt32 in [1, 3] {
            let start = CallStart(method: "/assay.v1.Echo/Bidirectional").serializedBytes()
            bytes += Frame(type: .headers, streamID: stream, body: start).encoded()
        }
        // 192 bytes against a connection window of 150: spent.
        for stream: UInt32 in [1, 1, 3] { bytes += Frame(type: .data, streamID: stream, body: chunk).encoded() }
        Frame.appendHeader(to: &bytes, length: 65, type: .data, flags: [], streamID: 3)
        bytes.withUnsafeBytes { server.receive($0) }
        #expect(server.isClosed)
        #expect(server.closeReason?.code == .resourceExhausted)
        let goAway = try #require(try FuzzCheckTests.frames(after: server.written).first { $0.type == .goAway })
        #expect(try GoAway(serializedBytes: goAway.body).code == RPCCode.resourceExhausted.rawValue)
    }
}
