import AssayCore
import AssayModels
import AssayWire
import AssayWorkers
import AssaySync
import Testing

/// The provider's dispatch without sockets: workers are outboxes the test reads and answers.
@Suite(.timeLimit(.minutes(1))) struct RemoteWorkerProviderTests {
    static let card = AssayCore.ModelCard(
        id: "echo", name: "Echo", version: "1", taskKinds: [.generation], mediaTypes: [.text], outputKinds: [.freeText],
        provider: "worker")

    static func request(_ texts: [String]) -> PredictRequest {
        PredictRequest(
            card: card, parameters: [:], targets: [TargetFeature(modelClass: "text", kind: .freeText)],
            rows: texts.enumerated().map {
                ModelInput(rowID: ObjectID(rawValue: "dr_\($0.offset)"), mediaType: .text, text: $0.element)
            })
    }

    static func answer(_ batch: PredictBatch, by worker: String) -> BatchResult {
        BatchResult(
            batchId: batch.batchId,
            rows: batch.rows.map { row in
                WorkerRowResult(predictions: [
                    WorkerPrediction(modelClass: "text", value: .text(row.text + " from " + worker))
                ])
            })
    }

    @Test func aHungWorkersBatchMovesOnAfterTheBatchTimeout() async throws {
        let provider = RemoteWorkerProvider(batchTimeout: .milliseconds(300))
        // Registered first and idle, the hung worker gets the first batch; it never answers.
        let hung = provider.attach(name: "hung", cards: [Self.card], maxBatchSize: 4, concurrency: 1)
        let steady = provider.attach(name: "steady", cards: [Self.card], maxBatchSize: 4, concurrency: 1)
        let held = Held()
        let started = ContinuousClock.now
        let result = try await withThrowingTaskGroup(of: [RowPrediction]?.self) { group in
            group.addTask {
                for await message in hung.outbox {
                    if case .batch(let batch)? = message.kind { held.batches.withLock { $0.append(batch) } }
                }
                return nil
            }
            group.addTask {
                for await message in steady.outbox {
                    if case .batch(let batch)? = message.kind {
                        provider.complete(steady.workerID, Self.answer(batch, by: "steady"))
                    }
                }
                return nil
            }
            group.addTask { try await provider.predict(Self.request(["a", "b"])) }
            var out: [RowPrediction] = []
            while let next = try await group.next() {
                if let next {
                    out = next
                    break
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(300))
            // The hung worker still counts the batch it holds; its late answer is dropped and frees the slot.
            let late = held.batches.withLock { $0 }
            #expect(late.count == 1)
            #expect(provider.workers.map(\.inFlight) == [1, 0])
            #expect(!provider.complete(hung.workerID, Self.answer(late[0], by: "hung")))
            #expect(provider.workers.map(\.inFlight) == [0, 0])
            provider.detach(hung.workerID, reason: "test over")
            provider.detach(steady.workerID, reason: "test over")
            group.cancelAll()
            return out
        }
        #expect(
            result == [
                .success([RawPrediction(modelClass: "text", value: .text("a from steady"))], .zero),
                .success([RawPrediction(modelClass: "text", value: .text("b from steady"))], .zero),
            ])
    }

    @Test func aBatchAnsweredInTimeIsNotMoved() async throws {
        let provider = RemoteWorkerProvider(batchTimeout: .seconds(120))
        let only = provider.attach(name: "only", cards: [Self.card], maxBatchSize: 4, concurrency: 1)
        let result = try await withThrowingTaskGroup(of: [RowPrediction]?.self) { group in
            group.addTask {
                for await message in only.outbox {
                    if case .batch(let batch)? = message.kind {
                        provider.complete(only.workerID, Self.answer(batch, by: "only"))
                    }
                }
                return nil
            }
            let started = ContinuousClock.now
            let out = try await provider.predict(Self.request(["x"]))
            // The timer is cancelled with the answer: predict does not wait for it (the bound is
            // far below the timeout and far above a sanitizer's slowdown, 12.7 s once under TSan).
            #expect(ContinuousClock.now - started < .seconds(60))
            #expect(provider.workers.map(\.inFlight) == [0])
            provider.detach(only.workerID, reason: "test over")
            group.cancelAll()
            return out
        }
        #expect(result == [.success([RawPrediction(modelClass: "text", value: .text("x from only"))], .zero)])
    }

    @Test func withEveryWorkerHungPredictGivesUpAsUnavailable() async throws {
        let provider = RemoteWorkerProvider(dispatchAttempts: 2, batchTimeout: .milliseconds(100))
        let hung = provider.attach(name: "hung", cards: [Self.card], maxBatchSize: 4, concurrency: 1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in hung.outbox {} }
            await #expect {
                _ = try await provider.predict(Self.request(["x"]))
            } throws: { error in
                guard let error = error as? ModelError else { return false }
                return error.kind == .unavailable && "\(error.message)".contains("did not answer batch")
            }
            provider.detach(hung.workerID, reason: "test over")
        }
    }
}

/// The batches a worker that never answers received.
final class Held: Sendable {
    let batches = Lock<[PredictBatch]>([])
}
