/// An axis-aligned box in COCO's convention: left, top, width, height, in pixels.
public struct Box: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var area: Double { width * height }
}

/// Intersection over union of boxes, exactly as pycocotools' `maskUtils.iou` computes it for
/// boxes (its C `bbIou`): the same operations in the same order, so results are bit-equal.
public enum BoxIoU {
    /// IoU of one detection with one ground-truth box. For a crowd region the denominator is
    /// the detection's area alone (a detection inside a crowd is not penalised for the rest).
    @inlinable
    public static func iou(_ detection: Box, _ truth: Box, crowd: Bool = false) -> Double {
        let w = min(detection.width + detection.x, truth.width + truth.x) - max(detection.x, truth.x)
        if w <= 0 { return 0 }
        let h = min(detection.height + detection.y, truth.height + truth.y) - max(detection.y, truth.y)
        if h <= 0 { return 0 }
        let intersection = w * h
        let union = crowd ? detection.area : detection.area + truth.area - intersection
        return intersection / union
    }

    /// The detections × ground truth matrix pycocotools returns: `result[d][g]`.
    public static func matrix(detections: [Box], truth: [Box], crowd: [Bool]) -> [[Double]] {
        precondition(crowd.count == truth.count, "one crowd flag per ground-truth box")
        return detections.map { d in
            truth.indices.map { g in iou(d, truth[g], crowd: crowd[g]) }
        }
    }
}
