#if canImport(Glibc)
import Glibc
#endif
import AssayWire
import AssaySync

/// A small structured logger: one line per event, `key=value` fields, to standard error.
///
/// Shaped like swift-log's Logger (a value with a label, a level and metadata) so call sites
/// read the same; the sink is a protocol so tests can capture lines.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CustomStringConvertible {
        case debug, info, warning, error

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var description: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }
    }

    /// How a line is written: `key=value` text for people, or one JSON object per line for
    /// log collectors.
    public enum Format: String, Sendable {
        case text, json
    }

    public var label: String
    public var level: Level
    public var sink: any LogSink
    public var format: Format
    public var fields: [(String, String)] = []

    public init(label: String, level: Level = .info, format: Format = .text, sink: any LogSink = StandardErrorSink.shared) {
        self.label = label
        self.level = level
        self.format = format
        self.sink = sink
    }

    /// A logger that drops everything.
    public static var silent: Logger { Logger(label: "silent", level: .error, sink: NullSink()) }

    /// A copy with one more field on every line.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.fields.append((key, value))
        return copy
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        guard level >= self.level else { return }
        switch format {
        case .text:
            var line = "\(Logger.timestamp()) \(level) \(label): \(message())"
            for (k, v) in fields + extra { line += " \(k)=\(Logger.quoted(v))" }
            sink.write(line)
        case .json:
            // The fixed keys first; a field may not replace them (a later duplicate is dropped).
            var line = "{\"ts\":\(Logger.jsonString(Logger.timestamp())),\"level\":\"\(level)\","
            line += "\"logger\":\(Logger.jsonString(label)),\"msg\":\(Logger.jsonString(message()))"
            var seen: Set<String> = ["ts", "level", "logger", "msg"]
            for (k, v) in fields + extra where seen.insert(k).inserted {
                line += ",\(Logger.jsonString(k)):\(Logger.jsonString(v))"
            }
            sink.write(line + "}")
        }
    }

    /// A JSON string literal, as the proto3 JSON writer escapes it.
    static func jsonString(_ v: String) -> String { JSONValue.string(v).jsonString() }

    public func debug(_ m: @autoclosure () -> String, _ extra: [(String, String)] = []) { log(.debug, m(), extra) }
    public func info(_ m: @autoclosure () -> String, _ extra: [(String, String)] = []) { log(.info, m(), extra) }
    public func warning(_ m: @autoclosure () -> String, _ extra: [(String, String)] = []) { log(.warning, m(), extra) }
    public func error(_ m: @autoclosure () -> String, _ extra: [(String, String)] = []) { log(.error, m(), extra) }

    static func quoted(_ v: String) -> String {
        v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : v
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(tm.tm_year + 1900)-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

/// Where log lines go.
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Writes lines to standard error, one write per line so lines from threads do not interleave.
public final class StandardErrorSink: LogSink {
    public static let shared = StandardErrorSink()
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Drops every line.
public struct NullSink: LogSink {
    public init() {}
    public func write(_ line: String) {}
}

/// Keeps lines in memory, for tests that check what was logged.
public final class CapturingSink: LogSink {
    private let lines = Lock<[String]>([])
    public init() {}
    public func write(_ line: String) { lines.withLock { $0.append(line) } }
    public var captured: [String] { lines.withLock { $0 } }
}
