public import AssayCore
public import AssayRPC
public import AssayStorage
import AssayAccess
import AssayWire

/// `assay.v1.Catalog`: datasets, rows, ontologies, labels and export for the caller's
/// organisation. Every store call carries the caller's organisation id, so nothing of
/// another organisation can be read or changed.
public struct CatalogProvider: RPCService {
    let store: any CatalogStore
    let clock: @Sendable () -> Timestamp
    let validation = RowValidation()

    public init(store: any CatalogStore, clock: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.clock = clock
    }

    public func register(in router: inout Router) {
        router.unary(CatalogService.createDataset) { request, context in
            let caller = try context.caller(for: .write)
            guard !request.name.isEmpty, request.name.utf8.count <= 200 else {
                throw RPCError(.invalidArgument, "a dataset needs a name of 1 to 200 bytes")
            }
            return Convert.dataset(try await store.createDataset(organization: caller.organizationID, name: request.name, description: request.description))
        }
        router.unary(CatalogService.getDataset) { request, context in
            let caller = try context.caller(for: .read)
            return Convert.dataset(try await store.dataset(organization: caller.organizationID, id: ObjectID(rawValue: request.id)))
        }
        router.unary(CatalogService.listDatasets) { _, context in
            let caller = try context.caller(for: .read)
            return ListDatasetsResponse(datasets: try await store.datasets(organization: caller.organizationID).map(Convert.dataset))
        }
        router.unary(CatalogService.deleteDataset) { request, context in
            let caller = try context.caller(for: .write)
            try await store.deleteDataset(organization: caller.organizationID, id: ObjectID(rawValue: request.id))
            return DeleteDatasetResponse()
        }
        router.bidirectional(CatalogService.ingest) { batches, acks, context in
            try await ingest(batches, acks, context)
        }
        router.unary(CatalogService.getDataRow) { request, context in
            let caller = try context.caller(for: .read)
            switch request.key {
            case .id(let id)?: return Convert.row(try await store.row(organization: caller.organizationID, id: ObjectID(rawValue: id)))
            case .globalKey(let key)?: return Convert.row(try await store.row(organization: caller.organizationID, globalKey: key))
            case nil: throw RPCError(.invalidArgument, "name the row by id or by global_key")
            }
        }
        router.unary(CatalogService.listDataRows) { request, context in
            let caller = try context.caller(for: .read)
            let size = request.pageSize == 0 ? 100 : Int(request.pageSize)
            guard size <= 1000 else { throw RPCError(.invalidArgument, "page_size is at most 1000") }
            let page = try await store.rows(
                organization: caller.organizationID, dataset: ObjectID(rawValue: request.datasetId),
                metadataFilter: request.metadataFilter, after: request.cursor.isEmpty ? nil : request.cursor, limit: size
            )
            return ListDataRowsResponse(rows: page.items.map { Convert.row($0) }, nextCursor: page.nextCursor ?? "")
        }
        router.unary(CatalogService.deleteDataRows) { request, context in
            let caller = try context.caller(for: .write)
            let n = try await store.deleteRows(organization: caller.organizationID, ids: request.ids.map(ObjectID.init(rawValue:)))
            return DeleteDataRowsResponse(deleted: UInt64(n))
        }
        router.unary(CatalogService.createOntology) { request, context in
            let caller = try context.caller(for: .write)
            let features = try Convert.features(request.features)
            do {
                try AssayCore.Ontology.validate(name: request.name, features: features)
            } catch {
                throw RPCError(.invalidArgument, "\(error)")
            }
            return Convert.ontology(try await store.createOntology(organization: caller.organizationID, name: request.name, features: features))
        }
        router.unary(CatalogService.getOntology) { request, context in
            let caller = try context.caller(for: .read)
            return Convert.ontology(try await store.ontology(organization: caller.organizationID, id: ObjectID(rawValue: request.id)))
        }
        router.unary(CatalogService.listOntologies) { _, context in
            let caller = try context.caller(for: .read)
            return ListOntologiesResponse(ontologies: try await store.ontologies(organization: caller.organizationID).map(Convert.ontology))
        }
        router.bidirectional(CatalogService.importLabels) { batches, acks, context in
            try await importLabels(batches, acks, context)
        }
        router.serverStreaming(CatalogService.export) { request, writer, context in
            let caller = try context.caller(for: .read)
            let org = caller.organizationID
            let dataset = ObjectID(rawValue: request.datasetId)
            _ = try await store.dataset(organization: org, id: dataset)
            var cursor: String?
            repeat {
                try Task.checkCancellation()
                let page = try await store.rows(organization: org, dataset: dataset, metadataFilter: [:], after: cursor, limit: 500)
                let labels = request.includeLabels ? try await store.labels(organization: org, rows: page.items.map(\.id)) : [:]
                for row in page.items {
                    try await writer.write(ExportedRow(
                        row: Convert.row(row, includeContent: request.includeContent),
                        labels: (labels[row.id] ?? []).map { Convert.label($0, globalKey: row.globalKey) }
                    ))
                }
                cursor = page.nextCursor
            } while cursor != nil
        }
    }

    // MARK: ingest

    /// A batch checked and converted, ready to commit.
    struct PreparedBatch: Sendable {
        var index: UInt64
        var rows: [NewDataRow]
        /// The position of each of `rows` in the batch the client sent.
        var positions: [Int]
        var errors: [RowError]
    }

    /// Reads, checks and converts batch N+1 while batch N commits; acknowledges each batch
    /// only once its transaction has committed.
    func ingest(_ batches: RPCRequests<IngestBatch>, _ acks: RPCWriter<IngestAck>, _ context: ServerContext) async throws {
        let caller = try context.caller(for: .write)
        let org = caller.organizationID
        let channel = HandOff<PreparedBatch>(capacity: 2)
        let datasetBox = DatasetBox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    while let batch = await channel.receive() {
                        var created: UInt32 = 0
                        var updated: UInt32 = 0
                        let (outcomes, errors) = try await commit(batch, org: org, dataset: datasetBox.id!)
                        for o in outcomes { if o.created { created += 1 } else { updated += 1 } }
                        IngestTelemetry.created.add(Int64(created))
                        IngestTelemetry.updated.add(Int64(updated))
                        IngestTelemetry.rejected.add(Int64(errors.count))
                        try await acks.write(IngestAck(batch: batch.index, created: created, updated: updated, errors: errors))
                    }
                } catch {
                    // Release a reader waiting to hand over its next batch.
                    channel.finish()
                    throw error
                }
            }
            do {
                var index: UInt64 = 0
                for try await batch in batches {
                    if let current = datasetBox.id {
                        if !batch.datasetId.isEmpty && batch.datasetId != current.rawValue {
                            throw RPCError(.invalidArgument, "batch \(index) names dataset \(batch.datasetId); this stream ingests into \(current.rawValue)")
                        }
                    } else {
                        guard !batch.datasetId.isEmpty else { throw RPCError(.invalidArgument, "the first batch must name the dataset") }
                        let id = ObjectID(rawValue: batch.datasetId)
                        _ = try await store.dataset(organization: org, id: id)
                        datasetBox.id = id
                    }
                    var rows: [NewDataRow] = []
                    var positions: [Int] = []
                    rows.reserveCapacity(batch.rows.count)
                    positions.reserveCapacity(batch.rows.count)
                    var errors: [RowError] = []
                    for (i, row) in batch.rows.enumerated() {
                        switch validation.check(row, index: i) {
                        case .success(let r):
                            rows.append(r)
                            positions.append(i)
                        case .failure(let e): errors.append(e)
                        }
                    }
                    guard await channel.send(PreparedBatch(index: index, rows: rows, positions: positions, errors: errors)) else { break }
                    index += 1
                }
                channel.finish()
            } catch {
                channel.finish()
                group.cancelAll()
                throw error
            }
            try await group.waitForAll()
        }
    }

    /// Stores a batch in one transaction. A global key that belongs to another dataset of
    /// the organisation makes the store refuse the whole batch; those rows then get a row
    /// error and the rest is stored, so one stray key does not stop an ingest.
    func commit(_ batch: PreparedBatch, org: ObjectID, dataset: ObjectID) async throws -> ([UpsertOutcome], [RowError]) {
        guard !batch.rows.isEmpty else { return ([], batch.errors) }
        do {
            return (try await store.upsertRows(organization: org, dataset: dataset, rows: batch.rows), batch.errors)
        } catch {
            guard case .alreadyExists = error else { throw error }
        }
        var keep: [NewDataRow] = []
        var errors = batch.errors
        for (row, position) in zip(batch.rows, batch.positions) {
            if let existing = try await findRow(org, id: "", globalKey: row.globalKey), existing.datasetID != dataset {
                errors.append(RowError(
                    index: UInt32(position), globalKey: row.globalKey, code: "global_key_in_other_dataset",
                    message: "global key \(row.globalKey) belongs to dataset \(existing.datasetID.rawValue)"
                ))
            } else {
                keep.append(row)
            }
        }
        errors.sort { $0.index < $1.index }
        guard !keep.isEmpty else { return ([], errors) }
        return (try await store.upsertRows(organization: org, dataset: dataset, rows: keep), errors)
    }

    // MARK: labels

    func importLabels(_ batches: RPCRequests<LabelBatch>, _ acks: RPCWriter<LabelAck>, _ context: ServerContext) async throws {
        let caller = try context.caller(for: .write)
        let org = caller.organizationID
        var ontology: AssayCore.Ontology?
        var index: UInt64 = 0
        for try await batch in batches {
            if ontology == nil {
                guard !batch.ontologyId.isEmpty else { throw RPCError(.invalidArgument, "the first batch must name the ontology") }
                ontology = try await store.ontology(organization: org, id: ObjectID(rawValue: batch.ontologyId))
            } else if !batch.ontologyId.isEmpty && batch.ontologyId != ontology!.id.rawValue {
                throw RPCError(.invalidArgument, "batch \(index) names ontology \(batch.ontologyId); this stream imports for \(ontology!.id.rawValue)")
            }
            let schema = ontology!
            var good: [AssayCore.Label] = []
            var errors: [AssayWire.LabelError] = []
            for (i, wire) in batch.labels.enumerated() {
                func reject(_ message: String) {
                    errors.append(AssayWire.LabelError(index: UInt32(i), globalKey: wire.globalKey, featureId: wire.featureId, message: message))
                }
                guard !wire.dataRowId.isEmpty || !wire.globalKey.isEmpty else {
                    reject("the label names no data row (data_row_id or global_key)")
                    continue
                }
                guard let row = try await findRow(org, id: wire.dataRowId, globalKey: wire.globalKey) else {
                    reject("no data row \(wire.dataRowId.isEmpty ? wire.globalKey : wire.dataRowId)")
                    continue
                }
                switch Convert.label(wire, row: row.id, ontology: schema.id, now: clock()) {
                case .failure(let e):
                    reject(e.description)
                case .success(let label):
                    do {
                        try schema.validate(label, textLength: row.text.isEmpty ? nil : row.text.unicodeScalars.count)
                        good.append(label)
                    } catch {
                        reject("\(error)")
                    }
                }
            }
            if !good.isEmpty { try await store.insertLabels(organization: org, labels: good) }
            try await acks.write(LabelAck(batch: index, imported: UInt32(good.count), errors: errors))
            index += 1
        }
    }
}

extension CatalogProvider {
    /// The row named by id (or, when the id is empty, by global key); nil when there is none.
    func findRow(_ org: ObjectID, id: String, globalKey: String) async throws -> AssayCore.DataRow? {
        do {
            if !id.isEmpty { return try await store.row(organization: org, id: ObjectID(rawValue: id)) }
            return try await store.row(organization: org, globalKey: globalKey)
        } catch {
            if case .notFound = error { return nil }
            throw error
        }
    }
}

/// The dataset an ingest stream writes to, set by the reader before the first hand-off.
final class DatasetBox: @unchecked Sendable {
    // @unchecked: written once by the reader before it sends the first batch through the
    // HandOff (whose lock orders that write before the committer's first read).
    var id: ObjectID?
}

/// What ingest reports to the server's metrics endpoint.
enum IngestTelemetry {
    static let created = Telemetry.shared.counter(
        "assay_ingest_rows_total", help: "Data rows ingested, by outcome.", labels: [("outcome", "created")])
    static let updated = Telemetry.shared.counter(
        "assay_ingest_rows_total", help: "Data rows ingested, by outcome.", labels: [("outcome", "updated")])
    static let rejected = Telemetry.shared.counter(
        "assay_ingest_rows_total", help: "Data rows ingested, by outcome.", labels: [("outcome", "rejected")])
}
