import Foundation
import Testing

/// The fixtures written by `Fixtures/make_fixtures.py` from scikit-learn, the SQuAD script and jiwer.
struct Fixtures: Decodable, Sendable {
    struct Scores: Decodable, Sendable {
        var precision: Double
        var recall: Double
        var f1: Double
        var support: Int?
    }

    struct SingleLabel: Decodable, Sendable {
        var name: String
        var truth: [String]
        var predicted: [String]
        var labels: [String]
        var accuracy: Double
        var perClass: [String: Scores]
        var micro: Scores
        var macro: Scores
        var weighted: Scores
        var confusion: [[Int]]
    }

    struct MultiLabel: Decodable, Sendable {
        var name: String
        var truth: [[String]]
        var predicted: [[String]]
        var labels: [String]
        var perClass: [String: Scores]
        var micro: Scores
        var macro: Scores
        var weighted: Scores
        var samples: Scores
    }

    struct TextPair: Decodable, Sendable {
        var prediction: String
        var reference: String
        var exact: Bool
        var normalizedExact: Bool
        var normalized: String
        var tokenF1: Double
        var name: String { "\(prediction.debugDescription) vs \(reference.debugDescription)" }
    }

    struct ErrorRates: Decodable, Sendable {
        var name: String
        var references: [String]
        var hypotheses: [String]
        var wer: Double
        var cer: Double
    }

    var singleLabel: [SingleLabel]
    var multiLabel: [MultiLabel]
    var text: [TextPair]
    var errorRates: [ErrorRates]

    static let loaded: Fixtures = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics.json")
        do {
            return try JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()
}

// Each case names itself in test output.
extension Fixtures.SingleLabel: CustomTestStringConvertible { var testDescription: String { name } }
extension Fixtures.MultiLabel: CustomTestStringConvertible { var testDescription: String { name } }
extension Fixtures.TextPair: CustomTestStringConvertible { var testDescription: String { name } }
extension Fixtures.ErrorRates: CustomTestStringConvertible { var testDescription: String { name } }

/// Whether two metric values agree within 1e-9.
func close(_ a: Double, _ b: Double) -> Bool {
    abs(a - b) <= 1e-9
}
