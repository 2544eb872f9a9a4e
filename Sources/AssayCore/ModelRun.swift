/// A model run: a model, an ontology mapping, parameters and a selection of rows, predicted
/// as a durable job. Progress counters are kept by the store in the same transaction as the
/// rows they count, so they survive a restart exactly.
public struct ModelRun: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    public var modelID: String
    public var modelVersion: String
    public var ontologyID: ObjectID
    public var mapping: [ClassMapping]
    /// Resolved against the card: defaults filled in.
    public var parameters: [String: ParameterValue]
    public var datasetIDs: [ObjectID]
    public var state: RunState
    public var progress: RunProgress
    /// Why a failed run failed.
    public var error: String
    public var createdAt: Timestamp
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    /// True once billing has settled the finished run.
    public var settled: Bool

    public init(
        id: ObjectID, organizationID: ObjectID, name: String, modelID: String, modelVersion: String, ontologyID: ObjectID,
        mapping: [ClassMapping], parameters: [String: ParameterValue], datasetIDs: [ObjectID], state: RunState = .queued,
        progress: RunProgress = RunProgress(), error: String = "", createdAt: Timestamp, startedAt: Timestamp? = nil,
        finishedAt: Timestamp? = nil, settled: Bool = false
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.modelID = modelID
        self.modelVersion = modelVersion
        self.ontologyID = ontologyID
        self.mapping = mapping
        self.parameters = parameters
        self.datasetIDs = datasetIDs
        self.state = state
        self.progress = progress
        self.error = error
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.settled = settled
    }
}

/// A model class and the feature its predictions fill.
public struct ClassMapping: Hashable, Sendable {
    public var modelClass: String
    public var featureID: String
    public init(modelClass: String, featureID: String) {
        self.modelClass = modelClass
        self.featureID = featureID
    }
}

public enum RunState: String, Hashable, Sendable, CaseIterable {
    case queued, running, completed, failed, cancelled

    /// A finished run never changes state again.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

public struct RunProgress: Hashable, Sendable {
    public var total: Int
    /// Rows with a result: predicted or failed.
    public var done: Int
    public var failed: Int
    /// Rows whose result was reused from an identical earlier request.
    public var cached: Int
    /// Rows with at least one prediction.
    public var withPredictions: Int
    /// Images the model read (not counting cached rows).
    public var images: Int
    /// Prompt and completion tokens (not counting cached rows).
    public var tokens: Int64

    public init(total: Int = 0, done: Int = 0, failed: Int = 0, cached: Int = 0, withPredictions: Int = 0, images: Int = 0, tokens: Int64 = 0) {
        self.total = total
        self.done = done
        self.failed = failed
        self.cached = cached
        self.withPredictions = withPredictions
        self.images = images
        self.tokens = tokens
    }
}

/// What happened to one row of a run.
public struct RunRowOutcome: Hashable, Sendable {
    /// The row's position in the run (the order the run selected its rows in).
    public var position: Int64
    public var rowID: ObjectID
    /// Validated predictions (labels with the run's id); empty with an `error`.
    public var predictions: [Label]
    /// Why the row has no predictions; nil on success.
    public var error: String?
    /// True when the result came from the prediction cache.
    public var cached: Bool
    public var images: Int
    public var tokens: Int64
    /// The raw result to remember for identical later requests (cache key and value).
    public var cacheEntry: CacheEntry?

    public init(position: Int64, rowID: ObjectID, predictions: [Label], error: String? = nil, cached: Bool = false, images: Int = 0, tokens: Int64 = 0, cacheEntry: CacheEntry? = nil) {
        self.position = position
        self.rowID = rowID
        self.predictions = predictions
        self.error = error
        self.cached = cached
        self.images = images
        self.tokens = tokens
        self.cacheEntry = cacheEntry
    }
}

/// A remembered model answer: an opaque key (a hash of the row content, model version,
/// parameters and targets) and the raw answer's bytes.
public struct CacheEntry: Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// A row of a run as it stands: pending, predicted or failed.
public struct RunRow: Hashable, Sendable {
    public enum State: Int, Hashable, Sendable {
        case pending = 0, predicted = 1, failed = 2
    }
    public var position: Int64
    public var rowID: ObjectID
    public var globalKey: String
    public var state: State
    public var error: String

    public init(position: Int64, rowID: ObjectID, globalKey: String, state: State, error: String) {
        self.position = position
        self.rowID = rowID
        self.globalKey = globalKey
        self.state = state
        self.error = error
    }
}
