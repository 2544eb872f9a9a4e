/// Classification metrics computed the way scikit-learn computes them, with `zero_division=0`:
/// a ratio whose denominator is zero is 0.
///
/// Labels are strings; use ``Classification/noLabel`` ("none") for a missing prediction or a missing
/// ground truth. Labels are ordered as sklearn orders them: the sorted union of the true and predicted
/// labels, compared by Unicode scalar values (Python's string order).
public enum Classification {
    /// The label for a missing prediction or a missing ground truth.
    public static let noLabel = "none"

    /// Precision, recall, F1 and support for one class, or for an average of classes.
    public struct Scores: Sendable, Hashable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// How many true instances of the class (for an average: of all classes).
        public var support: Int

        public init(precision: Double, recall: Double, f1: Double, support: Int) {
            self.precision = precision
            self.recall = recall
            self.f1 = f1
            self.support = support
        }
    }

    /// sklearn's `classification_report` for single-label data, plus the micro average.
    public struct Report: Sendable, Hashable {
        /// Every label, in sklearn's order; `perClass` and the confusion matrix follow it.
        public var labels: [String]
        public var perClass: [String: Scores]
        /// The fraction of pairs whose predicted label equals the true label (0 when there are none).
        public var accuracy: Double
        public var micro: Scores
        public var macro: Scores
        public var weighted: Scores
    }

    /// sklearn's `precision_recall_fscore_support` on a `MultiLabelBinarizer` indicator matrix.
    public struct MultiLabelReport: Sendable, Hashable {
        /// Every label seen in the truth or the predictions, sorted.
        public var labels: [String]
        public var perClass: [String: Scores]
        public var micro: Scores
        public var macro: Scores
        public var weighted: Scores
        /// The mean over samples of each sample's scores (`average="samples"`).
        public var samples: Scores
    }

    /// A square matrix of counts: `counts[i][j]` is how many items of true label `labels[i]` were
    /// predicted as `labels[j]` (sklearn's `confusion_matrix`).
    public struct ConfusionMatrix: Sendable, Hashable {
        public var labels: [String]
        public var counts: [[Int]]
    }

    /// The labels in sklearn's order: the sorted unique union of both arrays.
    public static func labels(truth: [String], predicted: [String]) -> [String] {
        sortedUnique(truth + predicted)
    }

    /// The fraction of positions where `predicted` equals `truth`.
    ///
    /// - Precondition: both arrays have the same length.
    public static func accuracy(truth: [String], predicted: [String]) -> Double {
        precondition(truth.count == predicted.count, "truth and predicted must pair up")
        let hits = zip(truth, predicted).count(where: { $0 == $1 })
        return ratio(hits, truth.count)
    }

    /// sklearn's `confusion_matrix(truth, predicted)` with its default label order.
    public static func confusionMatrix(truth: [String], predicted: [String]) -> ConfusionMatrix {
        precondition(truth.count == predicted.count, "truth and predicted must pair up")
        let labels = labels(truth: truth, predicted: predicted)
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
        for (t, p) in zip(truth, predicted) {
            counts[index[t]!][index[p]!] += 1
        }
        return ConfusionMatrix(labels: labels, counts: counts)
    }

    /// sklearn's `classification_report(truth, predicted, zero_division=0)`, with the micro average
    /// from `precision_recall_fscore_support(average="micro")`.
    public static func classificationReport(truth: [String], predicted: [String]) -> Report {
        let matrix = confusionMatrix(truth: truth, predicted: predicted)
        let n = matrix.labels.count
        let counts = (0..<n).map { i in
            Counts(
                truePositives: matrix.counts[i][i],
                predicted: (0..<n).reduce(0) { $0 + matrix.counts[$1][i] },
                actual: matrix.counts[i].reduce(0, +)
            )
        }
        let averages = Averages(counts)
        return Report(
            labels: matrix.labels,
            perClass: Dictionary(uniqueKeysWithValues: zip(matrix.labels, averages.perClass)),
            accuracy: accuracy(truth: truth, predicted: predicted),
            micro: averages.micro,
            macro: averages.macro,
            weighted: averages.weighted
        )
    }

    /// Multi-label (checklist) scores: each sample has a set of true labels and a set of predicted labels.
    ///
    /// Duplicates inside one sample count once, as `MultiLabelBinarizer` makes them.
    public static func multiLabelReport(truth: [[String]], predicted: [[String]]) -> MultiLabelReport {
        precondition(truth.count == predicted.count, "truth and predicted must pair up")
        let truthSets = truth.map(Set.init)
        let predictedSets = predicted.map(Set.init)
        let labels = sortedUnique(truth.flatMap { $0 } + predicted.flatMap { $0 })
        let counts = labels.map { label in
            Counts(
                truePositives: zip(truthSets, predictedSets).count(where: { $0.contains(label) && $1.contains(label) }),
                predicted: predictedSets.count(where: { $0.contains(label) }),
                actual: truthSets.count(where: { $0.contains(label) })
            )
        }
        let averages = Averages(counts)
        let perSample = zip(truthSets, predictedSets).map { t, p in
            Counts(truePositives: t.intersection(p).count, predicted: p.count, actual: t.count).scores
        }
        let samples = Scores(
            precision: mean(perSample.map(\.precision)),
            recall: mean(perSample.map(\.recall)),
            f1: mean(perSample.map(\.f1)),
            support: counts.reduce(0) { $0 + $1.actual }
        )
        return MultiLabelReport(
            labels: labels,
            perClass: Dictionary(uniqueKeysWithValues: zip(labels, averages.perClass)),
            micro: averages.micro,
            macro: averages.macro,
            weighted: averages.weighted,
            samples: samples
        )
    }
}

// MARK: - Machinery

extension Classification {
    /// The sufficient statistics of one class (or one sample).
    struct Counts {
        var truePositives: Int
        var predicted: Int
        var actual: Int

        /// sklearn's formulas: F = 2·tp / (actual + predicted), each 0 when its denominator is 0.
        var scores: Scores {
            Scores(
                precision: ratio(truePositives, predicted),
                recall: ratio(truePositives, actual),
                f1: ratio(2 * truePositives, actual + predicted),
                support: actual
            )
        }
    }

    /// Per-class scores and their micro, macro and support-weighted averages.
    struct Averages {
        var perClass: [Scores]
        var micro: Scores
        var macro: Scores
        var weighted: Scores

        init(_ counts: [Counts]) {
            perClass = counts.map(\.scores)
            let total = Counts(
                truePositives: counts.reduce(0) { $0 + $1.truePositives },
                predicted: counts.reduce(0) { $0 + $1.predicted },
                actual: counts.reduce(0) { $0 + $1.actual }
            )
            micro = total.scores
            macro = Scores(
                precision: mean(perClass.map(\.precision)),
                recall: mean(perClass.map(\.recall)),
                f1: mean(perClass.map(\.f1)),
                support: total.actual
            )
            // sklearn weights by support; when every weight is zero it falls back to the plain mean.
            let weights = perClass.map { Double($0.support) }
            weighted = total.actual == 0
                ? macro
                : Scores(
                    precision: weightedMean(perClass.map(\.precision), weights),
                    recall: weightedMean(perClass.map(\.recall), weights),
                    f1: weightedMean(perClass.map(\.f1), weights),
                    support: total.actual
                )
        }
    }

    static func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    static func weightedMean(_ values: [Double], _ weights: [Double]) -> Double {
        zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 } / weights.reduce(0, +)
    }

    /// Sorted by code point as Python sorts. (Equality is Swift's: canonically equivalent labels are one label.)
    static func sortedUnique(_ labels: [String]) -> [String] {
        Set(labels).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
