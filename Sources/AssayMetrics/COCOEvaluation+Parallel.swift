import Dispatch
import AssaySync

/// Per-category results written by concurrent workers, each to its own slot.
final class CategoryResults: Sendable {
    private let slots: Lock<[(precision: [Double], recall: [Double])?]>

    init(count: Int) { slots = Lock(Array(repeating: nil, count: count)) }

    func store(_ k: Int, _ value: (precision: [Double], recall: [Double])) {
        slots.withLock { $0[k] = value }
    }

    func take(_ k: Int) -> (precision: [Double], recall: [Double]) {
        slots.withLock { $0[k]! }
    }
}

extension COCOEvaluation {
    /// Runs `body` for every index in 0..<iterations on the machine's cores (Dispatch's
    /// `concurrentPerform`); returns when all are done. CPU work only: nothing in `body` waits.
    static func concurrentPerform(iterations: Int, _ body: @Sendable (Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }
}
