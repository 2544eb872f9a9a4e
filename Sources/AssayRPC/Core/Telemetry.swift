import Synchronization
import AssaySync

/// Named counters and gauges that services bump as they work (rows ingested, run rows done,
/// ledger totals) and that the server exposes in Prometheus' text format.
///
/// Shaped like swift-metrics: a service asks the registry once for a handle (`counter(...)`)
/// and then only touches the handle, which is one atomic add: no lock and no lookup on the hot
/// path. Handles with the same name and labels are the same handle. Values are integers:
/// counts, units and micro-dollars, never floating point.
public final class Telemetry: Sendable {
    /// The process's registry: what the services of this process record into.
    public static let shared = Telemetry()

    /// A monotonically growing count.
    public final class Counter: Sendable {
        private let value = Atomic<Int64>(0)
        /// Adds `amount` (negative amounts are ignored: a counter never goes down).
        public func add(_ amount: Int64 = 1) {
            if amount > 0 { value.wrappingAdd(amount, ordering: .relaxed) }
        }
        public var current: Int64 { value.load(ordering: .relaxed) }
    }

    /// A value that goes up and down (runs in progress).
    public final class Gauge: Sendable {
        private let value = Atomic<Int64>(0)
        public func add(_ amount: Int64) { value.wrappingAdd(amount, ordering: .relaxed) }
        public func set(_ amount: Int64) { value.store(amount, ordering: .relaxed) }
        public var current: Int64 { value.load(ordering: .relaxed) }
    }

    private enum Handle: Sendable {
        case counter(Counter)
        case gauge(Gauge)
    }

    private struct Family: Sendable {
        var help: String
        var isCounter: Bool
        var series: [(labels: [(String, String)], handle: Handle)] = []
    }

    private let families = Lock<[String: Family]>([:])

    public init() {}

    /// The counter `name` with `labels`, made on first use. `name` follows Prometheus' rules
    /// (`[a-zA-Z_:][a-zA-Z0-9_:]*`) and ends in `_total`.
    public func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        let handle = self.handle(name, help: help, labels: labels, isCounter: true) { .counter(Counter()) }
        guard case .counter(let counter) = handle else { preconditionFailure("\(name) is a gauge, not a counter") }
        return counter
    }

    /// The gauge `name` with `labels`, made on first use.
    public func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        let handle = self.handle(name, help: help, labels: labels, isCounter: false) { .gauge(Gauge()) }
        guard case .gauge(let gauge) = handle else { preconditionFailure("\(name) is a counter, not a gauge") }
        return gauge
    }

    private func handle(
        _ name: String, help: String, labels: [(String, String)], isCounter: Bool, make: () -> Handle
    ) -> Handle {
        families.withLock { all in
            var family = all[name] ?? Family(help: help, isCounter: isCounter)
            if let existing = family.series.first(where: { $0.labels.elementsEqual(labels, by: ==) }) { return existing.handle }
            let handle = make()
            family.series.append((labels, handle))
            all[name] = family
            return handle
        }
    }

    /// Every family in Prometheus' text exposition format (version 0.0.4), sorted by name.
    public func render(into text: inout String) {
        let snapshot = families.withLock { $0 }
        for name in snapshot.keys.sorted() {
            let family = snapshot[name]!
            text += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.isCounter ? "counter" : "gauge")\n"
            for (labels, handle) in family.series {
                let value: Int64
                switch handle {
                case .counter(let c): value = c.current
                case .gauge(let g): value = g.current
                }
                text += "\(name)\(Self.labelText(labels)) \(value)\n"
            }
        }
    }

    /// `{a="x",b="y"}`, or nothing without labels; values escaped as the format requires.
    public static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.map { key, value in
            var escaped = ""
            for c in value {
                switch c {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(c)
                }
            }
            return "\(key)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
