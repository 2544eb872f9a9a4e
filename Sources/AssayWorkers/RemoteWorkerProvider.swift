public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayWire
import AssaySync

/// The models that connected worker processes serve (`assay.v1.Worker/Serve`, docs/workers.md).
///
/// Its cards are the union of the connected workers' cards, so they change as workers come
/// and go. `predict` hands the batch to the least-loaded worker serving the card and waits
/// for its `BatchResult`; when that worker's call ends (it died, its heartbeats stopped)
/// before the result, or it does not answer within `batchTimeout` (hung, heartbeats still
/// coming), the batch goes to another worker. When none is left it throws
/// `ModelError(.unavailable)`, which makes the run engine retry with backoff.
public final class RemoteWorkerProvider: ModelProvider {
    /// How often a worker must send a heartbeat (told to it on registration).
    public let heartbeatInterval: Duration
    /// Missed heartbeats after which a worker counts as gone and its batches move on.
    public let missedHeartbeats: Int
    /// Rows per batch when no connected worker asks for fewer.
    public let defaultBatchSize: Int
    /// Workers one batch is tried on before `predict` gives up (the engine then retries).
    public let dispatchAttempts: Int
    /// How long a worker may hold a batch before it counts as hung for that batch, which then
    /// goes to another worker (nil: no limit). A late answer is dropped; only then does the
    /// worker's slot count as free again.
    public let batchTimeout: Duration?
    /// The default `batchTimeout`: long enough for a slow model on a big batch.
    public static let defaultBatchTimeout = Duration.seconds(600)
    let logger: Logger
    private let state = Lock(State())

    public init(
        heartbeatInterval: Duration = .seconds(2), missedHeartbeats: Int = 3, defaultBatchSize: Int = 16, dispatchAttempts: Int = 3,
        batchTimeout: Duration? = RemoteWorkerProvider.defaultBatchTimeout, logger: Logger = .silent
    ) {
        self.batchTimeout = batchTimeout
        self.heartbeatInterval = heartbeatInterval
        self.missedHeartbeats = missedHeartbeats
        self.defaultBatchSize = defaultBatchSize
        self.dispatchAttempts = dispatchAttempts
        self.logger = logger
    }

    // MARK: ModelProvider

    /// Every card some connected worker serves; for an id two workers serve, the card of the
    /// one that registered first.
    public var cards: [AssayCore.ModelCard] {
        state.withLock { s in
            var seen: Set<String> = []
            var out: [AssayCore.ModelCard] = []
            for id in s.order {
                for card in s.workers[id]?.cards ?? [] where seen.insert(card.id).inserted { out.append(card) }
            }
            return out
        }
    }

    /// The smallest batch a connected worker asked for (so every worker can take every batch).
    public var batchSize: Int {
        state.withLock { s in s.workers.values.map(\.maxBatchSize).min() ?? defaultBatchSize }
    }

    /// All connected workers' concurrency together: the run engine keeps that many batches in flight.
    public var concurrency: Int {
        state.withLock { s in min(256, max(1, s.workers.values.reduce(0) { $0 + $1.concurrency })) }
    }

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        var tried: Set<String> = []
        var lost: [String] = []
        for _ in 0..<max(1, dispatchAttempts) {
            switch await dispatchWithin(request, avoiding: tried) {
            case .noWorker:
                if lost.isEmpty { throw ModelError(.unavailable, "no connected worker serves model \(request.card.id)") }
                throw ModelError(.unavailable, "every worker serving model \(request.card.id) was lost: \(lost.joined(separator: "; "))")
            case .cancelled:
                throw ModelError(.unavailable, "the batch was cancelled")
            case .lost(let worker, let reason):
                tried.insert(worker)
                lost.append(reason)
                logger.warning("a worker was lost mid-batch; dispatching the batch again", [("model", request.card.id), ("reason", reason)])
            case .result(let worker, let result):
                if !result.error.isEmpty {
                    if result.retryable {
                        tried.insert(worker)
                        lost.append("worker \(worker): \(result.error)")
                        continue
                    }
                    throw ModelError(.invalidRequest, result.error)
                }
                return try WorkerConvert.predictions(result, expected: request.rows.count, worker: worker)
            }
        }
        throw ModelError(.unavailable, "model \(request.card.id): \(lost.joined(separator: "; "))")
    }

    // MARK: Workers (the Serve handler's side)

    /// A worker connection, once registered: its id and the messages to write to it.
    public struct Attachment: Sendable {
        public let workerID: String
        public let outbox: AsyncStream<ServerMessage>
    }

    /// Adds a worker; its cards are served from now until `detach`.
    public func attach(name: String, cards: [AssayCore.ModelCard], maxBatchSize: Int, concurrency: Int) -> Attachment {
        let (stream, continuation) = AsyncStream<ServerMessage>.makeStream()
        let id = state.withLock { s in
            s.nextWorker += 1
            let id = "worker-\(s.nextWorker)"
            s.workers[id] = Slot(
                name: name, cards: cards, maxBatchSize: max(1, maxBatchSize), concurrency: max(1, concurrency), outbox: continuation)
            s.order.append(id)
            return id
        }
        logger.info("worker registered", [("worker", id), ("name", name), ("models", cards.map(\.id).joined(separator: ","))])
        return Attachment(workerID: id, outbox: stream)
    }

    /// Removes a worker; the batches it held go to other workers.
    public func detach(_ workerID: String, reason: String) {
        let orphans: [CheckedContinuation<Outcome, Never>] = state.withLock { s in
            guard let slot = s.workers.removeValue(forKey: workerID) else { return [] }
            s.order.removeAll { $0 == workerID }
            slot.outbox.finish()
            return slot.batches.compactMap { s.pending.removeValue(forKey: $0)?.continuation }
        }
        logger.info("worker left", [("worker", workerID), ("reason", reason), ("batches_moved", "\(orphans.count)")])
        for c in orphans { c.resume(returning: .lost(workerID, "\(workerID) \(reason)")) }
    }

    /// A worker's answer to a batch it was given. False when no such batch waits for it
    /// (already moved elsewhere or cancelled).
    @discardableResult
    public func complete(_ workerID: String, _ result: BatchResult) -> Bool {
        let waiter: CheckedContinuation<Outcome, Never>? = state.withLock { s in
            if s.workers[workerID]?.expired.remove(result.batchId) != nil {
                // The answer to a batch that timed out and moved on: the worker's slot is free again.
                s.workers[workerID]?.inFlight -= 1
                return nil
            }
            guard let p = s.pending[result.batchId], p.worker == workerID else { return nil }
            s.pending[result.batchId] = nil
            s.workers[workerID]?.inFlight -= 1
            s.workers[workerID]?.batches.remove(result.batchId)
            return p.continuation
        }
        waiter?.resume(returning: .result(workerID, result))
        return waiter != nil
    }

    /// The connected workers: id, name and batches in flight.
    public var workers: [(id: String, name: String, inFlight: Int)] {
        state.withLock { s in s.order.compactMap { id in s.workers[id].map { (id, $0.name, $0.inFlight) } } }
    }

    // MARK: Machinery

    enum Outcome: Sendable {
        case result(String, BatchResult)
        case lost(String, String)
        case cancelled
        case noWorker
    }

    struct Slot {
        var name: String
        var cards: [AssayCore.ModelCard]
        var maxBatchSize: Int
        var concurrency: Int
        var outbox: AsyncStream<ServerMessage>.Continuation
        var inFlight = 0
        var batches: Set<UInt64> = []
        /// Batches that timed out on this worker: still counted in flight until it answers.
        var expired: Set<UInt64> = []
        var lastAssigned: UInt64 = 0
    }

    struct Pending {
        var worker: String
        var continuation: CheckedContinuation<Outcome, Never>
    }

    struct State {
        var workers: [String: Slot] = [:]
        var order: [String] = []
        var pending: [UInt64: Pending] = [:]
        var cancelled: Set<UInt64> = []
        var nextWorker = 0
        var nextBatch: UInt64 = 0

        /// The least-loaded worker serving `model` (relative to its concurrency), preferring
        /// workers not in `avoiding`, and among equals the one assigned to longest ago.
        func pick(_ model: String, avoiding: Set<String>) -> String? {
            let serving = order.filter { id in workers[id]!.cards.contains { $0.id == model } }
            let fresh = serving.filter { !avoiding.contains($0) }
            let candidates = fresh.isEmpty ? serving : fresh
            return candidates.min { a, b in
                let x = workers[a]!, y = workers[b]!
                let lx = x.inFlight * y.concurrency, ly = y.inFlight * x.concurrency
                return lx != ly ? lx < ly : x.lastAssigned < y.lastAssigned
            }
        }
    }

    /// `dispatch` under `batchTimeout`: a timer beside the wait moves the batch on when it fires first.
    func dispatchWithin(_ request: PredictRequest, avoiding: Set<String>) async -> Outcome {
        let batchID = state.withLock { s in
            s.nextBatch += 1
            return s.nextBatch
        }
        guard let timeout = batchTimeout else { return await dispatch(request, avoiding: avoiding, batchID: batchID) }
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await self.dispatch(request, avoiding: avoiding, batchID: batchID) }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                self.expire(batchID, after: timeout)
                return nil
            }
            var outcome = Outcome.cancelled
            while let next = await group.next() {
                if let next {
                    outcome = next
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
    }

    /// Gives up on a batch its worker has held for `timeout`: the waiting `dispatch` sees it as lost.
    func expire(_ batchID: UInt64, after timeout: Duration) {
        let expired: (worker: String, continuation: CheckedContinuation<Outcome, Never>)? = state.withLock { s in
            guard let p = s.pending.removeValue(forKey: batchID) else { return nil }
            s.workers[p.worker]?.batches.remove(batchID)
            s.workers[p.worker]?.expired.insert(batchID)
            return (p.worker, p.continuation)
        }
        guard let expired else { return }
        logger.warning(
            "a worker did not answer a batch in time", [("worker", expired.worker), ("timeout", "\(timeout)")])
        let reason = "\(expired.worker) did not answer batch \(batchID) within \(timeout)"
        expired.continuation.resume(returning: .lost(expired.worker, reason))
    }

    func dispatch(_ request: PredictRequest, avoiding: Set<String>, batchID: UInt64) async -> Outcome {
        var message = WorkerConvert.batch(request)
        message.batchId = batchID
        let envelope = ServerMessage(kind: .batch(message))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let immediate: Outcome? = state.withLock { s in
                    if s.cancelled.remove(batchID) != nil { return .cancelled }
                    guard let worker = s.pick(request.card.id, avoiding: avoiding) else { return .noWorker }
                    s.pending[batchID] = Pending(worker: worker, continuation: continuation)
                    s.workers[worker]!.inFlight += 1
                    s.workers[worker]!.batches.insert(batchID)
                    s.workers[worker]!.lastAssigned = batchID
                    s.workers[worker]!.outbox.yield(envelope)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Outcome, Never>? = state.withLock { s in
                guard let p = s.pending.removeValue(forKey: batchID) else {
                    s.cancelled.insert(batchID)
                    return nil
                }
                s.workers[p.worker]?.inFlight -= 1
                s.workers[p.worker]?.batches.remove(batchID)
                return p.continuation
            }
            waiter?.resume(returning: .cancelled)
        }
    }
}
