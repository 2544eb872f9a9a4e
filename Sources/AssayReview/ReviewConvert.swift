public import AssayCore
public import AssayWire
import AssayCatalog

public typealias WireReviewProject = AssayWire.ReviewProject

/// The review service's wire messages to and from domain values.
public enum ReviewConvert {
    public static func project(_ p: AssayCore.ReviewProject) -> WireReviewProject {
        WireReviewProject(
            id: p.id.rawValue, name: p.name, ontologyId: p.ontologyID.rawValue, reviewersPerRow: UInt32(p.reviewersPerRow),
            instructions: p.instructions, consensus: consensus(p.consensus), tieBreakerKeyId: p.tieBreakerKeyID?.rawValue ?? "",
            createdAtMicros: p.createdAt)
    }

    public static func consensus(_ c: ConsensusRule) -> ReviewConsensusRule {
        switch c {
        case .majority: .majority
        case .tieBreaker: .tieBreaker
        }
    }

    /// Nil for a value this server does not know.
    public static func consensus(_ c: ReviewConsensusRule) -> ConsensusRule? {
        switch c {
        case .unspecified, .majority: .majority
        case .tieBreaker: .tieBreaker
        default: nil
        }
    }

    public static func conflict(_ c: ReviewConflictRule) -> ConflictRule? {
        switch c {
        case .unspecified, .keepExisting: .keepExisting
        case .override: .override
        case .keepBoth: .keepBoth
        default: nil
        }
    }

    public static func action(_ a: ReviewActionKind?) -> ReviewAction {
        switch a {
        case .accept?: .accept
        case .edit?: .edit
        case .reject?: .reject
        case .add?: .add
        case nil: .unspecified
        }
    }

    public static func action(_ a: ReviewAction) -> ReviewActionKind? {
        switch a {
        case .accept: .accept
        case .edit: .edit
        case .reject: .reject
        case .add: .add
        default: nil
        }
    }

    public static func decision(_ d: ReviewDecisionRecord, globalKey: String) -> RecordedDecision {
        RecordedDecision(
            taskId: d.assignmentID.rawValue, reviewerKeyId: d.reviewerKeyID.rawValue, action: action(d.action),
            preLabelId: d.preLabelID?.rawValue ?? "", label: d.label.map { Convert.label($0, globalKey: globalKey) },
            skipReason: d.skipReason ?? "", decidedAtMicros: d.decidedAt)
    }

    public static func row(_ r: ReviewedRowRecord) -> ReviewedRow {
        ReviewedRow(
            dataRowId: r.rowID.rawValue, globalKey: r.globalKey, finalized: r.finalized, agreement: r.agreement,
            finalLabels: r.finalLabels.map { Convert.label($0, globalKey: r.globalKey) },
            decisions: r.decisions.map { decision($0, globalKey: r.globalKey) })
    }
}
