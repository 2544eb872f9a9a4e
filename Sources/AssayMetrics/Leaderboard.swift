/// A leaderboard from battles: Bradley-Terry ratings with bootstrap intervals, each model's
/// record, and the win-rate matrix.
///
/// The bootstrap, exactly (so it can be reproduced elsewhere): a ``SplitMix64`` seeded with
/// `seed`; for each of `resamples` rounds, `battles.count` indices drawn in order with
/// `index(below: battles.count)`; the ratings refitted on those battles with the same anchor;
/// the interval of each model is the (1 − confidence)/2 and (1 + confidence)/2 percentiles of
/// its resampled ratings (numpy's linear interpolation). A resample whose ratings do not exist
/// (one side never lost, or a model drawn in no battle) is left out and counted in
/// `degenerateResamples`.
public struct Leaderboard: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var model: String
        public var rating: Double
        /// Nil when no resample could be fitted.
        public var lower: Double?
        public var upper: Double?
        public var battles: Int
        public var wins: Int
        public var losses: Int
        public var ties: Int
    }

    /// Best first (ties of rating by name).
    public var entries: [Entry]
    /// The models in name order, indexing `winRates`.
    public var models: [String]
    /// `winRates[i][j]`: the share of i's battles against j that i won (ties ½); nil when they never met.
    public var winRates: [[Double?]]
    /// `games[i][j]`: battles between i and j.
    public var games: [[Int]]
    public var anchor: String?
    public var confidence: Double
    public var resamples: Int
    public var seed: UInt64
    public var degenerateResamples: Int

    /// Fits the ratings and bootstraps their intervals. CPU-heavy for many resamples: call it
    /// off the cooperative pool.
    public static func build(
        _ battles: [Battle], anchor: String? = nil, resamples: Int = 1000, seed: UInt64 = 0, confidence: Double = 0.95
    ) throws(BradleyTerryError) -> Leaderboard {
        precondition(resamples >= 0 && confidence > 0 && confidence < 1, "resamples ≥ 0, confidence a fraction")
        let (models, pairs) = try BradleyTerry.index(battles)
        var anchorIndex: Int? = nil
        if let anchor {
            guard let i = models.firstIndex(of: anchor) else { throw .unknownAnchor(anchor) }
            anchorIndex = i
        }
        let n = models.count
        var tally = BradleyTerry.Tally(models: models)
        var record = Array(repeating: (wins: 0, losses: 0, ties: 0), count: n)
        for (a, b, outcome) in pairs {
            tally.add(a, b, outcome)
            switch outcome {
            case .modelA:
                record[a].wins += 1
                record[b].losses += 1
            case .modelB:
                record[b].wins += 1
                record[a].losses += 1
            case .tie:
                record[a].ties += 1
                record[b].ties += 1
            }
        }
        let ratings = try BradleyTerry.fit(tally, anchor: anchorIndex)

        var samples = Array(repeating: [Double](), count: n)
        var degenerate = 0
        var generator = SplitMix64(seed: seed)
        for _ in 0..<resamples {
            var resampled = BradleyTerry.Tally(models: models)
            for _ in 0..<pairs.count {
                let (a, b, outcome) = pairs[generator.index(below: pairs.count)]
                resampled.add(a, b, outcome)
            }
            guard let r = try? BradleyTerry.fit(resampled, anchor: anchorIndex) else {
                degenerate += 1
                continue
            }
            for i in 0..<n { samples[i].append(r[i]) }
        }
        let tail = (1 - confidence) / 2 * 100
        var entries: [Entry] = []
        for i in 0..<n {
            let sorted = samples[i].sorted()
            let games = Int(tally.games[i].reduce(0, +))
            entries.append(
                Entry(
                    model: models[i], rating: ratings[i],
                    lower: sorted.isEmpty ? nil : PairedBootstrap.percentile(sorted: sorted, tail),
                    upper: sorted.isEmpty ? nil : PairedBootstrap.percentile(sorted: sorted, 100 - tail),
                    battles: games, wins: record[i].wins, losses: record[i].losses, ties: record[i].ties))
        }
        entries.sort { $0.rating != $1.rating ? $0.rating > $1.rating : $0.model < $1.model }
        let winRates: [[Double?]] = (0..<n).map { i in
            (0..<n).map { j in tally.games[i][j] > 0 ? tally.wins[i][j] / tally.games[i][j] : nil }
        }
        return Leaderboard(
            entries: entries, models: models, winRates: winRates, games: tally.games.map { $0.map { Int($0) } },
            anchor: anchor, confidence: confidence, resamples: resamples, seed: seed, degenerateResamples: degenerate)
    }
}
