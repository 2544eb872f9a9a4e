/// Detection scored at one operating point: detections below a confidence are dropped, and a
/// detection is right when it overlaps a ground-truth object of its category by at least an IoU.
///
/// Per image, detections are taken by descending score (ties in input order):
/// 1. **Same-category matching.** Each detection takes the unmatched regular (non-crowd)
///    ground-truth object of its category with the highest IoU ≥ the threshold (ties: the
///    first in input order). Matched: a true positive. A detection that matches nothing but
///    overlaps a crowd region of its category by the threshold (crowd IoU, as COCO's) is
///    ignored. What is left of the detections are false positives, of the objects false negatives.
/// 2. **Confusion.** The unmatched detections then take, in the same order, the unmatched
///    objects of *any* category with the highest IoU ≥ the threshold: each such pair is a
///    confusion (truth category → predicted category). Detections still unmatched are
///    background → predicted; objects still unmatched are truth → background.
///
/// So for each category, the true positives are the confusion matrix's diagonal, its false
/// positives the rest of its column and its false negatives the rest of its row.
public enum DetectionOperatingPoint {
    /// One entry of the confusion matrix: which objects it is made of.
    public struct Pair: Sendable, Hashable {
        public var imageID: Int
        /// The ground-truth annotation id; nil for background (a false positive on nothing).
        public var truthID: Int?
        /// The index of the detection in the input; nil for a missed object.
        public var detectionIndex: Int?
        /// Row and column of the confusion matrix (``Report/categoryIDs`` positions, the last
        /// being background).
        public var truthIndex: Int
        public var predictedIndex: Int
        /// The pair's IoU; 0 when one side is background.
        public var iou: Double
    }

    /// Per-image counts, for ranking the worst rows.
    public struct ImageCounts: Sendable, Hashable {
        public var imageID: Int
        public var truePositives: Int
        public var falsePositives: Int
        public var falseNegatives: Int
        /// Mean over the image's regular objects of the best IoU any same-category detection
        /// above the confidence reaches (0 for a missed object); nil when there are no objects.
        public var meanBestIoU: Double?
        public var errors: Int { falsePositives + falseNegatives }
    }

    /// What one operating point gives.
    public struct Report: Sendable {
        public var confidence: Double
        public var iouThreshold: Double
        /// The categories, sorted; the confusion matrix has one more row and column, background, last.
        public var categoryIDs: [Int]
        /// Per category: precision, recall, F1 and support (the regular objects).
        public var perCategory: [Int: Classification.Scores]
        /// Over all categories' counts (micro average).
        public var micro: Classification.Scores
        /// The unweighted mean over the categories that have objects or detections.
        public var macro: Classification.Scores
        /// `counts[truth][predicted]`, (K + 1) × (K + 1), background last.
        public var confusion: [[Int]]
        /// Every entry of the matrix, for the rows behind a cell.
        public var pairs: [Pair]
        /// Per image, in image id order.
        public var images: [ImageCounts]

        /// The pairs behind one cell (nil category = background).
        public func pairs(truth: Int?, predicted: Int?) -> [Pair] {
            let row = truth.flatMap { categoryIDs.firstIndex(of: $0) } ?? categoryIDs.count
            let column = predicted.flatMap { categoryIDs.firstIndex(of: $0) } ?? categoryIDs.count
            if (truth != nil && row == categoryIDs.count) || (predicted != nil && column == categoryIDs.count) {
                return []
            }
            return pairs.filter { $0.truthIndex == row && $0.predictedIndex == column }
        }
    }

    /// Scores `detections` against `truth` at `confidence` (detections with a lower score are
    /// dropped) and `iouThreshold`. Categories are those of `categoryIDs` plus any in the data;
    /// images those of `imageIDs` plus any in the data.
    public static func evaluate(
        truth: [COCOGroundTruth], detections: [COCODetection], confidence: Double, iouThreshold: Double,
        imageIDs: [Int] = [], categoryIDs: [Int] = []
    ) -> Report {
        let categories = Array(Set(categoryIDs + truth.map(\.categoryID) + detections.map(\.categoryID))).sorted()
        let column = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        let K = categories.count, background = K
        var truthByImage: [Int: [Int]] = [:]
        for (i, g) in truth.enumerated() { truthByImage[g.imageID, default: []].append(i) }
        var detectionsByImage: [Int: [Int]] = [:]
        for (i, d) in detections.enumerated() where d.score >= confidence {
            detectionsByImage[d.imageID, default: []].append(i)
        }
        let images = Array(Set(imageIDs).union(truthByImage.keys).union(detectionsByImage.keys)).sorted()
        var confusion = Array(repeating: Array(repeating: 0, count: K + 1), count: K + 1)
        var pairs: [Pair] = []
        var perImage: [ImageCounts] = []
        for image in images {
            let objects = truthByImage[image] ?? []
            let regular = objects.filter { !truth[$0].isCrowd }
            let crowds = objects.filter { truth[$0].isCrowd }
            let ranked = (detectionsByImage[image] ?? []).sorted {
                detections[$0].score > detections[$1].score || (detections[$0].score == detections[$1].score && $0 < $1)
            }
            var objectTaken = Array(repeating: false, count: regular.count)
            var detectionState = Array(repeating: 0, count: ranked.count)  // 0 open, 1 matched, 2 ignored
            var counts = ImageCounts(imageID: image, truePositives: 0, falsePositives: 0, falseNegatives: 0)
            func bestMatch(_ d: COCODetection, sameCategory: Bool) -> (Int, Double)? {
                var best: (Int, Double)?
                for (g, index) in regular.enumerated() where !objectTaken[g] {
                    let object = truth[index]
                    if sameCategory && object.categoryID != d.categoryID { continue }
                    let iou = BoxIoU.iou(d.box, object.box)
                    if iou >= iouThreshold && iou > (best?.1 ?? -1) { best = (g, iou) }
                }
                return best
            }
            for (r, di) in ranked.enumerated() {
                let d = detections[di]
                if let (g, iou) = bestMatch(d, sameCategory: true) {
                    objectTaken[g] = true
                    detectionState[r] = 1
                    let k = column[d.categoryID]!
                    confusion[k][k] += 1
                    counts.truePositives += 1
                    pairs.append(Pair(imageID: image, truthID: truth[regular[g]].id, detectionIndex: di,
                                      truthIndex: k, predictedIndex: k, iou: iou))
                } else if crowds.contains(where: {
                    truth[$0].categoryID == d.categoryID
                        && BoxIoU.iou(d.box, truth[$0].box, crowd: true) >= iouThreshold
                }) {
                    detectionState[r] = 2
                }
            }
            for (r, di) in ranked.enumerated() where detectionState[r] == 0 {
                let d = detections[di]
                counts.falsePositives += 1
                if let (g, iou) = bestMatch(d, sameCategory: false) {
                    objectTaken[g] = true
                    let t = column[truth[regular[g]].categoryID]!, p = column[d.categoryID]!
                    confusion[t][p] += 1
                    counts.falseNegatives += 1
                    pairs.append(Pair(imageID: image, truthID: truth[regular[g]].id, detectionIndex: di,
                                      truthIndex: t, predictedIndex: p, iou: iou))
                } else {
                    let p = column[d.categoryID]!
                    confusion[background][p] += 1
                    pairs.append(Pair(imageID: image, truthID: nil, detectionIndex: di,
                                      truthIndex: background, predictedIndex: p, iou: 0))
                }
            }
            for (g, index) in regular.enumerated() where !objectTaken[g] {
                let t = column[truth[index].categoryID]!
                confusion[t][background] += 1
                counts.falseNegatives += 1
                pairs.append(Pair(imageID: image, truthID: truth[index].id, detectionIndex: nil,
                                  truthIndex: t, predictedIndex: background, iou: 0))
            }
            if !regular.isEmpty {
                var sum = 0.0
                for index in regular {
                    let object = truth[index]
                    var best = 0.0
                    for di in ranked where detections[di].categoryID == object.categoryID {
                        best = max(best, BoxIoU.iou(detections[di].box, object.box))
                    }
                    sum += best
                }
                counts.meanBestIoU = sum / Double(regular.count)
            }
            perImage.append(counts)
        }
        var perCategory: [Int: Classification.Scores] = [:]
        var totals = Classification.Counts(truePositives: 0, predicted: 0, actual: 0)
        var used: [Classification.Scores] = []
        for (k, category) in categories.enumerated() {
            let tp = confusion[k][k]
            let predicted = (0...K).reduce(0) { $0 + confusion[$1][k] }
            let actual = confusion[k].reduce(0, +)
            let scores = Classification.Counts(truePositives: tp, predicted: predicted, actual: actual).scores
            perCategory[category] = scores
            totals.truePositives += tp
            totals.predicted += predicted
            totals.actual += actual
            if predicted > 0 || actual > 0 { used.append(scores) }
        }
        let macro = Classification.Scores(
            precision: Classification.mean(used.map(\.precision)), recall: Classification.mean(used.map(\.recall)),
            f1: Classification.mean(used.map(\.f1)), support: totals.actual)
        return Report(
            confidence: confidence, iouThreshold: iouThreshold, categoryIDs: categories, perCategory: perCategory,
            micro: totals.scores, macro: macro, confusion: confusion, pairs: pairs, images: perImage)
    }
}
