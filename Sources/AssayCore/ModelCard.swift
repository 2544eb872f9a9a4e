/// What a model does, what it accepts, what it costs and who serves it. Cards are listed by
/// the server (`assay models`); a run names a card by id and is validated against it.
public struct ModelCard: Hashable, Sendable {
    /// Stable id a run refers to, such as `tesseract-ocr`.
    public var id: String
    public var name: String
    /// Part of the prediction cache key: a new version never reuses old predictions.
    public var version: String
    public var description: String
    public var taskKinds: [TaskKind]
    /// The row media types it reads.
    public var mediaTypes: [MediaType]
    /// The feature kinds its predictions fill (a run maps each model class to such a feature).
    public var outputKinds: [FeatureKind]
    /// The classes it names in its output. Empty for models whose classes come from the
    /// ontology (zero-shot classification, LLM classification): those are told the options
    /// of the features the run maps them to.
    public var classes: [String]
    public var parameters: [ParameterSpec]
    public var price: Price
    /// Which provider serves it: `tesseract`, `opencv`, `e5`, `openai-compatible`, `worker`, …
    public var provider: String

    public init(
        id: String, name: String, version: String, description: String = "", taskKinds: [TaskKind], mediaTypes: [MediaType],
        outputKinds: [FeatureKind], classes: [String] = [], parameters: [ParameterSpec] = [], price: Price = .free, provider: String
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.description = description
        self.taskKinds = taskKinds
        self.mediaTypes = mediaTypes
        self.outputKinds = outputKinds
        self.classes = classes
        self.parameters = parameters
        self.price = price
        self.provider = provider
    }
}

public enum TaskKind: String, Hashable, Sendable, CaseIterable {
    case ocr
    case detection
    case classification
    case embedding
    case generation
    /// Answers questions about a document image (OCR, then an LLM).
    case documentQA = "document_qa"
}

/// A model's price. Money is integer micro-dollars (1 USD = 1,000,000), never a float.
public struct Price: Hashable, Sendable {
    public enum Unit: String, Hashable, Sendable, CaseIterable {
        /// Nothing to pay for inference.
        case free
        /// Per data row predicted.
        case perRow = "per_row"
        /// Per image read (a row of media type image or document).
        case perImage = "per_image"
        /// Per 1,000 tokens, prompt and completion together.
        case per1kTokens = "per_1k_tokens"
    }
    public var unit: Unit
    public var microdollars: Int64

    public init(unit: Unit, microdollars: Int64) {
        self.unit = unit
        self.microdollars = microdollars
    }

    public static let free = Price(unit: .free, microdollars: 0)
}

/// A parameter value. Parameters are model settings (a temperature, a threshold), not money.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case integer(Int64)
    case number(Double)
    case string(String)
    case boolean(Bool)

    public var description: String {
        switch self {
        case .integer(let v): String(v)
        case .number(let v): String(v)
        case .string(let v): v
        case .boolean(let v): String(v)
        }
    }

    public var intValue: Int64? {
        if case .integer(let v) = self { return v }
        return nil
    }
    public var doubleValue: Double? {
        switch self {
        case .number(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }
    public var boolValue: Bool? {
        if case .boolean(let v) = self { return v }
        return nil
    }
}

/// One parameter a card accepts: its kind, default and bounds.
public struct ParameterSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case integer, number, string, boolean
        /// A string from `choices`.
        case choice
    }
    public var name: String
    public var kind: Kind
    public var description: String
    public var defaultValue: ParameterValue
    /// Inclusive bounds for integers and numbers.
    public var minimum: Double?
    public var maximum: Double?
    public var choices: [String]

    public init(
        name: String, kind: Kind, description: String = "", defaultValue: ParameterValue, minimum: Double? = nil, maximum: Double? = nil,
        choices: [String] = []
    ) {
        self.name = name
        self.kind = kind
        self.description = description
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
    }
}

/// Why parameters do not fit a card; names the parameter.
public struct ParameterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var reason: String
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
    public var description: String { "parameter \(name): \(reason)" }
}

extension ModelCard {
    /// The parameters a run uses: the given ones checked against the card, defaults for the
    /// rest. An unknown name, a wrong kind or a value out of bounds is an error naming it.
    public func resolve(_ given: [String: ParameterValue]) throws(ParameterError) -> [String: ParameterValue] {
        var resolved: [String: ParameterValue] = [:]
        for spec in parameters { resolved[spec.name] = spec.defaultValue }
        for (name, value) in given.sorted(by: { $0.key < $1.key }) {
            guard let spec = parameters.first(where: { $0.name == name }) else {
                let known = parameters.map(\.name).joined(separator: ", ")
                throw ParameterError(name: name, reason: "unknown for model \(id) (it takes: \(known.isEmpty ? "none" : known))")
            }
            resolved[name] = try spec.check(value)
        }
        return resolved
    }
}

extension ParameterSpec {
    /// The value in this parameter's kind (an integer is accepted for a number), or an error.
    public func check(_ value: ParameterValue) throws(ParameterError) -> ParameterValue {
        func bounded(_ v: Double) throws(ParameterError) {
            if let minimum, v < minimum { throw ParameterError(name: name, reason: "\(value) is below the minimum \(minimum)") }
            if let maximum, v > maximum { throw ParameterError(name: name, reason: "\(value) is above the maximum \(maximum)") }
        }
        switch (kind, value) {
        case (.integer, .integer(let v)):
            try bounded(Double(v))
            return value
        case (.number, .number(let v)):
            guard v.isFinite else { throw ParameterError(name: name, reason: "must be a finite number") }
            try bounded(v)
            return value
        case (.number, .integer(let v)):
            try bounded(Double(v))
            return .number(Double(v))
        case (.string, .string):
            return value
        case (.boolean, .boolean):
            return value
        case (.choice, .string(let v)):
            guard choices.contains(v) else {
                throw ParameterError(name: name, reason: "\"\(v)\" is not one of \(choices.joined(separator: ", "))")
            }
            return value
        default:
            throw ParameterError(name: name, reason: "expects \(kind == .choice ? "one of \(choices.joined(separator: ", "))" : "a \(kind.rawValue)"), got \(value)")
        }
    }
}
