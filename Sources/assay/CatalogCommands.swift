import AssayRPC
import AssayTransport
import AssayWire

/// `assay dataset|ingest|ontology|labels|export|keys`: the catalog from the command line.
enum CatalogCommands {
    static func dataset(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let description = args.option("description") ?? ""
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        switch args.positional.first {
        case "create":
            guard args.positional.count == 2 else { throw UsageError("usage: assay dataset create NAME [--description TEXT]") }
            let d = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: args.positional[1], description: description))
            printOut(json ? d.jsonString() : "\(d.id)  \(d.name)")
        case "list":
            let list = try await client.unary(CatalogService.listDatasets, ListDatasetsRequest())
            if json { printOut(list.jsonString(pretty: true)) }
            for d in list.datasets where !json { printOut("\(d.id)  \(d.name)  rows=\(d.rowCount)") }
        default:
            throw UsageError("usage: assay dataset create NAME | assay dataset list")
        }
        return 0
    }

    /// A dataset named by id or by name.
    static func resolveDataset(_ text: String, _ client: RPCClient) async throws -> Dataset {
        let list = try await client.unary(CatalogService.listDatasets, ListDatasetsRequest())
        if let d = list.datasets.first(where: { $0.id == text || $0.name == text }) { return d }
        throw RPCError(.notFound, "no dataset \(text)")
    }

    static func ingest(_ args: inout Arguments) async throws -> Int32 {
        let batchSize = Int(args.option("batch") ?? "500") ?? 500
        let quiet = args.flag("quiet")
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        guard args.positional.count == 2 else { throw UsageError("usage: assay ingest DATASET PATH") }
        let dataset = try await resolveDataset(args.positional[0], client)
        let source = try RowSource(path: args.positional[1])
        // First pass: every row must parse before anything is sent, so a bad line leaves
        // the stored data untouched.
        var counted = 0
        try await source.forEach { _ in counted += 1 }
        let total = counted

        let outcome = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await withThrowingTaskGroup(of: (created: Int, updated: Int, errors: [RowError]).self) { group in
                group.addTask {
                    var created = 0, updated = 0
                    var errors: [RowError] = []
                    var progress = ProgressBar(total: total, unit: "rows")
                    var done = 0
                    for try await ack in acks {
                        created += Int(ack.created)
                        updated += Int(ack.updated)
                        errors += ack.errors.map { var e = $0; e.message = "batch \(ack.batch) row \(e.index): \(e.message)"; return e }
                        done += Int(ack.created + ack.updated) + ack.errors.count
                        if !quiet { progress.update(done) }
                    }
                    if !quiet { progress.update(done, force: true); progress.finish() }
                    return (created, updated, errors)
                }
                var batch: [DataRow] = []
                var first = true
                try await source.forEach { row in
                    batch.append(row)
                    if batch.count == batchSize {
                        try await writer.write(IngestBatch(datasetId: first ? dataset.id : "", rows: batch))
                        first = false
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty || first { try await writer.write(IngestBatch(datasetId: dataset.id, rows: batch)) }
                close()
                return try await group.next()!
            }
        }
        for e in outcome.errors.prefix(20) { printError("row \(e.globalKey): \(e.code): \(e.message)") }
        if outcome.errors.count > 20 { printError("… and \(outcome.errors.count - 20) more row errors") }
        printOut("ingested into \(dataset.name): \(outcome.created) created, \(outcome.updated) updated, \(outcome.errors.count) rejected")
        return outcome.errors.isEmpty ? 0 : 1
    }

    static func ontology(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        switch args.positional.first {
        case "create":
            guard args.positional.count == 2 else { throw UsageError("usage: assay ontology create FILE.json") }
            let text = String(decoding: try readFile(args.positional[1]), as: UTF8.self)
            let request: CreateOntologyRequest
            do { request = try CreateOntologyRequest(jsonString: text) } catch {
                throw RowSource.InputError(description: "\(args.positional[1]): \(error)")
            }
            let o = try await client.unary(CatalogService.createOntology, request)
            printOut(json ? o.jsonString(pretty: true) : "\(o.id)  \(o.name)")
        case "list":
            let list = try await client.unary(CatalogService.listOntologies, ListOntologiesRequest())
            if json { printOut(list.jsonString(pretty: true)) }
            for o in list.ontologies where !json { printOut("\(o.id)  \(o.name)  features=\(o.features.count)") }
        default:
            throw UsageError("usage: assay ontology create FILE.json | assay ontology list")
        }
        return 0
    }

    static func labels(_ args: inout Arguments) async throws -> Int32 {
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        guard args.positional.count == 4, args.positional[0] == "import" else {
            throw UsageError("usage: assay labels import DATASET ONTOLOGY FILE.jsonl")
        }
        _ = try await resolveDataset(args.positional[1], client)
        let ontologyID = args.positional[2]
        let path = args.positional[3]
        var labels: [Label] = []
        var reader = try LineReader(path: path)
        defer { reader.close() }
        var number = 0
        while let line = try reader.next() {
            number += 1
            if line.isEmpty { continue }
            do { labels.append(try Label(jsonString: String(decoding: line, as: UTF8.self))) } catch {
                throw RowSource.InputError(description: "\(path):\(number): \(error)")
            }
        }
        let (imported, errors) = try await client.bidirectional(CatalogService.importLabels) { writer, close, acks in
            var first = true
            for start in stride(from: 0, to: max(labels.count, 1), by: 500) {
                try await writer.write(LabelBatch(ontologyId: first ? ontologyID : "", labels: Array(labels[start..<min(start + 500, labels.count)])))
                first = false
            }
            close()
            var imported = 0
            var errors: [LabelError] = []
            for try await ack in acks {
                imported += Int(ack.imported)
                errors += ack.errors
            }
            return (imported, errors)
        }
        for e in errors.prefix(20) { printError("label \(e.index) (\(e.globalKey)): \(e.message)") }
        printOut("imported \(imported) labels, \(errors.count) rejected")
        return errors.isEmpty ? 0 : 1
    }

    static func export(_ args: inout Arguments) async throws -> Int32 {
        let content = args.flag("content")
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        guard args.positional.count == 1 else { throw UsageError("usage: assay export DATASET [--content]") }
        let dataset = try await resolveDataset(args.positional[0], client)
        let request = ExportRequest(datasetId: dataset.id, includeContent: content, includeLabels: true)
        try await client.serverStreaming(CatalogService.export, request) { rows in
            for try await row in rows { printOut(row.jsonString()) }
        }
        return 0
    }

    static func keys(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let roleText = args.option("role") ?? "member"
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        switch args.positional.first {
        case "create":
            guard args.positional.count == 2 else { throw UsageError("usage: assay keys create NAME [--role admin|member|reviewer]") }
            guard let role = KeyRole.allKnown.first(where: { $0.protoName == roleText.uppercased() }), role != .unspecified else {
                throw UsageError("--role must be admin, member or reviewer")
            }
            let r = try await client.unary(KeysService.create, CreateKeyRequest(name: args.positional[1], role: role))
            if json { printOut(r.jsonString()) } else {
                printOut(r.key)
                printError("key \(r.info?.id ?? "?") (\(roleText)) created; this is the only time it is shown")
            }
        case "list":
            let list = try await client.unary(KeysService.list, ListKeysRequest())
            if json { printOut(list.jsonString(pretty: true)) }
            for k in list.keys where !json {
                printOut("\(k.id)  \(k.prefix)…  \(k.name)  \(k.role.protoName ?? "?")\(k.revokedAtMicros != 0 ? "  revoked" : "")")
            }
        case "revoke":
            guard args.positional.count == 2 else { throw UsageError("usage: assay keys revoke KEY_ID") }
            _ = try await client.unary(KeysService.revoke, RevokeKeyRequest(id: args.positional[1]))
            printOut("revoked \(args.positional[1])")
        default:
            throw UsageError("usage: assay keys create NAME [--role R] | assay keys list | assay keys revoke KEY_ID")
        }
        return 0
    }
}
