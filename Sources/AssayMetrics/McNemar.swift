#if canImport(Glibc)
import Glibc
#endif

/// McNemar's test of whether two classifiers, scored on the same rows, have the same error
/// rate. Only the discordant rows count: `b` rows that the first got right and the second got
/// wrong, `c` rows the other way round.
///
/// The two methods are statsmodels' `mcnemar(table, exact=..., correction=True)`:
/// - exact: statistic `min(b, c)`, p-value `min(1, 2 · BinomialCDF(min(b, c); b + c, ½))`;
/// - chi-square: statistic `(|b − c| − 1)² / (b + c)` (the continuity correction, applied even
///   when b = c, as statsmodels does), p-value the χ²(1) survival function `erfc(√(x/2))`.
///
/// ``Method/automatic`` (the default) is exact below 25 discordant rows and chi-square from 25.
public enum McNemar {
    /// Which form of the test to use.
    public enum Method: Sendable, Hashable {
        /// Exact when `b + c < exactBelow`, chi-square with continuity correction otherwise.
        case automatic(exactBelow: Int = 25)
        /// The exact binomial test (statsmodels' default, `exact=True`).
        case exact
        /// The chi-square approximation (`exact=False`), with or without continuity correction.
        case chiSquare(correction: Bool = true)
    }

    /// The test's outcome.
    public struct Result: Sendable, Hashable {
        /// Rows the first classifier got right and the second got wrong.
        public var b: Int
        /// Rows the first classifier got wrong and the second got right.
        public var c: Int
        /// `min(b, c)` for the exact test, the chi-square statistic otherwise (NaN when b + c = 0).
        public var statistic: Double
        public var pValue: Double
        /// Whether the exact binomial test was used.
        public var exact: Bool
    }

    /// Counts the discordant rows of two sets of predictions against the truth, then tests them.
    ///
    /// - Precondition: the three arrays have the same length.
    public static func test(truth: [String], first: [String], second: [String], method: Method = .automatic())
        -> Result
    {
        precondition(truth.count == first.count && truth.count == second.count, "the three arrays must pair up")
        var b = 0, c = 0
        for i in truth.indices {
            let firstRight = first[i] == truth[i], secondRight = second[i] == truth[i]
            if firstRight && !secondRight { b += 1 }
            if !firstRight && secondRight { c += 1 }
        }
        return test(b: b, c: c, method: method)
    }

    /// Tests the discordant counts `b` and `c`.
    public static func test(b: Int, c: Int, method: Method = .automatic()) -> Result {
        precondition(b >= 0 && c >= 0, "counts cannot be negative")
        let n = b + c
        let useExact: Bool
        var correction = true
        switch method {
        case .automatic(let threshold): useExact = n < threshold
        case .exact: useExact = true
        case .chiSquare(let corrected):
            useExact = false
            correction = corrected
        }
        if useExact {
            let k = min(b, c)
            return Result(b: b, c: c, statistic: Double(k), pValue: min(1, 2 * binomialCDFHalf(k, n)), exact: true)
        }
        let diff = Double(abs(b - c)) - (correction ? 1 : 0)
        let statistic = diff * diff / Double(n)
        return Result(b: b, c: c, statistic: statistic, pValue: chiSquareOneSurvival(statistic), exact: false)
    }

    /// P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so large n neither under- nor overflows.
    static func binomialCDFHalf(_ k: Int, _ n: Int) -> Double {
        if k >= n { return 1 }
        if k < 0 { return 0 }
        let logHalfN = -Double(n) * log(2.0)
        // log C(n, i) by the recurrence C(n, i+1) = C(n, i) · (n − i) / (i + 1).
        var logTerms: [Double] = []
        logTerms.reserveCapacity(k + 1)
        var logBinomial = 0.0
        for i in 0...k {
            logTerms.append(logBinomial + logHalfN)
            logBinomial += log(Double(n - i)) - log(Double(i + 1))
        }
        let top = logTerms.max()!
        let sum = logTerms.reduce(0.0) { $0 + exp($1 - top) }
        return min(1, exp(top + log(sum)))
    }

    /// The survival function of the chi-square distribution with one degree of freedom.
    static func chiSquareOneSurvival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return erfc((x / 2).squareRoot())
    }
}
