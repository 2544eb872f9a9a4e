#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import AssayMetrics

/// `assay leaderboard --battles FILE.jsonl`: Bradley-Terry ratings with bootstrap intervals
/// from a battle log, offline (docs/preference.md).
enum LeaderboardCommand {
    static func run(_ args: inout Arguments) async throws -> Int32 {
        guard args.positional.isEmpty else { throw UsageError("leaderboard takes no positional arguments") }
        guard let path = args.option("battles") else { throw UsageError("leaderboard needs --battles FILE.jsonl") }
        let anchor = args.option("anchor")
        let seed = try integer(args.option("seed"), "seed", default: 0)
        let resamples = try integer(args.option("resamples"), "resamples", default: 1000)
        guard resamples <= 100_000 else { throw UsageError("--resamples is at most 100000") }
        let json = args.flag("json")
        try args.checkAllUsed()
        let battles = try BattleFiles.battles(try readFile(path), file: path)
        let board = try await build(battles, anchor: anchor, resamples: Int(resamples), seed: seed)
        printOut(json ? render(board).rendered : table(board))
        return 0
    }

    static func integer(_ text: String?, _ name: String, default value: UInt64) throws -> UInt64 {
        guard let text else { return value }
        guard let v = UInt64(text) else { throw UsageError("--\(name) must be a non-negative integer, got \(text)") }
        return v
    }

    /// The fit and its bootstrap on a Dispatch thread (thousands of refits).
    static func build(_ battles: [Battle], anchor: String?, resamples: Int, seed: UInt64) async throws -> Leaderboard {
        let result: Result<Leaderboard, BradleyTerryError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(BradleyTerryError) in
                    try Leaderboard.build(battles, anchor: anchor, resamples: resamples, seed: seed)
                })
            }
        }
        return try result.get()
    }

    static func render(_ board: Leaderboard) -> JSONOut {
        var out = JSONOut.object([])
        out.add(
            "models",
            .array(
                board.entries.map { e in
                    var m = JSONOut.object([("model", .string(e.model)), ("rating", .number(e.rating))])
                    m.add("lower", e.lower.map(JSONOut.number) ?? .number(.nan))
                    m.add("upper", e.upper.map(JSONOut.number) ?? .number(.nan))
                    m.add("battles", .number(Double(e.battles)))
                    m.add("wins", .number(Double(e.wins)))
                    m.add("losses", .number(Double(e.losses)))
                    m.add("ties", .number(Double(e.ties)))
                    return m
                }))
        var rates = JSONOut.object([])
        for (i, a) in board.models.enumerated() {
            var row = JSONOut.object([])
            for (j, b) in board.models.enumerated() where i != j {
                if let r = board.winRates[i][j] { row.add(b, .number(r)) }
            }
            rates.add(a, row)
        }
        out.add("win_rates", rates)
        out.add("anchor", board.anchor.map(JSONOut.string) ?? .number(.nan))
        out.add("confidence", .number(board.confidence))
        out.add("resamples", .number(Double(board.resamples)))
        out.add("seed", .number(Double(board.seed)))
        out.add("degenerate_resamples", .number(Double(board.degenerateResamples)))
        return out
    }

    static func table(_ board: Leaderboard) -> String {
        func f(_ d: Double?) -> String {
            guard let d else { return "-" }
            let r = (d * 10).rounded() / 10
            return "\(r)"
        }
        var rows = [["rank", "model", "rating", "95% interval", "battles", "W-L-T"]]
        for (i, e) in board.entries.enumerated() {
            rows.append([
                String(i + 1), e.model, f(e.rating), "[\(f(e.lower)), \(f(e.upper))]", String(e.battles), "\(e.wins)-\(e.losses)-\(e.ties)",
            ])
        }
        var text = align(rows)
        text += "\n\(board.resamples) bootstrap resamples, seed \(board.seed)"
        if board.degenerateResamples > 0 { text += ", \(board.degenerateResamples) without ratings left out" }
        if let anchor = board.anchor { text += "; anchored at \(anchor) = 1000" }
        return text
    }

    static func align(_ rows: [[String]]) -> String {
        var widths = Array(repeating: 0, count: rows[0].count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == 1 ? c + String(repeating: " ", count: widths[i] - c.count) : String(repeating: " ", count: widths[i] - c.count) + c }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
