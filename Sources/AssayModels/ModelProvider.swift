public import AssayCore

/// Something that serves one or more models: in-process C libraries (Tesseract, OpenCV,
/// e5), an OpenAI-compatible HTTP endpoint, or remote workers. The run service sees only
/// this protocol; the executable decides which providers exist.
public protocol ModelProvider: Sendable {
    /// The models this provider serves.
    var cards: [ModelCard] { get }
    /// The most rows one `predict` call takes; the run service batches up to this.
    var batchSize: Int { get }
    /// How many `predict` calls may run at once; the run service keeps this many in flight
    /// so that the provider's throughput, not Assay's bookkeeping, is the limit.
    var concurrency: Int { get }
    /// Predicts every row of the request; one result per row, in the request's order. A row
    /// the model cannot handle is a `.failure` for that row; a thrown error fails the whole
    /// batch (the provider is down), and the run service retries or records it per row.
    /// Blocking work (C libraries) must not run on the caller's thread: see `BlockingPool`.
    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction]
}

/// A row as a model sees it.
public struct ModelInput: Hashable, Sendable {
    public var rowID: ObjectID
    public var mediaType: MediaType
    /// Encoded image (PNG, JPEG, …) or document bytes, when the row carries them inline.
    public var content: [UInt8]
    public var text: String
    public var uri: String
    public var metadata: [String: String]

    public init(rowID: ObjectID, mediaType: MediaType, content: [UInt8] = [], text: String = "", uri: String = "", metadata: [String: String] = [:]) {
        self.rowID = rowID
        self.mediaType = mediaType
        self.content = content
        self.text = text
        self.uri = uri
        self.metadata = metadata
    }
}

/// A feature a run asks the model to fill, in the model's terms: the model class mapped to
/// it, its kind and, for classifications, the options to choose from (zero-shot and LLM
/// classifiers choose among these; fixed-class models ignore them).
public struct TargetFeature: Hashable, Sendable {
    public var modelClass: String
    public var kind: FeatureKind
    public var options: [TargetOption]

    public init(modelClass: String, kind: FeatureKind, options: [TargetOption] = []) {
        self.modelClass = modelClass
        self.kind = kind
        self.options = options
    }
}

public struct TargetOption: Hashable, Sendable {
    /// What the model answers with (the option's value, as the ontology names it).
    public var name: String
    public var description: String

    public init(name: String, description: String = "") {
        self.name = name
        self.description = description
    }
}

/// One `predict` call: rows of one run, the card, resolved parameters and the targets.
public struct PredictRequest: Hashable, Sendable {
    public var card: ModelCard
    public var parameters: [String: ParameterValue]
    public var targets: [TargetFeature]
    public var rows: [ModelInput]

    public init(card: ModelCard, parameters: [String: ParameterValue], targets: [TargetFeature], rows: [ModelInput]) {
        self.card = card
        self.parameters = parameters
        self.targets = targets
        self.rows = rows
    }
}

/// One prediction in the model's terms; the run service maps `modelClass` to a feature,
/// option names to option ids, and validates the result against the ontology.
public struct RawPrediction: Hashable, Sendable {
    public var modelClass: String
    public var value: RawValue
    /// 0...1,000,000 (parts per million), when the model gives a confidence.
    public var confidencePPM: Int?

    public init(modelClass: String, value: RawValue, confidencePPM: Int? = nil) {
        self.modelClass = modelClass
        self.value = value
        self.confidencePPM = confidencePPM
    }
}

public enum RawValue: Hashable, Sendable {
    /// Pixels from the top left.
    case box(left: Double, top: Double, width: Double, height: Double)
    case polygon([Point])
    case text(String)
    /// Chosen option names (one for a radio feature).
    case options([String])
    /// Unicode scalar offsets into the row's text, end exclusive.
    case span(start: Int, end: Int)
}

/// What one row cost the provider.
public struct ModelUsage: Hashable, Sendable {
    public var promptTokens: Int64
    public var completionTokens: Int64
    public var images: Int

    public init(promptTokens: Int64 = 0, completionTokens: Int64 = 0, images: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.images = images
    }

    public static let zero = ModelUsage()
    public var tokens: Int64 { promptTokens + completionTokens }
}

/// The outcome for one row.
public enum RowPrediction: Hashable, Sendable {
    case success([RawPrediction], ModelUsage)
    /// The row could not be predicted (undecodable image, refused prompt); the message is
    /// recorded on the row and shown to the user.
    case failure(String)
}

/// A whole `predict` call failed.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The provider is down or overloaded; worth retrying.
        case unavailable
        /// The request cannot work (unknown model, bad parameters); retrying will not help.
        case invalidRequest
        case `internal`
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(kind.rawValue): \(message)" }
}
