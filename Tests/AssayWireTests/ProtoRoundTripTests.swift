import AssayWire
import Testing

@Suite("Protobuf binary round trips")
struct ProtoRoundTripTests {
    @Test("a fully populated message comes back equal")
    func fullyPopulated() throws {
        let bytes = ProtoFixtures.allTypes.serializedBytes()
        #expect(try AllTypes(serializedBytes: bytes) == ProtoFixtures.allTypes)
    }

    @Test("a message with maps comes back equal")
    func maps() throws {
        let bytes = ProtoFixtures.allTypesMaps.serializedBytes()
        #expect(try AllTypes(serializedBytes: bytes) == ProtoFixtures.allTypesMaps)
    }

    @Test("default values encode to nothing and decode from nothing")
    func defaults() throws {
        #expect(AllTypes().serializedBytes() == [])
        #expect(try AllTypes(serializedBytes: []) == AllTypes())
        #expect(EchoRequest().serializedBytes() == [])
        #expect(try ListServicesRequest(serializedBytes: []) == ListServicesRequest())
    }

    @Test("an optional or a oneof member set to its default value is still present")
    func presence() throws {
        let zeroes = AllTypes(
            pInt32: 0, pString: "", pBool: false, pColor: .unspecified, pBytes: [], choice: .oInt32(0))
        let bytes = zeroes.serializedBytes()
        #expect(
            bytes == [
                0xA0, 0x03, 0x00, 0xE0, 0x03, 0x00, 0xEA, 0x03, 0x00, 0xF0, 0x03, 0x00, 0xF8, 0x03, 0x00, 0x82, 0x04,
                0x00,
            ])
        let decoded = try AllTypes(serializedBytes: bytes)
        #expect(decoded == zeroes)
        #expect(decoded.pString == "")
        #expect(try AllTypes(serializedBytes: []).pString == nil)

        let emptyString = AllTypes(choice: .oString(""))
        #expect(try AllTypes(serializedBytes: emptyString.serializedBytes()).choice == .oString(""))
    }

    @Test("the same map encodes to the same bytes whatever its insertion order")
    func deterministicMaps() {
        var forward: [String: String] = [:]
        var backward: [String: String] = [:]
        let keys = (0..<50).map { "key-\($0)" }
        for key in keys { forward[key] = key.uppercased() }
        for key in keys.reversed() { backward[key] = key.uppercased() }
        #expect(AllTypes(mString: forward).serializedBytes() == AllTypes(mString: backward).serializedBytes())
    }

    @Test("a message that contains itself through a singular field round-trips", arguments: [1, 2, 50, 99])
    func singularRecursion(depth: Int) throws {
        var node = LinkedNode(value: 0)
        for value in 1..<depth {
            node = LinkedNode(value: Int32(value), next: node)
        }
        let decoded = try LinkedNode(serializedBytes: node.serializedBytes())
        #expect(decoded == node)
        var count = 1
        var cursor = decoded
        while let next = cursor.next {
            count += 1
            cursor = next
        }
        #expect(count == depth)
    }

    @Test("enum numbers the .proto does not declare survive a round trip")
    func unknownEnumValues() throws {
        let message = AllTypes(fColor: AllTypes.Color(rawValue: 99), rColor: [AllTypes.Color(rawValue: -7)])
        let decoded = try AllTypes(serializedBytes: message.serializedBytes())
        #expect(decoded.fColor.rawValue == 99)
        #expect(decoded.fColor.protoName == nil)
        #expect(decoded.rColor == [AllTypes.Color(rawValue: -7)])
    }

    @Test("serialize(appendingTo:) appends after what the buffer holds and counts what it added")
    func appending() throws {
        let message = EchoResponse(text: "hi", payload: [1, 2, 3], index: 9)
        var buffer: [UInt8] = [0xAA, 0xBB]
        let count = message.serialize(appendingTo: &buffer)
        #expect(count == buffer.count - 2)
        #expect(Array(buffer.prefix(2)) == [0xAA, 0xBB])
        #expect(Array(buffer.dropFirst(2)) == message.serializedBytes())
        let decoded = try buffer.dropFirst(2).withUnsafeBytes { bytes in
            try EchoResponse(serializedBytes: bytes, memoryLimit: 4096)
        }
        #expect(decoded == message)
    }

    @Test("an ingest batch of 1,000 rows round-trips")
    func echoBatch() throws {
        let batch = EchoRowBatch(rows: (0..<1000).map(ProtoFixtures.echoRow))
        let decoded = try EchoRowBatch(serializedBytes: batch.serializedBytes())
        #expect(decoded == batch)
        #expect(decoded.rows[17].metadata["shard"] == "01")
        #expect(decoded.rows[999].id == "row-0000000999")
    }

    @Test("decoders on several threads, large and small messages mixed, each get their own result")
    func concurrentDecoding() async throws {
        // 3,000 rows need more arena than an arena keeps between calls, so this also exercises
        // trimming; the small messages then reuse the same pooled arenas.
        let large = EchoRowBatch(rows: (0..<3000).map(ProtoFixtures.echoRow))
        let largeBytes = large.serializedBytes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask { () async throws -> Void in
                    for round in 0..<6 {
                        if (task + round) % 2 == 0 {
                            #expect(try EchoRowBatch(serializedBytes: largeBytes) == large)
                        } else {
                            let small = EchoRequest(text: "task \(task) round \(round)", repeat: UInt32(round))
                            #expect(try EchoRequest(serializedBytes: small.serializedBytes()) == small)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("unknown fields from a newer peer are skipped")
    func unknownFields() throws {
        // Field 999 (varint 5) and field 1000 (length-delimited "xyz") before `text = "ok"`.
        let bytes: [UInt8] = [0xB8, 0x3E, 0x05, 0xC2, 0x3E, 0x03, 0x78, 0x79, 0x7A, 0x0A, 0x02, 0x6F, 0x6B]
        #expect(try EchoRequest(serializedBytes: bytes) == EchoRequest(text: "ok"))
    }

    @Test("protobuf-c cuts a string at U+0000 (it keeps strings NUL-terminated)")
    func embeddedNul() throws {
        let message = EchoRequest(text: "ab\u{0}cd")
        #expect(try EchoRequest(serializedBytes: message.serializedBytes()).text == "ab")
        #expect(try EchoRequest(serializedBytes: [0x0A, 0x03, 0x61, 0x00, 0x62]).text == "a")
    }
}
