import AssayWire

/// The golden fixtures of Fixtures/ (made by make-fixtures.sh) and the Swift values they hold.
enum ProtoFixtures {
    /// Fixtures/, found next to this file rather than through a resource bundle.
    static let directory: String = {
        let file = #filePath
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures"
    }()

    /// The bytes of `Fixtures/<name>`.
    static func bytes(_ name: String) throws -> [UInt8] {
        let path = directory + "/" + name
        guard let file = fopen(path, "rb") else { throw FixtureMissing(path: path) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }

    struct FixtureMissing: Error {
        let path: String
    }

    /// What all_types.txtpb says, as a Swift value.
    static let allTypes = AllTypes(
        fDouble: -2.5,
        fFloat: 0.375,
        fInt32: -123_456,
        fInt64: -9_007_199_254_740_993,
        fUint32: .max,
        fUint64: .max,
        fSint32: .min,
        fSint64: .min,
        fFixed32: 3_735_928_559,
        fFixed64: 1_311_768_467_463_790_320,
        fSfixed32: -42,
        fSfixed64: -9_223_372_036_854_775_807,
        fBool: true,
        fString: "héllo, wörld ✓ 🚀",
        fBytes: [0, 1, 2, 255, 254],
        fColor: .negative,
        fNested: AllTypes.Nested(id: 7, label: "seven"),
        rInt32: [0, -1, .max, .min],
        rInt64: [1, .min],
        rUint32: [0, .max],
        rUint64: [.max, 1],
        rSint32: [-1, 1, .min],
        rSint64: [-1, .max],
        rFixed32: [1, .max],
        rFixed64: [2, .max],
        rSfixed32: [-2, .max],
        rSfixed64: [-3, .max],
        rFloat: [1.5, -0.25],
        rDouble: [3.141592653589793, -1e300],
        rBool: [true, false, true],
        rColor: [.red, .green, .unspecified],
        rString: ["", "a", "ünïcödé"],
        rBytes: [[], [0, 255]],
        rNested: [AllTypes.Nested(id: 1), AllTypes.Nested(label: "two"), AllTypes.Nested()],
        pInt32: 0,
        pString: "",
        pBool: false,
        pColor: .unspecified,
        pBytes: [],
        children: [
            AllTypes(fInt32: 1, children: [AllTypes(fString: "grandchild", choice: .oInt32(0))]),
            AllTypes(),
        ],
        class: 5,
        default: "keyword",
        choice: .oString("")
    )

    /// What all_types_maps.txtpb says, as a Swift value.
    static let allTypesMaps = AllTypes(
        fInt32: 1,
        mString: ["b": "beta", "a": "alpha", "": "empty key"],
        mNested: [-5: AllTypes.Nested(id: 5, label: "minus five"), 3: AllTypes.Nested()],
        mColor: ["red": .red, "unset": .unspecified],
        choice: .oNested(AllTypes.Nested(id: 9))
    )

    /// The ingest benchmark's row `index`: what Echo's Ingest method is measured with.
    static func echoRow(_ index: Int) -> EchoRow {
        let padded = String(index)
        let id = String(repeating: "0", count: max(0, 10 - padded.count)) + padded
        let shard = index % 16 < 10 ? "0\(index % 16)" : "\(index % 16)"
        return EchoRow(
            id: "row-\(id)",
            uri: "s3://bench-bucket/ingest/part-\(id).parquet",
            metadata: ["source": "bench", "shard": shard, "ct": "application/octet-stream"],
            payload: (0..<70).map { UInt8(truncatingIfNeeded: index + $0) }
        )
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
