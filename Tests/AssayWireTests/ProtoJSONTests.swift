import AssayWire
import Testing

@Suite("Protobuf JSON mapping")
struct ProtoJSONTests {
    static func jsonError<M: ProtoMessage>(_: M.Type, _ text: String) -> ProtoDecodingError? {
        do {
            _ = try M(jsonString: text)
            return nil
        } catch {
            return error
        }
    }

    static func invalidJSON<M: ProtoMessage>(_ type: M.Type, _ text: String) -> String? {
        guard case .invalidJSON(let detail)? = jsonError(type, text)?.reason else { return nil }
        return detail
    }

    @Test("a fully populated message round-trips through JSON text", arguments: [false, true])
    func roundTrip(pretty: Bool) throws {
        for message in [ProtoFixtures.allTypes, ProtoFixtures.allTypesMaps, AllTypes()] {
            #expect(try AllTypes(jsonString: message.jsonString(pretty: pretty)) == message)
        }
        let batch = EchoRowBatch(rows: (0..<3).map(ProtoFixtures.echoRow))
        #expect(try EchoRowBatch(jsonString: batch.jsonString()) == batch)
    }

    @Test("64-bit integers are strings, 32-bit ones numbers")
    func integers() throws {
        let json = ProtoFixtures.allTypes.jsonValue()
        #expect(json["fInt64"] == .string("-9007199254740993"))
        #expect(json["fUint64"] == .string("18446744073709551615"))
        #expect(json["fSint64"] == .string("-9223372036854775808"))
        #expect(json["rFixed64"] == .array([.string("2"), .string("18446744073709551615")]))
        #expect(json["fInt32"] == .number("-123456"))
        #expect(json["fUint32"] == .number("4294967295"))
        // Either form is accepted on the way in, and whole numbers in exponent form.
        let parsed = try AllTypes(
            jsonString: #"{"fInt64": 12, "fInt32": "-7", "fUint32": 1e3, "f_uint64": "18446744073709551615"}"#)
        #expect(parsed == AllTypes(fInt32: -7, fInt64: 12, fUint32: 1000, fUint64: .max))
    }

    @Test("enums are written by name and read by name or number")
    func enums() throws {
        let json = ProtoFixtures.allTypes.jsonValue()
        #expect(json["fColor"] == .string("COLOR_NEGATIVE"))
        #expect(json["rColor"] == .array([.string("COLOR_RED"), .string("COLOR_GREEN"), .string("COLOR_UNSPECIFIED")]))
        #expect(AllTypes(fColor: AllTypes.Color(rawValue: 42)).jsonValue()["fColor"] == .number("42"))
        let parsed = try AllTypes(
            jsonString: #"{"fColor": 2, "rColor": ["COLOR_RED", -1, 42], "mColor": {"x": "COLOR_GREEN"}}"#)
        #expect(parsed.fColor == .green)
        #expect(parsed.rColor == [.red, .negative, AllTypes.Color(rawValue: 42)])
        #expect(parsed.mColor == ["x": .green])
        #expect(Self.invalidJSON(AllTypes.self, #"{"fColor": "COLOR_PURPLE"}"#)?.contains("COLOR_PURPLE") == true)
    }

    @Test("default values are left out; present optionals and oneof members are not")
    func defaults() throws {
        #expect(AllTypes().jsonString() == "{}")
        #expect(HealthCheckResponse(status: .unknown).jsonString() == "{}")
        #expect(
            AllTypes(pInt32: 0, pString: "", choice: .oInt32(0)).jsonString()
                == #"{"pInt32":0,"pString":"","oInt32":0}"#)
        #expect(AllTypes(fNested: AllTypes.Nested()).jsonString() == #"{"fNested":{}}"#)
    }

    @Test("the exact text of a small message, compact and pretty")
    func exactText() {
        let response = HealthCheckResponse(status: .serving)
        #expect(response.jsonString() == #"{"status":"SERVING"}"#)
        let row = EchoRow(id: "r1", metadata: ["b": "2", "a": "1"], payload: [0, 1, 2, 255, 254])
        #expect(row.jsonString() == #"{"id":"r1","metadata":{"a":"1","b":"2"},"payload":"AAEC//4="}"#)
        #expect(
            row.jsonString(pretty: true) == """
                {
                  "id": "r1",
                  "metadata": {
                    "a": "1",
                    "b": "2"
                  },
                  "payload": "AAEC//4="
                }
                """)
    }

    @Test("proto field names are accepted as well as json names; null means default")
    func protoNames() throws {
        let parsed = try AllTypes(jsonString: #"{"f_int32": 5, "r_string": ["x"], "f_nested": null, "fString": null}"#)
        #expect(parsed == AllTypes(fInt32: 5, rString: ["x"]))
        #expect(try EchoRequest(jsonString: #"{"delay_micros": "10"}"#).delayMicros == 10)
        #expect(try EchoRequest(jsonString: #"{"delayMicros": 10}"#).delayMicros == 10)
    }

    @Test("bytes are standard base64 out, and standard or URL-safe, padded or not, in")
    func bytes() throws {
        #expect(EchoRequest(payload: [0xFB, 0xFF]).jsonString() == #"{"payload":"+/8="}"#)
        for text in ["+/8=", "-_8=", "+/8", "-_8"] {
            #expect(try EchoRequest(jsonString: #"{"payload": "\#(text)"}"#).payload == [0xFB, 0xFF])
        }
        #expect(Self.invalidJSON(EchoRequest.self, #"{"payload": "a"}"#) != nil)
        #expect(Self.invalidJSON(EchoRequest.self, #"{"payload": "ab!="}"#) != nil)
    }

    @Test("floats keep their value; NaN and infinities are strings")
    func floats() throws {
        let message = AllTypes(
            fDouble: .infinity, fFloat: .nan, rFloat: [-.infinity, 0.1], rDouble: [1e300, .leastNonzeroMagnitude])
        let json = message.jsonValue()
        #expect(json["fDouble"] == .string("Infinity"))
        #expect(json["fFloat"] == .string("NaN"))
        #expect(json["rFloat"] == .array([.string("-Infinity"), .number("0.1")]))
        let parsed = try AllTypes(jsonString: message.jsonString())
        #expect(parsed.fDouble == .infinity)
        #expect(parsed.fFloat.isNaN)
        #expect(parsed.rFloat == [-.infinity, 0.1])
        #expect(parsed.rDouble == [1e300, .leastNonzeroMagnitude])
        #expect(Self.invalidJSON(AllTypes.self, #"{"fFloat": 1e39}"#)?.contains("out of range") == true)
    }

    @Test("an unknown field is rejected with its name")
    func unknownField() {
        #expect(
            Self.jsonError(EchoRequest.self, #"{"text": "a", "colour": "red"}"#)
                == ProtoDecodingError(
                    messageName: "assay.v1.EchoRequest", reason: .invalidJSON(#"unknown field "colour""#)))
        #expect(Self.invalidJSON(ListServicesRequest.self, #"{"x": 1}"#) == #"unknown field "x""#)
        #expect(Self.invalidJSON(AllTypes.self, #"{"fNested": {"nope": 1}}"#) == #"unknown field "nope""#)
    }

    @Test(
        "a value of the wrong type is rejected with the field's name",
        arguments: [
            (#"{"fInt32": "abc"}"#, "fInt32"),
            (#"{"fInt32": 2147483648}"#, "fInt32"),
            (#"{"fUint32": -1}"#, "fUint32"),
            (#"{"fInt32": 1.5}"#, "fInt32"),
            (#"{"fString": 5}"#, "fString"),
            (#"{"fBool": "true"}"#, "fBool"),
            (#"{"rInt32": 5}"#, "rInt32"),
            (#"{"rInt32": [1, null]}"#, "rInt32"),
            (#"{"mNested": {"x": {}}}"#, "mNested"),
            (#"{"mString": []}"#, "mString"),
            (#"{"fDouble": "fast"}"#, "fDouble"),
        ]
    )
    func wrongType(text: String, field: String) {
        let detail = Self.invalidJSON(AllTypes.self, text)
        #expect(detail?.hasPrefix("field \"\(field)\"") == true, "\(detail ?? "no error")")
    }

    @Test("a message must be an object")
    func notAnObject() {
        #expect(Self.invalidJSON(AllTypes.self, "[]") == "expected a JSON object")
        #expect(Self.invalidJSON(AllTypes.self, #"{"fNested": 3}"#) == "expected a JSON object")
    }

    @Test("a field given twice, or two members of one oneof, are rejected")
    func duplicates() {
        #expect(Self.invalidJSON(AllTypes.self, #"{"fInt32": 1, "f_int32": 2}"#)?.contains("more than once") == true)
        #expect(Self.invalidJSON(AllTypes.self, #"{"oInt32": 1, "oString": "x"}"#)?.contains("oneof") == true)
        #expect(
            Self.invalidJSON(AllTypes.self, #"{"mString": {"a": "1", "a": "2"}}"#)?.contains("more than once") == true)
    }

    @Test("text that is not JSON is an invalidJSON error with the position")
    func notJSON() {
        #expect(Self.invalidJSON(EchoRequest.self, #"{"text": "a",}"#) == "at byte 13: expected a member name")
    }

    @Test("map keys are strings in JSON, typed in Swift")
    func mapKeys() throws {
        let parsed = try AllTypes(jsonString: #"{"mNested": {"-5": {"id": 5}, "3": {}}}"#)
        #expect(parsed.mNested == [-5: AllTypes.Nested(id: 5), 3: AllTypes.Nested()])
        #expect(
            parsed.jsonValue()["mNested"]
                == .object([JSONField("-5", .object([JSONField("id", .number("5"))])), JSONField("3", .object([]))]))
    }
}
