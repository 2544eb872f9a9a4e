import AssayMetrics
import Testing

@Suite("Detection at an operating point, PR curves")
struct OperatingPointTests {
    static func box(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Box { Box(x: x, y: y, width: w, height: h) }

    @Test func countsAndConfusionWithBackground() {
        let truth = [
            COCOGroundTruth(id: 1, imageID: 1, categoryID: 1, box: Self.box(0, 0, 10, 10), area: 100),
            COCOGroundTruth(id: 2, imageID: 1, categoryID: 2, box: Self.box(50, 50, 10, 10), area: 100),
            COCOGroundTruth(id: 3, imageID: 2, categoryID: 2, box: Self.box(0, 0, 10, 10), area: 100),
            COCOGroundTruth(id: 4, imageID: 2, categoryID: 1, box: Self.box(100, 100, 50, 50), area: 2500, isCrowd: true),
        ]
        let detections = [
            COCODetection(imageID: 1, categoryID: 1, box: Self.box(0, 0, 10, 9), score: 0.9),  // TP (IoU 0.9)
            COCODetection(imageID: 1, categoryID: 1, box: Self.box(0, 0, 10, 10), score: 0.8),  // duplicate: FP, background
            COCODetection(imageID: 1, categoryID: 1, box: Self.box(50, 50, 10, 10), score: 0.7),  // dog seen as cat
            COCODetection(imageID: 2, categoryID: 1, box: Self.box(110, 110, 10, 10), score: 0.9),  // inside the crowd: ignored
            COCODetection(imageID: 2, categoryID: 2, box: Self.box(0, 0, 10, 10), score: 0.3),  // below the confidence
            COCODetection(imageID: 3, categoryID: 2, box: Self.box(0, 0, 5, 5), score: 0.6),  // background
        ]
        let r = DetectionOperatingPoint.evaluate(truth: truth, detections: detections, confidence: 0.5, iouThreshold: 0.5)
        #expect(r.categoryIDs == [1, 2])
        // Rows truth (cat, dog, background), columns predicted.
        #expect(r.confusion == [[1, 0, 0], [1, 0, 1], [1, 1, 0]])
        #expect(r.perCategory[1] == Classification.Scores(precision: 1.0 / 3, recall: 1, f1: 0.5, support: 1))
        #expect(r.perCategory[2] == Classification.Scores(precision: 0, recall: 0, f1: 0, support: 2))
        #expect(r.micro.precision == 0.25 && r.micro.recall == 1.0 / 3)
        #expect(r.pairs(truth: 2, predicted: 1).map(\.detectionIndex) == [2])
        #expect(r.pairs(truth: nil, predicted: 2).map(\.imageID) == [3])
        #expect(r.pairs(truth: 2, predicted: nil).map(\.truthID) == [3])
        #expect(r.images.map(\.imageID) == [1, 2, 3])
        #expect(r.images.map(\.errors) == [3, 1, 1])
        #expect(r.images[1].meanBestIoU == 0, "the only dog detection on image 2 is below the confidence")
        // A lower confidence brings it in.
        let low = DetectionOperatingPoint.evaluate(truth: truth, detections: detections, confidence: 0.2, iouThreshold: 0.5)
        #expect(low.confusion[1][1] == 1)
    }

    @Test(arguments: COCOEvaluationTests.cases)
    func curvesArePycocotoolsPrecision(_ c: COCOEvaluationTests.Case) {
        let truth = c.truth.map {
            COCOGroundTruth(id: $0.id, imageID: $0.image_id, categoryID: $0.category_id,
                            box: COCOEvaluationTests.box($0.bbox), area: $0.area, isCrowd: $0.iscrowd != 0)
        }
        let detections = c.detections.map {
            COCODetection(imageID: $0.image_id, categoryID: $0.category_id, box: COCOEvaluationTests.box($0.bbox), score: $0.score)
        }
        let result = COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: c.imageIds, categoryIDs: c.categoryIds)
        let categories = Array(Set(c.categoryIds)).sorted()
        let R = COCOEvaluation.recallThresholds.count, K = categories.count
        var off = 0, compared = 0
        for (t, iou) in COCOEvaluation.iouThresholds.enumerated() {
            for (k, category) in categories.enumerated() {
                let curve = result.precisionRecallCurve(categoryID: category, iouThreshold: iou)!
                #expect(curve.recall == COCOEvaluation.recallThresholds)
                for r in 0..<R {
                    compared += 1
                    if abs(curve.precision[r] - c.precisionAll100[(t * R + r) * K + k]) > 1e-9 { off += 1 }
                }
            }
        }
        #expect(compared == c.precisionAll100.count)
        #expect(off == 0)
        #expect(result.precisionRecallCurve(categoryID: -5) == nil)
        #expect(result.precisionRecallCurve(categoryID: categories[0], iouThreshold: 0.52) == nil)
    }

    @Test func serialAndParallelAgree() {
        let c = COCOEvaluationTests.cases.last!
        let truth = c.truth.map {
            COCOGroundTruth(id: $0.id, imageID: $0.image_id, categoryID: $0.category_id,
                            box: COCOEvaluationTests.box($0.bbox), area: $0.area, isCrowd: $0.iscrowd != 0)
        }
        let detections = c.detections.map {
            COCODetection(imageID: $0.image_id, categoryID: $0.category_id, box: COCOEvaluationTests.box($0.bbox), score: $0.score)
        }
        let a = COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: c.imageIds, categoryIDs: c.categoryIds, parallel: true)
        let b = COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: c.imageIds, categoryIDs: c.categoryIds, parallel: false)
        #expect(a.precision == b.precision && a.recall == b.recall)
    }
}
