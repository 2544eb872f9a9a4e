/// A detection as pycocotools' `loadRes` stores it: 1-based id, area `w * h`.
struct ScoredDetection: Sendable {
    var id: Int
    var box: Box
    var area: Double
    var score: Double
}

/// One `evaluateImg` result: one image, one category, one area range.
struct ImageEvaluation: Sendable {
    /// `dtMatches[t][d]`: the matched ground-truth id, 0 when unmatched.
    var dtMatches: [[Int]]
    /// `dtIgnore[t][d]`.
    var dtIgnore: [[Bool]]
    /// Detection scores, highest first.
    var dtScores: [Double]
    /// Ground-truth ignore flags, in the ignore-last order.
    var gtIgnore: [Bool]
}

extension COCOEvaluation {
    /// `COCOeval.evaluateImg` for one image and category: `nil` when there is neither ground
    /// truth nor a detection.
    static func evaluateImage(
        truth unsortedTruth: [COCOGroundTruth], detections unsorted: [ScoredDetection],
        area range: (lower: Double, upper: Double), maxDet: Int
    ) -> ImageEvaluation? {
        if unsortedTruth.isEmpty && unsorted.isEmpty { return nil }
        let ignoreFlags = unsortedTruth.map { $0.isCrowd || $0.area < range.lower || $0.area > range.upper }
        let gtOrder = stableArgsort(ignoreFlags.map { $0 ? 1.0 : 0.0 })
        let truth = gtOrder.map { unsortedTruth[$0] }
        let gtIg = gtOrder.map { ignoreFlags[$0] }
        let dtOrder = stableArgsort(unsorted.map { -$0.score })
        let detections = dtOrder.prefix(maxDet).map { unsorted[$0] }
        let crowd = truth.map(\.isCrowd)
        // The IoU matrix of the score-sorted detections with the gt in ignore-last order.
        let ious = detections.map { d in truth.indices.map { g in BoxIoU.iou(d.box, truth[g].box, crowd: crowd[g]) } }

        let T = iouThresholds.count, G = truth.count, D = detections.count
        var gtm = Array(repeating: Array(repeating: 0, count: G), count: T)
        var dtm = Array(repeating: Array(repeating: 0, count: D), count: T)
        var dtIg = Array(repeating: Array(repeating: false, count: D), count: T)
        if G > 0 && D > 0 {
            for (tind, t) in iouThresholds.enumerated() {
                for dind in 0..<D {
                    var iou = min(t, 1 - 1e-10)
                    var m = -1
                    for gind in 0..<G {
                        // Already matched and not a crowd: skip.
                        if gtm[tind][gind] > 0 && !crowd[gind] { continue }
                        // Matched to a regular gt, and the rest are ignored: stop.
                        if m > -1 && !gtIg[m] && gtIg[gind] { break }
                        if ious[dind][gind] < iou { continue }
                        iou = ious[dind][gind]
                        m = gind
                    }
                    if m == -1 { continue }
                    dtIg[tind][dind] = gtIg[m]
                    dtm[tind][dind] = truth[m].id
                    gtm[tind][m] = detections[dind].id
                }
            }
        }
        // Unmatched detections outside the area range are ignored.
        for tind in 0..<T {
            for dind in 0..<D where dtm[tind][dind] == 0 {
                let a = detections[dind].area
                if a < range.lower || a > range.upper { dtIg[tind][dind] = true }
            }
        }
        return ImageEvaluation(dtMatches: dtm, dtIgnore: dtIg, dtScores: detections.map(\.score), gtIgnore: gtIg)
    }

    /// `COCOeval.accumulate`: per category, area range and maxDets, the images' detections
    /// merged by score, cumulative tp/fp, recall, precision made monotone, and precision at
    /// the 101 recall thresholds (`np.searchsorted(rc, recThrs, side='left')`).
    static func accumulate(
        _ evalImgs: [[[ImageEvaluation?]]], images: [Int], categories: [Int]
    ) -> COCOEvaluationResult {
        let T = iouThresholds.count, R = recallThresholds.count, K = categories.count
        let A = areaRanges.count, M = maxDetections.count
        var result = COCOEvaluationResult(
            imageIDs: images, categoryIDs: categories,
            precision: Array(repeating: -1, count: T * R * K * A * M),
            recall: Array(repeating: -1, count: T * K * A * M))
        for k in 0..<K {
            for a in 0..<A {
                let E = evalImgs[k][a].compactMap { $0 }
                if E.isEmpty { continue }
                for (m, maxDet) in maxDetections.enumerated() {
                    let scores = E.flatMap { $0.dtScores.prefix(maxDet) }
                    let order = stableArgsort(scores.map { -$0 })
                    let npig = E.reduce(0) { $0 + $1.gtIgnore.count { !$0 } }
                    if npig == 0 { continue }
                    for t in 0..<T {
                        let dtm = E.flatMap { $0.dtMatches[t].prefix(maxDet) }
                        let dtIg = E.flatMap { $0.dtIgnore[t].prefix(maxDet) }
                        let nd = order.count
                        var rc = [Double](), pr = [Double]()
                        rc.reserveCapacity(nd)
                        pr.reserveCapacity(nd)
                        var tpCount = 0, fpCount = 0
                        for i in order {
                            if !dtIg[i] {
                                if dtm[i] != 0 { tpCount += 1 } else { fpCount += 1 }
                            }
                            let tp = Double(tpCount), fp = Double(fpCount)
                            rc.append(tp / Double(npig))
                            pr.append(tp / (fp + tp + Double.ulpOfOne))
                        }
                        result.recall[result.index(t: t, k: k, a: a, m: m)] = nd > 0 ? rc[nd - 1] : 0
                        if nd > 1 {
                            for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] {
                                pr[i - 1] = pr[i]
                            }
                        }
                        for (ri, threshold) in recallThresholds.enumerated() {
                            let pi = searchsortedLeft(rc, threshold)
                            // pycocotools fills q (zeros) until the first index past the end.
                            if pi >= nd {
                                for rj in ri..<R { result.precision[result.index(t: t, r: rj, k: k, a: a, m: m)] = 0 }
                                break
                            }
                            result.precision[result.index(t: t, r: ri, k: k, a: a, m: m)] = pr[pi]
                        }
                    }
                }
            }
        }
        return result
    }

    /// `np.searchsorted(values, x, side='left')` for ascending `values`: the first index whose
    /// value is not less than `x`.
    static func searchsortedLeft(_ values: [Double], _ x: Double) -> Int {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
