import AssayMetrics
import Testing

@Suite("Classification against scikit-learn")
struct ClassificationTests {
    static let singleLabel = Fixtures.loaded.singleLabel
    static let multiLabel = Fixtures.loaded.multiLabel

    @Test("the fixtures are there")
    func fixturesLoad() {
        #expect(Self.singleLabel.count >= 9)
        #expect(Self.multiLabel.count >= 6)
    }

    @Test("classification report and confusion matrix", arguments: singleLabel)
    func singleLabelReport(_ fixture: Fixtures.SingleLabel) {
        let name = fixture.name
        let truth = fixture.truth
        let predicted = fixture.predicted
        let report = Classification.classificationReport(truth: truth, predicted: predicted)
        #expect(report.labels == fixture.labels, "\(name)")
        #expect(close(report.accuracy, fixture.accuracy), "\(name)")
        expectPerClass(report.perClass, labels: report.labels, fixture.perClass, name)
        expectAverage(report.micro, fixture.micro, "\(name) micro")
        expectAverage(report.macro, fixture.macro, "\(name) macro")
        expectAverage(report.weighted, fixture.weighted, "\(name) weighted")
        let matrix = Classification.confusionMatrix(truth: truth, predicted: predicted)
        #expect(matrix.labels == report.labels, "\(name)")
        #expect(matrix.counts == fixture.confusion, "\(name)")
    }

    @Test("multi-label scores", arguments: multiLabel)
    func multiLabelReport(_ fixture: Fixtures.MultiLabel) {
        let name = fixture.name
        let report = Classification.multiLabelReport(truth: fixture.truth, predicted: fixture.predicted)
        #expect(report.labels == fixture.labels, "\(name)")
        expectPerClass(report.perClass, labels: report.labels, fixture.perClass, name)
        expectAverage(report.micro, fixture.micro, "\(name) micro")
        expectAverage(report.macro, fixture.macro, "\(name) macro")
        expectAverage(report.weighted, fixture.weighted, "\(name) weighted")
        expectAverage(report.samples, fixture.samples, "\(name) samples")
    }

    @Test("a class never predicted scores 0 precision, not NaN")
    func zeroDivision() {
        let report = Classification.classificationReport(truth: ["a", "b"], predicted: ["a", "a"])
        #expect(report.perClass["b"] == Classification.Scores(precision: 0, recall: 0, f1: 0, support: 1))
        #expect(report.perClass["a"]?.precision == 0.5)
    }

    @Test("labels sort by code point, as Python sorts")
    func labelOrder() {
        let labels = Classification.labels(truth: ["b", "Z", "é", "a"], predicted: ["none", "B"])
        #expect(labels == ["B", "Z", "a", "b", "none", "é"])
    }

    @Test("no pairs give zero scores")
    func empty() {
        let report = Classification.classificationReport(truth: [], predicted: [])
        #expect(report.labels.isEmpty)
        #expect(report.accuracy == 0)
        #expect(report.macro.f1 == 0)
    }

    private func expectPerClass(
        _ perClass: [String: Classification.Scores],
        labels: [String],
        _ expected: [String: Fixtures.Scores],
        _ name: String
    ) {
        #expect(perClass.count == expected.count, "\(name)")
        for label in labels {
            guard let got = perClass[label], let want = expected[label] else {
                Issue.record("\(name): no scores for \(label)")
                continue
            }
            expectAverage(got, want, "\(name) \(label)")
            #expect(got.support == want.support, "\(name) \(label)")
        }
    }

    private func expectAverage(_ got: Classification.Scores, _ want: Fixtures.Scores, _ context: String) {
        #expect(close(got.precision, want.precision), "\(context) precision")
        #expect(close(got.recall, want.recall), "\(context) recall")
        #expect(close(got.f1, want.f1), "\(context) f1")
    }
}
