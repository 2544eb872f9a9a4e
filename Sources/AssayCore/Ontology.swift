/// What can be annotated on a row: a tree of features with stable ids.
public struct Ontology: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    public var features: [Feature]
    public var createdAt: Timestamp

    public init(id: ObjectID, organizationID: ObjectID, name: String, features: [Feature], createdAt: Timestamp) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.features = features
        self.createdAt = createdAt
    }

    /// Every feature, nested ones included, by id.
    public var featuresByID: [String: Feature] {
        var all: [String: Feature] = [:]
        func visit(_ f: Feature) {
            all[f.id] = f
            for c in f.children { visit(c) }
            for o in f.options { for c in o.children { visit(c) } }
        }
        for f in features { visit(f) }
        return all
    }
}

/// The kinds of feature.
public enum FeatureKind: String, Hashable, Sendable, CaseIterable {
    /// Exactly one option.
    case radio
    /// Any number of options.
    case checklist
    /// An axis-aligned box on an image.
    case boundingBox = "bounding_box"
    /// A closed polygon on an image.
    case polygon
    /// A span of a text (named entities).
    case textSpan = "text_span"
    /// A free-form answer.
    case freeText = "free_text"

    /// Classifications answer a question; tools mark a region.
    public var isClassification: Bool { self == .radio || self == .checklist || self == .freeText }
}

/// One option of a radio or checklist feature, which may ask further questions.
public struct FeatureOption: Hashable, Sendable {
    public var id: String
    public var value: String
    public var children: [Feature]

    public init(id: String, value: String, children: [Feature] = []) {
        self.id = id
        self.value = value
        self.children = children
    }
}

/// A feature: a question (classification) or a tool, with a schema id that never changes.
public struct Feature: Hashable, Sendable {
    public var id: String
    public var name: String
    public var kind: FeatureKind
    /// For radio and checklist.
    public var options: [FeatureOption]
    /// Sub-classifications asked about each instance (a box's "occluded?").
    public var children: [Feature]

    public init(id: String, name: String, kind: FeatureKind, options: [FeatureOption] = [], children: [Feature] = []) {
        self.id = id
        self.name = name
        self.kind = kind
        self.options = options
        self.children = children
    }
}

/// Why an ontology was refused; `path` names the feature ("vehicle > occluded").
public struct OntologyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { path.isEmpty ? reason : "feature \(path): \(reason)" }
}

extension Ontology {
    /// Checks the rules a stored ontology keeps: names present, feature ids unique across the
    /// tree, options only on radio and checklist (which need at least one), unique option ids
    /// per feature, and only classifications nested under a feature or an option.
    public static func validate(name: String, features: [Feature]) throws(OntologyError) {
        guard !name.trimmingSpaces.isEmpty else { throw OntologyError(path: "", reason: "the ontology needs a name") }
        guard !features.isEmpty else { throw OntologyError(path: "", reason: "the ontology needs at least one feature") }
        var seen = Set<String>()
        func check(_ f: Feature, path: String, nested: Bool) throws(OntologyError) {
            let here = path.isEmpty ? f.name : "\(path) > \(f.name)"
            guard !f.name.trimmingSpaces.isEmpty else { throw OntologyError(path: path, reason: "a feature needs a name") }
            guard !f.id.isEmpty else { throw OntologyError(path: here, reason: "a feature needs an id") }
            guard seen.insert(f.id).inserted else { throw OntologyError(path: here, reason: "duplicate feature id \(f.id)") }
            if nested && !f.kind.isClassification {
                throw OntologyError(path: here, reason: "only classifications (radio, checklist, free_text) can be nested, not \(f.kind.rawValue)")
            }
            switch f.kind {
            case .radio, .checklist:
                guard !f.options.isEmpty else { throw OntologyError(path: here, reason: "\(f.kind.rawValue) needs at least one option") }
                var optionIDs = Set<String>()
                for o in f.options {
                    guard !o.id.isEmpty, !o.value.isEmpty else { throw OntologyError(path: here, reason: "an option needs an id and a value") }
                    guard optionIDs.insert(o.id).inserted else { throw OntologyError(path: here, reason: "duplicate option id \(o.id)") }
                    for c in o.children { try check(c, path: "\(here) > \(o.value)", nested: true) }
                }
            default:
                guard f.options.isEmpty else { throw OntologyError(path: here, reason: "\(f.kind.rawValue) takes no options") }
            }
            for c in f.children { try check(c, path: here, nested: true) }
        }
        for f in features { try check(f, path: "", nested: false) }
    }
}

extension String {
    var trimmingSpaces: Substring {
        let s = drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        return s.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().isEmpty ? "" : s
    }
}
