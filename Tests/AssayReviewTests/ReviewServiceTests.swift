import AssayCore
import AssayReview
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Synchronization
import Testing

@Suite struct ReviewServiceTests {
    /// Two reviewers work one queue at once; one abandons a task, which comes back after its
    /// lease; the final labels are what the decisions imply; review units are metered.
    @Test func twoReviewersWorkTheQueueAndAnAbandonedTaskReturns() async throws {
        let clock = TestClock()
        let harness = try await ServerHarness.start(clock: clock.read)
        let f = try await ReviewFixture.make(harness, rows: 8)
        let run = try await f.run { i in [.kind(f.optionA, confidence: 900_000), .box(10, 10, 20, 20, confidence: 800_000)] }
        let project = try await f.project()
        let sent = try await f.client.unary(
            ReviewService.send, SendToReviewRequest(projectId: project.id, runId: run.rawValue, conflict: .keepBoth, priority: 5))
        #expect(sent.rowsSent == 8)
        #expect(sent.units == 8)
        let charges = try await harness.storage.charges(organization: f.organization, cycle: nil).filter { $0.kind == .review }
        #expect(charges.map(\.units) == [8])

        let r1 = try await harness.client(key: try await harness.addKey(to: f.organization, role: .reviewer))
        let r2 = try await harness.client(key: try await harness.addKey(to: f.organization, role: .reviewer))
        // r1 claims a task with a 60 s lease and walks away from it.
        let abandoned = try #require(
            try await r1.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id, leaseSeconds: 60)).task)
        #expect(abandoned.preLabels.count == 2)
        #expect(abandoned.instructions == "check the kind")

        // Decisions by row: even rows accept everything; odd rows change the kind to b and reject the box.
        let index = Dictionary(uniqueKeysWithValues: f.rows.enumerated().map { ($1.rawValue, $0) })
        @Sendable func decisions(_ task: ReviewTask) -> [ReviewDecision] {
            let even = index[task.dataRowId]! % 2 == 0
            return task.preLabels.map { p in
                if even { return ReviewDecision(preLabelId: p.id, action: .accept) }
                if p.featureId == f.kindFeature {
                    var edited = p
                    edited.value = AssayWire.LabelValue(value: .radioOptionId(f.optionB))
                    return ReviewDecision(preLabelId: p.id, action: .edit, label: edited)
                }
                return ReviewDecision(preLabelId: p.id, action: .reject)
            }
        }
        let claimed = try await withThrowingTaskGroup(of: [(String, Int)].self) { group in
            for (n, reviewer) in [r1, r2].enumerated() {
                group.addTask {
                    var mine: [(String, Int)] = []
                    while let task = try await reviewer.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task {
                        mine.append((task.dataRowId, n))
                        let done = try await reviewer.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: decisions(task)))
                        #expect(done.rowFinalized)
                    }
                    return mine
                }
            }
            var all: [String: [Int]] = [:]
            for try await claims in group { for (row, n) in claims { all[row, default: []].append(n) } }
            return all
        }
        // Every row but the abandoned one, each handed out exactly once.
        #expect(Set(claimed.keys) == Set(f.rows.map(\.rawValue)).subtracting([abandoned.dataRowId]))
        #expect(claimed.values.allSatisfy { $0.count == 1 })

        // The lease runs out: the row goes back to the queue, and r1's late submit is refused.
        clock.advance(seconds: 61)
        let back = try #require(try await r2.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task)
        #expect(back.dataRowId == abandoned.dataRowId)
        #expect(back.id != abandoned.id)
        let late = await status { _ = try await r1.unary(ReviewService.submit, SubmitReviewRequest(taskId: abandoned.id, decisions: decisions(abandoned))) }
        #expect(late?.code == .failedPrecondition)
        #expect(late?.message.contains("expired") == true)
        let last = try await r2.unary(ReviewService.submit, SubmitReviewRequest(taskId: back.id, decisions: decisions(back)))
        #expect(last.rowFinalized)
        #expect(last.agreement == 1)
        #expect(try await r2.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task == nil)

        for (i, row) in f.rows.enumerated() {
            let expected =
                i % 2 == 0
                ? ["\(f.boxFeature)=\(AssayCore.LabelValue.boundingBox(left: 10, top: 10, width: 20, height: 20))",
                    "\(f.kindFeature)=\(AssayCore.LabelValue.radio(optionID: f.optionA))"].sorted()
                : ["\(f.kindFeature)=\(AssayCore.LabelValue.radio(optionID: f.optionB))"]
            #expect(try await f.groundTruth(row) == expected, "row \(i)")
        }
        let s = try await f.client.unary(ReviewService.status, ReviewStatusRequest(projectId: project.id))
        #expect(s.rows == 8 && s.rowsFinalized == 8 && s.reviewsSubmitted == 8 && s.leasesHeld == 0 && s.meanAgreement == 1)
        let exported = try await f.client.serverStreaming(
            ReviewService.export, ExportReviewRequest(projectId: project.id, includeDecisions: true)
        ) { rows in
            var all: [ReviewedRow] = []
            for try await r in rows { all.append(r) }
            return all
        }
        #expect(exported.count == 8 && exported.allSatisfy(\.finalized))
        #expect(exported.allSatisfy { $0.decisions.count == 2 && $0.decisions.allSatisfy { !$0.reviewerKeyId.isEmpty && $0.decidedAtMicros > 0 } })
        await harness.stop()
    }

    @Test func rolesAndOrganisationsAreChecked() async throws {
        let harness = try await ServerHarness.start()
        let f = try await ReviewFixture.make(harness, rows: 2)
        let run = try await f.run { _ in [.kind(f.optionA, confidence: 900_000)] }
        let project = try await f.project()
        _ = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: project.id, runId: run.rawValue))
        let reviewer = try await harness.client(key: try await harness.addKey(to: f.organization, role: .reviewer))
        let createRun = await status {
            _ = try await reviewer.unary(
                RunService.create, CreateRunRequest(modelId: "scripted", ontologyId: f.ontology.id, rows: RowSelection(datasetId: f.dataset)))
        }
        #expect(createRun?.code == .permissionDenied)
        #expect(await status { _ = try await reviewer.unary(BillingService.getAccount, GetAccountRequest()) }?.code == .permissionDenied)
        #expect(await status { _ = try await reviewer.unary(ReviewService.createProject, CreateReviewProjectRequest(name: "x", ontologyId: f.ontology.id)) }?.code == .permissionDenied)
        #expect(await status { _ = try await reviewer.unary(ReviewService.send, SendToReviewRequest(projectId: project.id, runId: run.rawValue)) }?.code == .permissionDenied)

        let task = try #require(try await reviewer.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task)
        // A member of another organisation sees neither the task nor the project.
        let (outsider, _, _) = try await harness.organization("other", role: .member)
        let foreign = await status {
            _ = try await outsider.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: [ReviewDecision(preLabelId: task.preLabels[0].id, action: .accept)]))
        }
        #expect(foreign?.code == .notFound)
        #expect(await status { _ = try await outsider.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)) }?.code == .notFound)
        // A member of the same organisation may review, but not answer someone else's lease.
        let member = try await harness.client(key: try await harness.addKey(to: f.organization, role: .member))
        let notHolder = await status {
            _ = try await member.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: [ReviewDecision(preLabelId: task.preLabels[0].id, action: .accept)]))
        }
        #expect(notHolder?.code == .permissionDenied)
        // Edits are checked against the ontology; every pre-label needs a decision.
        var wrong = task.preLabels[0]
        wrong.value = AssayWire.LabelValue(value: .radioOptionId("no-such-option"))
        let invalid = await status {
            _ = try await reviewer.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: [ReviewDecision(preLabelId: wrong.id, action: .edit, label: wrong)]))
        }
        #expect(invalid?.code == .invalidArgument && invalid?.message.contains("no-such-option") == true)
        #expect(await status { _ = try await reviewer.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id)) }?.code == .invalidArgument)
        // A skip gives the row back to others and is recorded.
        _ = try await reviewer.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, skip: true, skipReason: "blurry"))
        let again = try #require(try await member.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task)
        #expect(again.dataRowId == task.dataRowId)
        let s = try await f.client.unary(ReviewService.status, ReviewStatusRequest(projectId: project.id))
        #expect(s.skips == 1 && s.leasesHeld == 1)
        await harness.stop()
    }

    /// Rows 2, 5, 7 and 8 disagree (5 on both features); rows 1 and 4 are only low in confidence.
    @Test func budgetedRoutingPicksTheDisagreeingRowsFirstAndStopsAtTheBudget() async throws {
        let harness = try await ServerHarness.start()
        let f = try await ReviewFixture.make(harness, rows: 10)
        let a = try await f.run { i in
            [.kind(f.optionA, confidence: [1, 4].contains(i) ? 300_000 : 900_000), .box(0, 0, 10, 10, confidence: 900_000)]
        }
        let b = try await f.run { i in
            [.kind([2, 5, 7].contains(i) ? f.optionB : f.optionA, confidence: 900_000),
             [5, 8].contains(i) ? .box(50, 50, 10, 10, confidence: 900_000) : .box(1, 0, 10, 10, confidence: 900_000)]
        }
        func route(_ routing: ReviewRouting) async throws -> (SendToReviewResponse, AssayWire.ReviewProject) {
            let project = try await f.project()
            return (try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: project.id, routing: routing, conflict: .keepBoth)), project)
        }
        let order = Dictionary(uniqueKeysWithValues: f.rows.enumerated().map { ($1.rawValue, $0) })

        let (two, twoProject) = try await route(ReviewRouting(runId: a.rawValue, otherRunId: b.rawValue, maxUnits: 2))
        #expect(two.routed.map { order[$0.dataRowId]! } == [5, 2])
        #expect(two.candidates == 6)
        #expect(two.rowsSent == 2 && two.units == 2)
        let s = try await f.client.unary(ReviewService.status, ReviewStatusRequest(projectId: twoProject.id))
        #expect(s.rows == 2)

        let (four, _) = try await route(ReviewRouting(runId: a.rawValue, otherRunId: b.rawValue, maxUnits: 4))
        #expect(four.routed.map { order[$0.dataRowId]! } == [5, 2, 7, 8])
        #expect(four.routed.allSatisfy { $0.disagreement })

        let (six, _) = try await route(ReviewRouting(runId: a.rawValue, otherRunId: b.rawValue, maxRows: 5))
        #expect(six.routed.map { order[$0.dataRowId]! } == [5, 2, 7, 8, 1])
        #expect(six.routed.last?.disagreement == false && six.routed.last?.minConfidencePpm == 300_000)

        // One run: only low confidence routes.
        let (alone, _) = try await route(ReviewRouting(runId: a.rawValue))
        #expect(alone.routed.map { order[$0.dataRowId]! } == [1, 4])
        let reviewUnits = try await harness.storage.charges(organization: f.organization, cycle: nil).filter { $0.kind == .review }.map(\.units)
        #expect(reviewUnits.sorted() == [2, 2, 4, 5])
        await harness.stop()
    }

    @Test func conflictRulesAndRepeatedSends() async throws {
        let harness = try await ServerHarness.start()
        let f = try await ReviewFixture.make(harness, rows: 3)
        let run = try await f.run { _ in [.kind(f.optionB, confidence: 900_000)] }
        // Row 0 already has ground truth.
        let existing = AssayCore.Label(
            id: .random("lbl"), dataRowID: f.rows[0], ontologyID: ObjectID(rawValue: f.ontology.id), featureID: f.kindFeature,
            value: .radio(optionID: f.optionA))
        try await harness.storage.insertLabels(organization: f.organization, labels: [existing])
        let keep = try await f.project()
        let kept = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: keep.id, runId: run.rawValue, requestId: "r1"))
        #expect(kept.rowsSent == 2 && kept.rowsKeptExisting == 1)
        let repeated = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: keep.id, runId: run.rawValue, requestId: "r1"))
        #expect(repeated.rowsSent == 0 && repeated.units == 2)
        var charges = try await harness.storage.charges(organization: f.organization, cycle: nil).filter { $0.kind == .review }
        #expect(charges.map(\.units) == [2])  // billed once

        let override = try await f.project()
        _ = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: override.id, runId: run.rawValue, conflict: .override))
        let reviewer = try await harness.client(key: try await harness.addKey(to: f.organization, role: .reviewer))
        while let task = try await reviewer.unary(ReviewService.next, NextReviewTaskRequest(projectId: override.id)).task {
            if task.dataRowId == f.rows[0].rawValue { #expect(task.existingLabels.count == 1) }
            _ = try await reviewer.unary(
                ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: task.preLabels.map { ReviewDecision(preLabelId: $0.id, action: .accept) }))
        }
        // Override replaced row 0's "a" with the accepted "b".
        #expect(try await f.groundTruth(f.rows[0]) == ["\(f.kindFeature)=\(AssayCore.LabelValue.radio(optionID: f.optionB))"])
        charges = try await harness.storage.charges(organization: f.organization, cycle: nil).filter { $0.kind == .review }
        #expect(charges.map(\.units) == [2, 3])
        let bad = await status { _ = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: keep.id, runId: run.rawValue, datasetId: f.dataset)) }
        #expect(bad?.code == .invalidArgument)
        await harness.stop()
    }

    /// Three reviewers per row: the majority's answer wins, boxes are grouped by IoU.
    @Test func consensusByMajorityAndByTieBreaker() async throws {
        let harness = try await ServerHarness.start()
        let f = try await ReviewFixture.make(harness, rows: 1)
        let run = try await f.run { _ in [.kind(f.optionA, confidence: 900_000), .box(0, 0, 100, 100, confidence: 900_000)] }
        let project = try await f.project(reviewers: 3)
        _ = try await f.client.unary(ReviewService.send, SendToReviewRequest(projectId: project.id, runId: run.rawValue))
        var results: [SubmitReviewResponse] = []
        for n in 0..<3 {
            let reviewer = try await harness.client(key: try await harness.addKey(to: f.organization, role: .reviewer))
            let task = try #require(try await reviewer.unary(ReviewService.next, NextReviewTaskRequest(projectId: project.id)).task)
            let decisions = task.preLabels.map { p -> ReviewDecision in
                var edited = p
                if p.featureId == f.kindFeature {
                    // Reviewer 2 says b; the others accept a.
                    guard n == 2 else { return ReviewDecision(preLabelId: p.id, action: .accept) }
                    edited.value = AssayWire.LabelValue(value: .radioOptionId(f.optionB))
                } else {
                    // Boxes moved slightly (IoU well above 0.5) by reviewer 1; rejected by reviewer 2.
                    guard n != 2 else { return ReviewDecision(preLabelId: p.id, action: .reject) }
                    guard n == 1 else { return ReviewDecision(preLabelId: p.id, action: .accept) }
                    edited.value = AssayWire.LabelValue(value: .boundingBox(BoundingBox(left: 5, top: 0, width: 100, height: 100)))
                }
                return ReviewDecision(preLabelId: p.id, action: .edit, label: edited)
            }
            results.append(try await reviewer.unary(ReviewService.submit, SubmitReviewRequest(taskId: task.id, decisions: decisions)))
            #expect(results.last?.rowFinalized == (n == 2))
        }
        let final = try #require(results.last)
        // kind: 2 of 3 agree; box: one group of 2 of 3.
        #expect(abs(final.agreement - 2.0 / 3.0) < 1e-9)
        #expect(try await f.groundTruth(f.rows[0]) == [
            "\(f.boxFeature)=\(AssayCore.LabelValue.boundingBox(left: 0, top: 0, width: 100, height: 100))",
            "\(f.kindFeature)=\(AssayCore.LabelValue.radio(optionID: f.optionA))",
        ].sorted())
        await harness.stop()
    }
}

@Suite struct ConsensusTests {
    let org = ObjectID(rawValue: "org_1")
    func label(_ feature: String, _ value: AssayCore.LabelValue) -> AssayCore.Label {
        AssayCore.Label(id: .random("lbl"), dataRowID: ObjectID(rawValue: "dr_1"), ontologyID: ObjectID(rawValue: "ont_1"), featureID: feature, value: value)
    }

    @Test func aTieIsBrokenOnlyByTheDesignatedReviewer() {
        let alice = ObjectID(rawValue: "key_alice")
        let bob = ObjectID(rawValue: "key_bob")
        let reviews = [
            SubmittedReview(reviewerKeyID: alice, submittedAt: 1, labels: [label("k", .radio(optionID: "a"))]),
            SubmittedReview(reviewerKeyID: bob, submittedAt: 2, labels: [label("k", .radio(optionID: "b"))]),
        ]
        #expect(Consensus(rule: .majority, tieBreaker: nil).decide(reviews).labels.isEmpty)
        #expect(Consensus(rule: .tieBreaker, tieBreaker: bob).decide(reviews).labels.map(\.value) == [.radio(optionID: "b")])
        #expect(Consensus(rule: .tieBreaker, tieBreaker: alice).decide(reviews).labels.map(\.value) == [.radio(optionID: "a")])
        #expect(Consensus(rule: .majority, tieBreaker: nil).decide(reviews).agreement == 0.5)
    }

    @Test func boxesBelowTheIoUThresholdAreDifferentInstances() {
        let reviews = [
            SubmittedReview(reviewerKeyID: ObjectID(rawValue: "k1"), submittedAt: 1, labels: [label("box", .boundingBox(left: 0, top: 0, width: 10, height: 10))]),
            SubmittedReview(reviewerKeyID: ObjectID(rawValue: "k2"), submittedAt: 2, labels: [label("box", .boundingBox(left: 6, top: 0, width: 10, height: 10))]),
        ]
        // IoU 4/16 = 0.25: two groups of one vote each, neither a majority.
        let c = Consensus(rule: .majority, tieBreaker: nil).decide(reviews)
        #expect(c.labels.isEmpty)
        #expect(c.agreement == 0.5)
        #expect(abs(Consensus.overlap(.boundingBox(left: 0, top: 0, width: 10, height: 10), .boundingBox(left: 6, top: 0, width: 10, height: 10)) - 0.25) < 1e-12)
    }

    @Test func topCandidatesKeepsTheBestWithinItsCapacity() {
        var top = TopCandidates(capacity: 3)
        for i in 0..<50 {
            top.offer(RoutingPolicy.Candidate(rowID: ObjectID(rawValue: "r\(i)"), order: Int64(i), disagreement: i % 10 == 0 ? 0.5 : 0, minConfidencePPM: nil, score: Double(i % 7) / 10))
        }
        #expect(top.offered == 50)
        // Disagreeing rows (0, 10, 20, 30, 40) first, by score (i % 7): 20 (6), 40 (5), 10 (3).
        #expect(top.ranked().map(\.rowID.rawValue) == ["r20", "r40", "r10"])
    }
}
