import AssayWire
import Testing

@Suite("Protobuf invalid input")
struct ProtoInvalidInputTests {
    static func decodingError<M: ProtoMessage>(
        _: M.Type,
        _ bytes: [UInt8],
        memoryLimit: Int = M.defaultMemoryLimit
    ) -> ProtoDecodingError? {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ProtoDecodingError) in try M(serializedBytes: buffer, memoryLimit: memoryLimit) }
        }
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test(
        "truncated input is invalid",
        arguments: [
            [0x18],  // a tag and nothing else
            [0x18, 0xFF],  // a varint that never ends
            [0x09, 0x01, 0x02, 0x03],  // 3 of a double's 8 bytes
            [0x15, 0x01],  // 1 of a float's 4 bytes
            [0x72, 0x05, 0x61],  // a string announcing 5 bytes, holding 1
            [0x8A, 0x01, 0x04, 0x08],  // a submessage announcing 4 bytes, holding 1
        ] as [[UInt8]]
    )
    func truncated(bytes: [UInt8]) {
        #expect(
            Self.decodingError(AllTypes.self, bytes)
                == ProtoDecodingError(messageName: "assay.v1.AllTypes", reason: .invalidEncoding))
    }

    @Test("every cut of the golden message that splits a field is invalid, every other cut decodes")
    func everyPrefix() throws {
        let golden = try ProtoFixtures.bytes("all_types.bin")
        var failures = 0
        for count in 0..<golden.count {
            if Self.decodingError(AllTypes.self, Array(golden.prefix(count))) != nil { failures += 1 }
        }
        // Most cuts land inside a field; the last one (inside "keyword") certainly does.
        #expect(failures > golden.count / 2)
        #expect(Self.decodingError(AllTypes.self, Array(golden.dropLast()))?.reason == .invalidEncoding)
    }

    @Test(
        "a wire type that does not fit the field, or does not exist, is invalid",
        arguments: [
            [0x1D, 0x01, 0x02, 0x03, 0x04],  // f_int32 as fixed32
            [0x70, 0x05],  // f_string as a varint
            [0x1A, 0x01, 0x00],  // f_int32 as length-delimited
            [0x1F, 0x01],  // wire type 7
            [0x1B],  // wire type 3 (start group)
        ] as [[UInt8]]
    )
    func badWireType(bytes: [UInt8]) {
        #expect(Self.decodingError(AllTypes.self, bytes)?.reason == .invalidEncoding)
    }

    @Test(
        "a string that is not UTF-8 names its field",
        arguments: [
            ([0x72, 0x02, 0xFF, 0xFE], "assay.v1.AllTypes.f_string"),
            ([0x72, 0x02, 0xC0, 0x80], "assay.v1.AllTypes.f_string"),  // overlong NUL
            ([0x72, 0x03, 0xED, 0xA0, 0x80], "assay.v1.AllTypes.f_string"),  // a UTF-16 surrogate
            ([0x92, 0x02, 0x01, 0x80], "assay.v1.AllTypes.r_string"),
            ([0xA2, 0x02, 0x03, 0x12, 0x01, 0xFF], "assay.v1.AllTypes.Nested.label"),
            ([0xC2, 0x02, 0x03, 0x0A, 0x01, 0xFF], "assay.v1.AllTypes.m_string.key"),
            ([0x9A, 0x03, 0x01, 0xFF], "assay.v1.AllTypes.o_string"),
            ([0xB2, 0x04, 0x03, 0x72, 0x01, 0xFF], "assay.v1.AllTypes.f_string"),  // in a child
        ] as [([UInt8], String)]
    )
    func invalidUTF8(bytes: [UInt8], field: String) {
        #expect(
            Self.decodingError(AllTypes.self, bytes)
                == ProtoDecodingError(messageName: "assay.v1.AllTypes", reason: .invalidUTF8(field: field)))
    }

    @Test("empty submessages amplify: the memory limit stops them, a large limit lets them through")
    func amplification() throws {
        // 100,000 empty rows: 2 bytes each on the wire, a pointer and a whole struct each in C.
        let bytes: [UInt8] = (0..<200_000).map { $0 % 2 == 0 ? 0x0A : 0x00 }
        let limit = 1 << 20
        #expect(
            Self.decodingError(EchoRowBatch.self, bytes, memoryLimit: limit)
                == ProtoDecodingError(messageName: "assay.v1.EchoRowBatch", reason: .memoryLimitExceeded(limit: limit)))
        let decoded = try EchoRowBatch(serializedBytes: bytes)
        #expect(decoded.rows.count == 100_000)
        #expect(decoded.rows.allSatisfy { $0 == EchoRow() })
    }

    @Test("a limit too small for even the message struct fails cleanly")
    func tinyLimit() {
        #expect(
            Self.decodingError(EchoRequest.self, [0x0A, 0x01, 0x61], memoryLimit: 0)?.reason
                == .memoryLimitExceeded(limit: 0))
        #expect(Self.decodingError(EchoRequest.self, [0x0A, 0x01, 0x61], memoryLimit: 4096) == nil)
    }

    @Test("nesting deeper than 100 messages is refused before protobuf-c recurses", arguments: [99, 100, 101, 5000])
    func nestingDepth(depth: Int) {
        // LinkedNode { next { next { ... } } }, built inside out.
        var bytes: [UInt8] = []
        for _ in 1..<depth {
            bytes = [0x12] + varint(bytes.count) + bytes
        }
        let error = Self.decodingError(LinkedNode.self, bytes)
        if depth <= 100 {
            #expect(error == nil)
        } else {
            #expect(error?.reason == .nestingTooDeep(limit: 100))
        }
    }

    @Test("nesting through repeated fields counts the same")
    func nestingThroughRepeated() {
        var bytes: [UInt8] = []
        for _ in 1..<150 {
            bytes = [0xB2, 0x04] + varint(bytes.count) + bytes
        }
        #expect(Self.decodingError(AllTypes.self, bytes)?.reason == .nestingTooDeep(limit: 100))
    }

    @Test("the error says which message failed and why")
    func description() {
        let error = ProtoDecodingError(
            messageName: "assay.v1.EchoRow", reason: .invalidUTF8(field: "assay.v1.EchoRow.id"))
        #expect(
            error.description == "cannot decode assay.v1.EchoRow: string field assay.v1.EchoRow.id is not valid UTF-8")
    }

    private func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }
}
