public import AssayCore

/// One annotation's verdict on two candidates' responses to one prompt.
public struct Vote: Hashable, Sendable {
    public enum Source: String, Hashable, Sendable { case judge, human }
    public var promptRowID: ObjectID
    /// Candidate indices; `first` is the one shown first (A) for humans.
    public var first: Int
    public var second: Int
    /// Candidate index of the winner; nil for a tie.
    public var winner: Int?
    public var source: Source
    public var annotator: String
    /// Rank gap (1 for an A/B verdict).
    public var margin: Int
    /// Candidate indices in the order shown (A first).
    public var shown: [Int]
    public var firstVerdict: String = ""
    public var secondVerdict: String = ""
    public var consistent: Bool = true
    public var rationale: String = ""
    public var taskID: String = ""
}

/// The judge's verdicts on one pair in both orders.
public struct JudgeVerdicts: Hashable, Sendable {
    public var promptRowID: ObjectID
    public var i: Int
    public var j: Int
    /// "A", "B" or "tie" with i shown as A; nil when that order has no answer (yet, or failed).
    public var iFirst: String?
    /// ... with j shown as A.
    public var jFirst: String?
}

/// Turning verdicts and rankings into votes, pairs and the position-bias report.
public enum Judgments {
    /// The verdict in candidate terms: the winner's index, nil for a tie.
    static func winner(_ verdict: String, a: Int, b: Int) -> Int?? {
        switch verdict {
        case "A": return .some(a)
        case "B": return .some(b)
        case "tie": return .some(nil)
        default: return nil
        }
    }

    /// The judge's vote on a pair: consistent verdicts stand; inconsistent ones become a tie or
    /// are dropped, per `rule`. Nil when an order is missing or dropped.
    public static func vote(_ v: JudgeVerdicts, judge: String, rule: InconsistentVerdictRule) -> Vote? {
        guard let x = v.iFirst, let y = v.jFirst, let first = winner(x, a: v.i, b: v.j), let second = winner(y, a: v.j, b: v.i) else { return nil }
        let consistent = first == second
        if !consistent && rule == .drop { return nil }
        return Vote(
            promptRowID: v.promptRowID, first: v.i, second: v.j, winner: consistent ? first : nil, source: .judge, annotator: judge, margin: 1,
            shown: [v.i, v.j], firstVerdict: x, secondVerdict: y, consistent: consistent)
    }

    /// Position bias of the judge over every pair judged in both orders.
    public struct PositionBias: Hashable, Sendable {
        public var judgedPairs = 0
        public var consistent = 0
        public var firstShownWins = 0
        public var secondShownWins = 0
        public var ties = 0
        public var consistency: Double { judgedPairs == 0 ? 0 : Double(consistent) / Double(judgedPairs) }
        public var firstShownRate: Double {
            let all = firstShownWins + secondShownWins + ties
            return all == 0 ? 0 : Double(firstShownWins) / Double(all)
        }
    }

    public static func positionBias(_ verdicts: [JudgeVerdicts]) -> PositionBias {
        var bias = PositionBias()
        for v in verdicts {
            guard let x = v.iFirst, let y = v.jFirst, let a = winner(x, a: v.i, b: v.j), let b = winner(y, a: v.j, b: v.i) else { continue }
            bias.judgedPairs += 1
            if a == b { bias.consistent += 1 }
            for verdict in [x, y] {
                switch verdict {
                case "A": bias.firstShownWins += 1
                case "B": bias.secondShownWins += 1
                default: bias.ties += 1
                }
            }
        }
        return bias
    }

    /// Why a ranking was refused.
    public struct RankingError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a ranking of the responses shown as A, B, C, …: letters best first, separated by
    /// ">" (better) or "=" (tie), e.g. "B > A = D > C". Every shown letter exactly once.
    /// Returns tiers: groups of shown positions, best first.
    public static func parseRanking(_ text: String, shown count: Int) throws(RankingError) -> [[Int]] {
        var tiers: [[Int]] = [[]]
        var seen = Set<Int>()
        var expectLetter = true
        for ch in text.uppercased() where !ch.isWhitespace && ch != "," {
            if expectLetter {
                guard let ascii = ch.asciiValue, ascii >= 65, Int(ascii) - 65 < count else {
                    throw RankingError(description: "ranking \"\(text)\": \(ch) is not one of the \(count) responses shown (A to \(Character(UnicodeScalar(UInt8(64 + count)))))")
                }
                let position = Int(ascii) - 65
                guard seen.insert(position).inserted else { throw RankingError(description: "ranking \"\(text)\" names \(ch) twice") }
                tiers[tiers.count - 1].append(position)
                expectLetter = false
            } else {
                switch ch {
                case ">": tiers.append([])
                case "=": break
                default: throw RankingError(description: "ranking \"\(text)\": expected > or = after a letter, found \(ch)")
                }
                expectLetter = true
            }
        }
        guard !expectLetter || seen.isEmpty else { throw RankingError(description: "ranking \"\(text)\" ends with a separator") }
        guard seen.count == count else {
            throw RankingError(description: "ranking \"\(text)\" must order all \(count) responses shown (A to \(Character(UnicodeScalar(UInt8(64 + count)))))")
        }
        return tiers
    }

    /// The n(n−1)/2 votes a ranking implies, in ranking order: the best against every later
    /// one, then the second against every later one, and so on; members of a tier tie.
    /// `shown[k]` is the candidate shown at position k.
    public static func votes(
        ranking tiers: [[Int]], shown: [Int], promptRowID: ObjectID, reviewer: String, rationale: String, taskID: String
    ) -> [Vote] {
        let ordered = tiers.enumerated().flatMap { t, tier in tier.map { (tier: t, candidate: shown[$0]) } }
        var out: [Vote] = []
        for x in 0..<ordered.count {
            for y in x + 1..<ordered.count {
                let a = ordered[x], b = ordered[y]
                let tie = a.tier == b.tier
                out.append(
                    Vote(
                        promptRowID: promptRowID, first: a.candidate, second: b.candidate, winner: tie ? nil : a.candidate, source: .human,
                        annotator: reviewer, margin: b.tier - a.tier, shown: shown, rationale: rationale, taskID: taskID))
            }
        }
        return out
    }

    /// A pair of responses to one prompt with the verdict of its votes.
    public struct Pair: Hashable, Sendable {
        public var promptRowID: ObjectID
        /// Candidate indices; for a tie, in candidate order.
        public var chosen: Int
        public var rejected: Int
        public var tie: Bool
        /// Share of the votes (ties half) agreeing with the verdict.
        public var agreement: Double
        /// Mean rank gap of the votes that agree (0 for a tie).
        public var margin: Int
        public var votes: [Vote]
    }

    /// Groups votes by prompt and pair (in the order first seen) and gives each its verdict:
    /// the side with more votes (a tie vote is half to each), a tie when equal.
    public static func pairs(_ votes: [Vote], minAgreement: Double, minMargin: Int) -> [Pair] {
        struct Key: Hashable {
            var row: ObjectID
            var low: Int
            var high: Int
        }
        var order: [Key] = []
        var groups: [Key: [Vote]] = [:]
        for v in votes {
            let key = Key(row: v.promptRowID, low: min(v.first, v.second), high: max(v.first, v.second))
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(v)
        }
        var out: [Pair] = []
        for key in order {
            let group = groups[key]!
            var low = 0.0, high = 0.0
            for v in group {
                switch v.winner {
                case key.low?: low += 1
                case key.high?: high += 1
                default:
                    low += 0.5
                    high += 0.5
                }
            }
            let total = Double(group.count)
            let pair: Pair
            if low == high {
                let ties = group.filter { $0.winner == nil }
                pair = Pair(
                    promptRowID: key.row, chosen: key.low, rejected: key.high, tie: true, agreement: Double(ties.count) / total, margin: 0,
                    votes: group)
            } else {
                // The first vote's direction (ranking order) decides which way a pair is read.
                let winner = low > high ? key.low : key.high
                let agreeing = group.filter { $0.winner == winner }
                let margin = agreeing.isEmpty ? 0 : Int((Double(agreeing.map(\.margin).reduce(0, +)) / Double(agreeing.count)).rounded())
                pair = Pair(
                    promptRowID: key.row, chosen: winner, rejected: winner == key.low ? key.high : key.low, tie: false,
                    agreement: max(low, high) / total, margin: margin, votes: group)
            }
            if pair.agreement + 1e-12 >= minAgreement && (pair.tie || pair.margin >= minMargin) { out.append(pair) }
        }
        return out
    }
}
