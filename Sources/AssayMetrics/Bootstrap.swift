/// SplitMix64 (Steele, Lea and Flood): a tiny, fast, seedable generator whose whole definition
/// fits in a comment, so anyone can reproduce a bootstrap from its seed in any language.
///
///     state += 0x9E3779B97F4A7C15           (mod 2^64)
///     z = state
///     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
///     z = (z ^ (z >> 27)) * 0x94D049BB133111EB
///     return z ^ (z >> 31)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A row index in `0..<count`: the high 64 bits of the 128-bit product `next() · count`
    /// (Lemire's multiply-shift, without rejection; its bias is below count / 2^64).
    public mutating func index(below count: Int) -> Int {
        precondition(count > 0, "nothing to draw from")
        return Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }
}

/// Paired bootstrap intervals for the difference of a metric between two runs on the same rows.
///
/// The resampling, exactly (so it can be reproduced elsewhere):
/// 1. a ``SplitMix64`` is seeded with `seed`;
/// 2. for each of `resamples` rounds, `count` indices are drawn in order, each
///    `index(below: count)`; the same indices are used for both runs (the pairing);
/// 3. the round's delta is `metric(indices).second − metric(indices).first`;
/// 4. the interval is the (1 − confidence)/2 and (1 + confidence)/2 percentiles of the deltas,
///    with numpy's default linear interpolation (`np.percentile(deltas, [2.5, 97.5])` for 95%).
///
/// `Fixtures/make_bootstrap_fixtures.py` reimplements this in Python and checks the numbers.
public enum PairedBootstrap {
    /// A delta with its interval.
    public struct Interval: Sendable, Hashable {
        /// The first run's metric on all rows.
        public var first: Double
        /// The second run's metric on all rows.
        public var second: Double
        /// `second − first` on all rows.
        public var delta: Double
        public var lower: Double
        public var upper: Double
        public var confidence: Double
        public var resamples: Int
        public var seed: UInt64
    }

    /// Bootstraps `metric`, which gets the resampled row indices (with repeats) and returns the
    /// metric of the first and of the second run on those rows.
    ///
    /// - Precondition: `count > 0`, `resamples > 0`, `0 < confidence < 1`.
    public static func delta(
        count: Int, resamples: Int = 1000, seed: UInt64, confidence: Double = 0.95,
        metric: ([Int]) -> (first: Double, second: Double)
    ) -> Interval {
        precondition(count > 0 && resamples > 0, "need rows and resamples")
        precondition(confidence > 0 && confidence < 1, "confidence is a fraction")
        let whole = metric(Array(0..<count))
        var generator = SplitMix64(seed: seed)
        var deltas: [Double] = []
        deltas.reserveCapacity(resamples)
        var indices = [Int](repeating: 0, count: count)
        for _ in 0..<resamples {
            for i in 0..<count { indices[i] = generator.index(below: count) }
            let m = metric(indices)
            deltas.append(m.second - m.first)
        }
        deltas.sort()
        let tail = (1 - confidence) / 2 * 100
        return Interval(
            first: whole.first, second: whole.second, delta: whole.second - whole.first,
            lower: percentile(sorted: deltas, tail), upper: percentile(sorted: deltas, 100 - tail),
            confidence: confidence, resamples: resamples, seed: seed)
    }

    /// The paired bootstrap of a per-row score averaged over rows (accuracy from 0/1 correctness,
    /// token F1, a per-row loss): the metric of a resample is the mean of its rows' scores.
    public static func meanDelta(
        first: [Double], second: [Double], resamples: Int = 1000, seed: UInt64, confidence: Double = 0.95
    ) -> Interval {
        precondition(first.count == second.count, "both runs must score the same rows")
        return delta(count: first.count, resamples: resamples, seed: seed, confidence: confidence) { rows in
            var a = 0.0, b = 0.0
            for r in rows {
                a += first[r]
                b += second[r]
            }
            return (a / Double(rows.count), b / Double(rows.count))
        }
    }

    /// `np.percentile(values, q)` (linear interpolation) of ascending `values`.
    static func percentile(sorted values: [Double], _ q: Double) -> Double {
        let position = q / 100 * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, values.count - 1)
        let t = position - Double(below)
        let a = values[below], b = values[above]
        // numpy's _lerp: a + (b − a)·t, computed from the other end when t ≥ ½.
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }
}
