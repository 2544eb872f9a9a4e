/// A parsed JSON value that remembers the line it started on, so that errors in users' files
/// can name the line ("GT.json:1042: annotations[17]: bbox must be 4 numbers").
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue], line: Int)
    case object(JSONObject)

    /// What the value is, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object: members by key (the last of duplicate keys wins, as in Python) and its line.
public struct JSONObject: Sendable {
    public var members: [String: JSONValue]
    public var line: Int
    public subscript(key: String) -> JSONValue? { members[key] }
}

/// Malformed input: which file, which line, what is wrong.
public struct InputError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// A strict RFC 8259 parser over bytes. Used for COCO files and JSON lines; no Foundation.
public struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var line: Int
    private let file: String

    /// Parses one JSON text (surrounding whitespace allowed). `firstLine` numbers the first
    /// line (for one line of a JSON-lines file).
    public static func parse(_ bytes: [UInt8], file: String, firstLine: Int = 1) throws(InputError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, line: firstLine, file: file)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], line: Int, file: String) {
        self.bytes = bytes
        self.line = line
        self.file = file
    }

    private func error(_ message: String) -> InputError { InputError(file: file, line: line, message) }

    private func describeCurrent() -> String {
        guard position < bytes.count else { return "end of file" }
        let b = bytes[position]
        return b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0D: position += 1
            case 0x0A:
                line += 1
                position += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(InputError) -> JSONValue {
        guard depth < 512 else { throw error("nesting deeper than 512") }
        guard position < bytes.count else { throw error("unexpected end of file, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object(try object(depth: depth))
        case UInt8(ascii: "["):
            let start = line
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items, line: start)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of file in an array") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items, line: start) }
                throw error("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func object(depth: Int) throws(InputError) -> JSONObject {
        let start = line
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
            position += 1
            return JSONObject(members: members, line: start)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a key (a string) in an object, found \(describeCurrent())")
            }
            let key = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\", found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            members[key] = try value(depth: depth + 1)
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file in an object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return JSONObject(members: members, line: start) }
            throw error("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }

    private mutating func literal(_ word: StaticString) throws(InputError) {
        let n = word.utf8CodeUnitCount
        let matches = position + n <= bytes.count
            && word.withUTF8Buffer { w in (0..<n).allSatisfy { bytes[position + $0] == w[$0] } }
        guard matches else { throw error("unexpected \(describeCurrent()), expected a value") }
        position += n
    }

    private mutating func number() throws(InputError) -> Double {
        let start = position
        func digits() -> Int {
            let s = position
            while position < bytes.count && bytes[position] >= 0x30 && bytes[position] <= 0x39 { position += 1 }
            return position - s
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let intStart = position
        guard digits() > 0 else { throw error("malformed number") }
        if bytes[intStart] == UInt8(ascii: "0") && position - intStart > 1 { throw error("malformed number (leading zero)") }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw error("malformed number (no digits after '.')") }
        }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard digits() > 0 else { throw error("malformed number (no exponent digits)") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else { throw error("malformed number \(text)") }
        return value
    }

    private mutating func string() throws(InputError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let s = String(validating: bytes[start..<position], as: UTF8.self)
                position += 1
                guard let s else { throw error("invalid UTF-8 in a string") }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in a string (line breaks must be escaped)") }
            position += 1
        }
        var out = Array(bytes[start..<position])
        while position < bytes.count {
            let b = bytes[position]
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                return s
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00 {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate in a \\u escape") }
                        position += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if code >= 0xDC00 && code < 0xE000 {
                        throw error("unpaired surrogate in a \\u escape")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
                default: throw error("invalid escape \\\(Character(Unicode.Scalar(e)))")
                }
            default:
                if b < 0x20 { throw error("control character in a string (line breaks must be escaped)") }
                out.append(b)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(InputError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            position += 1
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }
}
