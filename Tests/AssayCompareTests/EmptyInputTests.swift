import AssayCore
@testable import AssayCompare
import AssayWire
import Testing

/// A run that predicted no row (every row failed) still gets an answer for every kind.
@Suite struct EmptyInputTests {
    @Test(arguments: [AssayCore.FeatureKind.boundingBox, .radio, .checklist, .freeText, .textSpan])
    func noRowsGiveDefinedAnswers(kind: AssayCore.FeatureKind) throws {
        let feature = AssayCore.Feature(
            id: "f", name: "f", kind: kind, options: kind == .radio || kind == .checklist ? [AssayCore.FeatureOption(id: "a", value: "a")] : [])
        let unit = EvaluationUnit(kind: try #require(EvaluationUnit.kind(of: kind)), features: [feature])
        let evaluation = Evaluation.evaluate(unit, rows: [], thresholds: .default)
        #expect(evaluation.rows == 0 && evaluation.metrics != nil)
        let comparison = RunComparison.compare(unit, first: [], second: [], thresholds: .default, bootstrap: BootstrapSettings())
        #expect(comparison.rows == 0 && comparison.deltas.isEmpty)
        #expect(try RowDiagnosis.rank(.loss, unit: unit, rows: [], other: nil, thresholds: .default).isEmpty)
    }
}
