import AssayMetrics
import Foundation
import Testing

/// Bradley-Terry ratings against scikit-learn's unpenalised logistic regression
/// (Fixtures/make_bradley_terry_fixtures.py), and the leaderboard built on them.
@Suite("Bradley-Terry leaderboard")
struct BradleyTerryTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        struct Row: Decodable, Sendable {
            var model_a: String
            var model_b: String
            var winner: String
        }
        var name: String
        var anchor: String?
        var battles: [Row]
        var ratings: [String: Double]
        var testDescription: String { name }

        var parsed: [Battle] {
            battles.map { Battle(modelA: $0.model_a, modelB: $0.model_b, winner: BattleOutcome(rawValue: $0.winner)!) }
        }
    }

    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bradley_terry.json")
        do { return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    @Test("ratings match scikit-learn within 1e-6", arguments: cases)
    func matchesReference(_ c: Case) throws {
        let fitted = try BradleyTerry.fit(c.parsed, anchor: c.anchor)
        #expect(Set(fitted.models) == Set(c.ratings.keys))
        for (model, expected) in c.ratings {
            let got = try #require(fitted[model])
            #expect(abs(got - expected) < 1e-6, "\(model): \(got) vs \(expected)")
        }
    }

    @Test("the leaderboard's ratings are the fit's, with intervals around them that a seed reproduces")
    func leaderboard() throws {
        let c = Self.cases.first { $0.name == "five models, 400 battles, anchored" }!
        let board = try Leaderboard.build(c.parsed, anchor: c.anchor, resamples: 200, seed: 7)
        #expect(board.entries.map(\.rating) == board.entries.map(\.rating).sorted(by: >))
        for e in board.entries {
            #expect(abs(e.rating - c.ratings[e.model]!) < 1e-6)
            let lower = try #require(e.lower), upper = try #require(e.upper)
            if e.model == c.anchor {
                #expect(lower == 1000 && upper == 1000)
            } else {
                #expect(lower < e.rating && e.rating < upper, "\(e.model): \(lower) \(e.rating) \(upper)")
            }
            #expect(e.wins + e.losses + e.ties == e.battles)
        }
        #expect(board.entries.map(\.battles).reduce(0, +) == 2 * c.battles.count)
        let again = try Leaderboard.build(c.parsed, anchor: c.anchor, resamples: 200, seed: 7)
        #expect(again == board)
        let other = try Leaderboard.build(c.parsed, anchor: c.anchor, resamples: 200, seed: 8)
        #expect(other.entries.map(\.lower) != board.entries.map(\.lower))
        // Win rates: i against j plus j against i is 1 wherever they met.
        for i in board.models.indices {
            for j in board.models.indices where i != j {
                if let a = board.winRates[i][j], let b = board.winRates[j][i] {
                    #expect(abs(a + b - 1) < 1e-12)
                    #expect(board.games[i][j] == board.games[j][i])
                }
            }
        }
    }

    @Test("win rates count ties as half a win")
    func winRates() throws {
        let battles = [
            Battle(modelA: "x", modelB: "y", winner: .modelA), Battle(modelA: "y", modelB: "x", winner: .tie),
            Battle(modelA: "y", modelB: "x", winner: .modelA), Battle(modelA: "x", modelB: "y", winner: .modelA),
        ]
        let board = try Leaderboard.build(battles, resamples: 0)
        #expect(board.models == ["x", "y"])
        #expect(board.winRates[0][1] == 2.5 / 4)
        #expect(board.winRates[1][0] == 1.5 / 4)
        #expect(board.winRates[0][0] == nil)
        #expect(board.entries[0].model == "x" && board.entries[0].lower == nil)
        // P(x beats y) = 0.625 = 1 / (1 + 10^(−Δβ)): Δrating = 400·log10(0.625 / 0.375).
        #expect(abs(board.entries[0].rating - board.entries[1].rating - 400 * log10(0.625 / 0.375)) < 1e-9)
        #expect(abs((board.entries[0].rating + board.entries[1].rating) / 2 - 1000) < 1e-9)
    }

    @Test("ratings that do not exist are refused, naming the models")
    func diverges() {
        let battles = [
            Battle(modelA: "a", modelB: "b", winner: .modelA), Battle(modelA: "b", modelB: "a", winner: .modelB),
            Battle(modelA: "b", modelB: "c", winner: .modelA), Battle(modelA: "c", modelB: "b", winner: .modelA),
        ]
        #expect(throws: BradleyTerryError.diverges(unbeaten: ["a"], others: ["b", "c"])) { try BradleyTerry.fit(battles) }
        #expect(throws: BradleyTerryError.unknownAnchor("z")) { try BradleyTerry.fit(battles, anchor: "z") }
        #expect(throws: BradleyTerryError.noBattles) { try BradleyTerry.fit([]) }
        #expect(throws: BradleyTerryError.selfBattle("a")) {
            try BradleyTerry.fit([Battle(modelA: "a", modelB: "a", winner: .tie)])
        }
    }

    @Test("resamples without ratings are left out and counted")
    func degenerateResamples() throws {
        // 3 wins to 1: many resamples draw only wins.
        let battles = [Battle](repeating: Battle(modelA: "p", modelB: "q", winner: .modelA), count: 3)
            + [Battle(modelA: "p", modelB: "q", winner: .modelB)]
        let board = try Leaderboard.build(battles, resamples: 100, seed: 1)
        #expect(board.degenerateResamples > 0 && board.degenerateResamples < 100)
    }
}
