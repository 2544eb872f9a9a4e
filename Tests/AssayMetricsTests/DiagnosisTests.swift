import AssayMetrics
import Testing

@Suite("Diagnosis rankings")
struct DiagnosisTests {
    @Test func lossRankingIsDescendingAndStable() {
        let ranked = Diagnosis.rankedByLoss(ids: ["a", "b", "c", "d", "e"], losses: [0.2, .nan, 0.9, 0.2, 1.5])
        #expect(ranked.map(\.id) == ["e", "c", "a", "d", "b"])
        #expect(Diagnosis.rankedByLoss(ids: [1, 2, 3], losses: [1, 3, 2], limit: 2).map(\.id) == [2, 3])
    }

    @Test func lowestIoUFirst() {
        let ranked = Diagnosis.rankedByLowestIoU(ids: [10, 11, 12, 13], ious: [0.8, 0.1, .nan, 0.1])
        #expect(ranked.map(\.id) == [11, 13, 10, 12])
    }

    @Test func disagreementsByConfidence() {
        let ids = ["r1", "r2", "r3", "r4"]
        let first = ["cat", "dog", "cat", "bird"]
        let second = ["cat", "cat", "dog", "cat"]
        #expect(Diagnosis.disagreements(ids: ids, first: first, second: second).map(\.id) == ["r2", "r3", "r4"])
        let ranked = Diagnosis.disagreements(ids: ids, first: first, second: second, confidences: [0.9, 0.2, 0.7, 0.7])
        #expect(ranked.map(\.id) == ["r3", "r4", "r2"])
    }

    @Test func rowsBehindACell() {
        let rows = Diagnosis.rows(ids: [1, 2, 3, 4, 5], truth: ["a", "b", "a", "a", "none"],
                                  predicted: ["b", "b", "b", "a", "a"], inCell: (truth: "a", predicted: "b"))
        #expect(rows == [1, 3])
    }

    @Test func logLossClips() {
        #expect(abs(Diagnosis.logLoss(probabilityOfTruth: 0.5) - 0.6931471805599453) < 1e-15)
        #expect(abs(Diagnosis.logLoss(probabilityOfTruth: 0) - 34.538776394910684) < 1e-12)
    }
}
