import Dispatch
public import AssayRPC
public import AssayStorage
import AssayAccess
import AssayCore
import AssayReport
import AssayWire

/// `assay.v1.Compare`: stored runs measured against their rows' ground truth and against each
/// other, the rows worth a look, and the HTML report. Read role; every read is scoped to the
/// caller's organisation (another organisation's run is NOT_FOUND).
public struct CompareProvider: RPCService {
    let reader: RunReader
    /// The most runs one report compares.
    public static let maximumReportRuns = 10
    public static let maximumResamples = 10_000
    public static let maximumPageSize = 1000

    public init(store: any Storage) {
        reader = RunReader(store: store)
    }

    public func register(in router: inout Router) {
        router.unary(CompareService.evaluate) { request, context in
            let caller = try context.caller(for: .read)
            return try await evaluate(request, organization: caller.organizationID)
        }
        router.unary(CompareService.compareRuns) { request, context in
            let caller = try context.caller(for: .read)
            return try await compare(request, organization: caller.organizationID)
        }
        router.unary(CompareService.rankRows) { request, context in
            let caller = try context.caller(for: .read)
            return try await rank(request, organization: caller.organizationID)
        }
        router.unary(CompareService.cellRows) { request, context in
            let caller = try context.caller(for: .read)
            return try await cell(request, organization: caller.organizationID)
        }
        router.serverStreaming(CompareService.report) { request, writer, context in
            let caller = try context.caller(for: .read)
            let bytes = Array(try await report(request, organization: caller.organizationID).utf8)
            var start = 0
            repeat {
                let end = min(bytes.count, start + 64 * 1024)
                try await writer.write(ReportChunk(data: Array(bytes[start..<end])))
                start = end
            } while start < bytes.count
        }
    }

    // MARK: calls

    func evaluate(_ request: EvaluateRequest, organization: ObjectID) async throws -> EvaluateResponse {
        let thresholds = try Self.thresholds(request.thresholds)
        let loaded = try await reader.load(
            organization: organization, id: request.runId, sliceBy: request.sliceBy.isEmpty ? nil : request.sliceBy)
        let units = try EvaluationUnit.units(of: loaded.run, ontology: loaded.ontology, featureID: request.featureId)
        let sliceBy = request.sliceBy
        return await offCooperativePool {
            var response = EvaluateResponse(
                runId: loaded.run.id.rawValue, rows: UInt64(loaded.rows.count), rowsNotPredicted: UInt64(loaded.notPredicted),
                features: units.map { Evaluation.evaluate($0, rows: loaded.rows, thresholds: thresholds) }, sliceBy: sliceBy)
            if !sliceBy.isEmpty {
                response.slices = Evaluation.slices(units, rows: loaded.rows, thresholds: thresholds)
            }
            return response
        }
    }

    func compare(_ request: CompareRunsRequest, organization: ObjectID) async throws -> CompareRunsResponse {
        let thresholds = try Self.thresholds(request.thresholds)
        let bootstrap = try Self.bootstrap(seed: request.seed, resamples: request.resamples)
        let (first, second) = try await pair(organization, request.firstRunId, "first_run_id", request.secondRunId, "second_run_id")
        let units = EvaluationUnit.shared(
            try EvaluationUnit.units(of: first.run, ontology: first.ontology, featureID: request.featureId),
            try EvaluationUnit.units(of: second.run, ontology: second.ontology, featureID: request.featureId))
        guard !units.isEmpty else {
            throw RPCError(.failedPrecondition, "runs \(first.run.id.rawValue) and \(second.run.id.rawValue) map no feature in common")
        }
        let (a, b) = RunComparison.pair(first, second)
        let ids = (first.run.id.rawValue, second.run.id.rawValue)
        return await offCooperativePool {
            CompareRunsResponse(
                firstRunId: ids.0, secondRunId: ids.1, rows: UInt64(a.count),
                features: units.map { RunComparison.compare($0, first: a, second: b, thresholds: thresholds, bootstrap: bootstrap) },
                confidenceLevel: BootstrapSettings.confidence)
        }
    }

    func rank(_ request: RankRowsRequest, organization: ObjectID) async throws -> DiagnosedRows {
        let thresholds = try Self.thresholds(request.thresholds)
        let by = request.by.isEmpty ? "loss" : request.by
        guard let ranking = RowDiagnosis.Ranking(rawValue: by) else {
            throw RPCError(.invalidArgument, "by \"\(by)\" is not a ranking (loss, iou, disagreement)")
        }
        let (size, offset) = try Self.page(request.pageSize, request.cursor)
        if ranking != .disagreement, !request.otherRunId.isEmpty {
            throw RPCError(.invalidArgument, "other_run_id is only for by \"disagreement\"")
        }
        let rows: [LoadedRow], other: [LoadedRow]?, unit: EvaluationUnit
        if ranking == .disagreement {
            guard !request.otherRunId.isEmpty else { throw RPCError(.invalidArgument, "by \"disagreement\" needs other_run_id") }
            let (first, second) = try await pair(organization, request.runId, "run_id", request.otherRunId, "other_run_id")
            let units = EvaluationUnit.shared(
                try EvaluationUnit.units(of: first.run, ontology: first.ontology, featureID: request.featureId),
                try EvaluationUnit.units(of: second.run, ontology: second.ontology, featureID: request.featureId))
            unit = try Self.single(units, run: first.run)
            (rows, other) = RunComparison.pair(first, second)
        } else {
            let loaded = try await reader.load(organization: organization, id: request.runId)
            unit = try Self.single(try EvaluationUnit.units(of: loaded.run, ontology: loaded.ontology, featureID: request.featureId), run: loaded.run)
            rows = loaded.rows
            other = nil
        }
        let entries = try RowDiagnosis.rank(ranking, unit: unit, rows: rows, other: other, thresholds: thresholds)
        return Self.page(entries, rows: rows, size: size, offset: offset)
    }

    func cell(_ request: CellRowsRequest, organization: ObjectID) async throws -> DiagnosedRows {
        let thresholds = try Self.thresholds(request.thresholds)
        let (size, offset) = try Self.page(request.pageSize, request.cursor)
        guard !request.truth.isEmpty, !request.predicted.isEmpty else {
            throw RPCError(.invalidArgument, "a cell needs truth and predicted labels")
        }
        let loaded = try await reader.load(organization: organization, id: request.runId)
        let unit = try Self.single(try EvaluationUnit.units(of: loaded.run, ontology: loaded.ontology, featureID: request.featureId), run: loaded.run)
        let entries = try RowDiagnosis.cell(
            unit: unit, rows: loaded.rows, truth: request.truth, predicted: request.predicted, thresholds: thresholds)
        return Self.page(entries, rows: loaded.rows, size: size, offset: offset)
    }

    func report(_ request: ReportRequest, organization: ObjectID) async throws -> String {
        let thresholds = try Self.thresholds(request.thresholds)
        let bootstrap = try Self.bootstrap(seed: request.seed, resamples: request.resamples)
        guard !request.runIds.isEmpty else { throw RPCError(.invalidArgument, "run_ids names no run") }
        guard request.runIds.count <= Self.maximumReportRuns else {
            throw RPCError(.invalidArgument, "a report compares at most \(Self.maximumReportRuns) runs, got \(request.runIds.count)")
        }
        guard Set(request.runIds).count == request.runIds.count else { throw RPCError(.invalidArgument, "run_ids names a run twice") }
        guard request.worstRows <= 1000 else { throw RPCError(.invalidArgument, "worst_rows is at most 1000") }
        let stored = try await request.runIds.asyncMap { try await reader.run(organization: organization, id: $0, field: "run_ids") }
        for r in stored.dropFirst() { try Self.sameOntology(stored[0], r) }
        var runs: [LoadedRun] = []
        for id in request.runIds { runs.append(try await reader.load(organization: organization, id: id, field: "run_ids")) }
        var units = try EvaluationUnit.units(of: runs[0].run, ontology: runs[0].ontology, featureID: request.featureId)
        for r in runs.dropFirst() {
            units = EvaluationUnit.shared(units, try EvaluationUnit.units(of: r.run, ontology: r.ontology, featureID: request.featureId))
        }
        guard !units.isEmpty else { throw RPCError(.failedPrecondition, "the runs map no feature in common") }
        guard !CompareReport.commonRows(runs)[0].isEmpty else {
            throw RPCError(.failedPrecondition, "the runs have no predicted row in common")
        }
        let names = CompareReport.runNames(runs.map(\.run))
        let title = request.title.isEmpty ? "Assay report: " + names.joined(separator: " vs ") : request.title
        let document = CompareReport.document(
            title: title, runs: runs, units: units, thresholds: thresholds, bootstrap: bootstrap,
            worst: request.worstRows == 0 ? 25 : Int(request.worstRows))
        return HTMLReport.render(document)
    }

    // MARK: checks

    /// Two runs of the same ontology, loaded (the ontologies are checked before any row is read).
    func pair(_ organization: ObjectID, _ a: String, _ aField: String, _ b: String, _ bField: String) async throws -> (LoadedRun, LoadedRun) {
        let first = try await reader.run(organization: organization, id: a, field: aField)
        let second = try await reader.run(organization: organization, id: b, field: bField)
        try Self.sameOntology(first, second)
        return (
            try await reader.load(organization: organization, id: a, field: aField),
            try await reader.load(organization: organization, id: b, field: bField)
        )
    }

    static func sameOntology(_ a: AssayCore.ModelRun, _ b: AssayCore.ModelRun) throws(RPCError) {
        guard a.ontologyID == b.ontologyID else {
            throw RPCError(
                .failedPrecondition,
                "run \(a.id.rawValue) uses ontology \(a.ontologyID.rawValue) and run \(b.id.rawValue) uses ontology "
                    + "\(b.ontologyID.rawValue); only runs of the same ontology compare")
        }
    }

    static func thresholds(_ t: Thresholds?) throws(RPCError) -> ResolvedThresholds {
        var r = ResolvedThresholds.default
        guard let t else { return r }
        if t.hasConfidence {
            guard t.confidence >= 0, t.confidence <= 1 else {
                throw RPCError(.invalidArgument, "thresholds.confidence must be in [0, 1], got \(t.confidence)")
            }
            r.confidence = t.confidence
        }
        if t.hasIou {
            guard t.iou >= 0, t.iou <= 1 else { throw RPCError(.invalidArgument, "thresholds.iou must be in [0, 1], got \(t.iou)") }
            r.iou = t.iou
        }
        return r
    }

    static func bootstrap(seed: UInt64, resamples: UInt32) throws(RPCError) -> BootstrapSettings {
        guard resamples <= maximumResamples else {
            throw RPCError(.invalidArgument, "resamples is at most \(maximumResamples), got \(resamples)")
        }
        return BootstrapSettings(seed: seed, resamples: resamples == 0 ? 1000 : Int(resamples))
    }

    static func page(_ pageSize: UInt32, _ cursor: String) throws(RPCError) -> (size: Int, offset: Int) {
        guard pageSize <= maximumPageSize else { throw RPCError(.invalidArgument, "page_size is at most \(maximumPageSize)") }
        var offset = 0
        if !cursor.isEmpty {
            guard let o = Int(cursor), o >= 0 else { throw RPCError(.invalidArgument, "cursor is not one this server gave out") }
            offset = o
        }
        return (pageSize == 0 ? 50 : Int(pageSize), offset)
    }

    static func page(_ entries: [RowDiagnosis.Entry], rows: [LoadedRow], size: Int, offset: Int) -> DiagnosedRows {
        let slice = entries.dropFirst(offset).prefix(size)
        let end = offset + slice.count
        return DiagnosedRows(
            rows: slice.map { e in
                DiagnosedRow(
                    dataRowId: rows[e.row].rowID.rawValue, globalKey: rows[e.row].globalKey, value: e.value, truth: e.truth,
                    predicted: e.predicted, other: e.other)
            },
            nextCursor: end < entries.count ? String(end) : "", total: UInt64(entries.count))
    }

    /// The one unit a diagnosis works on.
    static func single(_ units: [EvaluationUnit], run: AssayCore.ModelRun) throws(RPCError) -> EvaluationUnit {
        guard let unit = units.first else { throw RPCError(.failedPrecondition, "the runs map no feature in common") }
        guard units.count == 1 else {
            throw RPCError(
                .invalidArgument,
                "run \(run.id.rawValue) maps several features (\(units.flatMap(\.featureIDs).joined(separator: ", "))); name one with feature_id")
        }
        return unit
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for e in self { out.append(try await transform(e)) }
        return out
    }
}

/// Runs CPU-heavy work (COCO evaluation, bootstrap resamples) on a Dispatch thread, so a big
/// comparison never holds one of Swift's few cooperative threads, which every call shares.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
    }
}
