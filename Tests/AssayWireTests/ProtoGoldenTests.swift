import AssayWire
import Testing

/// Bytes made by protoc (`protoc-c --encode`, see Fixtures/make-fixtures.sh), not by us: they
/// pin the wire format against the reference implementation.
@Suite("Protobuf golden bytes")
struct ProtoGoldenTests {
    @Test("protoc's encoding decodes to the expected value")
    func decodesGolden() throws {
        let golden = try ProtoFixtures.bytes("all_types.bin")
        #expect(try AllTypes(serializedBytes: golden) == ProtoFixtures.allTypes)
    }

    @Test("our encoding reproduces protoc's bytes exactly")
    func encodesGolden() throws {
        let golden = try ProtoFixtures.bytes("all_types.bin")
        #expect(ProtoFixtures.allTypes.serializedBytes() == golden)
    }

    @Test("protoc's maps decode to the expected value and survive re-encoding")
    func maps() throws {
        let golden = try ProtoFixtures.bytes("all_types_maps.bin")
        let decoded = try AllTypes(serializedBytes: golden)
        #expect(decoded == ProtoFixtures.allTypesMaps)
        // Not the same bytes: protoc writes every entry's key and value, protobuf-c leaves out a
        // key or value at its default ("" and COLOR_UNSPECIFIED here). Both decode the same.
        let reencoded = decoded.serializedBytes()
        #expect(reencoded.count == golden.count - 4)
        #expect(try AllTypes(serializedBytes: reencoded) == ProtoFixtures.allTypesMaps)
    }

    @Test("the text fixtures and their encodings are checked in together")
    func fixturesExist() throws {
        for name in ["all_types.txtpb", "all_types_maps.txtpb", "make-fixtures.sh"] {
            #expect(try !ProtoFixtures.bytes(name).isEmpty)
        }
    }
}
