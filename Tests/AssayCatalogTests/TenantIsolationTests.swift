#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
import AssayWire
import Testing

@Suite("Organisations, keys and roles")
struct TenantIsolationTests {
    /// Org A's dataset with two rows and an ontology; B looks for all of it.
    @Test func anotherOrganisationSeesNotFoundForEverything() async throws {
        let h = try await CatalogHarness.start()
        let (a, _, _) = try await h.organization("a")
        let (b, _, _) = try await h.organization("b")
        let dataset = try await a.unary(CatalogService.createDataset, CreateDatasetRequest(name: "photos"))
        _ = try await a.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: [benchRow(1), benchRow(2)]))
            close()
            for try await _ in acks {}
        }
        let row = try await a.unary(CatalogService.getDataRow, GetDataRowRequest(key: .globalKey(benchRow(1).globalKey)))
        let ontology = try await a.unary(CatalogService.createOntology, CreateOntologyRequest(
            name: "o", features: [AssayWire.Feature(id: "weather", name: "weather", kind: .radio, options: [FeatureOption(id: "sun", value: "sunny")])]
        ))

        // Every way of reaching A's objects: NOT_FOUND, never PERMISSION_DENIED.
        #expect(await code { _ = try await b.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id)) } == .notFound)
        #expect(await code { _ = try await b.unary(CatalogService.getDataRow, GetDataRowRequest(key: .id(row.id))) } == .notFound)
        #expect(await code { _ = try await b.unary(CatalogService.getDataRow, GetDataRowRequest(key: .globalKey(row.globalKey))) } == .notFound)
        #expect(await code { _ = try await b.unary(CatalogService.getOntology, GetOntologyRequest(id: ontology.id)) } == .notFound)
        #expect(await code { _ = try await b.unary(CatalogService.listDataRows, ListDataRowsRequest(datasetId: dataset.id)) } == .notFound)
        #expect(await code { _ = try await b.unary(CatalogService.deleteDataset, DeleteDatasetRequest(id: dataset.id)) } == .notFound)
        #expect(await code {
            try await b.serverStreaming(CatalogService.export, ExportRequest(datasetId: dataset.id)) { rows in for try await _ in rows {} }
        } == .notFound)
        #expect(await code {
            try await b.bidirectional(CatalogService.ingest) { writer, close, acks in
                try await writer.write(IngestBatch(datasetId: dataset.id, rows: [benchRow(3)]))
                close()
                for try await _ in acks {}
            }
        } == .notFound)
        #expect(await code {
            try await b.bidirectional(CatalogService.importLabels) { writer, close, acks in
                try await writer.write(LabelBatch(ontologyId: ontology.id, labels: []))
                close()
                for try await _ in acks {}
            }
        } == .notFound)
        // Listings are empty, deleting A's rows deletes nothing.
        #expect(try await b.unary(CatalogService.listDatasets, ListDatasetsRequest()).datasets.isEmpty)
        #expect(try await b.unary(CatalogService.listOntologies, ListOntologiesRequest()).ontologies.isEmpty)
        #expect(try await b.unary(CatalogService.deleteDataRows, DeleteDataRowsRequest(ids: [row.id])).deleted == 0)
        // B may reuse A's global keys in its own dataset: keys are unique per organisation.
        let mine = try await b.unary(CatalogService.createDataset, CreateDatasetRequest(name: "photos"))
        let ack = try await b.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: mine.id, rows: [benchRow(1)]))
            close()
            var all: [IngestAck] = []
            for try await a in acks { all.append(a) }
            return all
        }
        #expect(ack.first?.created == 1)
        // And A still has exactly its own.
        #expect(try await a.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id)).rowCount == 2)
        a.close()
        b.close()
        await h.stop()
    }

    @Test func keysAreCheckedOnEveryCallButHealth() async throws {
        let h = try await CatalogHarness.start()
        let (admin, _, _) = try await h.organization("a")
        let anonymous = try await h.client(key: nil)
        #expect(await code { _ = try await anonymous.unary(CatalogService.listDatasets, ListDatasetsRequest()) } == .unauthenticated)
        #expect(await code { _ = try await anonymous.unary(ReflectionService.listServices, ListServicesRequest()) } == .unauthenticated)
        #expect(try await anonymous.unary(HealthService.check, HealthCheckRequest()).status == .serving)
        let forged = try await h.client(key: "ak_" + String(repeating: "a", count: 40))
        #expect(await code { _ = try await forged.unary(CatalogService.listDatasets, ListDatasetsRequest()) } == .unauthenticated)

        // A key made through the API works, is listed by prefix only, and stops working once revoked.
        let created = try await admin.unary(KeysService.create, CreateKeyRequest(name: "bot", role: .member))
        #expect(created.key.hasPrefix((created.info?.prefix ?? "none")))
        let member = try await h.client(key: created.key)
        #expect(try await member.unary(KeysService.whoAmI, WhoAmIRequest()).role == .member)
        let listed = try await admin.unary(KeysService.list, ListKeysRequest())
        #expect(listed.keys.contains { $0.id == (created.info?.id ?? "none") })
        #expect(!listed.jsonString().contains(created.key))
        _ = try await admin.unary(KeysService.revoke, RevokeKeyRequest(id: (created.info?.id ?? "none")))
        do {
            _ = try await member.unary(CatalogService.listDatasets, ListDatasetsRequest())
            Issue.record("a revoked key still works")
        } catch let e as RPCError {
            #expect(e.code == .unauthenticated)
            #expect(e.message.contains("revoked"))
        }
        for c in [admin, anonymous, forged, member] { c.close() }
        await h.stop()
    }

    @Test func rolesLimitWhatAKeyMayDo() async throws {
        let h = try await CatalogHarness.start()
        let (admin, org, _) = try await h.organization("a")
        let reviewer = try await h.client(key: try await h.addKey(to: org.id, role: .reviewer))
        let member = try await h.client(key: try await h.addKey(to: org.id, role: .member))
        let dataset = try await admin.unary(CatalogService.createDataset, CreateDatasetRequest(name: "d"))
        // A reviewer reads but does not write.
        #expect(try await reviewer.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id)).name == "d")
        do {
            _ = try await reviewer.unary(CatalogService.createDataset, CreateDatasetRequest(name: "e"))
            Issue.record("a reviewer created a dataset")
        } catch let e as RPCError {
            #expect(e.code == .permissionDenied)
            #expect(e.message == "a reviewer key may not change data")
        }
        // A member writes but does not manage keys.
        #expect(try await member.unary(CatalogService.createDataset, CreateDatasetRequest(name: "e")).name == "e")
        #expect(await code { _ = try await member.unary(KeysService.create, CreateKeyRequest(name: "x", role: .admin)) } == .permissionDenied)
        for c in [admin, reviewer, member] { c.close() }
        await h.stop()
    }

    @Test func keysAreStoredOnlyAsHashes() async throws {
        let h = try await CatalogHarness.start()
        let (admin, org, key) = try await h.organization("a")
        let stored = try await h.storage.keys(organization: org.id)
        #expect(stored.count == 1)
        #expect(stored[0].hash == SHA256.hash(Array(key.utf8)))
        #expect(stored[0].prefix == String(key.prefix(10)))
        // The database file holds the hash, never the key.
        let wal = (try? readAll(h.directory + "/assay.sqlite-wal")) ?? []
        let bytes = try readAll(h.directory + "/assay.sqlite") + wal
        #expect(!contains(bytes, Array(key.utf8)))
        admin.close()
        await h.stop()
    }
}

func readAll(_ path: String) throws -> [UInt8] {
    let r = try FileBytes(path: path)
    return r.bytes
}

struct FileBytes {
    let bytes: [UInt8]
    init(path: String) throws {
        guard let f = fopen(path, "rb") else { throw RPCError(.notFound, path) }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        bytes = out
    }
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, let first = needle.first else { return false }
    var i = 0
    while i + needle.count <= haystack.count {
        if haystack[i] == first && Array(haystack[i..<i + needle.count]) == needle { return true }
        i += 1
    }
    return false
}
