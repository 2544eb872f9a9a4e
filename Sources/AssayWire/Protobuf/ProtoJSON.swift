/// A field type the proto3 JSON mapping can write and read: the scalars, bytes (`[UInt8]`),
/// and, through generated conformances, every enum and message.
protocol ProtoJSONCodable {
    /// The JSON form of a value that is present (default values are skipped by the caller).
    func protoJSON() -> JSONValue
    /// Reads a non-null JSON value; errors name the message and the field.
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self
    /// The value a JSON `null` stands for.
    static var protoJSONDefault: Self { get }
}

/// Where a JSON value is being read, for error messages.
struct ProtoJSONContext {
    /// The full proto name of the message.
    let message: String
    /// The JSON key of the field.
    let field: String

    func error(_ detail: String) -> ProtoDecodingError {
        ProtoDecodingError(messageName: message, reason: .invalidJSON("field \"\(field)\": \(detail)"))
    }
}

extension ProtoJSONCodable where Self: ProtoMessage {
    func protoJSON() -> JSONValue { jsonValue() }
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self {
        try Self(jsonValue: json)
    }
    static var protoJSONDefault: Self { Self() }
}

extension ProtoJSONCodable where Self: ProtoEnum {
    /// The value's name, or its number when the .proto does not declare it.
    func protoJSON() -> JSONValue {
        if let name = protoName { .string(name) } else { .number(String(rawValue)) }
    }
    /// A declared name or any int32 number.
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self {
        switch json {
        case .string(let name):
            guard let value = Self(protoName: name) else {
                throw context.error("\"\(name)\" is not a value of \(protoEnumName)")
            }
            return value
        case .number:
            return Self(rawValue: try Int32.fromProtoJSON(json, context))
        default:
            throw context.error("expected an enum name or number of \(protoEnumName)")
        }
    }
    static var protoJSONDefault: Self { Self(rawValue: 0) }
}

/// Integers: 32-bit ones as JSON numbers, 64-bit ones as strings (JavaScript loses precision
/// past 2^53); both accept either form, and exponent forms whose value is a whole number.
protocol ProtoJSONInteger: ProtoJSONCodable, FixedWidthInteger {
    static var protoJSONQuoted: Bool { get }
}

extension ProtoJSONInteger {
    func protoJSON() -> JSONValue {
        Self.protoJSONQuoted ? .string(String(self)) : .number(String(self))
    }

    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self {
        let text: String
        switch json {
        case .number(let literal): text = literal
        case .string(let literal): text = literal
        default: throw context.error("expected an integer")
        }
        if let value = Self(text) { return value }
        // "1e3", "5.0": whole numbers in another spelling. Only exact below 2^53, which is all
        // a JSON number can promise anyway.
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }),
            let double = Double(text), double.rounded() == double, abs(double) < 0x1p53,
            let value = Self(exactly: double)
        {
            return value
        }
        throw context.error("\(text) is not a valid \(Self.self)")
    }

    static var protoJSONDefault: Self { 0 }
}

extension Int32: ProtoJSONInteger { static var protoJSONQuoted: Bool { false } }
extension UInt32: ProtoJSONInteger { static var protoJSONQuoted: Bool { false } }
extension Int64: ProtoJSONInteger { static var protoJSONQuoted: Bool { true } }
extension UInt64: ProtoJSONInteger { static var protoJSONQuoted: Bool { true } }

/// Floats and doubles: numbers, with "NaN", "Infinity" and "-Infinity" as strings.
protocol ProtoJSONFloat: ProtoJSONCodable, BinaryFloatingPoint, LosslessStringConvertible {}

extension ProtoJSONFloat {
    func protoJSON() -> JSONValue {
        if isNaN { return .string("NaN") }
        if isInfinite { return .string(self < 0 ? "-Infinity" : "Infinity") }
        var text = description  // the shortest text that reads back to the same value
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }

    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self {
        let text: String
        switch json {
        case .number(let literal):
            text = literal
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let literal):
            guard (try? JSONValue.parse(literal)).map({ if case .number = $0 { true } else { false } }) == true else {
                throw context.error("\"\(literal)\" is not a number")
            }
            text = literal
        default:
            throw context.error("expected a number")
        }
        guard let value = Self(text), value.isFinite else {
            throw context.error("\(text) is out of range for \(Self.self)")
        }
        return value
    }

    static var protoJSONDefault: Self { 0 }
}

extension Float: ProtoJSONFloat {}
extension Double: ProtoJSONFloat {}

extension Bool: ProtoJSONCodable {
    func protoJSON() -> JSONValue { .bool(self) }
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Bool {
        guard case .bool(let value) = json else { throw context.error("expected true or false") }
        return value
    }
    static var protoJSONDefault: Bool { false }
}

extension String: ProtoJSONCodable {
    func protoJSON() -> JSONValue { .string(self) }
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> String {
        guard case .string(let value) = json else { throw context.error("expected a string") }
        return value
    }
    static var protoJSONDefault: String { "" }
}

/// `bytes` fields: standard base64 with padding out; standard or URL-safe, padded or not, in.
extension [UInt8]: ProtoJSONCodable {
    func protoJSON() -> JSONValue { .string(Base64.encode(self)) }
    static func fromProtoJSON(_ json: JSONValue, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> [UInt8] {
        guard case .string(let text) = json else { throw context.error("expected a base64 string") }
        guard let bytes = Base64.decode(text) else { throw context.error("invalid base64") }
        return bytes
    }
    static var protoJSONDefault: [UInt8] { [] }
}

/// A map key type: keys are JSON strings, and entries are written in key order so the same map
/// always gives the same JSON.
protocol ProtoMapKey: Hashable {
    var protoJSONKey: String { get }
    static func fromProtoJSONKey(_ key: String, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self
    func protoMapOrder(before other: Self) -> Bool
}

extension ProtoMapKey where Self: ProtoJSONInteger {
    var protoJSONKey: String { String(self) }
    static func fromProtoJSONKey(_ key: String, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Self {
        guard let value = Self(key) else { throw context.error("map key \"\(key)\" is not a valid \(Self.self)") }
        return value
    }
    func protoMapOrder(before other: Self) -> Bool { self < other }
}

extension Int32: ProtoMapKey {}
extension UInt32: ProtoMapKey {}
extension Int64: ProtoMapKey {}
extension UInt64: ProtoMapKey {}

extension String: ProtoMapKey {
    var protoJSONKey: String { self }
    static func fromProtoJSONKey(_ key: String, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> String {
        key
    }
    /// UTF-8 byte order, as in the binary encoding.
    func protoMapOrder(before other: String) -> Bool { utf8.lexicographicallyPrecedes(other.utf8) }
}

extension Bool: ProtoMapKey {
    var protoJSONKey: String { self ? "true" : "false" }
    static func fromProtoJSONKey(_ key: String, _ context: ProtoJSONContext) throws(ProtoDecodingError) -> Bool {
        switch key {
        case "true": return true
        case "false": return false
        default: throw context.error("map key \"\(key)\" is not true or false")
        }
    }
    func protoMapOrder(before other: Bool) -> Bool { !self && other }
}

/// Builds a message's JSON object; generated `jsonValue()` adds the fields that are present.
struct ProtoJSONObjectWriter {
    private(set) var fields: [JSONField] = []

    var value: JSONValue { .object(fields) }

    mutating func add<T: ProtoJSONCodable>(_ key: String, _ value: T) {
        fields.append(JSONField(key, value.protoJSON()))
    }

    mutating func add<T: ProtoJSONCodable>(_ key: String, _ values: [T]) {
        fields.append(JSONField(key, .array(values.map { $0.protoJSON() })))
    }

    mutating func add<K: ProtoMapKey, V: ProtoJSONCodable>(_ key: String, _ map: [K: V]) {
        let entries = map.sorted { $0.key.protoMapOrder(before: $1.key) }
        fields.append(JSONField(key, .object(entries.map { JSONField($0.key.protoJSONKey, $0.value.protoJSON()) })))
    }
}

/// Reads a message's JSON object; generated `init(jsonValue:)` switches over `fields` and
/// claims each one, which catches a field (or a oneof) given twice.
struct ProtoJSONObjectReader {
    let message: String
    let fields: [JSONField]
    private var claimedNumbers: Set<Int32> = []
    private var claimedOneofs: [String: String] = [:]

    init(_ json: JSONValue, message: String) throws(ProtoDecodingError) {
        guard case .object(let fields) = json else {
            throw ProtoDecodingError(messageName: message, reason: .invalidJSON("expected a JSON object"))
        }
        self.message = message
        self.fields = fields
    }

    /// Records that field `number` (in `oneof`, if any) has a value.
    mutating func claim(_ field: JSONField, number: Int32, oneof: String? = nil) throws(ProtoDecodingError) {
        guard claimedNumbers.insert(number).inserted else {
            throw context(field).error("the field appears more than once")
        }
        if let oneof, field.value != .null {
            if let other = claimedOneofs.updateValue(field.key, forKey: oneof) {
                throw context(field).error("\"\(other)\" of the same oneof \(oneof) is already set")
            }
        }
    }

    func unknownField(_ field: JSONField) -> ProtoDecodingError {
        ProtoDecodingError(messageName: message, reason: .invalidJSON("unknown field \"\(field.key)\""))
    }

    func context(_ field: JSONField) -> ProtoJSONContext {
        ProtoJSONContext(message: message, field: field.key)
    }

    /// A singular field without presence: null reads as the default value.
    func value<T: ProtoJSONCodable>(_ field: JSONField) throws(ProtoDecodingError) -> T {
        if field.value == .null { return T.protoJSONDefault }
        return try T.fromProtoJSON(field.value, context(field))
    }

    /// A field with presence (a message, a oneof member, an optional scalar): null reads as absent.
    func optional<T: ProtoJSONCodable>(_ field: JSONField) throws(ProtoDecodingError) -> T? {
        if field.value == .null { return nil }
        return try T.fromProtoJSON(field.value, context(field))
    }

    /// A repeated field: a JSON array (null reads as empty).
    func repeated<T: ProtoJSONCodable>(_ field: JSONField) throws(ProtoDecodingError) -> [T] {
        switch field.value {
        case .null:
            return []
        case .array(let elements):
            var values: [T] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                guard element != .null else { throw context(field).error("null in a repeated field") }
                values.append(try T.fromProtoJSON(element, context(field)))
            }
            return values
        default:
            throw context(field).error("expected an array")
        }
    }

    /// A map field: a JSON object whose keys are the map keys (null reads as empty).
    func map<K: ProtoMapKey, V: ProtoJSONCodable>(_ field: JSONField) throws(ProtoDecodingError) -> [K: V] {
        switch field.value {
        case .null:
            return [:]
        case .object(let entries):
            var map: [K: V] = Dictionary(minimumCapacity: entries.count)
            for entry in entries {
                let key = try K.fromProtoJSONKey(entry.key, context(field))
                guard entry.value != .null else { throw context(field).error("null map value") }
                guard map.updateValue(try V.fromProtoJSON(entry.value, context(field)), forKey: key) == nil else {
                    throw context(field).error("map key \"\(entry.key)\" appears more than once")
                }
            }
            return map
        default:
            throw context(field).error("expected an object")
        }
    }
}

/// RFC 4648 base64, as the proto3 JSON mapping uses for `bytes`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard alphabet, with padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var chunk = UInt32(bytes[index]) << 16
            if rest == 2 { chunk |= UInt32(bytes[index + 1]) << 8 }
            out.append(alphabet[Int(chunk >> 18 & 0x3F)])
            out.append(alphabet[Int(chunk >> 12 & 0x3F)])
            out.append(rest == 2 ? alphabet[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard or URL-safe alphabet, padded or not; nil for anything else.
    static func decode(_ text: String) -> [UInt8]? {
        var digits = Array(text.utf8)
        while digits.last == UInt8(ascii: "=") { digits.removeLast() }
        guard text.utf8.count - digits.count <= 2, digits.count % 4 != 1 else { return nil }
        if text.utf8.count != digits.count, text.utf8.count % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count * 3 / 4)
        var chunk: UInt32 = 0
        var pending = 0
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = digit - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = digit - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            default: return nil
            }
            chunk = chunk << 6 | UInt32(value)
            pending += 1
            if pending == 4 {
                out.append(UInt8(chunk >> 16 & 0xFF))
                out.append(UInt8(chunk >> 8 & 0xFF))
                out.append(UInt8(chunk & 0xFF))
                chunk = 0
                pending = 0
            }
        }
        if pending == 3 {
            out.append(UInt8(chunk >> 10 & 0xFF))
            out.append(UInt8(chunk >> 2 & 0xFF))
        } else if pending == 2 {
            out.append(UInt8(chunk >> 4 & 0xFF))
        }
        return out
    }
}
