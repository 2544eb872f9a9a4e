/// Identifiers of stored objects: opaque strings with a kind prefix ("org_", "ds_", "dr_", …)
/// and 128 random bits, so an id tells nothing about how many objects exist.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A fresh random id with `prefix` ("dr" gives "dr_1f3a…").
    public static func random(_ prefix: String, using generator: inout some RandomNumberGenerator) -> ObjectID {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(prefix.utf8.count + 33)
        bytes.append(contentsOf: prefix.utf8)
        bytes.append(UInt8(ascii: "_"))
        for _ in 0..<2 {
            var v = generator.next()
            for _ in 0..<16 {
                bytes.append(hex[Int(v & 0xf)])
                v >>= 4
            }
        }
        return ObjectID(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    public static func random(_ prefix: String) -> ObjectID {
        var g = SystemRandomNumberGenerator()
        return random(prefix, using: &g)
    }

    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}

/// Microseconds since the Unix epoch, UTC.
public typealias Timestamp = Int64
