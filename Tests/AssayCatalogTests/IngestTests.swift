import AssayCore
import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

/// Sends `batches` on one ingest stream and returns the acks.
func ingest(_ client: RPCClient, _ batches: [IngestBatch]) async throws -> [IngestAck] {
    try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
        for b in batches { try await writer.write(b) }
        close()
        var all: [IngestAck] = []
        for try await a in acks { all.append(a) }
        return all
    }
}

/// Every row of a dataset, through paging.
func allRows(_ client: RPCClient, _ dataset: String, filter: [String: String] = [:], pageSize: UInt32 = 1000) async throws -> [AssayWire.DataRow] {
    var rows: [AssayWire.DataRow] = []
    var cursor = ""
    repeat {
        let page = try await client.unary(CatalogService.listDataRows, ListDataRowsRequest(datasetId: dataset, pageSize: pageSize, cursor: cursor, metadataFilter: filter))
        rows += page.rows
        cursor = page.nextCursor
    } while !cursor.isEmpty
    return rows
}

@Suite("Ingest")
struct IngestTests {
    @Test func ingestAcknowledgesEachBatchAndUpsertsByGlobalKey() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, _) = try await h.organization("a")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "d"))
        let batches = (0..<5).map { b in IngestBatch(datasetId: b == 0 ? dataset.id : "", rows: (b * 100..<(b + 1) * 100).map(benchRow)) }
        let acks = try await ingest(client, batches)
        #expect(acks.map(\.batch) == [0, 1, 2, 3, 4])
        #expect(acks.allSatisfy { $0.created == 100 && $0.updated == 0 && $0.errors.isEmpty })
        // The same rows again, one of them changed: updates, no duplicates.
        var again = batches
        again[0].rows[0].uri = "s3://changed"
        let second = try await ingest(client, again)
        #expect(second.allSatisfy { $0.created == 0 && $0.updated == 100 })
        let rows = try await allRows(client, dataset.id, pageSize: 77)
        #expect(rows.count == 500)
        #expect(Set(rows.map(\.globalKey)).count == 500)
        #expect(rows.first { $0.globalKey == benchRow(0).globalKey }?.uri == "s3://changed")
        #expect(try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id)).rowCount == 500)
        // Metadata filters.
        let shard3 = try await allRows(client, dataset.id, filter: ["shard": "03"])
        #expect(shard3.count == 500 / 16 + (500 % 16 > 3 ? 1 : 0))
        #expect(shard3.allSatisfy { $0.metadata["shard"] == "03" })
        client.close()
        await h.stop()
    }

    @Test func badRowsAreReportedAndTheRestIsStored() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, _) = try await h.organization("a")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "d"))
        var rows = (0..<6).map(benchRow)
        rows[1].globalKey = ""
        rows[2].mediaType = .unspecified
        rows[3].content = [UInt8](repeating: 1, count: 2 << 20)
        rows[4].globalKey = "bad\u{7}key"
        let acks = try await ingest(client, [IngestBatch(datasetId: dataset.id, rows: rows)])
        #expect(acks.count == 1)
        #expect(acks[0].created == 2)
        let errors = Dictionary(uniqueKeysWithValues: acks[0].errors.map { ($0.index, $0) })
        #expect(errors[1]?.code == "invalid_global_key")
        #expect(errors[1]?.message == "the global key is empty")
        #expect(errors[2]?.code == "unknown_media_type")
        #expect(errors[3]?.code == "row_too_large")
        #expect(errors[3]?.message.contains("the limit is 1048576") == true)
        #expect(errors[4]?.message == "the global key contains a control character")
        #expect(try await allRows(client, dataset.id).map(\.globalKey).sorted() == [benchRow(0).globalKey, benchRow(5).globalKey])
        client.close()
        await h.stop()
    }

    @Test func aGlobalKeyOfAnotherDatasetIsARowErrorAndTheRestIsStored() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, _) = try await h.organization("a")
        let first = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "first"))
        let second = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "second"))
        _ = try await ingest(client, [IngestBatch(datasetId: first.id, rows: [benchRow(1)])])
        let acks = try await ingest(client, [IngestBatch(datasetId: second.id, rows: [benchRow(7), benchRow(1), benchRow(8)])])
        #expect(acks.count == 1)
        #expect(acks[0].created == 2)
        #expect(acks[0].errors.map(\.index) == [1])
        #expect(acks[0].errors.first?.code == "global_key_in_other_dataset")
        #expect(acks[0].errors.first?.message == "global key \(benchRow(1).globalKey) belongs to dataset \(first.id)")
        #expect(try await allRows(client, second.id).map(\.globalKey).sorted() == [benchRow(7).globalKey, benchRow(8).globalKey])
        // The row stays where it was, untouched.
        let original = try await allRows(client, first.id)
        #expect(original.map(\.globalKey) == [benchRow(1).globalKey])
        #expect(original.first?.uri == benchRow(1).uri)
        client.close()
        await h.stop()
    }

    @Test func aTruncatedStreamStoresOnlyWholeBatches() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, key) = try await h.organization("a")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "d"))
        let raw = try RawConnection(to: h.address)
        raw.handshake()
        _ = await raw.readRaw(8)
        let start = CallStart(method: CatalogService.ingest.path, metadata: [MetadataEntry(key: "authorization", value: "Bearer \(key)")])
        let whole = IngestBatch(datasetId: dataset.id, rows: (0..<10).map(benchRow)).serializedBytes()
        let cut = IngestBatch(rows: (10..<20).map(benchRow)).serializedBytes()
        var partial = Frame(type: .data, streamID: 1, body: cut).encoded()
        partial.removeLast(partial.count / 2)
        raw.send(Frame(type: .headers, streamID: 1, body: start.serializedBytes()).encoded() + Frame(type: .data, streamID: 1, body: whole).encoded())
        // The first batch's ack proves it committed; then the stream breaks mid-frame.
        let ack = try #require(await raw.nextFrame(ofType: .data))
        #expect(try IngestAck(serializedBytes: ack.body).created == 10)
        raw.send(partial)
        raw.closeWrite()
        #expect(await Probe(0).wait { _ in h.assembly.server.connectionCount <= 1 })
        let rows = try await allRows(client, dataset.id)
        #expect(rows.map(\.globalKey).sorted() == (0..<10).map { benchRow($0).globalKey })
        client.close()
        await h.stop()
    }
}
