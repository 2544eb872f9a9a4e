@testable import AssayFuzzing
import AssayRPC
import AssayWire
import Testing

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
}
