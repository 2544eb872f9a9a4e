public import AssayCore

/// Budgeted routing: which rows of a run are worth a person's time (docs/review.md).
///
/// A row qualifies when the two runs disagree on it or when its lowest prediction confidence
/// is below `confidenceThresholdPPM`. Disagreement is measured per project feature that
/// either run predicted: a classification disagrees (1) when the answers differ or one run
/// has none; a tool's disagreement is 1 - matched / max(count A, count B), instances matched
/// one to one at IoU >= `iouThreshold`. The row's disagreement D is the mean over those
/// features; its uncertainty U is 1 - the lowest confidence of either run's predictions (0
/// when no prediction has one). Informativeness = D + U (0...2). Rows are ranked with every
/// disagreeing row first, then by informativeness, then by their order in the run.
public struct RoutingPolicy: Sendable {
    public var iouThreshold: Double
    public var confidenceThresholdPPM: Int
    public init(iouThreshold: Double = 0.5, confidenceThresholdPPM: Int = 500_000) {
        self.iouThreshold = iouThreshold
        self.confidenceThresholdPPM = confidenceThresholdPPM
    }

    /// A scored row.
    public struct Candidate: Sendable {
        public var rowID: ObjectID
        /// The row's position in the run: breaks ties so the order is stable.
        public var order: Int64
        public var disagreement: Double
        public var minConfidencePPM: Int?
        public var score: Double

        public init(rowID: ObjectID, order: Int64, disagreement: Double, minConfidencePPM: Int?, score: Double) {
            self.rowID = rowID
            self.order = order
            self.disagreement = disagreement
            self.minConfidencePPM = minConfidencePPM
            self.score = score
        }

        /// True when `self` should be reviewed before `other`.
        public func ranks(before other: Candidate) -> Bool {
            let a = disagreement > 0
            let b = other.disagreement > 0
            if a != b { return a }
            if score != other.score { return score > other.score }
            return order < other.order
        }
    }

    /// The row's candidate, or nil when it does not qualify. `other` is nil without a second run.
    public func score(rowID: ObjectID, order: Int64, predictions: [Label], other: [Label]?) -> Candidate? {
        var disagreement = 0.0
        if let other {
            var features: [String] = []
            var seen = Set<String>()
            for label in predictions + other where seen.insert(label.featureID).inserted { features.append(label.featureID) }
            var total = 0.0
            for feature in features {
                let a = predictions.filter { $0.featureID == feature }
                let b = other.filter { $0.featureID == feature }
                let kind = (a.first ?? b.first)!.value.kind
                if kind.isClassification {
                    if let x = a.first, let y = b.first, Consensus.sameAnswer(x.value, y.value) { continue }
                    total += 1
                } else {
                    total += 1 - Double(Self.matches(a, b, threshold: iouThreshold)) / Double(max(a.count, b.count))
                }
            }
            disagreement = features.isEmpty ? 0 : total / Double(features.count)
        }
        let confidences = (predictions + (other ?? [])).compactMap(\.confidencePPM)
        let minimum = confidences.min()
        let lowConfidence = minimum.map { $0 < confidenceThresholdPPM } ?? false
        guard disagreement > 0 || lowConfidence else { return nil }
        let uncertainty = minimum.map { 1 - Double($0) / 1_000_000 } ?? 0
        return Candidate(rowID: rowID, order: order, disagreement: disagreement, minConfidencePPM: minimum, score: disagreement + uncertainty)
    }

    /// Instances of `a` and `b` matched one to one, best overlap first, at IoU >= `threshold`.
    static func matches(_ a: [Label], _ b: [Label], threshold: Double) -> Int {
        var pairs: [(Double, Int, Int)] = []
        for (i, x) in a.enumerated() {
            for (j, y) in b.enumerated() {
                let iou = Consensus.overlap(x.value, y.value)
                if iou >= threshold { pairs.append((iou, i, j)) }
            }
        }
        pairs.sort { $0.0 > $1.0 }
        var usedA = Set<Int>()
        var usedB = Set<Int>()
        for (_, i, j) in pairs where !usedA.contains(i) && !usedB.contains(j) {
            usedA.insert(i)
            usedB.insert(j)
        }
        return usedA.count
    }
}

/// The best `capacity` candidates seen so far, in memory bounded by `capacity` (a heap whose
/// root is the worst kept candidate).
public struct TopCandidates: Sendable {
    public let capacity: Int
    private var heap: [RoutingPolicy.Candidate] = []
    /// Every candidate offered, kept or not.
    public private(set) var offered = 0

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// `a` is worse than `b`.
    private func worse(_ a: RoutingPolicy.Candidate, _ b: RoutingPolicy.Candidate) -> Bool { b.ranks(before: a) }

    public mutating func offer(_ c: RoutingPolicy.Candidate) {
        offered += 1
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(c)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard worse(heap[i], heap[parent]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
        } else if worse(heap[0], c) {
            heap[0] = c
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var w = i
                if l < heap.count && worse(heap[l], heap[w]) { w = l }
                if r < heap.count && worse(heap[r], heap[w]) { w = r }
                if w == i { break }
                heap.swapAt(i, w)
                i = w
            }
        }
    }

    /// The kept candidates, best first.
    public func ranked() -> [RoutingPolicy.Candidate] { heap.sorted { $0.ranks(before: $1) } }
}
