/// Accumulates generated Swift with four-space indentation.
struct CodeWriter {
    private(set) var text = ""
    private var depth = 0

    /// One line at the current indentation (an empty line stays empty).
    mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: "    ", count: depth) + content + "\n"
        }
    }

    /// `header {`, the body one level deeper, then `}`.
    mutating func block(_ header: String, _ body: (inout CodeWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// `header {`, the cases at the same depth (as swift-format puts them), then `}`.
    mutating func switchBlock(_ header: String, _ body: (inout CodeWriter) -> Void) {
        line(header + " {")
        body(&self)
        line("}")
    }

    /// The body one level deeper (the statements of a `case`).
    mutating func indent(_ body: (inout CodeWriter) -> Void) {
        depth += 1
        body(&self)
        depth -= 1
    }

    /// A `///` comment, one line per line of `text`.
    mutating func doc(_ text: String) {
        for part in text.split(separator: "\n", omittingEmptySubsequences: false) {
            line(part.isEmpty ? "///" : "/// " + part)
        }
    }
}

extension String {
    /// A Swift string literal for `self` (names from .proto files need no escapes but quotes).
    var quoted: String {
        "\"" + replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
