public import AssayCore
public import AssayModels

/// A run's mapping checked against its model card and ontology, and the conversion of the
/// model's raw answers into labels of the ontology. Every answer is validated; an answer
/// that does not fit (a class the run does not map, an option the feature does not have, a
/// box for a text feature) makes the row fail with a message saying so, never a silent drop.
public struct RunTargets: Sendable {
    public let card: ModelCard
    public let ontology: Ontology
    public let mapping: [ClassMapping]
    /// What the model is asked to fill.
    public let targets: [TargetFeature]
    private let features: [String: Feature]

    /// Checks the mapping; the error message names the offending class or feature.
    public init(card: ModelCard, ontology: Ontology, mapping: [ClassMapping]) throws(RunRequestError) {
        guard !mapping.isEmpty else {
            let hint = card.classes.isEmpty ? "" : " (its classes: \(card.classes.joined(separator: ", ")))"
            throw RunRequestError("a run needs a mapping from the model's classes to ontology features\(hint)")
        }
        let byID = ontology.featuresByID
        var seen: Set<String> = []
        var targets: [TargetFeature] = []
        for m in mapping {
            guard !m.modelClass.isEmpty else { throw RunRequestError("a mapping entry has an empty model_class") }
            guard seen.insert(m.modelClass).inserted else { throw RunRequestError("model class \(m.modelClass) is mapped twice") }
            if !card.classes.isEmpty, !card.classes.contains(m.modelClass) {
                throw RunRequestError(
                    "model \(card.id) has no class \(m.modelClass) (its classes: \(card.classes.joined(separator: ", ")))")
            }
            guard let feature = ontology.features.first(where: { $0.id == m.featureID }) else {
                if byID[m.featureID] != nil {
                    throw RunRequestError("feature \(m.featureID) is nested; a run fills top-level features of ontology \(ontology.name)")
                }
                throw RunRequestError("feature \(m.featureID) is not in ontology \(ontology.name)")
            }
            guard card.outputKinds.contains(feature.kind) else {
                throw RunRequestError(
                    "model \(card.id) predicts \(card.outputKinds.map(\.rawValue).joined(separator: ", ")); feature \(feature.id) "
                        + "(\(feature.name)) is \(feature.kind.rawValue)")
            }
            targets.append(
                TargetFeature(
                    modelClass: m.modelClass, kind: feature.kind, options: feature.options.map { TargetOption(name: $0.value) }))
        }
        self.card = card
        self.ontology = ontology
        self.mapping = mapping
        self.targets = targets
        self.features = byID
    }

    /// Why a row cannot be sent to the model at all (a media type the model does not read).
    public func refusal(for row: DataRow) -> String? {
        guard card.mediaTypes.contains(row.mediaType) else {
            return "model \(card.id) reads \(card.mediaTypes.map(\.rawValue).joined(separator: ", ")) rows; this row is \(row.mediaType.rawValue)"
        }
        if row.mediaType == .image || row.mediaType == .document, row.content.isEmpty, row.uri.isEmpty {
            return "the row has neither inline content nor a uri to read the \(row.mediaType.rawValue) from"
        }
        return nil
    }

    /// The labels a model's answer for `row` becomes, or the reason it does not fit.
    public func labels(for predictions: [RawPrediction], row: DataRow, run: ObjectID?, at: Timestamp) -> Result<[Label], RowFailure> {
        var labels: [Label] = []
        let textLength = row.text.isEmpty ? nil : row.text.unicodeScalars.count
        for p in predictions {
            guard let m = mapping.first(where: { $0.modelClass == p.modelClass }), let feature = features[m.featureID] else {
                // A class of a fixed-class model that the run chose not to map is not asked for.
                if card.classes.contains(p.modelClass) { continue }
                return .failure(RowFailure("model answered with class \(p.modelClass), which the run does not map"))
            }
            let value: LabelValue
            switch (p.value, feature.kind) {
            case (.box(let l, let t, let w, let h), .boundingBox): value = .boundingBox(left: l, top: t, width: w, height: h)
            case (.polygon(let points), .polygon): value = .polygon(points: points)
            case (.text(let text), .freeText): value = .freeText(text)
            case (.span(let start, let end), .textSpan): value = .textSpan(start: start, end: end)
            case (.options(let names), .radio), (.options(let names), .checklist):
                var ids: [String] = []
                for name in names {
                    guard let option = Self.option(named: name, in: feature) else {
                        return .failure(
                            RowFailure(
                                "model answered option \"\(name)\" for feature \(feature.id) (\(feature.name)), which has options: "
                                    + feature.options.map(\.value).joined(separator: ", ")))
                    }
                    if !ids.contains(option.id) { ids.append(option.id) }
                }
                if feature.kind == .radio {
                    guard ids.count == 1 else {
                        return .failure(RowFailure("model answered \(ids.count) options for radio feature \(feature.id); it takes one"))
                    }
                    value = .radio(optionID: ids[0])
                } else {
                    value = .checklist(optionIDs: ids)
                }
            default:
                return .failure(RowFailure("model answered \(Self.describe(p.value)) for feature \(feature.id), which is \(feature.kind.rawValue)"))
            }
            let label = Label(
                id: .random("lbl"), dataRowID: row.id, ontologyID: ontology.id, featureID: feature.id, value: value, modelRunID: run,
                confidencePPM: p.confidencePPM, createdAt: at)
            do {
                try ontology.validate(label, textLength: textLength)
            } catch {
                return .failure(RowFailure("model answer does not fit the ontology: \(error)"))
            }
            labels.append(label)
        }
        return .success(labels)
    }

    /// The option whose value (case and surrounding space aside) or id is `name`.
    static func option(named name: String, in feature: Feature) -> FeatureOption? {
        let wanted = name.trimmingSpaces.lowercased()
        return feature.options.first { $0.value.lowercased() == wanted } ?? feature.options.first { $0.id == name }
    }

    static func describe(_ value: RawValue) -> String {
        switch value {
        case .box: "a box"
        case .polygon: "a polygon"
        case .text: "free text"
        case .options: "options"
        case .span: "a text span"
        }
    }
}

/// A run request that cannot work (INVALID_ARGUMENT); the message names what is wrong.
public struct RunRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why one row has no predictions.
public struct RowFailure: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
