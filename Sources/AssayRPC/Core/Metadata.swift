/// Key/value pairs sent with a call's start (by the client) and its end (by the server).
///
/// Keys are case-insensitive and stored lower-case; a key may repeat. The API key travels as
/// `authorization: Bearer <key>`.
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public private(set) var entries: [(key: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { add(k, v) }
    }

    public mutating func add(_ key: String, _ value: String) {
        entries.append((key.lowercased(), value))
    }

    /// Replaces every value of `key` with `value` (or removes the key, for nil).
    public mutating func set(_ key: String, _ value: String?) {
        let k = key.lowercased()
        entries.removeAll { $0.key == k }
        if let value { entries.append((k, value)) }
    }

    /// The first value of `key`.
    public subscript(_ key: String) -> String? {
        let k = key.lowercased()
        return entries.first { $0.key == k }?.value
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> { entries.makeIterator() }

    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for e in entries {
            hasher.combine(e.key)
            hasher.combine(e.value)
        }
    }

    public var description: String { "[" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]" }
}
