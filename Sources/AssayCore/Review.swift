/// How a reviewed row's final labels are chosen from its reviews (docs/review.md).
public enum ConsensusRule: String, Hashable, Sendable, CaseIterable {
    /// An answer given by more than half of the row's reviewers; a tie leaves it out.
    case majority
    /// The answer given most often; the designated reviewer's answer breaks ties.
    case tieBreaker = "tie_breaker"
}

/// What a send from a run does to a row that already has ground-truth labels.
public enum ConflictRule: String, Hashable, Sendable, CaseIterable {
    /// The row is not sent; its labels stay.
    case keepExisting = "keep_existing"
    /// The row is sent; its final labels replace the existing ground truth of the project's ontology.
    case override
    /// The row is sent; the final labels are added beside the existing ones.
    case keepBoth = "keep_both"
}

/// A review project: an ontology, how many reviewers see each row, and how they agree.
public struct ReviewProject: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    public var ontologyID: ObjectID
    public var reviewersPerRow: Int
    public var instructions: String
    public var consensus: ConsensusRule
    /// The key whose answer breaks ties under `.tieBreaker`.
    public var tieBreakerKeyID: ObjectID?
    public var createdAt: Timestamp

    public init(
        id: ObjectID, organizationID: ObjectID, name: String, ontologyID: ObjectID, reviewersPerRow: Int, instructions: String,
        consensus: ConsensusRule, tieBreakerKeyID: ObjectID?, createdAt: Timestamp
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.ontologyID = ontologyID
        self.reviewersPerRow = reviewersPerRow
        self.instructions = instructions
        self.consensus = consensus
        self.tieBreakerKeyID = tieBreakerKeyID
        self.createdAt = createdAt
    }
}

/// A row about to be queued for review, with its pre-labels (already mapped to the project's ontology).
public struct NewReviewRow: Hashable, Sendable {
    public var rowID: ObjectID
    public var preLabels: [Label]
    public var priority: Int
    public var conflict: ConflictRule
    public var sourceRunID: ObjectID?

    public init(rowID: ObjectID, preLabels: [Label], priority: Int, conflict: ConflictRule, sourceRunID: ObjectID?) {
        self.rowID = rowID
        self.preLabels = preLabels
        self.priority = priority
        self.conflict = conflict
        self.sourceRunID = sourceRunID
    }
}

/// What queueing a batch of rows did.
public struct QueuedReviewRows: Hashable, Sendable {
    public var queued: Int
    /// Rows the project had already (from any send): left as they were.
    public var alreadyQueued: Int
    public init(queued: Int, alreadyQueued: Int) {
        self.queued = queued
        self.alreadyQueued = alreadyQueued
    }
}

/// One reviewer's lease on one queued row: what `Next` hands out and `Submit` answers.
public struct ReviewAssignment: Hashable, Sendable {
    public enum State: String, Hashable, Sendable {
        case leased, submitted, skipped
    }
    public var id: ObjectID
    public var projectID: ObjectID
    public var rowID: ObjectID
    public var reviewerKeyID: ObjectID
    public var priority: Int
    public var preLabels: [Label]
    public var conflict: ConflictRule
    public var state: State
    public var leasedAt: Timestamp
    public var leaseExpiresAt: Timestamp

    public init(
        id: ObjectID, projectID: ObjectID, rowID: ObjectID, reviewerKeyID: ObjectID, priority: Int, preLabels: [Label], conflict: ConflictRule,
        state: State, leasedAt: Timestamp, leaseExpiresAt: Timestamp
    ) {
        self.id = id
        self.projectID = projectID
        self.rowID = rowID
        self.reviewerKeyID = reviewerKeyID
        self.priority = priority
        self.preLabels = preLabels
        self.conflict = conflict
        self.state = state
        self.leasedAt = leasedAt
        self.leaseExpiresAt = leaseExpiresAt
    }
}

/// What a reviewer did about one pre-label (or a label they added).
public enum ReviewActionKind: String, Hashable, Sendable, CaseIterable {
    case accept, edit, reject, add
}

/// One recorded decision: append-only, with who and when.
public struct ReviewDecisionRecord: Hashable, Sendable {
    public var assignmentID: ObjectID
    public var reviewerKeyID: ObjectID
    /// Nil for a skip.
    public var action: ReviewActionKind?
    public var preLabelID: ObjectID?
    /// The label an edit or an add gives.
    public var label: Label?
    public var skipReason: String?
    public var decidedAt: Timestamp

    public init(
        assignmentID: ObjectID, reviewerKeyID: ObjectID, action: ReviewActionKind?, preLabelID: ObjectID?, label: Label?, skipReason: String?,
        decidedAt: Timestamp
    ) {
        self.assignmentID = assignmentID
        self.reviewerKeyID = reviewerKeyID
        self.action = action
        self.preLabelID = preLabelID
        self.label = label
        self.skipReason = skipReason
        self.decidedAt = decidedAt
    }
}

/// One submitted review of a row: the labels its decisions leave.
public struct SubmittedReview: Hashable, Sendable {
    public var reviewerKeyID: ObjectID
    public var submittedAt: Timestamp
    public var labels: [Label]
    public init(reviewerKeyID: ObjectID, submittedAt: Timestamp, labels: [Label]) {
        self.reviewerKeyID = reviewerKeyID
        self.submittedAt = submittedAt
        self.labels = labels
    }
}

/// A row's final labels and how much its reviewers agreed (0...1).
public struct ReviewConsensus: Hashable, Sendable {
    public var labels: [Label]
    public var agreement: Double
    public init(labels: [Label], agreement: Double) {
        self.labels = labels
        self.agreement = agreement
    }
}

/// What a submit did.
public struct ReviewSubmission: Hashable, Sendable {
    /// Set when this review completed the row and the store finalised it.
    public var finalized: ReviewConsensus?
    public init(finalized: ReviewConsensus?) { self.finalized = finalized }
}

/// Why a submit was refused by the store (the lease is the store's to check, atomically).
public enum ReviewSubmitRefusal: Error, Hashable, Sendable {
    case notHolder
    case expired(at: Timestamp)
    case alreadyAnswered(ReviewAssignment.State)
}

/// A project's counters.
public struct ReviewCounts: Hashable, Sendable {
    public var rows: Int
    public var finalized: Int
    public var inReview: Int
    public var leasesHeld: Int
    public var reviewsSubmitted: Int
    public var skips: Int
    public var meanAgreement: Double
    public init(rows: Int, finalized: Int, inReview: Int, leasesHeld: Int, reviewsSubmitted: Int, skips: Int, meanAgreement: Double) {
        self.rows = rows
        self.finalized = finalized
        self.inReview = inReview
        self.leasesHeld = leasesHeld
        self.reviewsSubmitted = reviewsSubmitted
        self.skips = skips
        self.meanAgreement = meanAgreement
    }
}

/// A queued row as exported: its final labels once finalised, and its decisions.
public struct ReviewedRowRecord: Hashable, Sendable {
    public var position: Int64
    public var rowID: ObjectID
    public var globalKey: String
    public var finalized: Bool
    public var agreement: Double
    public var finalLabels: [Label]
    public var decisions: [ReviewDecisionRecord]
    public init(
        position: Int64, rowID: ObjectID, globalKey: String, finalized: Bool, agreement: Double, finalLabels: [Label],
        decisions: [ReviewDecisionRecord]
    ) {
        self.position = position
        self.rowID = rowID
        self.globalKey = globalKey
        self.finalized = finalized
        self.agreement = agreement
        self.finalLabels = finalLabels
        self.decisions = decisions
    }
}
