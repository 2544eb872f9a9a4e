public import AssayCore

/// Turns a row's reviews into its final labels and an agreement score (docs/review.md).
///
/// Per feature: classifications (radio, checklist, free text) group the reviewers' answers
/// by exact value, with "no answer" as an answer of its own; tools (boxes, polygons, text
/// spans) group instances across reviewers by overlap (IoU at least `iouThreshold`; a
/// polygon by its bounding box, a span by its characters), each group holding at most one
/// instance per reviewer. A group is kept by the project's rule: `majority` keeps it when
/// more than half of the reviewers are in it; `tieBreaker` also keeps a group with exactly
/// half when the designated reviewer is in it (or, when they did not review the row, the
/// first reviewer to submit). Among classification answers only the best group can win.
///
/// Agreement of a feature: for a classification, the share of reviewers in the largest
/// group; for a tool, the mean share over its groups. A row's agreement is the mean over
/// the features any reviewer labelled (1 when nobody labelled anything).
public struct Consensus: Sendable {
    public var rule: ConsensusRule
    public var tieBreaker: ObjectID?
    public var iouThreshold: Double

    public init(rule: ConsensusRule, tieBreaker: ObjectID?, iouThreshold: Double = 0.5) {
        self.rule = rule
        self.tieBreaker = tieBreaker
        self.iouThreshold = iouThreshold
    }

    /// A group of equivalent labels, one per reviewer at most (by review index).
    private struct Group {
        var members: [(review: Int, label: Label)]
        var reviews: Set<Int> { Set(members.map(\.review)) }
    }

    public func decide(_ reviews: [SubmittedReview]) -> ReviewConsensus {
        let n = reviews.count
        guard n > 0 else { return ReviewConsensus(labels: [], agreement: 1) }
        // The review whose answer breaks ties: the designated reviewer's, else the first submitted.
        let deciding = reviews.firstIndex { $0.reviewerKeyID == tieBreaker } ?? 0
        var features: [String] = []
        var kinds: [String: FeatureKind] = [:]
        for review in reviews {
            for label in review.labels where kinds[label.featureID] == nil {
                kinds[label.featureID] = label.value.kind
                features.append(label.featureID)
            }
        }
        var final: [Label] = []
        var agreements: [Double] = []
        for feature in features {
            let kind = kinds[feature]!
            if kind.isClassification {
                var groups: [Group] = []
                var answered = Set<Int>()
                for (i, review) in reviews.enumerated() {
                    guard let label = review.labels.first(where: { $0.featureID == feature }) else { continue }
                    answered.insert(i)
                    if let g = groups.firstIndex(where: { Self.sameAnswer($0.members[0].label.value, label.value) }) {
                        groups[g].members.append((i, label))
                    } else {
                        groups.append(Group(members: [(i, label)]))
                    }
                }
                let none = n - answered.count
                let best = groups.map(\.members.count).max() ?? 0
                agreements.append(Double(max(best, none)) / Double(n))
                switch rule {
                case .majority:
                    if let winner = groups.first(where: { $0.members.count * 2 > n }) {
                        final.append(representative(winner, deciding: deciding))
                    }
                case .tieBreaker:
                    // "No answer" competes like any answer; a tie goes to the deciding reviewer's answer.
                    let top = max(best, none)
                    let leaders = groups.filter { $0.members.count == top }
                    if leaders.count == 1 && none < top {
                        final.append(representative(leaders[0], deciding: deciding))
                    } else if let winner = leaders.first(where: { $0.reviews.contains(deciding) }) {
                        final.append(representative(winner, deciding: deciding))
                    }
                }
            } else {
                var groups: [Group] = []
                for (i, review) in reviews.enumerated() {
                    for label in review.labels where label.featureID == feature {
                        var bestGroup: Int?
                        var bestIoU = iouThreshold
                        for (g, group) in groups.enumerated() where !group.reviews.contains(i) {
                            let iou = Self.overlap(group.members[0].label.value, label.value)
                            if iou >= bestIoU {
                                bestIoU = iou
                                bestGroup = g
                            }
                        }
                        if let bestGroup {
                            groups[bestGroup].members.append((i, label))
                        } else {
                            groups.append(Group(members: [(i, label)]))
                        }
                    }
                }
                agreements.append(groups.map { Double($0.members.count) / Double(n) }.reduce(0, +) / Double(max(1, groups.count)))
                for group in groups where kept(group, n: n, deciding: deciding) {
                    final.append(representative(group, deciding: deciding))
                }
            }
        }
        let agreement = agreements.isEmpty ? 1 : agreements.reduce(0, +) / Double(agreements.count)
        return ReviewConsensus(labels: final, agreement: agreement)
    }

    private func kept(_ group: Group, n: Int, deciding: Int) -> Bool {
        let votes = group.members.count
        if votes * 2 > n { return true }
        return rule == .tieBreaker && votes * 2 == n && group.reviews.contains(deciding)
    }

    /// The deciding reviewer's version when they are in the group, else the first reviewer's; with a fresh id.
    private func representative(_ group: Group, deciding: Int) -> Label {
        var label = (group.members.first { $0.review == deciding } ?? group.members[0]).label
        label.id = .random("lbl")
        label.children = label.children.map(Self.freshIDs)
        return label
    }

    private static func freshIDs(_ label: Label) -> Label {
        var l = label
        l.id = .random("lbl")
        l.children = l.children.map(freshIDs)
        return l
    }

    /// Exact match for classification answers (a checklist as a set of options).
    static func sameAnswer(_ a: LabelValue, _ b: LabelValue) -> Bool {
        switch (a, b) {
        case (.checklist(let x), .checklist(let y)): Set(x) == Set(y)
        default: a == b
        }
    }

    /// IoU of two tool values of the same kind (0 for different kinds).
    public static func overlap(_ a: LabelValue, _ b: LabelValue) -> Double {
        switch (a, b) {
        case (.textSpan(let s1, let e1), .textSpan(let s2, let e2)):
            let intersection = max(0, min(e1, e2) - max(s1, s2))
            let union = max(e1, e2) - min(s1, s2)
            return union > 0 ? Double(intersection) / Double(union) : 0
        default:
            guard let r1 = rectangle(a), let r2 = rectangle(b) else { return a == b ? 1 : 0 }
            return iou(r1, r2)
        }
    }

    /// A box, or a polygon's bounding box, as (left, top, right, bottom).
    static func rectangle(_ v: LabelValue) -> (Double, Double, Double, Double)? {
        switch v {
        case .boundingBox(let l, let t, let w, let h): return (l, t, l + w, t + h)
        case .polygon(let points):
            guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(), let minY = points.map(\.y).min(),
                let maxY = points.map(\.y).max()
            else { return nil }
            return (minX, minY, maxX, maxY)
        default: return nil
        }
    }

    static func iou(_ a: (Double, Double, Double, Double), _ b: (Double, Double, Double, Double)) -> Double {
        let w = max(0, min(a.2, b.2) - max(a.0, b.0))
        let h = max(0, min(a.3, b.3) - max(a.1, b.1))
        let intersection = w * h
        let union = (a.2 - a.0) * (a.3 - a.1) + (b.2 - b.0) * (b.3 - b.1) - intersection
        return union > 0 ? intersection / union : 0
    }
}
