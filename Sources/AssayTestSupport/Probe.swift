import AssaySync

/// A thread-safe box tests use to see what happened inside a handler.
public final class Probe<Value: Sendable>: Sendable {
    private let value: Lock<Value>

    public init(_ initial: Value) { value = Lock(initial) }

    public var current: Value { value.withLock { $0 } }

    public func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }

    /// Polls until `condition` holds or `seconds` pass; returns whether it held.
    public func wait(seconds: Double = 30, until condition: (Value) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(current) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(current)
    }
}
