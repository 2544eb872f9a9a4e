import Foundation

/// How one battle between two models ended.
public enum BattleOutcome: String, Hashable, Sendable, CaseIterable {
    case modelA = "model_a"
    case modelB = "model_b"
    case tie
}

/// One comparison of two models' answers to the same prompt (a judged pair).
public struct Battle: Hashable, Sendable {
    public var modelA: String
    public var modelB: String
    public var winner: BattleOutcome

    public init(modelA: String, modelB: String, winner: BattleOutcome) {
        self.modelA = modelA
        self.modelB = modelB
        self.winner = winner
    }
}

/// Why ratings cannot be fitted.
public enum BradleyTerryError: Error, Hashable, Sendable, CustomStringConvertible {
    case noBattles
    /// A battle of a model against itself.
    case selfBattle(String)
    /// The anchor is not among the battles' models.
    case unknownAnchor(String)
    /// The maximum-likelihood ratings do not exist (the likelihood grows without bound):
    /// `unbeaten` never lost to nor tied with any model of `others`.
    case diverges(unbeaten: [String], others: [String])

    public var description: String {
        switch self {
        case .noBattles: "no battles to rate"
        case .selfBattle(let m): "a battle of \(m) against itself"
        case .unknownAnchor(let m): "the anchor \(m) is in no battle"
        case .diverges(let unbeaten, let others):
            "ratings do not exist (the likelihood grows without bound): \(unbeaten.joined(separator: ", ")) never lost to "
                + "nor tied with \(others.joined(separator: ", ")); more battles between them are needed"
        }
    }
}

/// Bradley-Terry ratings on the Elo scale, fitted by maximum likelihood as the Chatbot Arena
/// does it (an unpenalised logistic regression without intercept):
///
///     P(a beats b) = 1 / (1 + 10^(−(β_a − β_b)))        rating = 400·β + 1000
///
/// A tie counts as half a win for each side. Ratings are only defined up to a common shift:
/// with an anchor, the anchor's rating is exactly 1000; without one, the ratings average 1000
/// (the solution scikit-learn's default solver reaches from zero). The fit is Newton's method
/// on the concave log-likelihood, to machine precision. `Fixtures/make_bradley_terry_fixtures.py`
/// checks it against scikit-learn.
public enum BradleyTerry {
    public static let scale = 400.0
    public static let initialRating = 1000.0

    /// Ratings by model, and the sorted model names they cover.
    public struct Ratings: Hashable, Sendable {
        public var models: [String]
        public var ratings: [Double]
        public subscript(model: String) -> Double? {
            models.firstIndex(of: model).map { ratings[$0] }
        }
    }

    /// Battle counts between models: `games[i][j]` battles, `wins[i][j]` won by i (ties ½).
    struct Tally {
        var models: [String]
        var games: [[Double]]
        var wins: [[Double]]

        init(models: [String]) {
            self.models = models
            games = Array(repeating: Array(repeating: 0, count: models.count), count: models.count)
            wins = games
        }

        mutating func add(_ a: Int, _ b: Int, _ outcome: BattleOutcome) {
            games[a][b] += 1
            games[b][a] += 1
            switch outcome {
            case .modelA: wins[a][b] += 1
            case .modelB: wins[b][a] += 1
            case .tie:
                wins[a][b] += 0.5
                wins[b][a] += 0.5
            }
        }
    }

    /// The models of `battles`, sorted, with each battle as indices into them.
    static func index(_ battles: [Battle]) throws(BradleyTerryError) -> (models: [String], pairs: [(Int, Int, BattleOutcome)]) {
        guard !battles.isEmpty else { throw .noBattles }
        var names = Set<String>()
        for b in battles {
            guard b.modelA != b.modelB else { throw .selfBattle(b.modelA) }
            names.insert(b.modelA)
            names.insert(b.modelB)
        }
        let models = names.sorted()
        var position: [String: Int] = [:]
        for (i, m) in models.enumerated() { position[m] = i }
        return (models, battles.map { (position[$0.modelA]!, position[$0.modelB]!, $0.winner) })
    }

    /// Maximum-likelihood ratings of every model in `battles`.
    public static func fit(_ battles: [Battle], anchor: String? = nil) throws(BradleyTerryError) -> Ratings {
        let (models, pairs) = try index(battles)
        var anchorIndex: Int? = nil
        if let anchor {
            guard let i = models.firstIndex(of: anchor) else { throw .unknownAnchor(anchor) }
            anchorIndex = i
        }
        var tally = Tally(models: models)
        for (a, b, outcome) in pairs { tally.add(a, b, outcome) }
        return Ratings(models: models, ratings: try fit(tally, anchor: anchorIndex))
    }

    /// Checks that the maximum-likelihood estimate exists: the "i won something against j"
    /// graph is strongly connected (Zermelo, Ford).
    static func checkIdentifiable(_ tally: Tally) throws(BradleyTerryError) {
        let n = tally.models.count
        func reach(forward: Bool) -> [Bool] {
            var seen = Array(repeating: false, count: n)
            var stack = [0]
            seen[0] = true
            while let i = stack.popLast() {
                for j in 0..<n where !seen[j] && (forward ? tally.wins[i][j] : tally.wins[j][i]) > 0 {
                    seen[j] = true
                    stack.append(j)
                }
            }
            return seen
        }
        let forward = reach(forward: true)
        if forward.contains(false) {
            // The reached models never beat (nor tied) the others: the others never lost to them.
            let others = (0..<n).filter { forward[$0] }.map { tally.models[$0] }
            let unbeaten = (0..<n).filter { !forward[$0] }.map { tally.models[$0] }
            throw .diverges(unbeaten: unbeaten, others: others)
        }
        let backward = reach(forward: false)
        if backward.contains(false) {
            let unbeaten = (0..<n).filter { backward[$0] }.map { tally.models[$0] }
            let others = (0..<n).filter { !backward[$0] }.map { tally.models[$0] }
            throw .diverges(unbeaten: unbeaten, others: others)
        }
    }

    /// Newton's method with the anchor's β fixed at 0 (index 0 when no anchor, then centred).
    static func fit(_ tally: Tally, anchor: Int?) throws(BradleyTerryError) -> [Double] {
        let n = tally.models.count
        if n == 1 { return [initialRating] }
        try checkIdentifiable(tally)
        let fixed = anchor ?? 0
        let free = (0..<n).filter { $0 != fixed }
        let c = log(10.0)
        var beta = Array(repeating: 0.0, count: n)

        func logLikelihood(_ beta: [Double]) -> Double {
            var total = 0.0
            for i in 0..<n {
                for j in 0..<n where i != j && tally.wins[i][j] > 0 {
                    // log σ(d) computed stably.
                    let d = c * (beta[i] - beta[j])
                    total += tally.wins[i][j] * (d >= 0 ? -log1p(exp(-d)) : d - log1p(exp(d)))
                }
            }
            return total
        }

        var current = logLikelihood(beta)
        for _ in 0..<200 {
            var gradient = Array(repeating: 0.0, count: n)
            var hessian = Array(repeating: Array(repeating: 0.0, count: n), count: n)  // of −ℓ
            for i in 0..<n {
                for j in 0..<n where i != j && tally.games[i][j] > 0 {
                    let p = 1 / (1 + exp(-c * (beta[i] - beta[j])))
                    gradient[i] += c * (tally.wins[i][j] - tally.games[i][j] * p)
                    let h = c * c * tally.games[i][j] * p * (1 - p)
                    hessian[i][i] += h
                    hessian[i][j] -= h
                }
            }
            let g = free.map { gradient[$0] }
            if g.map(abs).max()! < 1e-13 * max(1, Double(n)) { break }
            let h = free.map { i in free.map { j in hessian[i][j] } }
            guard let step = solve(h, g) else { break }
            var t = 1.0
            var accepted = false
            while t > 1e-10 {
                var candidate = beta
                for (k, i) in free.enumerated() { candidate[i] += t * step[k] }
                let value = logLikelihood(candidate)
                if value >= current - 1e-15 * abs(current) {
                    beta = candidate
                    current = value
                    accepted = true
                    break
                }
                t /= 2
            }
            if !accepted || step.map(abs).max()! * t < 1e-15 { break }
        }
        if anchor == nil {
            let mean = beta.reduce(0, +) / Double(n)
            for i in 0..<n { beta[i] -= mean }
        }
        return beta.map { scale * $0 + initialRating }
    }

    /// Solves `a·x = b` for a symmetric positive-definite `a` (Gaussian elimination, partial pivoting).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a
        var x = b
        for col in 0..<n {
            var pivot = col
            for r in col + 1..<max(col + 1, n) where abs(m[r][col]) > abs(m[pivot][col]) { pivot = r }
            guard abs(m[pivot][col]) > 1e-300 else { return nil }
            if pivot != col {
                m.swapAt(pivot, col)
                x.swapAt(pivot, col)
            }
            for r in col + 1..<max(col + 1, n) {
                let f = m[r][col] / m[col][col]
                if f == 0 { continue }
                for k in col..<n { m[r][k] -= f * m[col][k] }
                x[r] -= f * x[col]
            }
        }
        for col in stride(from: n - 1, through: 0, by: -1) {
            var s = x[col]
            for k in col + 1..<max(col + 1, n) { s -= m[col][k] * x[k] }
            x[col] = s / m[col][col]
        }
        return x
    }
}
