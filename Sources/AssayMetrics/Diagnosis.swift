#if canImport(Glibc)
import Glibc
#endif

/// Pure ranking helpers for finding the rows worth a look: highest loss, disagreement between
/// runs, lowest IoU, and the rows behind a confusion-matrix cell. Every ranking is stable: rows
/// with equal values keep their input order, so the same input always gives the same list.
public enum Diagnosis {
    /// A row and the value it was ranked by.
    public struct RankedRow<ID: Hashable & Sendable>: Sendable, Hashable {
        public var id: ID
        public var value: Double
        public init(id: ID, value: Double) {
            self.id = id
            self.value = value
        }
    }

    /// Rows by descending loss; NaN losses last. `limit` keeps the first ones (nil: all).
    public static func rankedByLoss<ID>(ids: [ID], losses: [Double], limit: Int? = nil) -> [RankedRow<ID>] {
        precondition(ids.count == losses.count, "one loss per row")
        return rank(ids: ids, values: losses, descending: true, limit: limit)
    }

    /// Rows by ascending IoU (the worst localised first); NaN last.
    public static func rankedByLowestIoU<ID>(ids: [ID], ious: [Double], limit: Int? = nil) -> [RankedRow<ID>] {
        precondition(ids.count == ious.count, "one IoU per row")
        return rank(ids: ids, values: ious, descending: false, limit: limit)
    }

    /// The rows on which two runs disagree. With `confidences` (of either run, e.g. the higher
    /// of the two), the most confident disagreements come first; otherwise input order. The value
    /// is the confidence, or 1.
    public static func disagreements<ID>(
        ids: [ID], first: [String], second: [String], confidences: [Double]? = nil, limit: Int? = nil
    ) -> [RankedRow<ID>] {
        precondition(ids.count == first.count && ids.count == second.count, "the arrays must pair up")
        let rows = ids.indices.filter { first[$0] != second[$0] }
        let values = rows.map { confidences?[$0] ?? 1 }
        return rank(ids: rows.map { ids[$0] }, values: values, descending: true, limit: limit)
    }

    /// Per-row cross-entropy `−ln p` from the probability a model gave the true label, clamped
    /// to [1e-15, 1] as sklearn's `log_loss` clips.
    public static func logLoss(probabilityOfTruth p: Double) -> Double {
        -log(min(max(p, 1e-15), 1))
    }

    /// The rows whose true label is `truth` and predicted label is `predicted` (one cell of
    /// ``Classification/confusionMatrix(truth:predicted:)``), in input order.
    public static func rows<ID>(ids: [ID], truth: [String], predicted: [String], inCell cell: (truth: String, predicted: String))
        -> [ID]
    {
        precondition(ids.count == truth.count && ids.count == predicted.count, "the arrays must pair up")
        return ids.indices.filter { truth[$0] == cell.truth && predicted[$0] == cell.predicted }.map { ids[$0] }
    }

    static func rank<ID>(ids: [ID], values: [Double], descending: Bool, limit: Int?) -> [RankedRow<ID>] {
        let order = values.indices.sorted { i, j in
            let a = values[i], b = values[j]
            if a.isNaN != b.isNaN { return b.isNaN }
            if !a.isNaN && a != b { return descending ? a > b : a < b }
            return i < j
        }
        return order.prefix(limit ?? order.count).map { RankedRow(id: ids[$0], value: values[$0]) }
    }
}
