/// A labelled span of a text: `[start, end)` in whatever unit the caller uses (characters,
/// tokens), as named-entity annotations are.
public struct LabeledSpan: Sendable, Hashable {
    public var label: String
    public var start: Int
    public var end: Int

    public init(label: String, start: Int, end: Int) {
        self.label = label
        self.start = start
        self.end = end
    }
}

/// Span-level precision, recall and F1 with exact matching: a predicted span counts only when
/// a true span of the same document has the same label, start and end. This is what seqeval
/// reports for entity chunks (strict span match), with zero_division = 0.
public enum SpanMetrics {
    public struct Report: Sendable, Hashable {
        /// Sorted labels seen in the truth or the predictions.
        public var labels: [String]
        public var perLabel: [String: Classification.Scores]
        public var micro: Classification.Scores
        public var macro: Classification.Scores
        public var weighted: Classification.Scores
    }

    /// Spans of several documents, paired by position: `truth[i]` and `predicted[i]` belong to
    /// document i.
    public static func report(truth: [[LabeledSpan]], predicted: [[LabeledSpan]]) -> Report {
        precondition(truth.count == predicted.count, "one prediction list per document")
        var truePositives: [String: Int] = [:]
        var predictedCount: [String: Int] = [:]
        var trueCount: [String: Int] = [:]
        for (gold, guess) in zip(truth, predicted) {
            var remaining: [LabeledSpan: Int] = [:]
            for s in gold {
                remaining[s, default: 0] += 1
                trueCount[s.label, default: 0] += 1
            }
            for s in guess {
                predictedCount[s.label, default: 0] += 1
                if let n = remaining[s], n > 0 {
                    remaining[s] = n - 1
                    truePositives[s.label, default: 0] += 1
                }
            }
        }
        let labels = Set(trueCount.keys).union(predictedCount.keys).sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        func scores(tp: Int, predicted: Int, actual: Int) -> Classification.Scores {
            let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let r = actual == 0 ? 0 : Double(tp) / Double(actual)
            let f = p + r == 0 ? 0 : 2 * p * r / (p + r)
            return Classification.Scores(precision: p, recall: r, f1: f, support: actual)
        }
        var perLabel: [String: Classification.Scores] = [:]
        for l in labels {
            perLabel[l] = scores(tp: truePositives[l] ?? 0, predicted: predictedCount[l] ?? 0, actual: trueCount[l] ?? 0)
        }
        let totalTrue = trueCount.values.reduce(0, +)
        let micro = scores(tp: truePositives.values.reduce(0, +), predicted: predictedCount.values.reduce(0, +), actual: totalTrue)
        let n = Double(max(labels.count, 1))
        let all = labels.map { perLabel[$0]! }
        let macro = Classification.Scores(
            precision: all.map(\.precision).reduce(0, +) / n, recall: all.map(\.recall).reduce(0, +) / n,
            f1: all.map(\.f1).reduce(0, +) / n, support: totalTrue
        )
        let weight = Double(totalTrue)
        func weighted(_ key: KeyPath<Classification.Scores, Double>) -> Double {
            weight == 0 ? 0 : all.map { $0[keyPath: key] * Double($0.support) }.reduce(0, +) / weight
        }
        return Report(
            labels: labels, perLabel: perLabel, micro: micro, macro: macro,
            weighted: Classification.Scores(precision: weighted(\.precision), recall: weighted(\.recall), f1: weighted(\.f1), support: totalTrue)
        )
    }
}
