public import AssayCore

/// Why a storage call failed. Services map these to statuses; SQL never leaves the backend.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No such object in the caller's organisation (objects of other organisations are
    /// reported exactly like missing ones, so their existence does not leak).
    case notFound(String)
    /// A unique name or key is taken.
    case alreadyExists(String)
    /// The request breaks a rule the store checks (a dataset that is not empty, …).
    case failedPrecondition(String)
    /// The database is busy beyond the busy timeout, or shut down.
    case unavailable(String)
    /// The disk (or quota) under the database is full: nothing of the failed write was stored,
    /// and the same write can succeed once space is freed.
    case diskFull(String)
    /// The database cannot be written (a read-only or immutable file, a read-only mount or
    /// replica); reads still work and nothing of the failed write was stored.
    case readOnly(String)
    /// Anything else; the message is for logs, not for clients.
    case `internal`(String)

    public var description: String {
        switch self {
        case .notFound(let m): "not found: \(m)"
        case .alreadyExists(let m): "already exists: \(m)"
        case .failedPrecondition(let m): "failed precondition: \(m)"
        case .unavailable(let m): "unavailable: \(m)"
        case .diskFull(let m): "disk full: \(m)"
        case .readOnly(let m): "read-only: \(m)"
        case .internal(let m): "internal: \(m)"
        }
    }
}

/// A row as a client sends it for ingest: no id yet, no timestamps.
public struct NewDataRow: Hashable, Sendable {
    public var globalKey: String
    public var mediaType: MediaType
    public var uri: String
    public var content: [UInt8]
    public var text: String
    public var metadata: [String: String]
    public var attachments: [Attachment]

    public init(globalKey: String, mediaType: MediaType, uri: String = "", content: [UInt8] = [], text: String = "", metadata: [String: String] = [:], attachments: [Attachment] = []) {
        self.globalKey = globalKey
        self.mediaType = mediaType
        self.uri = uri
        self.content = content
        self.text = text
        self.metadata = metadata
        self.attachments = attachments
    }
}

/// What an upsert did to one row.
public struct UpsertOutcome: Hashable, Sendable {
    public var id: ObjectID
    public var created: Bool
    public init(id: ObjectID, created: Bool) {
        self.id = id
        self.created = created
    }
}

/// One page of a listing; `nextCursor` is nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A row a run has still to predict.
public struct PendingRunRow: Sendable {
    public var position: Int64
    public var rowID: ObjectID
    /// Nil when the row was deleted after the run was created.
    public var row: DataRow?
    public init(position: Int64, rowID: ObjectID, row: DataRow?) {
        self.position = position
        self.rowID = rowID
        self.row = row
    }
}

/// Organisations and their API keys.
public protocol OrganizationStore: Sendable {
    func createOrganization(name: String) async throws(StorageError) -> Organization
    func organization(_ id: ObjectID) async throws(StorageError) -> Organization
    /// Stores a key record (the caller hashed the key).
    func insertKey(_ key: APIKey) async throws(StorageError)
    /// The key with this SHA-256 hash, revoked or not; nil when none.
    func key(hash: [UInt8]) async throws(StorageError) -> APIKey?
    func keys(organization: ObjectID) async throws(StorageError) -> [APIKey]
    /// Marks a key revoked; NOT_FOUND when the organisation has no such key.
    func revokeKey(organization: ObjectID, id: ObjectID, at: Timestamp) async throws(StorageError)
    /// True when no organisation exists yet (first start).
    func isEmpty() async throws(StorageError) -> Bool
}

/// Datasets, data rows, ontologies and labels, always scoped to one organisation.
public protocol CatalogStore: Sendable {
    func createDataset(organization: ObjectID, name: String, description: String) async throws(StorageError) -> Dataset
    func dataset(organization: ObjectID, id: ObjectID) async throws(StorageError) -> Dataset
    func datasets(organization: ObjectID) async throws(StorageError) -> [Dataset]
    /// Deletes a dataset with its rows and their labels.
    func deleteDataset(organization: ObjectID, id: ObjectID) async throws(StorageError)

    /// Inserts or updates rows by global key, all in one transaction: when it returns, every
    /// row is durable; when it throws, none was written. A global key already used by another
    /// dataset of the organisation is `alreadyExists`, naming the key.
    func upsertRows(organization: ObjectID, dataset: ObjectID, rows: [NewDataRow]) async throws(StorageError) -> [UpsertOutcome]
    func row(organization: ObjectID, id: ObjectID) async throws(StorageError) -> DataRow
    func row(organization: ObjectID, globalKey: String) async throws(StorageError) -> DataRow
    /// Rows of a dataset in a stable order, those whose metadata has every key/value of
    /// `metadataFilter`, after `cursor`.
    func rows(organization: ObjectID, dataset: ObjectID, metadataFilter: [String: String], after cursor: String?, limit: Int) async throws(StorageError) -> Page<DataRow>
    /// Deletes rows (and their labels); returns how many existed.
    func deleteRows(organization: ObjectID, ids: [ObjectID]) async throws(StorageError) -> Int

    func createOntology(organization: ObjectID, name: String, features: [Feature]) async throws(StorageError) -> Ontology
    func ontology(organization: ObjectID, id: ObjectID) async throws(StorageError) -> Ontology
    func ontologies(organization: ObjectID) async throws(StorageError) -> [Ontology]

    /// Stores labels (already validated) in one transaction.
    func insertLabels(organization: ObjectID, labels: [Label]) async throws(StorageError)
    /// The labels of these rows (ground truth and predictions), by row.
    func labels(organization: ObjectID, rows: [ObjectID]) async throws(StorageError) -> [ObjectID: [Label]]
}

/// Model runs: the job, its rows with their state, and the prediction cache. Every write
/// that finishes rows also stores their predictions and moves the run's counters, in one
/// transaction, and only for rows still pending: a row is predicted exactly once, however
/// often a restarted or retried worker reports it.
public protocol RunStore: Sendable {
    /// Stores a new run with its rows (in this order) in one transaction. With a
    /// `requestID` that the organisation used before, stores nothing and returns that run.
    func createRun(_ run: ModelRun, rows: [ObjectID], requestID: String?) async throws(StorageError) -> ModelRun
    func run(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ModelRun
    /// The organisation's run created with `requestID`, if there is one: a repeated create
    /// returns it without asking billing again.
    func run(organization: ObjectID, requestID: String) async throws(StorageError) -> ModelRun?
    /// The organisation's runs, newest first.
    func runs(organization: ObjectID) async throws(StorageError) -> [ModelRun]
    /// How many of the organisation's runs are queued or running (its concurrent-run quota).
    func activeRunCount(organization: ObjectID) async throws(StorageError) -> Int
    /// Runs of every organisation that are queued or running, or finished but not yet
    /// settled with billing: what a starting server must pick up.
    func unfinishedRuns() async throws(StorageError) -> [ModelRun]
    /// Pending rows of a run after `position`, in order, with their content (nil for a row
    /// deleted since the run was created).
    func pendingRunRows(organization: ObjectID, run: ObjectID, after position: Int64, limit: Int) async throws(StorageError)
        -> [PendingRunRow]
    /// Claims up to `limit` pending rows of a queued or running run for `server` until
    /// `leaseUntil`: rows nobody holds, or whose holder's lease ended before `now` (the holder
    /// died or stalled). Rows come in position order with their content. Servers sharing one
    /// database claim disjoint rows; a row stays pending, and claimable again once its lease
    /// ends, until its outcome is recorded. Empty when the run is finished or every pending
    /// row is held.
    func claimRunRows(organization: ObjectID, run: ObjectID, server: String, limit: Int, now: Timestamp, leaseUntil: Timestamp)
        async throws(StorageError) -> [PendingRunRow]
    /// Extends the leases `server` holds on the run's pending rows to `leaseUntil` (the
    /// holder's heartbeat); returns how many it holds.
    @discardableResult
    func renewRunRowLeases(organization: ObjectID, run: ObjectID, server: String, leaseUntil: Timestamp) async throws(StorageError) -> Int
    /// Gives back every lease `server` holds on the run's pending rows, so another server can
    /// claim them at once (a server stopping gracefully).
    func releaseRunRows(organization: ObjectID, run: ObjectID, server: String) async throws(StorageError)
    /// Records outcomes of pending rows (predictions stored as labels, errors on the rows,
    /// cache entries remembered) and returns the run after the change. Outcomes of rows that
    /// are no longer pending (already recorded, or the run ended) are ignored.
    func recordRunRows(organization: ObjectID, run: ObjectID, outcomes: [RunRowOutcome]) async throws(StorageError) -> ModelRun
    /// Moves a run to `state`. A finished run never changes state: the call then returns the
    /// run as it is. `error` is kept for failed runs.
    func setRunState(organization: ObjectID, run: ObjectID, state: RunState, error: String, at: Timestamp) async throws(StorageError)
        -> ModelRun
    func markRunSettled(organization: ObjectID, run: ObjectID) async throws(StorageError)
    /// A run's rows after `position`, in order (only failed ones when asked).
    func runRows(organization: ObjectID, run: ObjectID, failedOnly: Bool, after position: Int64, limit: Int) async throws(StorageError)
        -> [RunRow]
    /// The remembered answers for these keys (those that exist).
    func cachedPredictions(organization: ObjectID, keys: [[UInt8]]) async throws(StorageError) -> [[UInt8]: [UInt8]]
}

/// How a budget check went when a run was admitted.
public enum BudgetCheck: Hashable, Sendable {
    /// The run's estimated spend is reserved (or was already: admitting is idempotent per run).
    case admitted
    /// The run would cross a budget: the organisation's (`dataset` nil) or a dataset's.
    case exceeded(dataset: ObjectID?, limitMicrodollars: Int64, committedMicrodollars: Int64)
}

/// Billing: accounts, estimates, budget reservations, the append-only ledger, catalog
/// holdings and invoices. Every write that must not happen twice is keyed, and every check
/// that guards money runs in the same transaction as the write it guards.
public protocol BillingStore: Sendable {
    /// The organisation's billing settings (defaults when never set); NOT_FOUND for an unknown one.
    func billingAccount(organization: ObjectID) async throws(StorageError) -> BillingAccount
    /// Replaces the organisation's billing settings.
    func saveBillingAccount(_ account: BillingAccount) async throws(StorageError)
    /// The first organisation created (the one `assay serve` makes on first start): its admin
    /// keys are the server's administrators.
    func operatorOrganization() async throws(StorageError) -> ObjectID?
    /// Every organisation, for closing cycles on schedule.
    func organizationIDs() async throws(StorageError) -> [ObjectID]

    func insertEstimate(_ estimate: StoredEstimate) async throws(StorageError)
    func estimate(organization: ObjectID, id: String) async throws(StorageError) -> StoredEstimate?

    /// Reserves `microdollars` for `run` when the organisation's committed spend in `cycle`
    /// (charges plus open reservations) stays within `budget` and, for each dataset of the run
    /// with a budget in `datasetBudgets`, within that; all in one transaction, so concurrent
    /// admissions cannot overspend together. Admitting a run already admitted is `admitted`.
    func reserve(
        organization: ObjectID, run: ObjectID, microdollars: Int64, datasets: [ObjectID], cycle: BillingCycle, at: Timestamp,
        budget: Int64?, datasetBudgets: [ObjectID: Int64]
    ) async throws(StorageError) -> BudgetCheck
    /// Appends the charges whose key is new (a key already in the ledger is skipped) and, in
    /// the same transaction, releases `releasing`'s reservation. A charge whose cycle is
    /// closed moves to the next open cycle. Returns the charges actually appended.
    @discardableResult
    func recordCharges(organization: ObjectID, _ charges: [LedgerEntry], releasing run: ObjectID?) async throws(StorageError) -> [LedgerEntry]
    /// Ledger entries, oldest first: those of `cycle`, or all when nil.
    func charges(organization: ObjectID, cycle: BillingCycle?) async throws(StorageError) -> [LedgerEntry]
    /// Ledger entries charged in [from, to).
    func charges(organization: ObjectID, from: Timestamp, to: Timestamp) async throws(StorageError) -> [LedgerEntry]

    /// Row counts per dataset at `from` and every change in [from, to): what catalog units
    /// are computed from. Catalog writes record the changes in their own transactions.
    func rowCountHistory(organization: ObjectID, from: Timestamp, to: Timestamp) async throws(StorageError)
        -> (opening: [String: Int64], events: [RowCountEvent])

    /// Closes a cycle once: appends `charges` (its catalog units), builds the invoice from
    /// every ledger entry of the cycle with `build`, and stores it. A cycle already closed
    /// returns its stored invoice and appends nothing.
    func closeCycle(
        organization: ObjectID, cycle: BillingCycle, charges: [LedgerEntry],
        build: @escaping @Sendable ([LedgerEntry]) -> Invoice
    ) async throws(StorageError) -> Invoice
    /// The organisation's invoices, oldest cycle first.
    func invoices(organization: ObjectID) async throws(StorageError) -> [Invoice]
}

/// Review projects, their queue of rows, reviewers' leases and decisions. Claiming and
/// submitting are each one transaction, so two reviewers never hold the same lease and a
/// row is finalised exactly once; decisions are append-only.
public protocol ReviewStore: Sendable {
    /// Stores a project (its ontology must be the organisation's).
    func createReviewProject(_ project: ReviewProject) async throws(StorageError) -> ReviewProject
    func reviewProject(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ReviewProject
    /// The organisation's projects, oldest first.
    func reviewProjects(organization: ObjectID) async throws(StorageError) -> [ReviewProject]
    /// Queues rows under `sendID` in one transaction; rows the project has already are left
    /// as they are. NOT_FOUND names a row that is not the organisation's.
    func queueReviewRows(organization: ObjectID, project: ObjectID, sendID: String, rows: [NewReviewRow], at: Timestamp)
        async throws(StorageError) -> QueuedReviewRows
    /// How many rows the project holds from `sendID` (what a send is billed for).
    func reviewRowCount(organization: ObjectID, project: ObjectID, sendID: String) async throws(StorageError) -> Int
    /// Atomically leases the best row for `reviewer`: the highest priority (then oldest) row,
    /// not finalised, that the reviewer has not reviewed, skipped or leased, and whose live
    /// leases plus submitted reviews are fewer than `reviewersPerRow`. Nil when none.
    func claimReviewTask(organization: ObjectID, project: ObjectID, reviewer: ObjectID, reviewersPerRow: Int, now: Timestamp, leaseUntil: Timestamp)
        async throws(StorageError) -> ReviewAssignment?
    func reviewAssignment(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ReviewAssignment
    /// Answers an assignment in one transaction: refuses unless `reviewer` holds its lease and
    /// the lease is live at `at`; appends the decisions; marks it submitted (or skipped when
    /// `skipReason` is set). When the row then has `reviewersPerRow` submitted reviews and is
    /// not finalised, `consensus` picks its labels, which are written as ground truth (for
    /// `.override`, replacing the row's ground truth of the ontology) and the row is finalised.
    func submitReview(
        organization: ObjectID, assignment: ObjectID, reviewer: ObjectID, decisions: [ReviewDecisionRecord], result: [Label], skipReason: String?,
        reviewersPerRow: Int, at: Timestamp, consensus: @escaping @Sendable ([SubmittedReview]) -> ReviewConsensus
    ) async throws(StorageError) -> Result<ReviewSubmission, ReviewSubmitRefusal>
    func reviewCounts(organization: ObjectID, project: ObjectID, at: Timestamp) async throws(StorageError) -> ReviewCounts
    /// Queued rows after `position`, in queue order, with final labels (and decisions when asked).
    func reviewedRows(organization: ObjectID, project: ObjectID, after position: Int64, limit: Int, decisions: Bool)
        async throws(StorageError) -> [ReviewedRowRecord]
}

/// Preference projects (docs/preference.md). Their responses, judge verdicts and human
/// rankings live in the runs and the review queue the project names; the project is the index.
public protocol PreferenceStore: Sendable {
    func createPreferenceProject(_ project: PreferenceProject) async throws(StorageError) -> PreferenceProject
    func preferenceProject(organization: ObjectID, id: ObjectID) async throws(StorageError) -> PreferenceProject
    /// The organisation's projects, oldest first.
    func preferenceProjects(organization: ObjectID) async throws(StorageError) -> [PreferenceProject]
    /// Replaces the project's run, dataset and review references when the stored ones are
    /// still `expected` (compare-and-set, so two concurrent Generate calls cannot both start
    /// runs); returns the project as stored after the call.
    func updatePreferenceProject(_ project: PreferenceProject, expected: PreferenceProject) async throws(StorageError)
        -> (updated: Bool, project: PreferenceProject)
}

/// Everything the services need from storage; one value per backend.
public protocol Storage: OrganizationStore, CatalogStore, RunStore, BillingStore, ReviewStore, PreferenceStore {
    /// Finishes pending work and closes the database.
    func close() async
}
