import AssayCore
import AssayStorage
import AssayRPC

/// Puts rows into a project's queue: from a run (its predictions as pre-labels), a dataset,
/// or a routing of runs. Reads rows a page at a time, so memory stays bounded by the page
/// (and, for routing, by the budget).
struct ReviewSender: Sendable {
    let store: any Storage
    static let pageSize = 500
    /// The most rows one routed send can pick.
    static let maximumRoutedRows = 100_000

    /// Where a send's rows come from.
    enum Source {
        case run(ObjectID)
        case dataset(ObjectID)
        case routing(run: ObjectID, other: ObjectID?, policy: RoutingPolicy, limit: Int)
    }

    struct Outcome {
        var queued = QueuedReviewRows(queued: 0, alreadyQueued: 0)
        var keptExisting = 0
        var unmapped = 0
        var candidates = 0
        var routed: [RoutingPolicy.Candidate] = []
        var datasetIDs: [ObjectID] = []
    }

    /// Maps a run's prediction features onto the project's ontology.
    struct FeatureMap {
        let project: AssayCore.Ontology
        let explicit: [String: String]
        /// The project feature for `feature`: the mapping's, else itself when the project has it.
        func target(_ feature: String) -> String? {
            if let t = explicit[feature] { return t }
            return project.featuresByID[feature] == nil ? nil : feature
        }

        /// The prediction as a pre-label of the project (children mapped too); nil when it does not fit.
        func preLabel(_ p: AssayCore.Label, row: AssayCore.DataRow?) -> AssayCore.Label? {
            func map(_ l: AssayCore.Label) -> AssayCore.Label? {
                guard let feature = target(l.featureID) else { return nil }
                var out = l
                out.id = .random("lbl")
                out.featureID = feature
                out.ontologyID = project.id
                out.children = []
                for c in l.children {
                    guard let mc = map(c) else { return nil }
                    out.children.append(mc)
                }
                return out
            }
            guard let mapped = map(p) else { return nil }
            let textLength = row.flatMap { $0.text.isEmpty ? nil : $0.text.unicodeScalars.count }
            do {
                try project.validate(mapped, textLength: textLength)
            } catch {
                return nil
            }
            return mapped
        }
    }

    func send(
        organization: ObjectID, project: AssayCore.ReviewProject, source: Source, map: FeatureMap, conflict: ConflictRule, priority: Int,
        sendID: String, at: Timestamp
    ) async throws -> Outcome {
        var outcome = Outcome()
        switch source {
        case .run(let runID):
            let run = try await store.run(organization: organization, id: runID)
            outcome.datasetIDs = run.datasetIDs
            var after: Int64 = 0
            while true {
                let page = try await store.runRows(organization: organization, run: runID, failedOnly: false, after: after, limit: Self.pageSize)
                guard let last = page.last else { break }
                after = last.position
                try await queue(
                    organization: organization, project: project, rows: page.map(\.rowID), run: runID, map: map, conflict: conflict,
                    priority: priority, sendID: sendID, at: at, into: &outcome)
                if page.count < Self.pageSize { break }
            }
        case .dataset(let datasetID):
            _ = try await store.dataset(organization: organization, id: datasetID)
            outcome.datasetIDs = [datasetID]
            var cursor: String? = nil
            repeat {
                let page = try await store.rows(organization: organization, dataset: datasetID, metadataFilter: [:], after: cursor, limit: Self.pageSize)
                try await queue(
                    organization: organization, project: project, rows: page.items.map(\.id), run: nil, map: map, conflict: conflict,
                    priority: priority, sendID: sendID, at: at, into: &outcome)
                cursor = page.nextCursor
            } while cursor != nil
        case .routing(let runID, let otherID, let policy, let limit):
            let run = try await store.run(organization: organization, id: runID)
            if let otherID { _ = try await store.run(organization: organization, id: otherID) }
            outcome.datasetIDs = run.datasetIDs
            var top = TopCandidates(capacity: limit)
            var after: Int64 = 0
            while true {
                let page = try await store.runRows(organization: organization, run: runID, failedOnly: false, after: after, limit: Self.pageSize)
                guard let last = page.last else { break }
                after = last.position
                let labels = try await store.labels(organization: organization, rows: page.map(\.rowID))
                for row in page {
                    let all = labels[row.rowID] ?? []
                    // Compared in project features, so runs over different ontologies line up.
                    func mapped(_ run: ObjectID) -> [AssayCore.Label] {
                        all.filter { $0.modelRunID == run }.compactMap { l in
                            map.target(l.featureID).map { f in
                                var m = l
                                m.featureID = f
                                return m
                            }
                        }
                    }
                    if let c = policy.score(
                        rowID: row.rowID, order: row.position, predictions: mapped(runID), other: otherID.map { mapped($0) })
                    {
                        top.offer(c)
                    }
                }
                if page.count < Self.pageSize { break }
            }
            outcome.candidates = top.offered
            outcome.routed = top.ranked()
            var start = 0
            while start < outcome.routed.count {
                let chunk = outcome.routed[start..<min(outcome.routed.count, start + Self.pageSize)]
                start += chunk.count
                try await queue(
                    organization: organization, project: project, rows: chunk.map(\.rowID), run: runID, map: map, conflict: conflict,
                    priority: priority, sendID: sendID, at: at, into: &outcome)
            }
        }
        return outcome
    }

    /// Queues `rows` (in this order) with `run`'s predictions as pre-labels, applying the conflict rule.
    private func queue(
        organization: ObjectID, project: AssayCore.ReviewProject, rows: [ObjectID], run: ObjectID?, map: FeatureMap, conflict: ConflictRule,
        priority: Int, sendID: String, at: Timestamp, into outcome: inout Outcome
    ) async throws {
        guard !rows.isEmpty else { return }
        let labels = try await store.labels(organization: organization, rows: rows)
        var batch: [NewReviewRow] = []
        batch.reserveCapacity(rows.count)
        for rowID in rows {
            let all = labels[rowID] ?? []
            let labelled = all.contains { $0.modelRunID == nil && $0.ontologyID == project.ontologyID }
            if labelled && conflict == .keepExisting {
                outcome.keptExisting += 1
                continue
            }
            var preLabels: [AssayCore.Label] = []
            if let run {
                let predictions = all.filter { $0.modelRunID == run }
                // Text spans are checked against the row's text; other rows need no read.
                let needsRow = predictions.contains { $0.value.kind == .textSpan }
                let row = needsRow ? try? await store.row(organization: organization, id: rowID) : nil
                for p in predictions {
                    if let l = map.preLabel(p, row: row) { preLabels.append(l) } else { outcome.unmapped += 1 }
                }
            }
            batch.append(NewReviewRow(rowID: rowID, preLabels: preLabels, priority: priority, conflict: conflict, sourceRunID: run))
        }
        guard !batch.isEmpty else { return }
        let queued = try await store.queueReviewRows(organization: organization, project: project.id, sendID: sendID, rows: batch, at: at)
        outcome.queued.queued += queued.queued
        outcome.queued.alreadyQueued += queued.alreadyQueued
    }
}
