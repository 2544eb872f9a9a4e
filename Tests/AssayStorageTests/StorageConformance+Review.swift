import AssayCore
import AssayStorage
import Testing

/// Review's storage: the queue, atomic leases, append-only decisions, finalisation once.
extension StorageConformance {
    func reviewQueueAndLeases() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            let dataset = try await store.createDataset(organization: org.id, name: "d", description: "")
            let rows = try await store.upsertRows(
                organization: org.id, dataset: dataset.id, rows: (0..<3).map { NewDataRow(globalKey: "k\($0)", mediaType: .text, text: "t") }
            ).map(\.id)
            let ontology = try await store.createOntology(
                organization: org.id, name: "o", features: [Feature(id: "kind", name: "kind", kind: .radio, options: [FeatureOption(id: "a", value: "a")])])
            let project = try await store.createReviewProject(
                ReviewProject(
                    id: .random("rvp"), organizationID: org.id, name: "p", ontologyID: ontology.id, reviewersPerRow: 1, instructions: "",
                    consensus: .majority, tieBreakerKeyID: nil, createdAt: 1))
            #expect(try await store.reviewProjects(organization: org.id) == [project])
            await expectError(.notFound) { _ = try await store.reviewProject(organization: other.id, id: project.id) }
            let pre = Label(id: .random("lbl"), dataRowID: rows[1], ontologyID: ontology.id, featureID: "kind", value: .radio(optionID: "a"), confidencePPM: 10, createdAt: 5)
            let queued = try await store.queueReviewRows(
                organization: org.id, project: project.id, sendID: "s1",
                rows: [
                    NewReviewRow(rowID: rows[0], preLabels: [], priority: 0, conflict: .keepBoth, sourceRunID: nil),
                    NewReviewRow(rowID: rows[1], preLabels: [pre], priority: 9, conflict: .keepBoth, sourceRunID: nil),
                ], at: 10)
            #expect(queued == QueuedReviewRows(queued: 2, alreadyQueued: 0))
            let again = try await store.queueReviewRows(
                organization: org.id, project: project.id, sendID: "s2",
                rows: [NewReviewRow(rowID: rows[0], preLabels: [], priority: 0, conflict: .keepBoth, sourceRunID: nil)], at: 11)
            #expect(again == QueuedReviewRows(queued: 0, alreadyQueued: 1))
            #expect(try await store.reviewRowCount(organization: org.id, project: project.id, sendID: "s1") == 2)
            await expectError(.notFound) {
                _ = try await store.queueReviewRows(organization: other.id, project: project.id, sendID: "x", rows: [], at: 1)
            }

            let alice = ObjectID(rawValue: "key_alice")
            let bob = ObjectID(rawValue: "key_bob")
            // Highest priority first; a leased row is not handed to anyone else while the lease holds.
            let first = try #require(
                try await store.claimReviewTask(organization: org.id, project: project.id, reviewer: alice, reviewersPerRow: 1, now: 100, leaseUntil: 200))
            #expect(first.rowID == rows[1] && first.preLabels == [pre])
            let second = try #require(
                try await store.claimReviewTask(organization: org.id, project: project.id, reviewer: bob, reviewersPerRow: 1, now: 100, leaseUntil: 200))
            #expect(second.rowID == rows[0])
            #expect(try await store.claimReviewTask(organization: org.id, project: project.id, reviewer: bob, reviewersPerRow: 1, now: 150, leaseUntil: 250) == nil)
            // After alice's lease: bob gets her row; her submit is refused.
            let taken = try #require(
                try await store.claimReviewTask(organization: org.id, project: project.id, reviewer: bob, reviewersPerRow: 1, now: 201, leaseUntil: 300))
            #expect(taken.rowID == rows[1])
            let consensus: @Sendable ([SubmittedReview]) -> ReviewConsensus = { ReviewConsensus(labels: $0[0].labels, agreement: 1) }
            let late = try await store.submitReview(
                organization: org.id, assignment: first.id, reviewer: alice, decisions: [], result: [], skipReason: nil, reviewersPerRow: 1, at: 202,
                consensus: consensus)
            #expect(late == .failure(.expired(at: 200)))
            let wrongHolder = try await store.submitReview(
                organization: org.id, assignment: taken.id, reviewer: alice, decisions: [], result: [], skipReason: nil, reviewersPerRow: 1, at: 202,
                consensus: consensus)
            #expect(wrongHolder == .failure(.notHolder))
            await expectError(.notFound) {
                _ = try await store.submitReview(
                    organization: other.id, assignment: taken.id, reviewer: bob, decisions: [], result: [], skipReason: nil, reviewersPerRow: 1, at: 202,
                    consensus: consensus)
            }
            var accepted = pre
            accepted.id = .random("lbl")
            accepted.confidencePPM = nil
            let decision = ReviewDecisionRecord(
                assignmentID: taken.id, reviewerKeyID: bob, action: .accept, preLabelID: pre.id, label: nil, skipReason: nil, decidedAt: 210)
            let done = try await store.submitReview(
                organization: org.id, assignment: taken.id, reviewer: bob, decisions: [decision], result: [accepted], skipReason: nil,
                reviewersPerRow: 1, at: 210, consensus: consensus)
            #expect(try done.get().finalized?.labels.map(\.value) == [.radio(optionID: "a")])
            let twice = try await store.submitReview(
                organization: org.id, assignment: taken.id, reviewer: bob, decisions: [decision], result: [accepted], skipReason: nil,
                reviewersPerRow: 1, at: 211, consensus: consensus)
            #expect(twice == .failure(.alreadyAnswered(.submitted)))
            let labels = try await store.labels(organization: org.id, rows: [rows[1]])[rows[1]] ?? []
            #expect(labels.count == 1 && labels[0].modelRunID == nil && labels[0].value == .radio(optionID: "a"))

            let counts = try await store.reviewCounts(organization: org.id, project: project.id, at: 220)
            #expect(counts == ReviewCounts(rows: 2, finalized: 1, inReview: 0, leasesHeld: 0, reviewsSubmitted: 1, skips: 0, meanAgreement: 1))  // every lease ran out by 220
            let exported = try await store.reviewedRows(organization: org.id, project: project.id, after: 0, limit: 10, decisions: true)
            #expect(exported.map(\.rowID) == [rows[0], rows[1]])
            #expect(exported[1].finalized && exported[1].decisions == [decision] && exported[1].finalLabels.count == 1)
            #expect(try await store.reviewedRows(organization: org.id, project: project.id, after: exported[0].position, limit: 10, decisions: false).count == 1)
        }
    }
}
