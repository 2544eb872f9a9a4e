import AssayCore
import Testing

/// A small ontology with every kind, nesting under a tool and under an option.
private let vehicle = Feature(
    id: "f-vehicle", name: "vehicle", kind: .boundingBox,
    children: [
        Feature(
            id: "f-occluded", name: "occluded", kind: .radio,
            options: [
                FeatureOption(
                    id: "o-yes", value: "yes", children: [Feature(id: "f-how", name: "how much", kind: .freeText)]),
                FeatureOption(id: "o-no", value: "no"),
            ])
    ])
private let features: [Feature] = [
    vehicle,
    Feature(id: "f-outline", name: "outline", kind: .polygon),
    Feature(
        id: "f-tags", name: "tags", kind: .checklist,
        options: [FeatureOption(id: "o-day", value: "day"), FeatureOption(id: "o-rain", value: "rain")]),
    Feature(id: "f-person", name: "person", kind: .textSpan),
    Feature(id: "f-caption", name: "caption", kind: .freeText),
]

@Suite("Ontology.validate(name:features:)")
struct OntologyValidationTests {
    @Test func acceptsAWellFormedTree() throws {
        try Ontology.validate(name: "vehicles", features: features)
    }

    /// A case: a tree, and the exact error it must get.
    struct Case: Sendable, CustomTestStringConvertible {
        var name = "o"
        var features: [Feature]
        var path: String
        var reason: String
        var testDescription: String { reason }
    }

    static let cases: [Case] = [
        Case(name: "  \t", features: features, path: "", reason: "the ontology needs a name"),
        Case(features: [], path: "", reason: "the ontology needs at least one feature"),
        Case(features: [Feature(id: "f", name: " ", kind: .freeText)], path: "", reason: "a feature needs a name"),
        Case(
            features: [Feature(id: "", name: "caption", kind: .freeText)], path: "caption",
            reason: "a feature needs an id"),
        Case(
            features: [Feature(id: "f", name: "a", kind: .freeText), Feature(id: "f", name: "b", kind: .polygon)],
            path: "b",
            reason: "duplicate feature id f"),
        Case(
            features: [
                Feature(
                    id: "f", name: "box", kind: .boundingBox,
                    children: [Feature(id: "g", name: "inner", kind: .polygon)])
            ],
            path: "box > inner", reason: "only classifications (radio, checklist, free_text) can be nested, not polygon"
        ),
        Case(
            features: [Feature(id: "f", name: "pick", kind: .radio)], path: "pick",
            reason: "radio needs at least one option"),
        Case(
            features: [Feature(id: "f", name: "tags", kind: .checklist)], path: "tags",
            reason: "checklist needs at least one option"),
        Case(
            features: [Feature(id: "f", name: "pick", kind: .radio, options: [FeatureOption(id: "o", value: "")])],
            path: "pick",
            reason: "an option needs an id and a value"),
        Case(
            features: [
                Feature(
                    id: "f", name: "pick", kind: .radio,
                    options: [FeatureOption(id: "o", value: "a"), FeatureOption(id: "o", value: "b")])
            ],
            path: "pick", reason: "duplicate option id o"),
        Case(
            features: [
                Feature(id: "f", name: "box", kind: .boundingBox, options: [FeatureOption(id: "o", value: "a")])
            ], path: "box",
            reason: "bounding_box takes no options"),
        // A feature id must be unique across the whole tree, nested ones included.
        Case(
            features: [
                vehicle, Feature(id: "f-how", name: "again", kind: .freeText),
            ], path: "again", reason: "duplicate feature id f-how"),
        Case(
            features: [
                Feature(
                    id: "f", name: "pick", kind: .radio,
                    options: [
                        FeatureOption(
                            id: "o", value: "yes", children: [Feature(id: "g", name: "where", kind: .textSpan)])
                    ])
            ], path: "pick > yes > where",
            reason: "only classifications (radio, checklist, free_text) can be nested, not text_span"),
    ]

    @Test(arguments: cases)
    func refuses(_ c: Case) {
        let error = #expect(throws: OntologyError.self) { try Ontology.validate(name: c.name, features: c.features) }
        #expect(error?.path == c.path)
        #expect(error?.reason == c.reason)
        #expect(error?.description == (c.path.isEmpty ? c.reason : "feature \(c.path): \(c.reason)"))
    }
}

@Suite("Ontology.validate(_:textLength:)")
struct LabelValidationTests {
    static let ontology = Ontology(
        id: ObjectID(rawValue: "ont_1"), organizationID: ObjectID(rawValue: "org_1"), name: "vehicles",
        features: features, createdAt: 0)

    static func label(_ feature: String, _ value: LabelValue, children: [Label] = [], confidencePPM: Int? = nil)
        -> Label
    {
        Label(
            id: ObjectID(rawValue: "lbl_\(feature)"), dataRowID: ObjectID(rawValue: "dr_1"), ontologyID: ontology.id,
            featureID: feature,
            value: value, children: children, confidencePPM: confidencePPM)
    }

    static let good: [Label] = [
        label(
            "f-vehicle", .boundingBox(left: 0, top: 0, width: 10, height: 5),
            children: [label("f-occluded", .radio(optionID: "o-yes"), children: [label("f-how", .freeText("half"))])],
            confidencePPM: 1_000_000),
        label(
            "f-outline", .polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: 0), Point(x: 0, y: 1)]), confidencePPM: 0),
        label("f-tags", .checklist(optionIDs: ["o-rain", "o-day"])),
        label("f-person", .textSpan(start: 0, end: 10)),
        label("f-caption", .freeText("a car")),
    ]

    @Test(arguments: good)
    func acceptsGoodLabels(_ label: Label) throws {
        try Self.ontology.validate(label, textLength: 10)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var label: Label
        var textLength: Int? = nil
        var featureID: String
        var reason: String
        var testDescription: String { reason }
    }

    static let cases: [Case] = [
        Case(
            label: label("f-nope", .freeText("x")), featureID: "f-nope",
            reason: "unknown feature (not in ontology vehicles)"),
        Case(
            label: label("f-caption", .radio(optionID: "o")), featureID: "f-caption",
            reason: "expects a free_text value, got radio"),
        Case(
            label: label("f-occluded", .radio(optionID: "o-maybe")), featureID: "f-occluded",
            reason: "unknown option o-maybe"),
        Case(
            label: label("f-tags", .checklist(optionIDs: [])), featureID: "f-tags",
            reason: "a checklist answer needs at least one option"),
        Case(
            label: label("f-tags", .checklist(optionIDs: ["o-day", "o-day"])), featureID: "f-tags",
            reason: "an option is chosen twice"),
        Case(
            label: label("f-tags", .checklist(optionIDs: ["o-day", "o-snow"])), featureID: "f-tags",
            reason: "unknown option o-snow"),
        Case(
            label: label("f-vehicle", .boundingBox(left: 0, top: 0, width: 0, height: 5)), featureID: "f-vehicle",
            reason: "a box needs finite left, top >= 0 and width, height > 0"),
        Case(
            label: label("f-vehicle", .boundingBox(left: -1, top: 0, width: 1, height: 5)), featureID: "f-vehicle",
            reason: "a box needs finite left, top >= 0 and width, height > 0"),
        Case(
            label: label("f-vehicle", .boundingBox(left: .infinity, top: 0, width: 1, height: 5)),
            featureID: "f-vehicle",
            reason: "a box needs finite left, top >= 0 and width, height > 0"),
        Case(
            label: label("f-outline", .polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: 1)])), featureID: "f-outline",
            reason: "a polygon needs at least 3 points"),
        Case(
            label: label("f-outline", .polygon(points: [Point(x: 0, y: 0), Point(x: 1, y: .nan), Point(x: 2, y: 2)])),
            featureID: "f-outline", reason: "polygon points must be finite"),
        Case(
            label: label("f-person", .textSpan(start: 4, end: 4)), featureID: "f-person",
            reason: "a span needs 0 <= start < end"),
        Case(
            label: label("f-person", .textSpan(start: -1, end: 4)), featureID: "f-person",
            reason: "a span needs 0 <= start < end"),
        Case(
            label: label("f-person", .textSpan(start: 3, end: 12)), textLength: 10, featureID: "f-person",
            reason: "span end 12 is past the end of the text (10 characters)"),
        Case(label: label("f-caption", .freeText("")), featureID: "f-caption", reason: "free text is empty"),
        Case(
            label: label("f-caption", .freeText("x"), confidencePPM: 1_000_001), featureID: "f-caption",
            reason: "confidence must be between 0 and 1"),
        Case(
            label: label("f-caption", .freeText("x"), confidencePPM: -1), featureID: "f-caption",
            reason: "confidence must be between 0 and 1"),
        // Sub-labels: only the parent's sub-classifications, and only under the chosen option.
        Case(
            label: label(
                "f-vehicle", .boundingBox(left: 0, top: 0, width: 1, height: 1),
                children: [label("f-caption", .freeText("x"))]),
            featureID: "f-caption", reason: "is not a sub-classification of its parent"),
        Case(
            label: label(
                "f-vehicle", .boundingBox(left: 0, top: 0, width: 1, height: 1),
                children: [label("f-occluded", .radio(optionID: "o-no"), children: [label("f-how", .freeText("half"))])]
            ),
            featureID: "f-how", reason: "is not a sub-classification of its parent"),
        Case(
            label: label(
                "f-vehicle", .boundingBox(left: 0, top: 0, width: 1, height: 1),
                children: [label("f-occluded", .radio(optionID: "o-yes"), children: [label("f-how", .freeText(""))])]),
            featureID: "f-how", reason: "free text is empty"),
    ]

    @Test(arguments: cases)
    func refuses(_ c: Case) {
        let error = #expect(throws: LabelError.self) { try Self.ontology.validate(c.label, textLength: c.textLength) }
        #expect(error?.featureID == c.featureID)
        #expect(error?.reason == c.reason)
        #expect(error?.description == "feature \(c.featureID): \(c.reason)")
    }

    @Test func spansAreCheckedOnlyWhenTheTextLengthIsKnown() throws {
        try Self.ontology.validate(Self.label("f-person", .textSpan(start: 3, end: 5_000)), textLength: nil)
        try Self.ontology.validate(Self.label("f-person", .textSpan(start: 3, end: 10)), textLength: 10)
    }

}
