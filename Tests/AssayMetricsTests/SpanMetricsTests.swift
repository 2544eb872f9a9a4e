import AssayMetrics
import Foundation
import Testing

/// Span-level P/R/F1 against seqeval (Fixtures/make_span_fixtures.py).
@Suite("Span metrics")
struct SpanMetricsTests {
    struct Span: Decodable, Sendable {
        var label: String
        var start: Int
        var end: Int
    }

    struct Scores: Decodable, Sendable {
        var precision: Double
        var recall: Double
        var f1: Double
        var support: Int?
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var truth: [[Span]]
        var predicted: [[Span]]
        var labels: [String]
        var perLabel: [String: Scores]
        var micro: Scores
        var macro: Scores
        var weighted: Scores
        var testDescription: String { name }
    }

    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        let data = FileManager.default.contents(atPath: parts.joined(separator: "/") + "/Fixtures/spans.json") ?? Data()
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }()

    static func spans(_ docs: [[Span]]) -> [[LabeledSpan]] {
        docs.map { $0.map { LabeledSpan(label: $0.label, start: $0.start, end: $0.end) } }
    }

    static func close(_ a: Classification.Scores, _ b: Scores) -> Bool {
        abs(a.precision - b.precision) <= 1e-9 && abs(a.recall - b.recall) <= 1e-9 && abs(a.f1 - b.f1) <= 1e-9
            && (b.support == nil || b.support == a.support)
    }

    @Test func fixturesAreThere() { #expect(Self.cases.count == 4) }

    @Test(arguments: cases)
    func matchesSeqeval(_ c: Case) {
        let r = SpanMetrics.report(truth: Self.spans(c.truth), predicted: Self.spans(c.predicted))
        #expect(r.labels == c.labels)
        for l in c.labels {
            #expect(r.perLabel[l].map { Self.close($0, c.perLabel[l]!) } == true, "label \(l)")
        }
        #expect(Self.close(r.micro, c.micro))
        #expect(Self.close(r.macro, c.macro))
        #expect(Self.close(r.weighted, c.weighted))
    }

    @Test func aSpanCountsOnlyWithTheSameLabelStartAndEnd() {
        let truth = [[LabeledSpan(label: "PER", start: 0, end: 5), LabeledSpan(label: "LOC", start: 10, end: 14)]]
        let predicted = [[LabeledSpan(label: "PER", start: 0, end: 5), LabeledSpan(label: "LOC", start: 10, end: 13), LabeledSpan(label: "ORG", start: 20, end: 22)]]
        let r = SpanMetrics.report(truth: truth, predicted: predicted)
        #expect(r.micro.precision == 1.0 / 3.0)
        #expect(r.micro.recall == 0.5)
        #expect(r.perLabel["ORG"]?.support == 0)
    }
}
