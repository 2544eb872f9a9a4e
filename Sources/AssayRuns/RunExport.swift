import AssayCore
import AssayStorage
import AssayRPC
import AssayWire

/// A run's predictions as a file, in pieces: NDJSON (one row per line, with its predictions
/// or its error) or, for box features, COCO JSON (images, categories, and annotations with
/// their scores). Rows are read a page at a time, so memory stays bounded for any run.
struct RunExport {
    let store: any Storage
    static let pageSize = 500
    static let chunkSize = 64 * 1024

    func export(
        organization: ObjectID, run id: ObjectID, format: ExportFormat, emit: @escaping ([UInt8]) async throws -> Void
    ) async throws {
        let run = try await store.run(organization: organization, id: id)
        let ontology = try await store.ontology(organization: organization, id: run.ontologyID)
        var out = ChunkWriter(emit: emit)
        switch format {
        case .ndjson, .unspecified:
            try await forEachRow(organization: organization, run: id) { row, labels in
                try await out.write(Self.ndjsonLine(row, labels).jsonString() + "\n")
            }
        case .coco:
            try await coco(run: run, ontology: ontology, organization: organization, out: &out)
        default:
            throw RPCError(.invalidArgument, "unknown export format \(format.rawValue)")
        }
        try await out.flush()
    }

    private func forEachRow(organization: ObjectID, run: ObjectID, _ body: (RunRow, [AssayCore.Label]) async throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let rows = try await store.runRows(organization: organization, run: run, failedOnly: false, after: after, limit: Self.pageSize)
            let labels = try await store.labels(organization: organization, rows: rows.filter { $0.state == .predicted }.map(\.rowID))
            for row in rows { try await body(row, (labels[row.rowID] ?? []).filter { $0.modelRunID == run }) }
            guard rows.count == Self.pageSize, let last = rows.last else { return }
            after = last.position
        }
    }

    static func ndjsonLine(_ row: RunRow, _ labels: [AssayCore.Label]) -> JSONValue {
        var fields = [
            JSONField("data_row_id", .string(row.rowID.rawValue)), JSONField("global_key", .string(row.globalKey)),
            JSONField("state", .string(row.state == .predicted ? "predicted" : row.state == .failed ? "failed" : "pending")),
        ]
        if !row.error.isEmpty { fields.append(JSONField("error", .string(row.error))) }
        fields.append(JSONField("predictions", .array(labels.map(label))))
        return .object(fields)
    }

    static func label(_ l: AssayCore.Label) -> JSONValue {
        var fields = [JSONField("feature_id", .string(l.featureID)), JSONField(l.value.kind.rawValue, value(l.value))]
        if let c = l.confidencePPM { fields.append(JSONField("confidence", .number(ppm(c)))) }
        if !l.children.isEmpty { fields.append(JSONField("children", .array(l.children.map(label)))) }
        return .object(fields)
    }

    static func value(_ v: AssayCore.LabelValue) -> JSONValue {
        switch v {
        case .radio(let id): .string(id)
        case .checklist(let ids): .array(ids.map { .string($0) })
        case .boundingBox(let l, let t, let w, let h):
            .object([JSONField("left", num(l)), JSONField("top", num(t)), JSONField("width", num(w)), JSONField("height", num(h))])
        case .polygon(let points): .array(points.map { .array([num($0.x), num($0.y)]) })
        case .textSpan(let s, let e): .object([JSONField("start", .number(String(s))), JSONField("end", .number(String(e)))])
        case .freeText(let t): .string(t)
        }
    }

    static func num(_ d: Double) -> JSONValue {
        if d == d.rounded(), abs(d) < 1e15 { return .number(String(Int64(d))) }
        return .number(String(d))
    }

    /// Parts per million as an exact decimal: 930000 -> "0.93".
    static func ppm(_ v: Int) -> String {
        let whole = v / 1_000_000
        var frac = String(v % 1_000_000)
        frac = String(repeating: "0", count: 6 - frac.count) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        return frac.isEmpty ? String(whole) : "\(whole).\(frac)"
    }

    private func coco(run: AssayCore.ModelRun, ontology: AssayCore.Ontology, organization: ObjectID, out: inout ChunkWriter) async throws {
        let boxFeatures = run.mapping.compactMap { m in ontology.features.first { $0.id == m.featureID && $0.kind == .boundingBox } }
        guard !boxFeatures.isEmpty else {
            throw RPCError(.failedPrecondition, "COCO export needs a run that predicts boxes; this run maps no bounding-box feature")
        }
        var categoryIDs: [String: Int] = [:]
        for (i, f) in boxFeatures.enumerated() { categoryIDs[f.id] = i + 1 }
        try await out.write("{\"categories\":")
        try await out.write(
            JSONValue.array(
                boxFeatures.enumerated().map { i, f in
                    .object([JSONField("id", .number(String(i + 1))), JSONField("name", .string(f.name)), JSONField("assay_feature_id", .string(f.id))])
                }
            ).jsonString())
        try await out.write(",\"images\":[")
        var first = true
        var imageIDs: [ObjectID: Int] = [:]
        try await forEachRow(organization: organization, run: run.id) { row, _ in
            let n = imageIDs.count + 1
            imageIDs[row.rowID] = n
            try await out.write(
                (first ? "" : ",")
                    + JSONValue.object([
                        JSONField("id", .number(String(n))), JSONField("file_name", .string(row.globalKey)),
                        JSONField("assay_data_row_id", .string(row.rowID.rawValue)),
                    ]).jsonString())
            first = false
        }
        try await out.write("],\"annotations\":[")
        first = true
        var annotation = 0
        try await forEachRow(organization: organization, run: run.id) { row, labels in
            for l in labels {
                guard case .boundingBox(let x, let y, let w, let h) = l.value, let category = categoryIDs[l.featureID] else { continue }
                annotation += 1
                var fields = [
                    JSONField("id", .number(String(annotation))), JSONField("image_id", .number(String(imageIDs[row.rowID] ?? 0))),
                    JSONField("category_id", .number(String(category))), JSONField("bbox", .array([Self.num(x), Self.num(y), Self.num(w), Self.num(h)])),
                    JSONField("area", Self.num(w * h)), JSONField("iscrowd", .number("0")),
                ]
                if let c = l.confidencePPM { fields.append(JSONField("score", .number(Self.ppm(c)))) }
                try await out.write((first ? "" : ",") + JSONValue.object(fields).jsonString())
                first = false
            }
        }
        try await out.write("]}\n")
    }
}

/// Collects text into chunks of about `RunExport.chunkSize` bytes.
struct ChunkWriter {
    let emit: ([UInt8]) async throws -> Void
    var buffer: [UInt8] = []

    mutating func write(_ s: String) async throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= RunExport.chunkSize { try await flush() }
    }

    mutating func flush() async throws {
        guard !buffer.isEmpty else { return }
        try await emit(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
