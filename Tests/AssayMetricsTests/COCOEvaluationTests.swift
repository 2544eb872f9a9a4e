import AssayMetrics
import Foundation
import Testing

/// COCO box evaluation against pycocotools' `COCOeval` (Fixtures/make_coco_fixtures.py).
@Suite("COCO evaluation")
struct COCOEvaluationTests {
    struct Truth: Decodable, Sendable {
        var id: Int
        var image_id: Int
        var category_id: Int
        var bbox: [Double]
        var area: Double
        var iscrowd: Int
    }

    struct Detection: Decodable, Sendable {
        var image_id: Int
        var category_id: Int
        var bbox: [Double]
        var score: Double
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var imageIds: [Int]
        var categoryIds: [Int]
        var truth: [Truth]
        var detections: [Detection]
        var stats: [Double]
        var perCategoryAP: [String: Double]
        var recall: [Double]
        var precisionAll100: [Double]
        var testDescription: String { name }
    }

    struct File: Decodable, Sendable {
        var iouThresholds: [Double]
        var recallThresholds: [Double]
        var cases: [Case]
    }

    static let file: File? = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        let path = parts.joined(separator: "/") + "/Fixtures/coco.json"
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    static let cases: [Case] = file?.cases ?? []

    static func box(_ b: [Double]) -> Box { Box(x: b[0], y: b[1], width: b[2], height: b[3]) }

    @Test func fixturesAreThere() {
        #expect(Self.cases.count == 4)
    }

    @Test func thresholdsAreNumpys() {
        #expect(COCOEvaluation.iouThresholds == Self.file?.iouThresholds)
        #expect(COCOEvaluation.recallThresholds == Self.file?.recallThresholds)
    }

    @Test(arguments: cases)
    func matchesPycocotools(_ c: Case) {
        let truth = c.truth.map {
            COCOGroundTruth(id: $0.id, imageID: $0.image_id, categoryID: $0.category_id,
                            box: Self.box($0.bbox), area: $0.area, isCrowd: $0.iscrowd != 0)
        }
        let detections = c.detections.map {
            COCODetection(imageID: $0.image_id, categoryID: $0.category_id, box: Self.box($0.bbox), score: $0.score)
        }
        let result = COCOEvaluation.evaluate(
            truth: truth, detections: detections, imageIDs: c.imageIds, categoryIDs: c.categoryIds)
        let stats = result.stats
        #expect(stats.count == 12)
        for (i, (a, b)) in zip(stats, c.stats).enumerated() {
            #expect(abs(a - b) <= 1e-9, "stats[\(i)]: \(a) vs \(b)")
        }
        let perCategory = result.perCategoryAP
        #expect(perCategory.count == c.perCategoryAP.count)
        for (key, expected) in c.perCategoryAP {
            let got = perCategory[Int(key)!]
            #expect(got != nil && abs(got! - expected) <= 1e-9, "category \(key): \(String(describing: got)) vs \(expected)")
        }
        // The whole recall array (T × K × A × M) and precision[:, :, :, all, 100] (T × R × K).
        #expect(result.recall.count == c.recall.count)
        let recallOff = zip(result.recall, c.recall).filter { abs($0 - $1) > 1e-9 }.count
        #expect(recallOff == 0)
        let T = COCOEvaluation.iouThresholds.count, R = COCOEvaluation.recallThresholds.count
        let K = c.categoryIds.count, A = COCOEvaluation.areaRanges.count, M = COCOEvaluation.maxDetections.count
        #expect(result.precision.count == T * R * K * A * M)
        #expect(c.precisionAll100.count == T * R * K)
        var precisionOff = 0
        for t in 0..<T {
            for r in 0..<R {
                for k in 0..<K {
                    let got = result.precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)]
                    if abs(got - c.precisionAll100[(t * R + r) * K + k]) > 1e-9 { precisionOff += 1 }
                }
            }
        }
        #expect(precisionOff == 0)
    }

    @Test func emptyInputsGiveMinusOne() {
        let result = COCOEvaluation.evaluate(truth: [], detections: [], imageIDs: [1, 2], categoryIDs: [1])
        #expect(result.stats == Array(repeating: -1, count: 12))
        #expect(result.perCategoryAP == [1: -1])
    }

    @Test func perfectDetectionsScoreOne() {
        let truth = [
            COCOGroundTruth(id: 1, imageID: 1, categoryID: 1, box: Box(x: 0, y: 0, width: 50, height: 50), area: 2500),
            COCOGroundTruth(id: 2, imageID: 2, categoryID: 1, box: Box(x: 10, y: 10, width: 20, height: 20), area: 400),
        ]
        let detections = truth.map { COCODetection(imageID: $0.imageID, categoryID: 1, box: $0.box, score: 0.9) }
        let stats = COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: [1, 2], categoryIDs: [1]).stats
        // No large objects: AP_large and AR_large are undefined. With one true positive the
        // precision is 1 / (1 + eps), one ulp below 1, as in pycocotools.
        let expected: [Double] = [1, 1, 1, 1, 1, -1, 1, 1, 1, 1, 1, -1]
        #expect(stats.count == 12)
        for (a, b) in zip(stats, expected) { #expect(abs(a - b) <= 1e-12, "\(a) vs \(b)") }
    }
}
