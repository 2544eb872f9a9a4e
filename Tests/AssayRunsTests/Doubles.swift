import AssayCore
import AssayModels
import Synchronization
import AssaySync

/// A model whose answer each row scripts through its text, so tests can make every kind of
/// answer: `box` (a box), `kind:NAME` (a radio option), `class:NAME` (an unknown class),
/// `fail` (a row failure), `none` (no prediction); anything after a space is ignored (it
/// makes rows distinct, so the prediction cache does not answer for them). Counts calls and rows; `delay` slows each
/// call (without blocking a thread).
final class ScriptedModel: ModelProvider {
    let cards: [ModelCard]
    let batchSize: Int
    let concurrency: Int
    let delay: Duration
    let calls = Atomic(0)
    let rowsCalled = Atomic(0)
    /// The provider fails (unavailable) this many times before answering.
    let outages = Atomic(0)

    init(batchSize: Int = 4, concurrency: Int = 2, delay: Duration = .zero, version: String = "1") {
        cards = [
            ModelCard(
                id: "scripted", name: "Scripted", version: version, taskKinds: [.detection, .classification], mediaTypes: [.text, .image],
                outputKinds: [.boundingBox, .radio], classes: ["box", "kind"],
                parameters: [
                    ParameterSpec(name: "threshold", kind: .number, defaultValue: .number(0.5), minimum: 0, maximum: 1),
                    ParameterSpec(name: "mode", kind: .choice, defaultValue: .string("fast"), choices: ["fast", "slow"]),
                ],
                price: Price(unit: .perImage, microdollars: 4000), provider: "test")
        ]
        self.batchSize = batchSize
        self.concurrency = concurrency
        self.delay = delay
    }

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        calls.add(1, ordering: .relaxed)
        if outages.load(ordering: .relaxed) > 0 {
            outages.subtract(1, ordering: .relaxed)
            throw ModelError(.unavailable, "scripted outage")
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        rowsCalled.add(request.rows.count, ordering: .relaxed)
        return request.rows.map { row in
            let script = row.text.split(separator: " ").first.map(String.init) ?? ""
            if script == "fail" { return .failure("scripted failure") }
            if script == "none" { return .success([], ModelUsage()) }
            if script.hasPrefix("kind:") {
                return .success([RawPrediction(modelClass: "kind", value: .options([String(script.dropFirst(5))]), confidencePPM: 900_000)], ModelUsage())
            }
            if script.hasPrefix("class:") {
                return .success([RawPrediction(modelClass: String(script.dropFirst(6)), value: .options(["a"]))], ModelUsage())
            }
            return .success([RawPrediction(modelClass: "box", value: .box(left: 1, top: 2, width: 30, height: 40), confidencePPM: 750_000)], ModelUsage(images: 1))
        }
    }
}

/// Billing that admits everything (or refuses with a given refusal) and records what it was asked.
final class RecordingBilling: RunBilling {
    let refusal = Lock<BillingRefusal?>(nil)
    let admitted = Lock<[RunBillingRequest]>([])
    let settled = Lock<[RunUsage]>([])

    func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> RunEstimate {
        RunEstimate(id: "est-1", modelUnits: Int64((request.rowCount + 4) / 5), inferenceMicrodollars: Int64(request.imageCount) * request.model.price.microdollars, assumptions: ["every row predicted"], expiresAt: request.at + 600_000_000)
    }

    func admit(_ request: RunBillingRequest) async throws(BillingRefusal) {
        if let r = refusal.withLock({ $0 }) { throw r }
        admitted.withLock { $0.append(request) }
    }

    func settle(_ usage: RunUsage) async throws(BillingRefusal) {
        settled.withLock { $0.append(usage) }
    }
}
