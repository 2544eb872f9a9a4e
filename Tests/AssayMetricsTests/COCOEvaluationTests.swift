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
    }
}
