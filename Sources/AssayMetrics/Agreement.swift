/// How far two sets of labels for the same rows agree: two model runs, or a run and a reviewer.
public enum Agreement {
    /// How disagreements between ordered labels are weighted in ``cohensKappa(_:_:weights:)``.
    public enum KappaWeights: Sendable, Hashable {
        /// Every disagreement counts 1 (sklearn's `weights=None`).
        case none
        /// `|i - j|` for labels at positions i and j of the sorted label list.
        case linear
        /// `(i - j)²`.
        case quadratic
    }

    /// The fraction of rows on which `a` and `b` give the same label (0 when there are no rows).
    ///
    /// - Precondition: both arrays have the same length.
    public static func rate(_ a: [String], _ b: [String]) -> Double {
        Classification.accuracy(truth: a, predicted: b)
    }

    /// Cohen's kappa as sklearn's `cohen_kappa_score(a, b, weights=...)` computes it: labels are
    /// the sorted union of both arrays, the expected matrix is the outer product of the two
    /// marginals over the total, and `1 - Σ w·observed / Σ w·expected`. NaN when it is undefined
    /// (no rows, or both raters used one and the same label), as sklearn's `replace_undefined_by`.
    ///
    /// - Precondition: both arrays have the same length.
    public static func cohensKappa(_ a: [String], _ b: [String], weights: KappaWeights = .none) -> Double {
        precondition(a.count == b.count, "both raters must label the same rows")
        let matrix = Classification.confusionMatrix(truth: a, predicted: b)
        let n = matrix.labels.count
        if n == 0 { return .nan }
        let counts = matrix.counts
        // sum0 = column sums (rater b), sum1 = row sums (rater a); expected = outer(sum0, sum1) / total.
        let sum0 = (0..<n).map { j in Double((0..<n).reduce(0) { $0 + counts[$1][j] }) }
        let sum1 = (0..<n).map { i in Double(counts[i].reduce(0, +)) }
        let total = sum0.reduce(0, +)
        var numerator = 0.0, denominator = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let w: Double
                switch weights {
                case .none: w = i == j ? 0 : 1
                case .linear: w = Double(abs(i - j))
                case .quadratic: w = Double((i - j) * (i - j))
                }
                numerator += w * Double(counts[i][j])
                denominator += w * (sum0[i] * sum1[j] / total)
            }
        }
        if denominator == 0 || denominator.isNaN { return .nan }
        return 1 - numerator / denominator
    }
}
