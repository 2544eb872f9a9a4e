import AssayCore
import Testing

@testable import AssayStorage

@Suite("SQLite storage: stored JSON")
struct StoredJSONTests {
    static let awkwardStrings: [String] = [
        "", "plain", "quote \" and backslash \\", "slash / stays", "tab\tnew\nline\rreturn",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "ünïcödé", "emoji 😀 and 𝄞",
        "\u{7F}\u{80}\u{FFFF}",
    ]

    @Test(arguments: awkwardStrings)
    func stringsRoundTrip(_ text: String) throws {
        var writer = JSONWriter()
        writer.string(text)
        #expect(try JSONParser.parse(writer.text) == .string(text))
        // Only the characters JSON requires are escaped: the output is valid for SQLite too.
        #expect(!writer.bytes.contains { $0 < 0x20 })
    }

    @Test func valuesRoundTrip() throws {
        let value = JSON.object([
            "a": .array([.number("1"), .number("-2.5e-7"), .bool(true), .bool(false), .null]),
            "b": .object(["nested": .string("x"), "": .array([])]),
        ])
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.text == #"{"a":[1,-2.5e-7,true,false,null],"b":{"":[],"nested":"x"}}"#)
        #expect(try JSONParser.parse(writer.text) == value)
    }

    @Test func parsesStandardJSONFromElsewhere() throws {
        let text = " { \"k\" : [ \"\\ud83d\\ude00\", \"\\u00e9\\/\\b\\f\" , 12 ] } \n"
        #expect(
            try JSONParser.parse(text)
                == .object(["k": .array([.string("😀"), .string("é/\u{8}\u{C}"), .number("12")])]))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "\"open", "\"bad \\x escape\"", "tru", "nul", "1 2", "[1] x",
        "\"\\ud800\\u0041\"", "{a:1}", "--1", "\"\\u12\"",
    ])
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func refusesDeepNesting() throws {
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        _ = try JSONParser.parse(fine)
    }

    @Test func metadataIsSortedAndRoundTrips() throws {
        var writer = JSONWriter()
        DomainJSON.writeMetadata(["source": "bench", "shard": "07", "ct": "application/octet-stream"], to: &writer)
        #expect(writer.text == #"{"ct":"application/octet-stream","shard":"07","source":"bench"}"#)
        let back = try writer.bytes.withUnsafeBytes { bytes in try DomainJSON.metadata(from: bytes) }
        #expect(back == ["source": "bench", "shard": "07", "ct": "application/octet-stream"])
    }

    @Test func metadataPathsQuotePlainKeysOnly() {
        #expect(DomainJSON.metadataPath(forKey: "a.b") == #"$."a.b""#)
        #expect(DomainJSON.metadataPath(forKey: "ünï") == #"$."ünï""#)
        #expect(DomainJSON.metadataPath(forKey: "say \"hi\"") == nil)
        #expect(DomainJSON.metadataPath(forKey: "back\\slash") == nil)
        #expect(DomainJSON.metadataPath(forKey: "new\nline") == nil)
    }

    @Test func corruptColumnsAreInternalErrors() {
        let corrupt: [UInt8] = Array(#"{"a":1}"#.utf8)
        #expect(throws: StorageError.self) {
            try corrupt.withUnsafeBytes { bytes in try DomainJSON.metadata(from: bytes) }
        }
    }
}
