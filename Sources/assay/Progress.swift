#if canImport(Glibc)
import Glibc
#endif
import AssayTransport

/// A one-line progress bar on standard error: done/total, rows/s and the time left.
/// Redrawn at most 10 times a second, and only when standard error is a terminal.
struct ProgressBar {
    let total: Int
    let unit: String
    let enabled: Bool
    private let start = MonotonicClock.nanoseconds()
    private var lastDraw: UInt64 = 0

    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
        self.enabled = stderrIsTerminal
    }

    mutating func update(_ done: Int, force: Bool = false) {
        guard enabled else { return }
        let now = MonotonicClock.nanoseconds()
        guard force || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        let seconds = max(Double(now - start) / 1e9, 0.001)
        let rate = Double(done) / seconds
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let eta = rate > 0 && total > done ? Int(Double(total - done) / rate) : 0
        let line = "\r[\(bar)] \(Int(fraction * 100))% \(done)/\(total) \(unit)  \(Int(rate)) \(unit)/s  ETA \(eta / 60)m\(eta % 60)s  "
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    func finish() {
        guard enabled else { return }
        _ = "\n".withCString { write(2, $0, 1) }
    }
}
