import AssayAccess
import AssayCore
public import AssayRPC
public import AssayStorage
public import AssayWire
import AssaySync

/// `assay.v1.Worker`: the call a worker process keeps open while it serves models.
///
/// Workers are server-wide: their cards join the run service's models for every
/// organisation, so only admin keys of the server operator's organisation may register
/// one (docs/workers.md).
public struct WorkerServiceProvider: RPCService {
    let workers: RemoteWorkerProvider
    let store: any BillingStore

    public init(workers: RemoteWorkerProvider, store: any BillingStore) {
        self.workers = workers
        self.store = store
    }

    public func register(in router: inout Router) {
        let workers = self.workers
        let store = self.store
        router.bidirectional(WorkerService.serve) { requests, writer, context in
            let caller = try context.caller(for: .manageKeys)
            let operatorOrganization: ObjectID?
            do {
                operatorOrganization = try await store.operatorOrganization()
            } catch {
                throw RPCError(.unavailable, "cannot check the caller's organisation right now")
            }
            guard caller.organizationID == operatorOrganization else {
                throw RPCError(.permissionDenied, "workers serve every organisation: register with an admin key of the server operator's organisation")
            }
            var first = requests.makeAsyncIterator()
            guard let hello = try await first.next() else { return }
            guard case .register(let registration)? = hello.kind else {
                throw RPCError(.invalidArgument, "the first message of Worker/Serve must be a register")
            }
            guard !registration.cards.isEmpty else { throw RPCError(.invalidArgument, "a worker registers at least one model card") }
            var cards: [AssayCore.ModelCard] = []
            for wire in registration.cards {
                let card = try WorkerConvert.card(wire)
                guard !cards.contains(where: { $0.id == card.id }) else {
                    throw RPCError(.invalidArgument, "model card \(card.id) is registered twice")
                }
                cards.append(card)
            }
            let name = registration.name.isEmpty ? "worker" : registration.name
            let attachment = workers.attach(
                name: name, cards: cards, maxBatchSize: Int(registration.maxBatchSize == 0 ? UInt32(workers.defaultBatchSize) : registration.maxBatchSize),
                concurrency: Int(max(1, registration.concurrency)))
            let id = attachment.workerID
            let interval = workers.heartbeatInterval
            let lastSeen = LastSeen()
            var reason = "disconnected"
            defer { workers.detach(id, reason: reason) }
            try await writer.write(ServerMessage(kind: .registered(WorkerRegistered(
                workerId: id, heartbeatIntervalMillis: UInt32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)))))
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Batches for this worker, as the provider hands them out.
                    group.addTask {
                        for await message in attachment.outbox { try await writer.write(message) }
                    }
                    // A worker whose heartbeats stop is gone, even if its connection is not.
                    group.addTask {
                        let limit = interval * workers.missedHeartbeats
                        while true {
                            try await Task.sleep(for: interval / 2)
                            let silent = ContinuousClock.now - lastSeen.instant.withLock { $0 }
                            if silent > limit {
                                throw RPCError(.deadlineExceeded, "no heartbeat from worker \(id) for \(silent); it counts as gone")
                            }
                        }
                    }
                    // Heartbeats and results, until the worker ends its side.
                    group.addTask {
                        var messages = requests.makeAsyncIterator()
                        while let message = try await messages.next() {
                            lastSeen.instant.withLock { $0 = .now }
                            switch message.kind {
                            case .heartbeat?: break
                            case .result(let result)?: workers.complete(id, result)
                            case .register?: throw RPCError(.invalidArgument, "a worker registers once per call")
                            case nil: break
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                reason = "ended: \(error)"
                throw error
            }
        }
    }
}

/// When a worker last sent anything, shared by its reader and its heartbeat watchdog.
final class LastSeen: Sendable {
    let instant = Lock(ContinuousClock.now)
}
