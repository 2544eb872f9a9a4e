import AssayCore

/// Turns a data row's internal position (its rowid) into its public id and back.
///
/// Ids must say nothing about how many rows exist, yet an index from random ids to rows
/// costs ingest a b-tree insert per row, about a third of the writer's time. So the id is
/// the rowid encrypted under a key kept in the database: `"dr_"` and 32 hex digits, the
/// rowid and 64 zero bits put through a four-round Feistel network whose round function is
/// SipHash-2-4 (Luby–Rackoff: a pseudorandom permutation). Without the key, ids look like
/// 128 random bits; an id that does not decrypt to a zero tag was never issued and is
/// refused before any query runs. Rowids are never reused (see `Schema`), so neither are ids.
struct RowIDCipher: Sendable, Hashable {
    private let k0: UInt64
    private let k1: UInt64

    /// A cipher under a 16-byte key.
    init?(key: [UInt8]) {
        guard key.count == 16 else { return nil }
        k0 = key[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        k1 = key[8..<16].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static let rounds: UInt64 = 4
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The public id of row `rowid`.
    func id(for rowid: Int64) -> ObjectID { ObjectID(rawValue: encode(rowid, prefix: "dr_")) }

    /// The row behind `id`, or nil when no row was ever given that id.
    func rowid(for id: ObjectID) -> Int64? { decode(id.rawValue, prefix: "dr_") }

    /// A listing cursor: the position of the last row returned, as opaque as an id.
    func cursor(after rowid: Int64) -> String { encode(rowid, prefix: "rc_") }

    /// The position a cursor stands for; nil when this database never issued it.
    func rowid(forCursor cursor: String) -> Int64? { decode(cursor, prefix: "rc_") }

    private func encode(_ rowid: Int64, prefix: StaticString) -> String {
        var left = UInt64(bitPattern: rowid)
        var right: UInt64 = 0
        for round in 0..<Self.rounds {
            (left, right) = (right, left ^ mix(round, right))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(prefix.utf8CodeUnitCount + 32)
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
        for var half in [left, right] {
            for _ in 0..<16 {
                bytes.append(Self.hexDigits[Int(half >> 60)])
                half <<= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func decode(_ text: String, prefix: StaticString) -> Int64? {
        let utf8 = text.utf8
        let prefixLength = prefix.utf8CodeUnitCount
        guard utf8.count == prefixLength + 32,
            prefix.withUTF8Buffer({ utf8.starts(with: $0) })
        else { return nil }
        var halves: [UInt64] = [0, 0]
        for (i, c) in utf8.dropFirst(prefixLength).enumerated() {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            halves[i / 16] = halves[i / 16] << 4 | UInt64(digit)
        }
        var (left, right) = (halves[0], halves[1])
        for round in (0..<Self.rounds).reversed() {
            (left, right) = (right ^ mix(round, left), left)
        }
        guard right == 0, left > 0, left <= UInt64(Int64.max) else { return nil }
        return Int64(left)
    }

    /// The round function: SipHash-2-4 of the 16 bytes (round, value), little-endian.
    func mix(_ round: UInt64, _ value: UInt64) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func sipRound() {
            v0 &+= v1
            v1 = v1.rotatedLeft(13) ^ v0
            v0 = v0.rotatedLeft(32)
            v2 &+= v3
            v3 = v3.rotatedLeft(16) ^ v2
            v0 &+= v3
            v3 = v3.rotatedLeft(21) ^ v0
            v2 &+= v1
            v1 = v1.rotatedLeft(17) ^ v2
            v2 = v2.rotatedLeft(32)
        }
        // Two message words and the final length word (16 bytes), as SipHash pads them.
        for word in [round, value, UInt64(16) << 56] {
            v3 ^= word
            sipRound()
            sipRound()
            v0 ^= word
        }
        v2 ^= 0xff
        for _ in 0..<4 { sipRound() }
        return v0 ^ v1 ^ v2 ^ v3
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
