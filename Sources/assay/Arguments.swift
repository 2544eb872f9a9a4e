#if canImport(Glibc)
import Glibc
#endif

/// The command line after the subcommand: `--flag value`, `--flag=value`, `--switch`, and
/// positional words. Every flag a command does not ask for is an error, so typos are caught.
struct Arguments {
    private var options: [String: String] = [:]
    /// Every value of each flag, in order (for flags that may repeat, like `--pred`).
    private var allValues: [String: [String]] = [:]
    private var switches: Set<String> = []
    private(set) var positional: [String] = []
    private var used: Set<String> = []

    /// Flags that never take a value.
    static let switchNames: Set<String> = [
        "json", "help", "quiet", "content", "decisions", "watch", "failed", "per-row", "check", "tls",
    ]

    init(_ words: [String]) throws(UsageError) {
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.hasPrefix("--") {
                let body = String(w.dropFirst(2))
                if let eq = body.firstIndex(of: "=") {
                    options[String(body[..<eq])] = String(body[body.index(after: eq)...])
                    allValues[String(body[..<eq]), default: []].append(String(body[body.index(after: eq)...]))
                } else if Arguments.switchNames.contains(body) {
                    switches.insert(body)
                } else {
                    guard i + 1 < words.count else { throw UsageError("--\(body) needs a value") }
                    options[body] = words[i + 1]
                    allValues[body, default: []].append(words[i + 1])
                    i += 1
                }
            } else {
                positional.append(w)
            }
            i += 1
        }
    }

    mutating func option(_ name: String) -> String? {
        used.insert(name)
        return options[name]
    }

    /// Every value given for a repeatable flag, in order.
    mutating func values(_ name: String) -> [String] {
        used.insert(name)
        return allValues[name] ?? []
    }

    mutating func flag(_ name: String) -> Bool {
        used.insert(name)
        return switches.contains(name)
    }

    /// Throws for any flag nobody asked for.
    func checkAllUsed() throws(UsageError) {
        for name in Set(options.keys).union(switches) where !used.contains(name) {
            throw UsageError("unknown option --\(name)")
        }
    }
}

/// A mistake on the command line; printed with the usage and exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Reads an environment variable.
func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(decoding: UnsafeRawBufferPointer(start: v, count: strlen(v)), as: UTF8.self)
    return s.isEmpty ? nil : s
}

/// Writes to standard output or error without buffering surprises.
func printOut(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.append(10)
    _ = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
}

func printError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.append(10)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
