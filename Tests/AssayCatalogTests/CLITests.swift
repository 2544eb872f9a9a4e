import AssayRPC
import AssayWire
import Testing

/// `assay` subcommands against a live server, as a person would run them.
@Suite("Command line")
struct CLITests {
    func assay(_ h: CatalogHarness, _ key: String, _ args: [String]) async -> ProcessResult {
        await run([assayBinary] + args + ["--addr", h.address.description, "--api-key", key])
    }

    @Test func ingestExportAndLabelsFromFiles() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, key) = try await h.organization("a")
        #expect(await assay(h, key, ["dataset", "create", "docs"]).status == 0)
        let jsonl = h.directory + "/rows.jsonl"
        writeFile(jsonl, """
            {"globalKey": "t-1", "mediaType": "TEXT", "text": "Alice met Bob", "metadata": {"lang": "en"}}
            {"global_key": "t-2", "media_type": "TEXT", "text": "Hola", "metadata": {"lang": "es"}}

            """)
        let ingested = await assay(h, key, ["ingest", "docs", jsonl])
        #expect(ingested.status == 0, "\(ingested.stderr)")
        #expect(ingested.stdout.contains("2 created, 0 updated, 0 rejected"))
        let csv = h.directory + "/rows.csv"
        writeFile(csv, "global_key,media_type,text,metadata.lang\nt-3,TEXT,\"Bonjour, \"\"monde\"\"\",fr\n")
        #expect(await assay(h, key, ["ingest", "docs", csv]).status == 0)

        let ontologyFile = h.directory + "/ontology.json"
        writeFile(ontologyFile, """
            {"name": "ner", "features": [{"id": "person", "name": "person", "kind": "TEXT_SPAN"},
              {"id": "tone", "name": "tone", "kind": "RADIO", "options": [{"id": "pos", "value": "positive"}]}]}
            """)
        let created = await assay(h, key, ["ontology", "create", ontologyFile, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let ontology = try AssayWire.Ontology(jsonString: created.stdout)
        let labelsFile = h.directory + "/labels.jsonl"
        writeFile(labelsFile, """
            {"globalKey": "t-1", "featureId": "person", "value": {"textSpan": {"start": 0, "end": 5}}}
            {"globalKey": "t-1", "featureId": "mood", "value": {"radioOptionId": "pos"}}
            {"globalKey": "t-2", "featureId": "tone", "value": {"radioOptionId": "neg"}}
            {"globalKey": "t-2", "featureId": "person", "value": {"textSpan": {"start": 0, "end": 40}}}
            """)
        let imported = await assay(h, key, ["labels", "import", "docs", ontology.id, labelsFile])
        #expect(imported.status == 1)
        #expect(imported.stdout.contains("imported 1 labels, 3 rejected"))
        #expect(imported.stderr.contains("feature mood: unknown feature"))
        #expect(imported.stderr.contains("feature tone: unknown option neg"))
        #expect(imported.stderr.contains("span end 40 is past the end of the text (4 characters)"))

        let exported = await assay(h, key, ["export", "docs"])
        #expect(exported.status == 0)
        let lines = exported.stdout.split(separator: "\n").map { try? ExportedRow(jsonString: String($0)) }
        #expect(lines.count == 3)
        let byKey = Dictionary(uniqueKeysWithValues: lines.compactMap { $0 }.map { ($0.row?.globalKey ?? "", $0) })
        #expect(byKey["t-3"]?.row?.text == "Bonjour, \"monde\"")
        #expect(byKey["t-1"]?.labels.count == 1)
        #expect(byKey["t-1"]?.labels.first?.featureId == "person")
        client.close()
        await h.stop()
    }

    @Test func aMalformedLineStopsTheIngestBeforeAnythingIsStored() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, key) = try await h.organization("a")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "d"))
        let path = h.directory + "/bad.jsonl"
        writeFile(path, """
            {"globalKey": "ok-1", "mediaType": "TEXT", "text": "fine"}
            {"globalKey": "ok-2", "mediaType": "TEXT", "text": "fine"
            {"globalKey": "ok-3", "mediaType": "TEXT", "text": "fine"}
            """)
        let result = await assay(h, key, ["ingest", "d", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.jsonl:2:"))
        #expect(try await allRows(client, dataset.id).isEmpty)
        let unknownField = h.directory + "/unknown.jsonl"
        writeFile(unknownField, "{\"globalKey\": \"x\", \"colour\": \"red\"}\n")
        let second = await assay(h, key, ["ingest", "d", unknownField])
        #expect(second.status == 1)
        #expect(second.stderr.contains("unknown.jsonl:1:"))
        #expect(second.stderr.contains("colour"))
        #expect(try await allRows(client, dataset.id).isEmpty)
        client.close()
        await h.stop()
    }

    @Test func aBadOntologyIsRefusedWithItsReason() async throws {
        let h = try await CatalogHarness.start()
        let (client, _, key) = try await h.organization("a")
        let path = h.directory + "/o.json"
        writeFile(path, "{\"name\": \"o\", \"features\": [{\"id\": \"a\", \"name\": \"box\", \"kind\": \"BOUNDING_BOX\", \"children\": [{\"id\": \"b\", \"name\": \"poly\", \"kind\": \"POLYGON\"}]}]}")
        let result = await assay(h, key, ["ontology", "create", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("INVALID_ARGUMENT"))
        #expect(result.stderr.contains("feature box > poly: only classifications (radio, checklist, free_text) can be nested, not polygon"))
        #expect(try await client.unary(CatalogService.listOntologies, ListOntologiesRequest()).ontologies.isEmpty)
        client.close()
        await h.stop()
    }
}
