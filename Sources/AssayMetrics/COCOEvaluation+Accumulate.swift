/// A detection as pycocotools' `loadRes` stores it: 1-based id, area `w * h`.
struct ScoredDetection: Sendable {
    var id: Int
    var box: Box
    var area: Double
    var score: Double
}

/// One `evaluateImg` result: one image, one category, one area range.
struct ImageEvaluation: Sendable {
    /// Detections kept (at most the largest maxDet), highest score first.
    var count: Int
    /// `dtMatches[t][d]` flattened (t * count + d): the matched ground-truth id, 0 when unmatched.
    var dtMatches: [Int]
    /// `dtIgnore[t][d]` flattened likewise.
    var dtIgnore: [Bool]
    /// Detection scores, highest first.
    var dtScores: [Double]
    /// How many ground-truth objects are not ignored in this area range.
    var regularTruth: Int
}

extension COCOEvaluation {
    /// `evaluateImg` for every image of one category and every area range:
    /// `result[a][i]`, nil where the image has neither ground truth nor a detection.
    static func evaluateCategory(
        truth: [Int: [COCOGroundTruth]], detections: [Int: [ScoredDetection]], imageCount: Int
    ) -> [[ImageEvaluation?]] {
        var byArea = Array(repeating: [ImageEvaluation?](repeating: nil, count: imageCount), count: areaRanges.count)
        let maxDet = maxDetections[maxDetections.count - 1]
        for image in Set(truth.keys).union(detections.keys) {
            let g = truth[image] ?? []
            // computeIoU: detections sorted by score (stable), cut to the largest maxDet, against
            // the ground truth in input order; evaluateImg then reorders the columns per area.
            let unsorted = detections[image] ?? []
            let order = stableArgsort(unsorted.map { -$0.score })
            let d = order.prefix(maxDet).map { unsorted[$0] }
            var ious = [Double](repeating: 0, count: d.count * g.count)
            for (di, det) in d.enumerated() {
                for (gi, object) in g.enumerated() {
                    ious[di * g.count + gi] = BoxIoU.iou(det.box, object.box, crowd: object.isCrowd)
                }
            }
            for a in areaRanges.indices {
                byArea[a][image] = evaluateImage(truth: g, detections: d, ious: ious, area: areaRanges[a])
            }
        }
        return byArea
    }

    /// `COCOeval.evaluateImg` for one image, category and area range, given the detections in
    /// score order and their IoUs with the ground truth in input order (`ious[d * G + g]`).
    static func evaluateImage(
        truth unsortedTruth: [COCOGroundTruth], detections: [ScoredDetection], ious: [Double],
        area range: (lower: Double, upper: Double)
    ) -> ImageEvaluation? {
        if unsortedTruth.isEmpty && detections.isEmpty { return nil }
        let G = unsortedTruth.count, D = detections.count, T = iouThresholds.count
        let ignoreFlags = unsortedTruth.map { $0.isCrowd || $0.area < range.lower || $0.area > range.upper }
        // Ignored ground truth last, otherwise input order (a stable sort on the flag).
        let gtOrder = ignoreFlags.indices.filter { !ignoreFlags[$0] } + ignoreFlags.indices.filter { ignoreFlags[$0] }
        let gtIg = gtOrder.map { ignoreFlags[$0] }
        let crowd = gtOrder.map { unsortedTruth[$0].isCrowd }
        let ids = gtOrder.map { unsortedTruth[$0].id }

        var dtm = [Int](repeating: 0, count: T * D)
        var dtIg = [Bool](repeating: false, count: T * D)
        if G > 0 && D > 0 {
            var gtm = [Int](repeating: 0, count: G)
            for (tind, t) in iouThresholds.enumerated() {
                for g in 0..<G { gtm[g] = 0 }
                for dind in 0..<D {
                    var iou = min(t, 1 - 1e-10)
                    var m = -1
                    let row = dind * G
                    for gind in 0..<G {
                        // Already matched and not a crowd: skip.
                        if gtm[gind] > 0 && !crowd[gind] { continue }
                        // Matched to a regular gt, and the rest are ignored: stop.
                        if m > -1 && !gtIg[m] && gtIg[gind] { break }
                        let value = ious[row + gtOrder[gind]]
                        if value < iou { continue }
                        iou = value
                        m = gind
                    }
                    if m == -1 { continue }
                    dtIg[tind * D + dind] = gtIg[m]
                    dtm[tind * D + dind] = ids[m]
                    gtm[m] = detections[dind].id
                }
            }
        }
        // Unmatched detections outside the area range are ignored.
        for dind in 0..<D {
            let a = detections[dind].area
            guard a < range.lower || a > range.upper else { continue }
            for tind in 0..<T where dtm[tind * D + dind] == 0 { dtIg[tind * D + dind] = true }
        }
        return ImageEvaluation(
            count: D, dtMatches: dtm, dtIgnore: dtIg, dtScores: detections.map(\.score),
            regularTruth: gtIg.count { !$0 })
    }

    /// `COCOeval.accumulate` for one category: per area range and maxDets, the images'
    /// detections merged by score, cumulative tp/fp, recall, precision made monotone, and
    /// precision at the 101 recall thresholds (`np.searchsorted(rc, recThrs, side='left')`).
    /// Returns `precision[t, r, a, m]` and `recall[t, a, m]` (C order), -1 where undefined.
    static func accumulateCategory(_ evalImgs: [[ImageEvaluation?]]) -> (precision: [Double], recall: [Double]) {
        let T = iouThresholds.count, R = recallThresholds.count
        let A = areaRanges.count, M = maxDetections.count
        var precision = [Double](repeating: -1, count: T * R * A * M)
        var recall = [Double](repeating: -1, count: T * A * M)
        var rc = [Double](), pr = [Double]()
        for a in 0..<A {
            let E = evalImgs[a].compactMap { $0 }
            if E.isEmpty { continue }
            let npig = E.reduce(0) { $0 + $1.regularTruth }
            if npig == 0 { continue }
            for (m, maxDet) in maxDetections.enumerated() {
                // (image, detection) of every kept detection, in the merged score order.
                var owners: [(e: Int, d: Int)] = []
                var scores: [Double] = []
                for (e, image) in E.enumerated() {
                    for d in 0..<min(maxDet, image.count) {
                        owners.append((e, d))
                        scores.append(-image.dtScores[d])
                    }
                }
                let order = stableArgsort(scores)
                let nd = order.count
                for t in 0..<T {
                    rc.removeAll(keepingCapacity: true)
                    pr.removeAll(keepingCapacity: true)
                    var tpCount = 0, fpCount = 0
                    for i in order {
                        let (e, d) = owners[i]
                        let image = E[e]
                        if !image.dtIgnore[t * image.count + d] {
                            if image.dtMatches[t * image.count + d] != 0 { tpCount += 1 } else { fpCount += 1 }
                        }
                        let tp = Double(tpCount), fp = Double(fpCount)
                        rc.append(tp / Double(npig))
                        pr.append(tp / (fp + tp + Double.ulpOfOne))
                    }
                    recall[(t * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                    if nd > 1 {
                        for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] {
                            pr[i - 1] = pr[i]
                        }
                    }
                    var lower = 0
                    for ri in 0..<R {
                        // Recall is non-decreasing and so are the thresholds: search from the last hit.
                        lower = searchsortedLeft(rc, recallThresholds[ri], from: lower)
                        // pycocotools fills q (zeros) until the first index past the end.
                        if lower >= nd {
                            for rj in ri..<R { precision[((t * R + rj) * A + a) * M + m] = 0 }
                            break
                        }
                        precision[((t * R + ri) * A + a) * M + m] = pr[lower]
                    }
                }
            }
        }
        return (precision, recall)
    }

    /// `np.searchsorted(values, x, side='left')` for ascending `values`: the first index whose
    /// value is not less than `x` (searching from `from`, which must not be past it).
    static func searchsortedLeft(_ values: [Double], _ x: Double, from: Int = 0) -> Int {
        var lo = from, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
