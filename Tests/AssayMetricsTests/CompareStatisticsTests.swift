import AssayMetrics
import Foundation
import Testing

/// Kappa, McNemar and the paired bootstrap against sklearn, statsmodels and a Python
/// reimplementation of the documented resampling (Fixtures/make_compare_fixtures.py).
@Suite("Run-against-run statistics")
struct CompareStatisticsTests {
    struct KappaCase: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var a: [String]
        var b: [String]
        var none: Double
        var linear: Double
        var quadratic: Double
        var testDescription: String { name }
    }

    struct McNemarCase: Decodable, Sendable, CustomTestStringConvertible {
        var b: Int
        var c: Int
        var exactStatistic: Double
        var exactP: Double
        var chiStatistic: Double
        var chiP: Double
        var plainStatistic: Double
        var plainP: Double
        var testDescription: String { "b=\(b) c=\(c)" }
    }

    struct Interval: Decodable, Sendable {
        var first: Double
        var second: Double
        var delta: Double
        var lower: Double
        var upper: Double
    }

    struct BootstrapCase: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var seed: UInt64
        var resamples: Int
        var truth: [String]
        var a: [String]
        var b: [String]
        var accuracy: Interval
        var macroF1: Interval
        var testDescription: String { name }
    }

    struct File: Decodable, Sendable {
        var kappa: [KappaCase]
        var mcnemar: [McNemarCase]
        var splitmix64Seed0: [String]
        var bootstrap: [BootstrapCase]
    }

    static let file: File? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/compare.json")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try? decoder.decode(File.self, from: Data(contentsOf: url))
    }()

    /// Equal within 1e-9, or both NaN, or the same infinity.
    static func same(_ got: Double, _ expected: Double) -> Bool {
        if expected.isNaN { return got.isNaN }
        if expected.isInfinite { return got == expected }
        return abs(got - expected) <= 1e-9
    }

    @Test func fixturesAreThere() {
        #expect(Self.file?.kappa.count == 11)
        #expect(Self.file?.mcnemar.count == 17)
        #expect(Self.file?.bootstrap.count == 3)
    }

    @Test(arguments: file?.kappa ?? [])
    func kappaMatchesSklearn(_ c: KappaCase) {
        let none = Agreement.cohensKappa(c.a, c.b)
        let linear = Agreement.cohensKappa(c.a, c.b, weights: .linear)
        let quadratic = Agreement.cohensKappa(c.a, c.b, weights: .quadratic)
        #expect(Self.same(none, c.none), "unweighted \(none) vs \(c.none)")
        #expect(Self.same(linear, c.linear), "linear \(linear) vs \(c.linear)")
        #expect(Self.same(quadratic, c.quadratic), "quadratic \(quadratic) vs \(c.quadratic)")
    }

    @Test(arguments: file?.mcnemar ?? [])
    func mcnemarMatchesStatsmodels(_ c: McNemarCase) {
        let exact = McNemar.test(b: c.b, c: c.c, method: .exact)
        #expect(exact.exact)
        #expect(Self.same(exact.statistic, c.exactStatistic))
        #expect(Self.same(exact.pValue, c.exactP), "exact p \(exact.pValue) vs \(c.exactP)")
        let chi = McNemar.test(b: c.b, c: c.c, method: .chiSquare())
        #expect(Self.same(chi.statistic, c.chiStatistic))
        #expect(Self.same(chi.pValue, c.chiP), "chi-square p \(chi.pValue) vs \(c.chiP)")
        let plain = McNemar.test(b: c.b, c: c.c, method: .chiSquare(correction: false))
        #expect(Self.same(plain.statistic, c.plainStatistic))
        #expect(Self.same(plain.pValue, c.plainP), "uncorrected p \(plain.pValue) vs \(c.plainP)")
        // The default picks exact below 25 discordant rows.
        let automatic = McNemar.test(b: c.b, c: c.c)
        #expect(automatic.exact == (c.b + c.c < 25))
        #expect(automatic.pValue == (automatic.exact ? exact.pValue : chi.pValue))
    }

    @Test func mcnemarCountsDiscordantRows() {
        let truth = ["a", "a", "b", "b", "a", "b"]
        let first = ["a", "b", "b", "a", "a", "b"]  // right on rows 0, 2, 4, 5
        let second = ["a", "a", "a", "b", "b", "b"]  // right on rows 0, 1, 3, 5
        let result = McNemar.test(truth: truth, first: first, second: second)
        #expect(result.b == 2 && result.c == 2)
    }

    @Test func splitMixIsTheReferenceStream() {
        var generator = SplitMix64(seed: 0)
        let stream = (0..<5).map { _ in String(generator.next()) }
        #expect(stream == Self.file?.splitmix64Seed0)
    }

    @Test(arguments: file?.bootstrap ?? [])
    func bootstrapReproducesTheDocumentedResampling(_ c: BootstrapCase) {
        let accuracy = PairedBootstrap.delta(count: c.truth.count, resamples: c.resamples, seed: c.seed) { rows in
            let t = rows.map { c.truth[$0] }
            return (Classification.accuracy(truth: t, predicted: rows.map { c.a[$0] }),
                    Classification.accuracy(truth: t, predicted: rows.map { c.b[$0] }))
        }
        check(accuracy, c.accuracy)
        // The same through the per-row mean helper (0/1 correctness averages to accuracy).
        let viaMean = PairedBootstrap.meanDelta(
            first: c.truth.indices.map { c.a[$0] == c.truth[$0] ? 1 : 0 },
            second: c.truth.indices.map { c.b[$0] == c.truth[$0] ? 1 : 0 }, resamples: c.resamples, seed: c.seed)
        check(viaMean, c.accuracy)
        let macroF1 = PairedBootstrap.delta(count: c.truth.count, resamples: c.resamples, seed: c.seed) { rows in
            let t = rows.map { c.truth[$0] }
            return (Classification.classificationReport(truth: t, predicted: rows.map { c.a[$0] }).macro.f1,
                    Classification.classificationReport(truth: t, predicted: rows.map { c.b[$0] }).macro.f1)
        }
        check(macroF1, c.macroF1)
    }

    func check(_ got: PairedBootstrap.Interval, _ expected: Interval) {
        #expect(abs(got.first - expected.first) <= 1e-9)
        #expect(abs(got.second - expected.second) <= 1e-9)
        #expect(abs(got.delta - expected.delta) <= 1e-9)
        #expect(abs(got.lower - expected.lower) <= 1e-9, "lower \(got.lower) vs \(expected.lower)")
        #expect(abs(got.upper - expected.upper) <= 1e-9, "upper \(got.upper) vs \(expected.upper)")
        #expect(got.lower <= got.delta + 0.2 && got.upper >= got.lower)
    }

    @Test func agreementRate() {
        #expect(Agreement.rate(["a", "b", "c", "d"], ["a", "x", "c", "y"]) == 0.5)
        #expect(Agreement.rate([], []) == 0)
    }
}
