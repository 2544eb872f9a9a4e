import AssayWire
import Testing

@Suite("JSONValue parser and serializer")
struct ProtoJSONValueTests {
    @Test("values parse to what they say, numbers keeping their text")
    func parses() throws {
        let value = try JSONValue.parse(#" {"a": [1, -0.5, 1.50e+3, true, false, null], "b": {"c": "d"}, "": ""} "#)
        #expect(
            value
                == .object([
                    JSONField(
                        "a",
                        .array([.number("1"), .number("-0.5"), .number("1.50e+3"), .bool(true), .bool(false), .null])),
                    JSONField("b", .object([JSONField("c", .string("d"))])),
                    JSONField("", .string("")),
                ]))
        #expect(try JSONValue.parse("18446744073709551615123") == .number("18446744073709551615123"))
        #expect(try JSONValue.parse(#""""#) == .string(""))
    }

    @Test("escapes decode, surrogate pairs included")
    func escapes() throws {
        #expect(
            try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude80""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé🚀"))
    }

    @Test(
        "anything RFC 8259 does not allow is refused",
        arguments: [
            "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "'a'",
            "[1] // comment", "/* c */ 1", "tru", "nul", #"{"a" 1}"#, #"{a: 1}"#, "[1 2]", "1 2",
            "\"tab\there\"", "\"\u{1}\"", #""\x41""#, #""\u12""#, #""\ud83d""#, #""\ude80""#, #""\ud83d\u0041""#,
            #""unterminated"#, "[1]]",
        ]
    )
    func refuses(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("nesting is limited so hostile input cannot exhaust the stack")
    func depth() throws {
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
        let tooDeep = String(repeating: "[", count: 101) + String(repeating: "]", count: 101)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(tooDeep) }
        let hostile = String(repeating: #"{"a":"#, count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(hostile) }
    }

    @Test("errors say where")
    func errorOffset() {
        #expect(throws: JSONParseError(offset: 4, reason: "expected a value")) { try JSONValue.parse("[1, ]") }
    }

    @Test("strings are escaped as RFC 8259 requires and otherwise left as UTF-8")
    func serializesStrings() throws {
        let value = JSONValue.string("q\"b\\n\nt\tc\u{1}\u{1F} é🚀/")
        #expect(value.jsonString() == #""q\"b\\n\nt\tc\u0001\u001f é🚀/""#)
        #expect(try JSONValue.parse(value.jsonString()) == value)
    }

    @Test("compact and pretty forms")
    func serializes() {
        let value = JSONValue.object([
            JSONField("a", .array([.number("1"), .null])),
            JSONField("b", .object([])),
            JSONField("c", .array([])),
        ])
        #expect(value.jsonString() == #"{"a":[1,null],"b":{},"c":[]}"#)
        #expect(value.description == value.jsonString())
        #expect(
            value.jsonString(pretty: true) == """
                {
                  "a": [
                    1,
                    null
                  ],
                  "b": {},
                  "c": []
                }
                """)
    }

    @Test("keys keep their order and duplicates; subscript finds the first")
    func objects() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": 2, "b": 3}"#)
        #expect(value.objectFields?.map(\.key) == ["b", "a", "b"])
        #expect(value["b"] == .number("1"))
        #expect(value["z"] == nil)
        #expect(JSONValue.null["a"] == nil)
    }
}
