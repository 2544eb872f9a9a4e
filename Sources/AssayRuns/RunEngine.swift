public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayStorage
import AssaySync

/// Runs model runs as durable jobs. Every run's rows and progress live in the store; the
/// engine only keeps the tasks that work on them and the watchers waiting for news. At
/// start it resumes what the store says is unfinished, so a restart loses no work and
/// redoes none: a row is recorded once, in the same transaction as its predictions.
///
/// Per run, `provider.concurrency` workers pull batches of `provider.batchSize` pending rows
/// from one feeder (which pages rows from the store ahead of them), ask the cache, call the
/// model for the rest, map and validate the answers and record the batch. The workers never
/// wait for one another, so a provider's throughput, not this bookkeeping, is the limit.
public final class RunEngine: Sendable {
    let store: any Storage
    let models: ModelRegistry
    let billing: any RunBilling
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    /// Retries of a batch whose provider is unavailable, and the first backoff.
    let retries: Int
    let backoff: Duration
    /// How this engine shares runs with other servers on the same database.
    let sharing: WorkSharing
    /// What every new run passes before it is stored: the concurrent-run quota.
    public let admission: RunAdmission

    private let state = Lock(State())

    private struct State {
        var active: [ObjectID: ActiveRun] = [:]
        var watchers: [ObjectID: [Int: AsyncStream<ModelRun>.Continuation]] = [:]
        /// The last state each watched run was published in: workers finish batches in any
        /// order, and a watcher must never see progress go backwards.
        var published: [ObjectID: ModelRun] = [:]
        var nextWatcher = 0
        var stopped = false
        /// Runs being settled now: a cancel arriving while the run's own task settles it must
        /// not settle it a second time (billing would ignore the repeat, but it is work).
        var settling: Set<ObjectID> = []
        /// The organisation of each watched run, for publishing progress made elsewhere.
        var watchedOrganizations: [ObjectID: ObjectID] = [:]
        /// The periodic look for runs other servers started (see `WorkSharing.rescan`).
        var scanner: Task<Void, Never>?
    }

    private struct ActiveRun {
        var task: Task<Void, Never>
    }

    public init(
        store: any Storage, models: ModelRegistry, billing: any RunBilling, clock: @escaping @Sendable () -> Timestamp, logger: Logger,
        retries: Int = 3, backoff: Duration = .milliseconds(500), sharing: WorkSharing = WorkSharing(),
        quota: RunQuota = RunQuota()
    ) {
        self.sharing = sharing
        self.admission = RunAdmission(quota: quota, store: store)
        self.store = store
        self.models = models
        self.billing = billing
        self.clock = clock
        self.logger = logger
        self.retries = retries
        self.backoff = backoff
    }

    /// Picks up every unfinished run: queued and running ones are worked on, finished ones
    /// that billing has not settled yet are settled.
    public func resume() async throws(StorageError) {
        try await adoptUnfinished(logging: true)
        guard let interval = sharing.rescan else { return }
        state.withLock { s in
            guard !s.stopped, s.scanner == nil else { return }
            s.scanner = Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard !Task.isCancelled else { return }
                    do {
                        try await adoptUnfinished(logging: false)
                        await publishProgressMadeElsewhere()
                    } catch {
                        logger.warning("looking for unfinished runs failed; trying again", [("error", "\(error)")])
                    }
                }
            }
        }
    }

    /// Launches every unfinished run not worked on here yet and settles finished ones. When
    /// servers share the database, runs of models this server does not serve are left to
    /// the servers that do.
    private func adoptUnfinished(logging: Bool) async throws(StorageError) {
        for run in try await store.unfinishedRuns() {
            if sharing.rescan != nil, models.card(run.modelID) == nil { continue }
            if run.state.isTerminal {
                await settle(run)
            } else if !isActive(run.id) {
                if logging {
                    logger.info("resuming run", [("run", run.id.rawValue), ("done", "\(run.progress.done)/\(run.progress.total)")])
                }
                launch(run)
            }
        }
    }

    /// Watchers here of runs that other servers work on see their progress too.
    private func publishProgressMadeElsewhere() async {
        let watched = state.withLock { s in s.watchedOrganizations.filter { s.active[$0.key] == nil } }
        for (id, organization) in watched {
            if let run = try? await store.run(organization: organization, id: id) { publish(run) }
        }
    }

    /// Starts working on a stored run.
    public func launch(_ run: ModelRun) {
        state.withLock { s in
            guard !s.stopped, s.active[run.id] == nil else { return }
            let task = Task { [self] in
                await execute(run)
                finished(run.id)
            }
            s.active[run.id] = ActiveRun(task: task)
        }
    }

    /// Cancels a run: it is marked cancelled at once (so no later result is recorded), its
    /// workers stop before their next batch, and billing settles what it processed.
    public func cancel(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ModelRun {
        let run = try await store.setRunState(organization: organization, run: id, state: .cancelled, error: "", at: clock())
        publish(run)
        let task = state.withLock { $0.active[id]?.task }
        if let task {
            task.cancel()
        } else if run.state == .cancelled, !run.settled {
            await settle(run)
        }
        return run
    }

    /// Stops every worker without changing any run's state: the next start resumes them.
    public func shutdown() async {
        let tasks = state.withLock { s in
            s.stopped = true
            s.scanner?.cancel()
            return s.active.values.map(\.task) + [s.scanner].compactMap { $0 }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let watchers = state.withLock { s in
            defer { s.watchers = [:] }
            return s.watchers.values.flatMap(\.values)
        }
        for w in watchers { w.finish() }
    }

    /// The run now, then after each change, until it ends (or the server stops).
    public func watch(organization: ObjectID, id: ObjectID) async throws(StorageError) -> AsyncStream<ModelRun> {
        let (stream, continuation) = AsyncStream.makeStream(of: ModelRun.self, bufferingPolicy: .bufferingNewest(1))
        let key = state.withLock { s in
            let key = s.nextWatcher
            s.nextWatcher += 1
            s.watchers[id, default: [:]][key] = continuation
            s.watchedOrganizations[id] = organization
            return key
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { s in
                s.watchers[id]?[key] = nil
                if s.watchers[id]?.isEmpty == true {
                    s.watchers[id] = nil
                    s.published[id] = nil
                    s.watchedOrganizations[id] = nil
                }
            }
        }
        // Read after registering, so no change between the read and the registration is missed.
        let run: ModelRun
        do {
            run = try await store.run(organization: organization, id: id)
        } catch {
            continuation.finish()
            throw error
        }
        // Yielded under the lock, like `publish`'s updates, and never over a newer one: with a
        // buffer of one, a stale snapshot yielded between `publish`'s terminal update and its
        // finish would replace that update, and the watch would end on a running run.
        let ended = state.withLock { s -> Bool in
            var latest = run
            if let last = s.published[id], Self.isAtLeastAsNew(last, as: run) { latest = last }
            continuation.yield(latest)
            return latest.state.isTerminal
        }
        if ended { continuation.finish() }
        return stream
    }

    /// Whether `a` is the same as or later than `b` in a run's life: queued, running (more
    /// rows done), then ended.
    static func isAtLeastAsNew(_ a: ModelRun, as b: ModelRun) -> Bool {
        func rank(_ state: RunState) -> Int { state.isTerminal ? 2 : state == .running ? 1 : 0 }
        if rank(a.state) != rank(b.state) { return rank(a.state) > rank(b.state) }
        return a.progress.done >= b.progress.done
    }

    /// True while the engine works on the run (tests).
    public func isActive(_ id: ObjectID) -> Bool { state.withLock { $0.active[id] != nil } }

    // MARK: working

    private func finished(_ id: ObjectID) {
        _ = state.withLock { $0.active.removeValue(forKey: id) }
    }

    private func publish(_ run: ModelRun) {
        // Yields happen under the lock (so watchers see updates in order); finishing runs
        // the termination handler, which takes the lock, so it happens after.
        let ending = state.withLock { s -> [AsyncStream<ModelRun>.Continuation] in
            guard let watchers = s.watchers[run.id] else { return [] }
            if let last = s.published[run.id] {
                if last.state.isTerminal { return [] }
                if run.state == last.state, run.progress.done < last.progress.done { return [] }
            }
            s.published[run.id] = run
            for w in watchers.values { w.yield(run) }
            return run.state.isTerminal ? Array(watchers.values) : []
        }
        for w in ending { w.finish() }
    }

    private func stopped() -> Bool { state.withLock { $0.stopped } }

    private func execute(_ queued: ModelRun) async {
        let org = queued.organizationID
        do {
            guard let card = models.card(queued.modelID), let provider = models.provider(for: queued.modelID) else {
                try await fail(queued, "model \(queued.modelID) is not served by this server")
                return
            }
            guard card.version == queued.modelVersion else {
                try await fail(queued, "model \(card.id) is now version \(card.version); the run was made with \(queued.modelVersion)")
                return
            }
            let ontology = try await store.ontology(organization: org, id: queued.ontologyID)
            let targets: RunTargets
            do {
                targets = try RunTargets(card: card, ontology: ontology, mapping: queued.mapping)
            } catch {
                try await fail(queued, error.message)
                return
            }
            var run = try await store.setRunState(organization: org, run: queued.id, state: .running, error: "", at: clock())
            publish(run)
            guard !run.state.isTerminal else {
                if !run.settled { await settle(run) }
                return
            }
            let job = Job(run: run, targets: targets, provider: provider)
            let pageSize = max(64, provider.batchSize * provider.concurrency * 4)
            // Rounds: claim and work until nothing is claimable; then either every row is
            // recorded, or other servers hold the rest, and this one waits for them to finish
            // or for their leases to end (a server that died), and claims again.
            while true {
                let feeder = RowFeeder(
                    store: store, organization: org, run: run.id, server: sharing.serverID, pageSize: pageSize, lease: sharing.lease,
                    clock: clock)
                let failure = await withTaskGroup(of: StorageError?.self) { group in
                    for _ in 0..<max(1, provider.concurrency) {
                        group.addTask { [self] in
                            do throws(StorageError) {
                                while !Task.isCancelled, let batch = try await feeder.next(provider.batchSize) {
                                    let outcomes = await predict(batch, job: job)
                                    let updated = try await store.recordRunRows(organization: org, run: job.run.id, outcomes: outcomes)
                                    RunTelemetry.record(outcomes)
                                    publish(updated)
                                    if updated.state.isTerminal { return nil }
                                }
                                return nil
                            } catch {
                                return error
                            }
                        }
                    }
                    // The heartbeat: while workers hold claimed rows, their leases are extended.
                    let runID = run.id
                    let heartbeat = Task { [self] in
                        while !Task.isCancelled {
                            try? await Task.sleep(for: sharing.lease / 3)
                            guard !Task.isCancelled else { return }
                            _ = try? await store.renewRunRowLeases(
                                organization: org, run: runID, server: sharing.serverID, leaseUntil: clock() + sharing.lease.microseconds)
                        }
                    }
                    var first: StorageError?
                    for await error in group where first == nil { first = error }
                    heartbeat.cancel()
                    return first
                }
                if let failure { throw failure }
                if Task.isCancelled && stopped() {
                    // The server stops: others may take this server's rows at once.
                    try? await store.releaseRunRows(organization: org, run: run.id, server: sharing.serverID)
                    return  // the next start (or another server) resumes
                }
                run = try await store.run(organization: org, id: run.id)
                if run.state.isTerminal || run.progress.done >= run.progress.total || Task.isCancelled { break }
                try? await Task.sleep(for: sharing.waitForOthers)
                if Task.isCancelled && stopped() { return }
            }
            if !run.state.isTerminal {
                let allFailed = run.progress.total > 0 && run.progress.failed == run.progress.total
                run = try await store.setRunState(
                    organization: org, run: run.id, state: allFailed ? .failed : .completed,
                    error: allFailed ? "every row failed; see the rows' errors" : "", at: clock())
                publish(run)
            }
            await settle(run)
        } catch {
            if stopped() { return }
            logger.error("run failed on a storage error", [("run", queued.id.rawValue), ("error", "\(error)")])
            try? await fail(queued, "the server could not store the run's progress (it has been logged)")
        }
    }

    private func fail(_ run: ModelRun, _ message: String) async throws(StorageError) {
        let failed = try await store.setRunState(organization: run.organizationID, run: run.id, state: .failed, error: message, at: clock())
        publish(failed)
        await settle(failed)
    }

    /// Settles a finished run with billing, once; on failure it stays unsettled and the next
    /// start tries again (settling is idempotent per run in billing).
    func settle(_ run: ModelRun) async {
        guard run.state.isTerminal, !run.settled else { return }
        guard state.withLock({ $0.settling.insert(run.id).inserted }) else { return }
        defer { state.withLock { _ = $0.settling.remove(run.id) } }
        // Settled meanwhile by whoever held it before (the caller's copy may be older).
        if let current = try? await store.run(organization: run.organizationID, id: run.id), current.settled { return }
        guard let card = models.card(run.modelID) ?? nil else {
            logger.warning("cannot settle a run whose model is not served", [("run", run.id.rawValue)])
            return
        }
        do {
            try await billing.settle(
                RunUsage(
                    organizationID: run.organizationID, runID: run.id, model: card, datasetIDs: run.datasetIDs,
                    rowsProcessed: run.progress.done, rowsWithPredictions: run.progress.withPredictions, images: run.progress.images,
                    tokens: run.progress.tokens, at: clock()))
            try await store.markRunSettled(organization: run.organizationID, run: run.id)
        } catch {
            logger.error("settling a run failed; the next start retries", [("run", run.id.rawValue), ("error", "\(error)")])
        }
    }

    struct Job: Sendable {
        let run: ModelRun
        let targets: RunTargets
        let provider: any ModelProvider
    }

    /// Predicts a batch: answers from the cache where the same request was answered before,
    /// the model for the rest.
    func predict(_ batch: [PendingRunRow], job: Job) async -> [RunRowOutcome] {
        let card = job.targets.card
        var outcomes: [RunRowOutcome] = []
        var toCall: [(PendingRunRow, DataRow, [UInt8])] = []
        var keyed: [(PendingRunRow, DataRow, [UInt8])] = []
        for pending in batch {
            guard let row = pending.row else {
                outcomes.append(RunRowOutcome(position: pending.position, rowID: pending.rowID, predictions: [], error: "the data row was deleted"))
                continue
            }
            if let refusal = job.targets.refusal(for: row) {
                outcomes.append(RunRowOutcome(position: pending.position, rowID: pending.rowID, predictions: [], error: refusal))
                continue
            }
            keyed.append((pending, row, PredictionCache.key(card: card, parameters: job.run.parameters, targets: job.targets.targets, row: row)))
        }
        let cached = (try? await store.cachedPredictions(organization: job.run.organizationID, keys: keyed.map(\.2))) ?? [:]
        for (pending, row, key) in keyed {
            if let bytes = cached[key], let answer = PredictionCache.decode(bytes) {
                var outcome = outcomeFor(pending, row: row, answer: answer.predictions, job: job)
                outcome.cached = true
                outcomes.append(outcome)
            } else {
                toCall.append((pending, row, key))
            }
        }
        guard !toCall.isEmpty else { return outcomes }
        let request = PredictRequest(
            card: card, parameters: job.run.parameters, targets: job.targets.targets,
            rows: toCall.map { ModelInput(rowID: $0.1.id, mediaType: $0.1.mediaType, content: $0.1.content, text: $0.1.text, uri: $0.1.uri, metadata: $0.1.metadata) })
        let results: [RowPrediction]
        switch await callWithRetries(job.provider, request) {
        case .success(let r) where r.count == toCall.count: results = r
        case .success(let r):
            results = Array(repeating: .failure("the model returned \(r.count) results for \(toCall.count) rows"), count: toCall.count)
        case .failure(let error):
            results = Array(repeating: .failure("model \(card.id) failed: \(error.message)"), count: toCall.count)
        }
        for ((pending, row, key), result) in zip(toCall, results) {
            switch result {
            case .failure(let message):
                outcomes.append(RunRowOutcome(position: pending.position, rowID: pending.rowID, predictions: [], error: message))
            case .success(let raw, let usage):
                var outcome = outcomeFor(pending, row: row, answer: raw, job: job)
                outcome.images = usage.images > 0 ? usage.images : (row.mediaType == .image || row.mediaType == .document ? 1 : 0)
                outcome.tokens = usage.tokens
                outcome.cacheEntry = CacheEntry(key: key, value: PredictionCache.encode(raw, usage: usage))
                outcomes.append(outcome)
            }
        }
        return outcomes
    }

    private func outcomeFor(_ pending: PendingRunRow, row: DataRow, answer: [RawPrediction], job: Job) -> RunRowOutcome {
        switch job.targets.labels(for: answer, row: row, run: job.run.id, at: clock()) {
        case .success(let labels): RunRowOutcome(position: pending.position, rowID: pending.rowID, predictions: labels)
        case .failure(let failure): RunRowOutcome(position: pending.position, rowID: pending.rowID, predictions: [], error: failure.message)
        }
    }

    /// Calls the provider, retrying an unavailable one with exponential backoff.
    func callWithRetries(_ provider: any ModelProvider, _ request: PredictRequest) async -> Result<[RowPrediction], ModelError> {
        var delay = backoff
        var attempt = 0
        while true {
            do {
                return .success(try await provider.predict(request))
            } catch {
                attempt += 1
                guard error.kind == .unavailable, attempt <= retries, !Task.isCancelled else { return .failure(error) }
                logger.warning("model unavailable, retrying", [("model", request.card.id), ("attempt", "\(attempt)"), ("error", error.message)])
                try? await Task.sleep(for: delay)
                delay = delay * 2
            }
        }
    }
}

/// How a run engine shares the runs of one database with other servers.
public struct WorkSharing: Sendable {
    /// Names this server's leases; unique per process.
    public var serverID: String
    /// How long claimed rows stay this server's without a heartbeat; the heartbeat renews
    /// them every third of it, so a server that dies gives its rows back within one lease.
    public var lease: Duration
    /// How often to look for runs other servers started (and report their progress to
    /// watchers here); nil when this server is alone with its database.
    public var rescan: Duration?
    /// How long to wait before claiming again when other servers hold a run's last rows.
    public var waitForOthers: Duration

    public init(
        serverID: String = "local", lease: Duration = .seconds(60), rescan: Duration? = nil, waitForOthers: Duration = .seconds(1)
    ) {
        self.serverID = serverID
        self.lease = lease
        self.rescan = rescan
        self.waitForOthers = waitForOthers
    }
}

extension Duration {
    /// The duration in whole microseconds (the unit of `Timestamp`).
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// Hands out a run's pending rows in batches, claiming them from the store (under this
/// server's lease) ahead of the workers.
actor RowFeeder {
    let store: any RunStore
    let organization: ObjectID
    let run: ObjectID
    let server: String
    let pageSize: Int
    let lease: Duration
    let clock: @Sendable () -> Timestamp
    private var buffer: [PendingRunRow] = []
    private var head = 0
    private var exhausted = false
    private var fetching: Task<[PendingRunRow], any Error>?

    init(
        store: any RunStore, organization: ObjectID, run: ObjectID, server: String, pageSize: Int, lease: Duration,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.organization = organization
        self.run = run
        self.server = server
        self.pageSize = pageSize
        self.lease = lease
        self.clock = clock
    }

    /// Up to `count` rows, nil when none is left to claim. Workers call this concurrently,
    /// and the actor is re-entered while a claim is in flight, so one claim is shared by
    /// everyone waiting for it.
    func next(_ count: Int) async throws(StorageError) -> [PendingRunRow]? {
        while head == buffer.count, !exhausted {
            let task: Task<[PendingRunRow], any Error>
            if let fetching {
                task = fetching
            } else {
                let (store, organization, run, server, pageSize) = (store, organization, run, server, pageSize)
                let now = clock()
                let until = now + lease.microseconds
                task = Task {
                    try await store.claimRunRows(
                        organization: organization, run: run, server: server, limit: pageSize, now: now, leaseUntil: until)
                }
                fetching = task
            }
            let page: [PendingRunRow]
            do { page = try await task.value } catch {
                if fetching == task { fetching = nil }
                throw error as? StorageError ?? .internal("\(error)")
            }
            // Whoever resumes first installs the page; the others find it installed.
            guard fetching == task else { continue }
            fetching = nil
            buffer = page
            head = 0
            if page.isEmpty { exhausted = true }
        }
        guard head < buffer.count else { return nil }
        let end = min(buffer.count, head + max(1, count))
        defer { head = end }
        return Array(buffer[head..<end])
    }
}

/// What the run engine reports to the server's metrics endpoint.
enum RunTelemetry {
    private static let help = "Rows of model runs this server worked on, by outcome."
    static let predicted = Telemetry.shared.counter("assay_run_rows_total", help: help, labels: [("outcome", "predicted")])
    static let cached = Telemetry.shared.counter("assay_run_rows_total", help: help, labels: [("outcome", "cached")])
    static let failed = Telemetry.shared.counter("assay_run_rows_total", help: help, labels: [("outcome", "failed")])

    static func record(_ outcomes: [RunRowOutcome]) {
        var counts = (predicted: Int64(0), cached: Int64(0), failed: Int64(0))
        for outcome in outcomes {
            if outcome.error != nil {
                counts.failed += 1
            } else if outcome.cached {
                counts.cached += 1
            } else {
                counts.predicted += 1
            }
        }
        predicted.add(counts.predicted)
        cached.add(counts.cached)
        failed.add(counts.failed)
    }
}
