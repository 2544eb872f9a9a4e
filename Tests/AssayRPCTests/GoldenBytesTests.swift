import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Foundation
import Testing

/// The exact bytes of one call of each kind, both directions. The hex was written from
/// docs/protocol.md by an independent encoder (Tests/AssayRPCTests/golden.py), not by Assay.
@Suite("Golden bytes")
struct GoldenBytesTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// The golden calls, shared with the Python client's tests: `Fixtures/golden-calls.txt`.
    static let fixture: [String: [UInt8]] = {
        let path = String(#filePath.dropLast("GoldenBytesTests.swift".count)) + "Fixtures/golden-calls.txt"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("cannot read \(path)") }
        var out: [String: [UInt8]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            out[parts.dropLast().joined(separator: " ")] = bytes(String(parts.last!))
        }
        return out
    }()

    /// Preface and SETTINGS with the default limits; both sides send the same.
    static let handshake = fixture["handshake"]!

    struct Kind: Sendable, CustomTestStringConvertible {
        let name: String
        let client: [UInt8]
        let server: [UInt8]
        var testDescription: String { name }
    }

    static let kinds: [Kind] = ["unary", "server streaming", "client streaming", "bidirectional"].map { name in
        let key = name.replacingOccurrences(of: " ", with: "-")
        return Kind(name: name, client: fixture[key + " client"]!, server: fixture[key + " server"]!)
    }

    /// The server answers the golden client bytes with exactly the golden server bytes.
    @Test(arguments: kinds)
    func serverSide(kind: Kind) async throws {
        let server = try TestServer.start()
        let raw = try RawConnection(to: server.address)
        raw.send(Self.handshake + kind.client)
        let expected = Self.handshake + kind.server
        let got = await raw.readRaw(expected.count)
        #expect(got == expected)
        await server.stop()
    }

    /// The Swift client sends exactly the golden client bytes, and reads the golden answer.
    @Test(arguments: kinds)
    func clientSide(kind: Kind) async throws {
        let (address, accept) = try RawConnection.listen()
        async let callResult: [EchoResponse] = {
            let client = try await RPCClient.connect(to: address)
            defer { client.close() }
            switch kind.name {
            case "unary":
                return [try await client.unary(EchoService.unary, EchoRequest(text: "hi"))]
            case "server streaming":
                return try await client.serverStreaming(EchoService.serverStream, EchoRequest(text: "hi", repeat: 2)) { responses in
                    var all: [EchoResponse] = []
                    for try await r in responses { all.append(r) }
                    return all
                }
            case "client streaming":
                return [try await client.clientStreaming(EchoService.clientStream) { writer in
                    try await writer.write(EchoRequest(text: "a"))
                    try await writer.write(EchoRequest(text: "b"))
                }]
            default:
                return try await client.bidirectional(EchoService.bidirectional) { writer, close, responses in
                    try await writer.write(EchoRequest(text: "x"))
                    close()
                    var all: [EchoResponse] = []
                    for try await r in responses { all.append(r) }
                    return all
                }
            }
        }()
        let peer = try #require(await accept())
        peer.send(Self.handshake)
        let got = await peer.readRaw(Self.handshake.count + kind.client.count)
        #expect(got == Self.handshake + kind.client)
        peer.send(kind.server)
        let responses = try await callResult
        switch kind.name {
        case "unary": #expect(responses == [EchoResponse(text: "hi")])
        case "server streaming": #expect(responses == [EchoResponse(text: "hi"), EchoResponse(text: "hi", index: 1)])
        case "client streaming": #expect(responses == [EchoResponse(text: "ab", index: 2)])
        default: #expect(responses == [EchoResponse(text: "x")])
        }
    }
}
