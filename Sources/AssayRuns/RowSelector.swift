public import AssayCore
public import AssayStorage
public import AssayRPC

/// The rows a request names: ids, global keys, or a dataset (optionally filtered by
/// metadata), resolved in the caller's organisation.
public struct RowSelector: Sendable {
    let store: any CatalogStore
    /// The most rows one run may select.
    public static let maximumRows = 5_000_000

    public init(store: any CatalogStore) { self.store = store }

    public struct Selection: Sendable {
        public var rowIDs: [ObjectID] = []
        public var datasetIDs: [ObjectID] = []
        /// Rows that are images or documents.
        public var imageCount = 0
        /// The rows themselves, when asked for (previews).
        public var rows: [DataRow] = []
    }

    public func resolve(
        organization: ObjectID, ids: [String], globalKeys: [String], dataset: String, metadataFilter: [String: String], limit: Int,
        keepRows: Bool = false
    ) async throws(RPCError) -> Selection {
        let given = (ids.isEmpty ? 0 : 1) + (globalKeys.isEmpty ? 0 : 1) + (dataset.isEmpty ? 0 : 1)
        guard given == 1 else { throw RPCError(.invalidArgument, "select rows by exactly one of row_ids, global_keys or dataset_id") }
        guard metadataFilter.isEmpty || !dataset.isEmpty else { throw RPCError(.invalidArgument, "metadata_filter needs a dataset_id") }
        var selection = Selection()
        var datasets: Set<ObjectID> = []
        var tooMany = false
        func add(_ row: DataRow) {
            guard selection.rowIDs.count < limit else {
                tooMany = true
                return
            }
            selection.rowIDs.append(row.id)
            if row.mediaType == .image || row.mediaType == .document { selection.imageCount += 1 }
            if datasets.insert(row.datasetID).inserted { selection.datasetIDs.append(row.datasetID) }
            if keepRows { selection.rows.append(row) }
        }
        do throws(StorageError) {
            if !dataset.isEmpty {
                let id = ObjectID(rawValue: dataset)
                _ = try await store.dataset(organization: organization, id: id)
                var cursor: String?
                repeat {
                    let page = try await store.rows(organization: organization, dataset: id, metadataFilter: metadataFilter, after: cursor, limit: 1000)
                    for row in page.items { add(row) }
                    cursor = page.nextCursor
                } while cursor != nil && !tooMany
            } else {
                var seen: Set<String> = []
                for id in ids where seen.insert(id).inserted && !tooMany { add(try await store.row(organization: organization, id: ObjectID(rawValue: id))) }
                for key in globalKeys where seen.insert(key).inserted && !tooMany { add(try await store.row(organization: organization, globalKey: key)) }
            }
        } catch {
            throw error.rpcError
        }
        guard !tooMany else { throw RPCError(.invalidArgument, "the selection has more than \(limit) rows") }
        guard !selection.rowIDs.isEmpty else { throw RPCError(.invalidArgument, "the selection has no rows") }
        return selection
    }
}
