import AssayMetrics
import Testing

@Suite("Text metrics against SQuAD and jiwer")
struct TextTests {
    static let pairs = Fixtures.loaded.text
    static let errorRates = Fixtures.loaded.errorRates

    @Test("the fixtures are there")
    func fixturesLoad() {
        #expect(Self.pairs.count >= 15)
        #expect(Self.errorRates.count >= 12)
    }

    @Test("exact match, SQuAD normalisation and token F1", arguments: pairs)
    func squad(_ fixture: Fixtures.TextPair) {
        let prediction = fixture.prediction
        let reference = fixture.reference
        let context = fixture.name
        #expect(Text.exactMatch(prediction, reference) == fixture.exact, "\(context)")
        #expect(Text.normalizedExactMatch(prediction, reference) == fixture.normalizedExact, "\(context)")
        #expect(
            Array(Text.squadNormalized(prediction).unicodeScalars)
                == Array(fixture.normalized.unicodeScalars),
            "\(context)"
        )
        #expect(close(Text.tokenF1(prediction, reference), fixture.tokenF1), "\(context)")
    }

    @Test("word and character error rates", arguments: errorRates)
    func errorRate(_ fixture: Fixtures.ErrorRates) {
        let references = fixture.references
        let hypotheses = fixture.hypotheses
        let name = fixture.name
        let wer = Text.wordErrorRate(references: references, hypotheses: hypotheses)
        let cer = Text.characterErrorRate(references: references, hypotheses: hypotheses)
        #expect(close(wer, fixture.wer), "\(name): wer \(wer)")
        #expect(close(cer, fixture.cer), "\(name): cer \(cer)")
    }

    @Test("one pair is the same as a list of one")
    func singlePair() {
        #expect(Text.wordErrorRate(reference: "a b c d", hypothesis: "a x c") == 0.5)
        #expect(Text.characterErrorRate(reference: "abcd", hypothesis: "abd") == 0.25)
    }

    @Test("Levenshtein distance")
    func levenshtein() {
        #expect(Text.levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(Text.levenshtein([Int](), [1, 2]) == 2)
        #expect(Text.levenshtein([1, 2, 3], [1, 2, 3]) == 0)
        #expect(Text.levenshtein(Array("flaw".unicodeScalars), Array("lawn".unicodeScalars)) == 2)
    }
}
