/// A precision-recall curve of one category as pycocotools accumulates it: precision (made
/// monotone, as COCO's AP uses it) at each of the 101 recall thresholds.
public struct PrecisionRecallCurve: Sendable, Hashable {
    public var categoryID: Int
    /// The IoU threshold of the matching.
    public var iouThreshold: Double
    /// ``COCOEvaluation/recallThresholds``: 0, 0.01, ..., 1.
    public var recall: [Double]
    /// `precision[t, :, k, area, maxDet]`: 0 past the highest recall reached, -1 for every point
    /// when the category has no ground truth in the area range.
    public var precision: [Double]

    /// Whether the curve is defined (the category has ground truth).
    public var isDefined: Bool { precision.contains { $0 > -1 } }

    /// The area under the 101-point curve as COCO computes AP: the mean of the points, -1 when undefined.
    public var averagePrecision: Double {
        COCOEvaluation.mean(precision.filter { $0 > -1 })
    }
}

extension COCOEvaluationResult {
    /// The curve of one category at one of ``COCOEvaluation/iouThresholds`` (compared within
    /// 1e-9), for an area range (0 all, 1 small, 2 medium, 3 large) and a maxDets index (2 is 100);
    /// nil for an unknown category or threshold.
    public func precisionRecallCurve(
        categoryID: Int, iouThreshold: Double = 0.5, areaRange: Int = 0, maxDetectionsIndex: Int = 2
    ) -> PrecisionRecallCurve? {
        let p = COCOEvaluation.self
        guard let k = categoryIDs.firstIndex(of: categoryID),
            let t = p.iouThresholds.firstIndex(where: { abs($0 - iouThreshold) < 1e-9 }),
            p.areaRanges.indices.contains(areaRange), p.maxDetections.indices.contains(maxDetectionsIndex)
        else { return nil }
        let values = p.recallThresholds.indices.map {
            precision[index(t: t, r: $0, k: k, a: areaRange, m: maxDetectionsIndex)]
        }
        return PrecisionRecallCurve(
            categoryID: categoryID, iouThreshold: p.iouThresholds[t], recall: p.recallThresholds, precision: values)
    }

    /// Every category's curve at one IoU threshold (area all, 100 detections), in category order.
    public func precisionRecallCurves(iouThreshold: Double = 0.5) -> [PrecisionRecallCurve] {
        categoryIDs.compactMap { precisionRecallCurve(categoryID: $0, iouThreshold: iouThreshold) }
    }
}
