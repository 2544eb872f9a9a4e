/// An annotation of one feature on one data row: ground truth (a label) or a model's
/// prediction (with a confidence and the run that made it).
public struct Label: Hashable, Sendable {
    public var id: ObjectID
    public var dataRowID: ObjectID
    public var ontologyID: ObjectID
    public var featureID: String
    public var value: LabelValue
    /// Answers to the feature's sub-classifications.
    public var children: [Label]
    /// Nil for ground truth.
    public var modelRunID: ObjectID?
    /// 0...1 as a fraction of 1,000,000 (integer parts per million), for predictions.
    public var confidencePPM: Int?
    public var createdAt: Timestamp

    public init(id: ObjectID, dataRowID: ObjectID, ontologyID: ObjectID, featureID: String, value: LabelValue, children: [Label] = [], modelRunID: ObjectID? = nil, confidencePPM: Int? = nil, createdAt: Timestamp = 0) {
        self.id = id
        self.dataRowID = dataRowID
        self.ontologyID = ontologyID
        self.featureID = featureID
        self.value = value
        self.children = children
        self.modelRunID = modelRunID
        self.confidencePPM = confidencePPM
        self.createdAt = createdAt
    }
}

/// The answer a label gives, by feature kind. Coordinates are pixels from the top left.
public enum LabelValue: Hashable, Sendable {
    case radio(optionID: String)
    case checklist(optionIDs: [String])
    case boundingBox(left: Double, top: Double, width: Double, height: Double)
    case polygon(points: [Point])
    /// Character offsets (Unicode scalars) into the row's text, end exclusive.
    case textSpan(start: Int, end: Int)
    case freeText(String)

    public var kind: FeatureKind {
        switch self {
        case .radio: .radio
        case .checklist: .checklist
        case .boundingBox: .boundingBox
        case .polygon: .polygon
        case .textSpan: .textSpan
        case .freeText: .freeText
        }
    }
}

public struct Point: Hashable, Sendable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Why a label does not fit its ontology; names the feature and the reason.
public struct LabelError: Error, Hashable, Sendable, CustomStringConvertible {
    public var featureID: String
    public var reason: String
    public init(featureID: String, reason: String) {
        self.featureID = featureID
        self.reason = reason
    }
    public var description: String { "feature \(featureID): \(reason)" }
}

extension Ontology {
    /// Checks a label (and its sub-labels) against this ontology and, for text spans, the
    /// length of the row's text in Unicode scalars.
    public func validate(_ label: Label, textLength: Int?) throws(LabelError) {
        let features = featuresByID
        func check(_ l: Label, allowed: [Feature]?) throws(LabelError) {
            guard let feature = features[l.featureID] else {
                throw LabelError(featureID: l.featureID, reason: "unknown feature (not in ontology \(name))")
            }
            if let allowed, !allowed.contains(where: { $0.id == feature.id }) {
                throw LabelError(featureID: l.featureID, reason: "is not a sub-classification of its parent")
            }
            guard l.value.kind == feature.kind else {
                throw LabelError(featureID: l.featureID, reason: "expects a \(feature.kind.rawValue) value, got \(l.value.kind.rawValue)")
            }
            var childFeatures = feature.children
            switch l.value {
            case .radio(let option):
                guard let o = feature.options.first(where: { $0.id == option }) else {
                    throw LabelError(featureID: l.featureID, reason: "unknown option \(option)")
                }
                childFeatures += o.children
            case .checklist(let options):
                guard !options.isEmpty else { throw LabelError(featureID: l.featureID, reason: "a checklist answer needs at least one option") }
                guard Set(options).count == options.count else { throw LabelError(featureID: l.featureID, reason: "an option is chosen twice") }
                for option in options {
                    guard let o = feature.options.first(where: { $0.id == option }) else {
                        throw LabelError(featureID: l.featureID, reason: "unknown option \(option)")
                    }
                    childFeatures += o.children
                }
            case .boundingBox(let left, let top, let width, let height):
                guard [left, top, width, height].allSatisfy(\.isFinite), left >= 0, top >= 0, width > 0, height > 0 else {
                    throw LabelError(featureID: l.featureID, reason: "a box needs finite left, top >= 0 and width, height > 0")
                }
            case .polygon(let points):
                guard points.count >= 3 else { throw LabelError(featureID: l.featureID, reason: "a polygon needs at least 3 points") }
                guard points.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else {
                    throw LabelError(featureID: l.featureID, reason: "polygon points must be finite")
                }
            case .textSpan(let start, let end):
                guard start >= 0, end > start else { throw LabelError(featureID: l.featureID, reason: "a span needs 0 <= start < end") }
                if let textLength, end > textLength {
                    throw LabelError(featureID: l.featureID, reason: "span end \(end) is past the end of the text (\(textLength) characters)")
                }
            case .freeText(let text):
                guard !text.isEmpty else { throw LabelError(featureID: l.featureID, reason: "free text is empty") }
            }
            if l.confidencePPM.map({ $0 < 0 || $0 > 1_000_000 }) ?? false {
                throw LabelError(featureID: l.featureID, reason: "confidence must be between 0 and 1")
            }
            for child in l.children { try check(child, allowed: childFeatures) }
        }
        try check(label, allowed: nil)
    }
}
