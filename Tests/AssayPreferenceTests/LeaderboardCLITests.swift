import AssayTestSupport
import Foundation
import Testing

/// `assay leaderboard --battles FILE.jsonl`, offline, on the battle logs of the Bradley-Terry
/// fixture (Tests/AssayMetricsTests/Fixtures/bradley_terry.json, written by scikit-learn's
/// unpenalised logistic regression without intercept): the ratings it prints are the
/// reference's to 1e-6, each inside its interval, and the same seed prints the same board.
@Suite("assay leaderboard --battles")
struct LeaderboardCLITests {
    struct Case: Decodable {
        var name: String
        var anchor: String?
        var battles: [[String: String]]
        var ratings: [String: Double]
    }

    static let cases: [Case] = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // AssayPreferenceTests/LeaderboardCLITests.swift
        let path = parts.joined(separator: "/") + "/AssayMetricsTests/Fixtures/bradley_terry.json"
        struct File: Decodable { var cases: [Case] }
        guard let data = FileManager.default.contents(atPath: path),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [] }
        return file.cases
    }()

    @Test func theFixtureIsThere() {
        #expect(Self.cases.count == 6)
    }

    @Test(arguments: cases.map(\.name))
    func ratingsMatchTheReferenceFit(name: String) async throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let directory = makeTemporaryDirectory()
        let path = directory + "/battles.jsonl"
        let lines = try c.battles.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let args =
            ["leaderboard", "--battles", path, "--json", "--seed", "11", "--resamples", "200"]
            + (c.anchor.map { ["--anchor", $0] } ?? [])
        let r = await AssayCommand.run(args, in: directory)
        #expect(r.status == 0, "\(r.err)")
        let board = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let models = try #require(board["models"] as? [[String: Any]])
        #expect(Set(models.compactMap { $0["model"] as? String }) == Set(c.ratings.keys))
        for m in models {
            let model = try #require(m["model"] as? String)
            let rating = try #require(m["rating"] as? Double)
            let reference = try #require(c.ratings[model])
            #expect(abs(rating - reference) < 1e-6, "\(model): \(rating) vs \(reference)")
            if let lower = m["lower"] as? Double, let upper = m["upper"] as? Double {
                #expect(lower <= rating + 1e-9 && rating <= upper + 1e-9, "\(model): \(lower) \(rating) \(upper)")
            } else {
                Issue.record("\(model) has no interval: \(m)")
            }
        }
        // Ratings sorted best first; the battles counted per model add up to two per battle.
        let ratings = models.compactMap { $0["rating"] as? Double }
        #expect(ratings == ratings.sorted(by: >))
        #expect(models.compactMap { $0["battles"] as? Double }.reduce(0, +) == Double(2 * c.battles.count))
        let again = await AssayCommand.run(args, in: directory)
        #expect(again.out == r.out)
    }

    @Test func badBattleLogsAreUsageErrorsNamingTheLine() async throws {
        let directory = makeTemporaryDirectory()
        let path = directory + "/battles.jsonl"
        try """
        {"model_a": "x", "model_b": "y", "winner": "model_a"}
        {"model_a": "x", "model_b": "y", "winner": "nobody"}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        var r = await AssayCommand.run(["leaderboard", "--battles", path, "--json"], in: directory)
        #expect(r.status != 0 && r.err.contains("battles.jsonl") && r.err.contains("2"), "\(r.err)")
        #expect(r.out.isEmpty)
        r = await AssayCommand.run(["leaderboard"], in: directory)
        #expect(r.status == 2 && r.err.contains("leaderboard needs --battles FILE.jsonl"), "\(r.err)")
    }
}
