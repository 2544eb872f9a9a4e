#if canImport(Glibc)
import Glibc
#endif
import AssayAccess
import AssayCore
import AssayRPC
import AssayServer
import AssayStorage
import AssayTransport
import AssayTestSupport
import AssayWire
import Testing

typealias CatalogHarness = ServerHarness

/// The status code of what `body` threw, or nil when it did not throw.
func code(_ body: () async throws -> Void) async -> RPCCode? {
    do {
        try await body()
        return nil
    } catch let e as RPCError {
        return e.code
    } catch {
        return .unknown
    }
}

/// Rows of the ingest benchmark's shape.
func benchRow(_ i: Int) -> AssayWire.DataRow {
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return AssayWire.DataRow(
        globalKey: "row-\(pad(i, 10))", mediaType: .image,
        uri: "s3://bench-bucket/ingest/part-\(pad(i, 10)).parquet",
        content: (0..<70).map { UInt8(truncatingIfNeeded: i + $0) },
        metadata: ["source": "bench", "shard": pad(i % 16, 2), "ct": "application/octet-stream"]
    )
}
