/// Reads the protobuf wire format, just enough for descriptor.proto: assay-protogen cannot use
/// protobuf-c for it (Debian ships no descriptor.proto to generate from), and the descriptor
/// set is small, so a hand-written reader is the simpler dependency.
struct WireReader {
    /// A field as it appears on the wire.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "malformed descriptor set at byte \(offset): \(reason)" }
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    /// The next field number and value, or nil at the end.
    mutating func next() throws(Failure) -> (number: Int, value: Value)? {
        guard position < bytes.endIndex else { return nil }
        let tag = try varint()
        let number = Int(tag >> 3)
        guard number > 0 else { throw Failure(offset: position, reason: "field number 0") }
        switch tag & 7 {
        case 0:
            return (number, .varint(try varint()))
        case 1:
            return (number, .fixed64(UInt64(littleEndian: try fixed(8))))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw Failure(offset: position, reason: "length \(length) past the end")
            }
            let start = position
            position += Int(length)
            return (number, .lengthDelimited(bytes[start..<position]))
        case 5:
            return (number, .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        default:
            throw Failure(offset: position, reason: "unsupported wire type \(tag & 7)")
        }
    }

    private mutating func varint() throws(Failure) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.endIndex, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Failure(offset: position, reason: "truncated varint")
    }

    private mutating func fixed(_ count: Int) throws(Failure) -> UInt64 {
        guard bytes.endIndex - position >= count else { throw Failure(offset: position, reason: "truncated") }
        var value: UInt64 = 0
        for index in 0..<count {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += count
        return value
    }
}

extension WireReader.Value {
    func string() throws(WireReader.Failure) -> String {
        guard case .lengthDelimited(let bytes) = self else {
            throw WireReader.Failure(offset: 0, reason: "expected a string")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func message() throws(WireReader.Failure) -> ArraySlice<UInt8> {
        guard case .lengthDelimited(let bytes) = self else {
            throw WireReader.Failure(offset: 0, reason: "expected a message")
        }
        return bytes
    }

    func int() throws(WireReader.Failure) -> Int {
        guard case .varint(let value) = self else { throw WireReader.Failure(offset: 0, reason: "expected a varint") }
        return Int(Int32(truncatingIfNeeded: value))
    }

    func bool() throws(WireReader.Failure) -> Bool {
        guard case .varint(let value) = self else { throw WireReader.Failure(offset: 0, reason: "expected a bool") }
        return value != 0
    }
}
