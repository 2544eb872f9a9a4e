import AssayCore
import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

@testable import AssayAccess

/// Limits of the assembled server: hostile messages and per-organisation request rates.
@Suite("Server limits")
struct ServerLimitTests {
    /// A CreateOntologyRequest whose first feature nests `depth` features through `children`,
    /// built from the inside out in wire bytes (a Swift value that deep would take protobuf-c's
    /// recursive packer as deep as well).
    static func nestedOntologyRequest(depth: Int) -> [UInt8] {
        func varint(_ value: Int) -> [UInt8] {
            var v = UInt64(value)
            var out: [UInt8] = []
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
            return out
        }
        // Reversed while building, so each level prepends in constant time.
        var reversed: [UInt8] = Array([0x12, 0x01, 0x78].reversed())  // the innermost feature: name "x"
        for level in 0..<depth {
            // CreateOntologyRequest.features is field 2, Feature.children field 5.
            let tag: UInt8 = level == depth - 1 ? 0x12 : 0x2A
            reversed += (([tag] + varint(reversed.count))).reversed()
        }
        return reversed.reversed()
    }

    @Test func aMessageNestedTenThousandDeepIsInvalidArgumentAndTheServerCarriesOn() async throws {
        let h = try await ServerHarness.start()
        let (client, _, key) = try await h.organization("a")
        let bytes = Self.nestedOntologyRequest(depth: 10_000)
        #expect(bytes.count < 64 << 10)
        // Sent as raw bytes on a raw socket: the typed client would have to build the value.
        let raw = try RawConnection(to: h.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(
            method: CatalogService.createOntology.path,
            metadata: [MetadataEntry(key: "authorization", value: "Bearer \(key)")])
        raw.send(
            Frame(type: .headers, streamID: 1, body: start.serializedBytes()).encoded()
                + Frame(type: .data, flags: .endStream, streamID: 1, body: bytes).encoded())
        let end = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(end.code == RPCCode.invalidArgument.rawValue)
        #expect(end.message.contains("not a valid assay.v1.CreateOntologyRequest"))
        #expect(end.message.contains("nest deeper than the limit of 100"))
        // Nothing was stored, and the server (and the same connection) still serve.
        #expect(try await client.unary(CatalogService.listOntologies, ListOntologiesRequest()).ontologies.isEmpty)
        // The builder makes what it says: three levels decode.
        let three = try CreateOntologyRequest(serializedBytes: Self.nestedOntologyRequest(depth: 3))
        #expect(three.features.first?.children.first?.children.first?.name == "x")
        let shallow = CreateOntologyRequest(
            name: "o",
            features: [AssayWire.Feature(name: "weather", kind: .radio, options: [FeatureOption(value: "sun")])]
        ).serializedBytes()
        raw.send(
            Frame(type: .headers, streamID: 3, body: start.serializedBytes()).encoded()
                + Frame(type: .data, flags: .endStream, streamID: 3, body: shallow).encoded())
        let ok = try CallEnd(serializedBytes: try #require(await raw.nextFrame(ofType: .trailers)).body)
        #expect(ok.code == 0, "\(ok.message)")
        #expect(try await client.unary(CatalogService.listOntologies, ListOntologiesRequest()).ontologies.count == 1)
        client.close()
        await h.stop()
    }

    @Test func tokenBucketsRefillInIntegersAndSayHowLongToWait() {
        // 10 calls a second, bursts of 2: a token every 100 ms.
        var buckets = TokenBuckets(rate: RequestRate(perSecond: 10, burst: 2), maxBuckets: 4)
        let org = ObjectID(rawValue: "org_a")
        let ms: UInt64 = 1_000_000
        #expect(buckets.take(org, now: 0) == nil)
        #expect(buckets.take(org, now: 0) == nil)
        #expect(buckets.take(org, now: 0) == 100)
        #expect(buckets.take(org, now: 40 * ms) == 60)
        #expect(buckets.take(org, now: 99 * ms + 999_999) == 1)  // a nanosecond short: still a wait, rounded up
        #expect(buckets.take(org, now: 100 * ms) == nil)
        #expect(buckets.take(org, now: 100 * ms) == 100)
        // A long quiet spell fills the bucket, never beyond the burst.
        #expect(buckets.take(org, now: 3_600_000 * ms) == nil)
        #expect(buckets.take(org, now: 3_600_000 * ms) == nil)
        #expect(buckets.take(org, now: 3_600_000 * ms) != nil)
        // Organisations do not share; full buckets are forgotten when there are too many.
        for i in 0..<6 { #expect(buckets.take(ObjectID(rawValue: "org_\(i)"), now: 3_600_000 * ms) == nil) }
        #expect(buckets.buckets.count == 7)  // none is full yet, so none is forgotten
        #expect(buckets.take(ObjectID(rawValue: "org_new"), now: 7_200_000 * ms) == nil)
        #expect(buckets.buckets.count == 1)  // an hour later they all are
        #expect(RequestRate(perSecond: 0, burst: 1).problem != nil)
        #expect(RequestRate(perSecond: 1_000_000, burst: 1_000_000).problem == nil)
        var extreme = TokenBuckets(rate: RequestRate(perSecond: 1_000_000, burst: 1_000_000))
        #expect(extreme.take(org, now: UInt64.max / 2) == nil)
        #expect(extreme.take(org, now: UInt64.max) == nil)
    }

    @Test func anOrganisationOverItsRequestRateIsToldWhenToRetry() async throws {
        // 1 call a second, bursts of 3: three calls pass at once, the fourth waits ~a second.
        // The limiter's clock is the test's, so a slow machine cannot refill the bucket.
        let clock = Probe<UInt64>(1_000_000_000)
        let h = try await ServerHarness.start(
            requestRate: RequestRate(perSecond: 1, burst: 3), requestRateClock: { clock.current })
        let (a, _, _) = try await h.organization("a")
        let (b, _, _) = try await h.organization("b")
        for _ in 0..<3 { _ = try await a.unary(CatalogService.listDatasets, ListDatasetsRequest()) }
        do {
            _ = try await a.unary(CatalogService.listDatasets, ListDatasetsRequest())
            Issue.record("a fourth call within the burst's second passed")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("1 calls a second, bursts of 3"))
            let wait = try #require(RetryHint.milliseconds(in: error.metadata))
            #expect(wait > 0 && wait <= 1000)
        }
        // Another organisation has its own bucket; health checks carry no key and are not counted.
        _ = try await b.unary(CatalogService.listDatasets, ListDatasetsRequest())
        let anonymous = try await h.client(key: nil)
        for _ in 0..<5 {
            #expect(try await anonymous.unary(HealthService.check, HealthCheckRequest()).status == .serving)
        }
        // A call refused for its key does not spend the organisation's tokens either.
        #expect(
            await code { _ = try await anonymous.unary(CatalogService.listDatasets, ListDatasetsRequest()) }
                == .unauthenticated)
        // After the hint, A may call again.
        clock.update { $0 += 1_000_000_000 }
        _ = try await a.unary(CatalogService.listDatasets, ListDatasetsRequest())
        for c in [a, b, anonymous] { c.close() }
        await h.stop()
    }
}
