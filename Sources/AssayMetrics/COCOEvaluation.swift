/// A ground-truth object for COCO box evaluation, as in a COCO annotations file.
public struct COCOGroundTruth: Sendable, Hashable {
    /// The annotation id. pycocotools records matches by this id and treats 0 as "unmatched",
    /// so ids should be positive (as they are in COCO files).
    public var id: Int
    /// The image the object is on.
    public var imageID: Int
    /// The object's category.
    public var categoryID: Int
    /// The object's box (left, top, width, height).
    public var box: Box
    /// The annotation's `area` field (for COCO, the segmentation's area), which decides the
    /// area range; it is not recomputed from the box.
    public var area: Double
    /// A crowd region: never counted as a miss, and detections inside it are ignored.
    public var isCrowd: Bool

    /// Creates a ground-truth object.
    public init(id: Int, imageID: Int, categoryID: Int, box: Box, area: Double, isCrowd: Bool = false) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.box = box
        self.area = area
        self.isCrowd = isCrowd
    }
}

/// A detection for COCO box evaluation, as in a COCO results file. Like pycocotools' `loadRes`,
/// the evaluation gives it the id `index + 1` and the area `width * height`.
public struct COCODetection: Sendable, Hashable {
    /// The image the detection is on.
    public var imageID: Int
    /// The predicted category.
    public var categoryID: Int
    /// The predicted box (left, top, width, height).
    public var box: Box
    /// The confidence; detections are ranked by it, ties keeping their input order.
    public var score: Double

    /// Creates a detection.
    public init(imageID: Int, categoryID: Int, box: Box, score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.box = box
        self.score = score
    }
}

/// What `COCOeval` (iouType "bbox", default params) computes: the accumulated precision and
/// recall arrays and the 12 summary numbers.
public struct COCOEvaluationResult: Sendable {
    /// The evaluated image ids, sorted and unique (as `np.unique` leaves them).
    public var imageIDs: [Int]
    /// The evaluated category ids, sorted and unique.
    public var categoryIDs: [Int]
    /// `precision[t, r, k, a, m]` flattened in C order (T × R × K × A × M); -1 where undefined.
    public var precision: [Double]
    /// `recall[t, k, a, m]` flattened in C order (T × K × A × M); -1 where undefined.
    public var recall: [Double]

    /// The 12 numbers of `COCOeval.summarize()`: AP, AP50, AP75, AP small/medium/large,
    /// AR1, AR10, AR100, AR small/medium/large; -1 where nothing is defined.
    public var stats: [Double] {
        let p = COCOEvaluation.self
        let all = 0, maxDets = p.maxDetections.count - 1
        return [
            summarize(ap: true, area: all, maxDet: maxDets),
            summarize(ap: true, iou: 0.5, area: all, maxDet: maxDets),
            summarize(ap: true, iou: 0.75, area: all, maxDet: maxDets),
            summarize(ap: true, area: 1, maxDet: maxDets),
            summarize(ap: true, area: 2, maxDet: maxDets),
            summarize(ap: true, area: 3, maxDet: maxDets),
            summarize(ap: false, area: all, maxDet: 0),
            summarize(ap: false, area: all, maxDet: 1),
            summarize(ap: false, area: all, maxDet: maxDets),
            summarize(ap: false, area: 1, maxDet: maxDets),
            summarize(ap: false, area: 2, maxDet: maxDets),
            summarize(ap: false, area: 3, maxDet: maxDets),
        ]
    }

    /// AP per category over IoU .50:.95, all areas, 100 detections: the mean of
    /// `precision[:, :, k, 0, 2]` over entries > -1, or -1 when there are none
    /// (a category without ground truth).
    public var perCategoryAP: [Int: Double] {
        let p = COCOEvaluation.self
        let T = p.iouThresholds.count, R = p.recallThresholds.count
        var out: [Int: Double] = [:]
        for (k, category) in categoryIDs.enumerated() {
            var values: [Double] = []
            for t in 0..<T {
                for r in 0..<R {
                    let v = precision[index(t: t, r: r, k: k, a: 0, m: p.maxDetections.count - 1)]
                    if v > -1 { values.append(v) }
                }
            }
            out[category] = COCOEvaluation.mean(values)
        }
        return out
    }

    func index(t: Int, r: Int, k: Int, a: Int, m: Int) -> Int {
        let p = COCOEvaluation.self
        return (((t * p.recallThresholds.count + r) * categoryIDs.count + k) * p.areaRanges.count + a)
            * p.maxDetections.count + m
    }

    func index(t: Int, k: Int, a: Int, m: Int) -> Int {
        let p = COCOEvaluation.self
        return ((t * categoryIDs.count + k) * p.areaRanges.count + a) * p.maxDetections.count + m
    }

    /// `_summarize`: the entries of one area range and maxDets (and one IoU threshold when
    /// given, matched by `==` as numpy does) in C order, averaged over those > -1.
    func summarize(ap: Bool, iou: Double? = nil, area: Int, maxDet: Int) -> Double {
        let p = COCOEvaluation.self
        let thresholds: [Int]
        if let iou {
            thresholds = p.iouThresholds.indices.filter { p.iouThresholds[$0] == iou }
        } else {
            thresholds = Array(p.iouThresholds.indices)
        }
        var values: [Double] = []
        for t in thresholds {
            if ap {
                for r in 0..<p.recallThresholds.count {
                    for k in 0..<categoryIDs.count {
                        let v = precision[index(t: t, r: r, k: k, a: area, m: maxDet)]
                        if v > -1 { values.append(v) }
                    }
                }
            } else {
                for k in 0..<categoryIDs.count {
                    let v = recall[index(t: t, k: k, a: area, m: maxDet)]
                    if v > -1 { values.append(v) }
                }
            }
        }
        return COCOEvaluation.mean(values)
    }
}

/// COCO box evaluation replicating pycocotools' `COCOeval` (iouType "bbox", default params):
/// `evaluateImg`, `accumulate` and `summarize` with the same sorts, matching and floating-point
/// operations, so the numbers agree with pycocotools to the last bits.
public enum COCOEvaluation {
    /// `np.linspace(.5, 0.95, 10, endpoint=True)`: `i * step + start`, the last set to `stop`.
    public static let iouThresholds: [Double] = linspace(0.5, 0.95, count: 10)
    /// `np.linspace(.0, 1.00, 101, endpoint=True)`.
    public static let recallThresholds: [Double] = linspace(0.0, 1.0, count: 101)
    /// Detections kept per image, sorted: [1, 10, 100].
    public static let maxDetections: [Int] = [1, 10, 100]
    /// Area ranges all, small, medium, large (inclusive bounds, as pycocotools compares).
    public static let areaRanges: [(lower: Double, upper: Double)] = [
        (0, 1e5 * 1e5), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e5 * 1e5),
    ]

    static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }

    /// `np.mean` of a 1-D array (numpy's pairwise summation, then one division); -1 if empty.
    static func mean(_ values: [Double]) -> Double {
        if values.isEmpty { return -1 }
        return values.withUnsafeBufferPointer { pairwiseSum($0[...]) } / Double(values.count)
    }

    /// numpy's `pairwise_sum` for doubles (blocks of 128, eight accumulators).
    static func pairwiseSum(_ a: Slice<UnsafeBufferPointer<Double>>) -> Double {
        let n = a.count, s = a.startIndex
        if n < 8 {
            var res = -0.0
            for i in 0..<n { res += a[s + i] }
            return res
        } else if n <= 128 {
            var r = (0..<8).map { a[s + $0] }
            var i = 8
            while i < n - (n % 8) {
                for j in 0..<8 { r[j] += a[s + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                res += a[s + i]
                i += 1
            }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return pairwiseSum(a[s..<(s + n2)]) + pairwiseSum(a[(s + n2)...])
        }
    }

    /// Indices that sort `keys` ascending, ties in original order (`argsort(kind='mergesort')`).
    static func stableArgsort(_ keys: [Double]) -> [Int] {
        keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
    }

    /// Evaluates detections against ground truth over the given images and categories, as
    /// `COCOeval.evaluate()` then `accumulate()` do. Objects on other images or categories are
    /// left out; duplicate ids are removed and the rest sorted, as `np.unique` does.
    ///
    /// Categories are independent in both steps, so with `parallel` (the default) they are
    /// shared out over the machine's cores; the result is the same either way.
    public static func evaluate(
        truth: [COCOGroundTruth], detections: [COCODetection], imageIDs: [Int], categoryIDs: [Int],
        parallel: Bool = true
    ) -> COCOEvaluationResult {
        let images = Array(Set(imageIDs)).sorted()
        let categories = Array(Set(categoryIDs)).sorted()
        let imageIndex = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($1, $0) })
        let categoryIndex = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        // Per category, the objects and detections of each image (by image position), in input order.
        var gts = Array(repeating: [Int: [COCOGroundTruth]](), count: categories.count)
        for g in truth {
            guard let k = categoryIndex[g.categoryID], let i = imageIndex[g.imageID] else { continue }
            gts[k][i, default: []].append(g)
        }
        var dts = Array(repeating: [Int: [ScoredDetection]](), count: categories.count)
        for (n, d) in detections.enumerated() {
            guard let k = categoryIndex[d.categoryID], let i = imageIndex[d.imageID] else { continue }
            dts[k][i, default: []].append(ScoredDetection(id: n + 1, box: d.box, area: d.box.area, score: d.score))
        }
        let T = iouThresholds.count, R = recallThresholds.count, K = categories.count
        let A = areaRanges.count, M = maxDetections.count
        var result = COCOEvaluationResult(
            imageIDs: images, categoryIDs: categories,
            precision: Array(repeating: -1, count: T * R * K * A * M),
            recall: Array(repeating: -1, count: T * K * A * M))
        let perCategory = CategoryResults(count: K)
        let truthByCategory = gts, detectionsByCategory = dts, imageCount = images.count
        let work = { @Sendable (k: Int) in
            let evaluations = evaluateCategory(
                truth: truthByCategory[k], detections: detectionsByCategory[k], imageCount: imageCount)
            perCategory.store(k, accumulateCategory(evaluations))
        }
        if parallel && K > 1 {
            concurrentPerform(iterations: K, work)
        } else {
            for k in 0..<K { work(k) }
        }
        for k in 0..<K {
            let (precision, recall) = perCategory.take(k)
            for t in 0..<T {
                for a in 0..<A {
                    for m in 0..<M {
                        result.recall[result.index(t: t, k: k, a: a, m: m)] = recall[(t * A + a) * M + m]
                        for r in 0..<R {
                            result.precision[result.index(t: t, r: r, k: k, a: a, m: m)] = precision[((t * R + r) * A + a) * M + m]
                        }
                    }
                }
            }
        }
        return result
    }
}
