public import AssayCore
public import AssayRPC
public import AssayStorage
import AssayAccess
import AssayCatalog
import AssayWire

/// `assay.v1.Review`: review projects, sending rows to review, the leased queue, decisions,
/// consensus and export (docs/review.md).
public struct ReviewProvider: RPCService {
    let store: any Storage
    let billing: any ReviewBilling
    /// Rows sent to review per review unit for an organisation (billing's price book).
    let reviewRowsPerUnit: @Sendable (ObjectID) async throws -> Int64
    let clock: @Sendable () -> Timestamp
    let sender: ReviewSender

    public static let defaultLeaseSeconds: UInt32 = 600
    public static let maximumLeaseSeconds: UInt32 = 86_400
    public static let maximumReviewersPerRow = 10

    public init(
        store: any Storage, billing: any ReviewBilling, reviewRowsPerUnit: @escaping @Sendable (ObjectID) async throws -> Int64,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.billing = billing
        self.reviewRowsPerUnit = reviewRowsPerUnit
        self.clock = clock
        self.sender = ReviewSender(store: store)
    }

    public func register(in router: inout Router) {
        router.unary(ReviewService.createProject) { request, context in
            let caller = try context.caller(for: .write)
            return ReviewConvert.project(try await createProject(request, caller: caller))
        }
        router.unary(ReviewService.getProject) { request, context in
            let caller = try context.caller(for: .read)
            return ReviewConvert.project(try await project(request.id, caller: caller))
        }
        router.unary(ReviewService.listProjects) { _, context in
            let caller = try context.caller(for: .read)
            return ListReviewProjectsResponse(projects: try await store.reviewProjects(organization: caller.organizationID).map(ReviewConvert.project))
        }
        router.unary(ReviewService.send) { request, context in
            let caller = try context.caller(for: .write)
            return try await send(request, caller: caller)
        }
        router.unary(ReviewService.next) { request, context in
            let caller = try context.caller(for: .review)
            return try await next(request, caller: caller)
        }
        router.unary(ReviewService.submit) { request, context in
            let caller = try context.caller(for: .review)
            return try await submit(request, caller: caller)
        }
        router.unary(ReviewService.status) { request, context in
            let caller = try context.caller(for: .read)
            let project = try await project(request.projectId, caller: caller)
            let c = try await store.reviewCounts(organization: caller.organizationID, project: project.id, at: clock())
            return ReviewStatus(
                project: ReviewConvert.project(project), rows: UInt64(c.rows), rowsFinalized: UInt64(c.finalized), rowsInReview: UInt64(c.inReview),
                leasesHeld: UInt64(c.leasesHeld), reviewsSubmitted: UInt64(c.reviewsSubmitted), skips: UInt64(c.skips), meanAgreement: c.meanAgreement)
        }
        router.serverStreaming(ReviewService.export) { request, writer, context in
            let caller = try context.caller(for: .read)
            let project = try await project(request.projectId, caller: caller)
            var after: Int64 = 0
            while true {
                let page = try await store.reviewedRows(
                    organization: caller.organizationID, project: project.id, after: after, limit: 200, decisions: request.includeDecisions)
                for row in page { try await writer.write(ReviewConvert.row(row)) }
                guard page.count == 200, let last = page.last else { break }
                after = last.position
            }
        }
    }

    private func project(_ id: String, caller: Caller) async throws -> AssayCore.ReviewProject {
        guard !id.isEmpty else { throw RPCError(.invalidArgument, "project_id is required") }
        return try await store.reviewProject(organization: caller.organizationID, id: ObjectID(rawValue: id))
    }

    func createProject(_ request: CreateReviewProjectRequest, caller: Caller) async throws -> AssayCore.ReviewProject {
        guard !request.name.isEmpty, request.name.utf8.count <= 200 else {
            throw RPCError(.invalidArgument, "a project needs a name of at most 200 bytes")
        }
        guard !request.ontologyId.isEmpty else { throw RPCError(.invalidArgument, "ontology_id is required") }
        guard request.instructions.utf8.count <= 100_000 else { throw RPCError(.invalidArgument, "instructions are at most 100,000 bytes") }
        let reviewers = request.reviewersPerRow == 0 ? 1 : Int(request.reviewersPerRow)
        guard reviewers <= Self.maximumReviewersPerRow else {
            throw RPCError(.invalidArgument, "reviewers_per_row is at most \(Self.maximumReviewersPerRow)")
        }
        guard let consensus = ReviewConvert.consensus(request.consensus) else {
            throw RPCError(.invalidArgument, "unknown consensus rule \(request.consensus.rawValue)")
        }
        var tieBreaker: ObjectID?
        if !request.tieBreakerKeyId.isEmpty {
            let keys = try await store.keys(organization: caller.organizationID)
            guard let key = keys.first(where: { $0.id.rawValue == request.tieBreakerKeyId }), key.revokedAt == nil, key.role.allows(.review) else {
                throw RPCError(.invalidArgument, "tie_breaker_key_id \(request.tieBreakerKeyId) is not a live key of this organisation that may review")
            }
            tieBreaker = key.id
        }
        if consensus == .tieBreaker && tieBreaker == nil {
            throw RPCError(.invalidArgument, "the tie-breaker rule needs tie_breaker_key_id")
        }
        let ontology = try await store.ontology(organization: caller.organizationID, id: ObjectID(rawValue: request.ontologyId))
        return try await store.createReviewProject(
            AssayCore.ReviewProject(
                id: .random("rvp"), organizationID: caller.organizationID, name: request.name, ontologyID: ontology.id,
                reviewersPerRow: reviewers, instructions: request.instructions, consensus: consensus, tieBreakerKeyID: tieBreaker,
                createdAt: clock()))
    }

    func send(_ request: SendToReviewRequest, caller: Caller) async throws -> SendToReviewResponse {
        let project = try await project(request.projectId, caller: caller)
        let sources = [!request.runId.isEmpty, !request.datasetId.isEmpty, request.routing != nil].filter { $0 }.count
        guard sources == 1 else { throw RPCError(.invalidArgument, "give exactly one of run_id, dataset_id or routing") }
        guard let conflict = ReviewConvert.conflict(request.conflict) else {
            throw RPCError(.invalidArgument, "unknown conflict rule \(request.conflict.rawValue)")
        }
        guard request.requestId.utf8.count <= 200 else { throw RPCError(.invalidArgument, "request_id is at most 200 bytes") }
        let ontology = try await store.ontology(organization: caller.organizationID, id: project.ontologyID)
        var explicit: [String: String] = [:]
        for m in request.featureMapping {
            guard !m.sourceFeatureId.isEmpty, explicit[m.sourceFeatureId] == nil else {
                throw RPCError(.invalidArgument, "feature_mapping: source feature \"\(m.sourceFeatureId)\" is empty or mapped twice")
            }
            guard ontology.featuresByID[m.projectFeatureId] != nil else {
                throw RPCError(.invalidArgument, "feature_mapping: \(m.projectFeatureId) is not a feature of the project's ontology \(ontology.name)")
            }
            explicit[m.sourceFeatureId] = m.projectFeatureId
        }
        let map = ReviewSender.FeatureMap(project: ontology, explicit: explicit)
        let source: ReviewSender.Source
        if !request.runId.isEmpty {
            source = .run(ObjectID(rawValue: request.runId))
        } else if !request.datasetId.isEmpty {
            source = .dataset(ObjectID(rawValue: request.datasetId))
        } else {
            let r = request.routing!
            guard !r.runId.isEmpty else { throw RPCError(.invalidArgument, "routing.run_id is required") }
            guard r.otherRunId != r.runId else { throw RPCError(.invalidArgument, "routing compares two different runs") }
            guard r.iouThreshold >= 0, r.iouThreshold <= 1 else { throw RPCError(.invalidArgument, "routing.iou_threshold is between 0 and 1") }
            guard r.confidenceThresholdPpm <= 1_000_000 else {
                throw RPCError(.invalidArgument, "routing.confidence_threshold_ppm is at most 1000000")
            }
            guard r.maxUnits >= 0 else { throw RPCError(.invalidArgument, "routing.max_units cannot be negative") }
            var limit = ReviewSender.maximumRoutedRows
            if r.maxRows > 0 { limit = min(limit, Int(clamping: r.maxRows)) }
            if r.maxUnits > 0 {
                let perUnit = try await reviewRowsPerUnit(caller.organizationID)
                let (rows, overflow) = r.maxUnits.multipliedReportingOverflow(by: max(1, perUnit))
                limit = min(limit, overflow ? limit : Int(clamping: rows))
            }
            source = .routing(
                run: ObjectID(rawValue: r.runId), other: r.otherRunId.isEmpty ? nil : ObjectID(rawValue: r.otherRunId),
                policy: RoutingPolicy(
                    iouThreshold: r.iouThreshold == 0 ? 0.5 : r.iouThreshold,
                    confidenceThresholdPPM: r.confidenceThresholdPpm == 0 ? 500_000 : Int(r.confidenceThresholdPpm)),
                limit: limit)
        }
        let sendID = request.requestId.isEmpty ? ObjectID.random("send").rawValue : "request:" + request.requestId
        let now = clock()
        let outcome = try await sender.send(
            organization: caller.organizationID, project: project, source: source, map: map, conflict: conflict, priority: Int(request.priority),
            sendID: sendID, at: now)
        // Billed for every row this send id put in the queue (so a repeated request bills the
        // same key again, which the ledger skips, and a send cut short is billed on retry).
        let billable = try await store.reviewRowCount(organization: caller.organizationID, project: project.id, sendID: sendID)
        var units: Int64 = 0
        if billable > 0 {
            let metered: BillingRefusal? = await meter(
                organization: caller.organizationID, key: "\(project.id.rawValue):\(sendID)", rows: billable, datasetIDs: outcome.datasetIDs, at: now)
            if let refusal = metered {
                throw RPCError(
                    Self.code(refusal.kind),
                    "the rows are queued but review units were not metered (repeat the send with the same request_id): \(refusal)")
            }
            let perUnit = max(1, try await reviewRowsPerUnit(caller.organizationID))
            units = (Int64(billable) + perUnit - 1) / perUnit
        }
        return SendToReviewResponse(
            rowsSent: UInt64(outcome.queued.queued), rowsAlreadyQueued: UInt64(outcome.queued.alreadyQueued),
            rowsKeptExisting: UInt64(outcome.keptExisting), units: units,
            routed: outcome.routed.map {
                RoutedRow(dataRowId: $0.rowID.rawValue, score: $0.score, disagreement: $0.disagreement > 0, minConfidencePpm: UInt32($0.minConfidencePPM ?? 0))
            },
            candidates: UInt64(outcome.candidates), unmappedPredictions: UInt64(outcome.unmapped))
    }

    /// Meters review units; the refusal when billing refused.
    private func meter(organization: ObjectID, key: String, rows: Int, datasetIDs: [ObjectID], at: Timestamp) async -> BillingRefusal? {
        do throws(BillingRefusal) {
            try await billing.meterReview(organization: organization, key: key, rows: rows, datasetIDs: datasetIDs, at: at)
            return nil
        } catch {
            return error
        }
    }

    private static func code(_ kind: BillingRefusal.Kind) -> RPCCode {
        switch kind {
        case .failedPrecondition: .failedPrecondition
        case .resourceExhausted: .resourceExhausted
        case .invalidArgument: .invalidArgument
        case .unavailable: .unavailable
        }
    }

    func next(_ request: NextReviewTaskRequest, caller: Caller) async throws -> NextReviewTaskResponse {
        let project = try await project(request.projectId, caller: caller)
        let seconds = request.leaseSeconds == 0 ? Self.defaultLeaseSeconds : request.leaseSeconds
        guard seconds <= Self.maximumLeaseSeconds else { throw RPCError(.invalidArgument, "lease_seconds is at most \(Self.maximumLeaseSeconds)") }
        let now = clock()
        guard
            let a = try await store.claimReviewTask(
                organization: caller.organizationID, project: project.id, reviewer: caller.keyID, reviewersPerRow: project.reviewersPerRow, now: now,
                leaseUntil: now + Int64(seconds) * 1_000_000)
        else { return NextReviewTaskResponse() }
        let row = try await store.row(organization: caller.organizationID, id: a.rowID)
        let existing = (try await store.labels(organization: caller.organizationID, rows: [a.rowID]))[a.rowID, default: []].filter {
            $0.modelRunID == nil && $0.ontologyID == project.ontologyID
        }
        return NextReviewTaskResponse(
            task: ReviewTask(
                id: a.id.rawValue, projectId: project.id.rawValue, dataRowId: a.rowID.rawValue, globalKey: row.globalKey, priority: Int32(clamping: a.priority),
                preLabels: a.preLabels.map { Convert.label($0, globalKey: row.globalKey) },
                existingLabels: existing.map { Convert.label($0, globalKey: row.globalKey) }, instructions: project.instructions,
                leaseExpiresAtMicros: a.leaseExpiresAt, row: Convert.row(row)))
    }

    func submit(_ request: SubmitReviewRequest, caller: Caller) async throws -> SubmitReviewResponse {
        guard !request.taskId.isEmpty else { throw RPCError(.invalidArgument, "task_id is required") }
        let taskID = ObjectID(rawValue: request.taskId)
        let a = try await store.reviewAssignment(organization: caller.organizationID, id: taskID)
        let now = clock()
        // Checked again atomically by the store; these give the precise reason early.
        guard a.reviewerKeyID == caller.keyID else { throw refusal(.notHolder, task: taskID) }
        guard a.state == .leased else { throw refusal(.alreadyAnswered(a.state), task: taskID) }
        guard a.leaseExpiresAt > now else { throw refusal(.expired(at: a.leaseExpiresAt), task: taskID) }
        let project = try await store.reviewProject(organization: caller.organizationID, id: a.projectID)
        var records: [ReviewDecisionRecord] = []
        var result: [AssayCore.Label] = []
        var skipReason: String?
        if request.skip {
            guard !request.skipReason.trimmingPrefixSpaces.isEmpty else { throw RPCError(.invalidArgument, "a skip needs a skip_reason") }
            guard request.skipReason.utf8.count <= 2_000 else { throw RPCError(.invalidArgument, "skip_reason is at most 2,000 bytes") }
            guard request.decisions.isEmpty else { throw RPCError(.invalidArgument, "a skip carries no decisions") }
            skipReason = request.skipReason
            records = [
                ReviewDecisionRecord(
                    assignmentID: taskID, reviewerKeyID: caller.keyID, action: nil, preLabelID: nil, label: nil, skipReason: request.skipReason,
                    decidedAt: now)
            ]
        } else {
            let ontology = try await store.ontology(organization: caller.organizationID, id: project.ontologyID)
            let row = try await store.row(organization: caller.organizationID, id: a.rowID)
            (records, result) = try Self.decide(
                request.decisions, acceptUndecided: request.acceptUndecided, assignment: a, ontology: ontology, row: row, reviewer: caller.keyID, at: now)
        }
        let consensus = Consensus(rule: project.consensus, tieBreaker: project.tieBreakerKeyID)
        let outcome = try await store.submitReview(
            organization: caller.organizationID, assignment: taskID, reviewer: caller.keyID, decisions: records, result: result, skipReason: skipReason,
            reviewersPerRow: project.reviewersPerRow, at: now, consensus: { consensus.decide($0) })
        switch outcome {
        case .failure(let r): throw refusal(r, task: taskID)
        case .success(let s):
            guard let final = s.finalized else { return SubmitReviewResponse() }
            let key = try? await store.row(organization: caller.organizationID, id: a.rowID).globalKey
            return SubmitReviewResponse(
                rowFinalized: true, agreement: final.agreement, finalLabels: final.labels.map { Convert.label($0, globalKey: key ?? "") })
        }
    }

    private func refusal(_ r: ReviewSubmitRefusal, task: ObjectID) -> RPCError {
        switch r {
        case .notHolder:
            RPCError(.permissionDenied, "review task \(task) is leased to another reviewer")
        case .expired(let at):
            RPCError(.failedPrecondition, "the lease on review task \(task) expired at \(at) (microseconds since the epoch); claim a task again with Next")
        case .alreadyAnswered(let state):
            RPCError(.failedPrecondition, "review task \(task) was already \(state.rawValue)")
        }
    }

    /// Checks the decisions against the pre-labels and the ontology and returns the records
    /// to append and the labels the review leaves (ground truth: no run, no confidence).
    static func decide(
        _ decisions: [ReviewDecision], acceptUndecided: Bool = false, assignment a: ReviewAssignment, ontology: AssayCore.Ontology, row: AssayCore.DataRow, reviewer: ObjectID, at: Timestamp
    ) throws(RPCError) -> ([ReviewDecisionRecord], [AssayCore.Label]) {
        let preLabels = Dictionary(a.preLabels.map { ($0.id, $0) }, uniquingKeysWith: { x, _ in x })
        var decided = Set<ObjectID>()
        var records: [ReviewDecisionRecord] = []
        var result: [AssayCore.Label] = []
        let textLength = row.text.isEmpty ? nil : row.text.unicodeScalars.count
        func groundTruth(_ l: AssayCore.Label) -> AssayCore.Label {
            var g = l
            g.modelRunID = nil
            g.confidencePPM = nil
            g.children = l.children.map(groundTruth)
            return g
        }
        func checked(_ wire: AssayWire.Label?, index: Int) throws(RPCError) -> AssayCore.Label {
            guard let wire else { throw RPCError(.invalidArgument, "decision \(index): an edit or an add needs a label") }
            switch Convert.label(wire, row: a.rowID, ontology: ontology.id, now: at) {
            case .failure(let e): throw RPCError(.invalidArgument, "decision \(index): \(e)")
            case .success(let l):
                let label = groundTruth(l)
                do {
                    try ontology.validate(label, textLength: textLength)
                } catch {
                    throw RPCError(.invalidArgument, "decision \(index): \(error)")
                }
                return label
            }
        }
        for (i, d) in decisions.enumerated() {
            guard let action = ReviewConvert.action(d.action) else {
                throw RPCError(.invalidArgument, "decision \(i): action must be ACCEPT, EDIT, REJECT or ADD")
            }
            var preLabel: AssayCore.Label?
            if action != .add {
                let id = ObjectID(rawValue: d.preLabelId)
                guard let p = preLabels[id] else {
                    throw RPCError(.invalidArgument, "decision \(i): \"\(d.preLabelId)\" is not a pre-label of this task")
                }
                guard decided.insert(id).inserted else { throw RPCError(.invalidArgument, "decision \(i): pre-label \(id) is decided twice") }
                preLabel = p
            } else if !d.preLabelId.isEmpty {
                throw RPCError(.invalidArgument, "decision \(i): an add names no pre-label")
            }
            var label: AssayCore.Label?
            switch action {
            case .accept:
                guard d.label == nil else { throw RPCError(.invalidArgument, "decision \(i): an accept carries no label (use EDIT to change it)") }
                result.append(groundTruth(preLabel!))
            case .reject:
                guard d.label == nil else { throw RPCError(.invalidArgument, "decision \(i): a reject carries no label") }
            case .edit, .add:
                var wire = d.label
                // An edit that names no feature keeps the pre-label's (move a box, fix a text).
                if action == .edit, wire?.featureId.isEmpty == true { wire?.featureId = preLabel!.featureID }
                let l = try checked(wire, index: i)
                label = l
                result.append(l)
            }
            records.append(
                ReviewDecisionRecord(
                    assignmentID: a.id, reviewerKeyID: reviewer, action: action, preLabelID: preLabel?.id, label: label, skipReason: nil, decidedAt: at))
        }
        var undecided = a.preLabels.map(\.id).filter { !decided.contains($0) }
        if acceptUndecided {
            for p in a.preLabels where undecided.contains(p.id) {
                result.append(groundTruth(p))
                records.append(
                    ReviewDecisionRecord(
                        assignmentID: a.id, reviewerKeyID: reviewer, action: .accept, preLabelID: p.id, label: nil, skipReason: nil, decidedAt: at))
            }
            undecided = []
        }
        guard undecided.isEmpty else {
            throw RPCError(
                .invalidArgument, "every pre-label needs a decision (accept, edit or reject); undecided: \(undecided.map(\.rawValue).joined(separator: ", "))")
        }
        var answered = Set<String>()
        for l in result where l.value.kind.isClassification {
            guard answered.insert(l.featureID).inserted else {
                throw RPCError(.invalidArgument, "feature \(l.featureID) is a classification and is answered more than once")
            }
        }
        return (records, result)
    }
}

extension String {
    /// The string without leading spaces and newlines (to tell an empty reason).
    fileprivate var trimmingPrefixSpaces: Substring { drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
}
