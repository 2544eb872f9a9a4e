/// What the run service asks of billing, and nothing more: the run service depends on this
/// protocol, the billing module implements it, and the executable connects the two. (Tests
/// that are not about billing use a no-charge implementation.)
public protocol RunBilling: Sendable {
    /// What a run would cost, before it exists. The estimate has an id the caller may have
    /// to confirm when creating the run (self-service plans).
    func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> RunEstimate
    /// Admits a run about to be created: checks the plan, the add-on, the terms, the payment
    /// method, the confirmed estimate and the budgets, and reserves the run's estimated
    /// spend against the budgets atomically (so concurrent runs cannot overspend together).
    /// A refusal names the exact condition that failed.
    func admit(_ request: RunBillingRequest) async throws(BillingRefusal)
    /// Settles a run that has finished (completed, failed or cancelled): charges the
    /// inference fee for what it actually used and meters its model units, then releases
    /// its reservation. Idempotent per run: calling it again (after a restart, a retry)
    /// charges nothing more.
    func settle(_ usage: RunUsage) async throws(BillingRefusal)
}

/// A run as billing sees it before it starts.
public struct RunBillingRequest: Hashable, Sendable {
    public var organizationID: ObjectID
    /// The run about to be created (nil for a bare estimate).
    public var runID: ObjectID?
    public var model: ModelCard
    public var rowCount: Int
    /// Rows of the run that are images or documents (for per-image prices).
    public var imageCount: Int
    /// Datasets the rows come from (budgets may be per dataset).
    public var datasetIDs: [ObjectID]
    /// The estimate the caller confirms, if any.
    public var estimateID: String?
    public var at: Timestamp

    public init(
        organizationID: ObjectID, runID: ObjectID? = nil, model: ModelCard, rowCount: Int, imageCount: Int, datasetIDs: [ObjectID],
        estimateID: String? = nil, at: Timestamp
    ) {
        self.organizationID = organizationID
        self.runID = runID
        self.model = model
        self.rowCount = rowCount
        self.imageCount = imageCount
        self.datasetIDs = datasetIDs
        self.estimateID = estimateID
        self.at = at
    }
}

/// What a run is expected to cost, with the assumptions behind the numbers.
public struct RunEstimate: Hashable, Sendable {
    public var id: String
    public var modelUnits: Int64
    public var inferenceMicrodollars: Int64
    public var assumptions: [String]
    public var expiresAt: Timestamp

    public init(id: String, modelUnits: Int64, inferenceMicrodollars: Int64, assumptions: [String], expiresAt: Timestamp) {
        self.id = id
        self.modelUnits = modelUnits
        self.inferenceMicrodollars = inferenceMicrodollars
        self.assumptions = assumptions
        self.expiresAt = expiresAt
    }
}

/// What a finished run used.
public struct RunUsage: Hashable, Sendable {
    public var organizationID: ObjectID
    public var runID: ObjectID
    public var model: ModelCard
    public var datasetIDs: [ObjectID]
    /// Rows the model was called for (or served from the cache), successful or not.
    public var rowsProcessed: Int
    /// Rows that got at least one prediction (model units count these).
    public var rowsWithPredictions: Int
    /// Images read (per-image prices).
    public var images: Int
    /// Prompt and completion tokens (per-1k-token prices).
    public var tokens: Int64
    public var at: Timestamp

    public init(
        organizationID: ObjectID, runID: ObjectID, model: ModelCard, datasetIDs: [ObjectID], rowsProcessed: Int, rowsWithPredictions: Int,
        images: Int, tokens: Int64, at: Timestamp
    ) {
        self.organizationID = organizationID
        self.runID = runID
        self.model = model
        self.datasetIDs = datasetIDs
        self.rowsProcessed = rowsProcessed
        self.rowsWithPredictions = rowsWithPredictions
        self.images = images
        self.tokens = tokens
        self.at = at
    }
}

/// Why billing refuses: a status for the client and a reason code it can act on.
public struct BillingRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A condition the organisation can fix (FAILED_PRECONDITION).
        case failedPrecondition
        /// A budget or quota would be crossed (RESOURCE_EXHAUSTED).
        case resourceExhausted
        /// The request itself is wrong (INVALID_ARGUMENT), e.g. an unknown estimate.
        case invalidArgument
        /// Billing could not be reached or its storage failed (UNAVAILABLE).
        case unavailable
    }
    public var kind: Kind
    /// Machine-readable: `enable_addon`, `accept_terms`, `add_payment_method`,
    /// `upgrade_plan`, `confirm_estimate`, `estimate_expired`, `budget_exceeded`, …
    public var reason: String
    public var message: String

    public init(kind: Kind, reason: String, message: String) {
        self.kind = kind
        self.reason = reason
        self.message = message
    }
    public var description: String { "\(reason): \(message)" }

    /// The metadata key carrying a refusal's reason code on the call's status, whichever
    /// service refused (billing's own calls, a run create, a review send).
    public static let reasonMetadataKey = "assay-billing-reason"
}
