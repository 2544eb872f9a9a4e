/// A protobuf message generated from `Protos/` by assay-protogen.
///
/// Values are plain Swift structs: services build, compare and hash them without any C type in
/// sight. The binary form goes through protobuf-c (see `ProtobufCCodec`), the JSON form follows
/// the proto3 JSON mapping so people and scripts can read and write the same messages.
public protocol ProtoMessage: Sendable, Hashable {
    /// The full proto name, for example `"assay.v1.EchoRequest"`.
    static var protoMessageName: String { get }

    /// A message with every field at its default value.
    init()

    /// Decodes the binary protobuf form through protobuf-c.
    ///
    /// Throws when the bytes are not a valid message, or when protobuf-c would allocate more than
    /// `memoryLimit` bytes for it: protobuf-c can amplify its input (an empty submessage costs
    /// two input bytes but a whole C struct), so the limit bounds what a peer can make the server
    /// allocate. (The Swift values built afterwards are of the same order as the C structs.)
    init(serializedBytes: UnsafeRawBufferPointer, memoryLimit: Int) throws(ProtoDecodingError)

    /// Appends the binary encoding to `buffer` and returns the number of bytes appended.
    @discardableResult
    func serialize(appendingTo buffer: inout [UInt8]) -> Int

    /// The proto3 JSON mapping of the message: lowerCamel `json_name` keys, enums by name,
    /// 64-bit integers as strings, bytes as base64, fields at their default value omitted.
    func jsonValue() -> JSONValue

    /// Reads the proto3 JSON mapping; accepts `json_name` and proto field names, enum names or
    /// numbers, and rejects unknown fields and values of the wrong type.
    init(jsonValue: JSONValue) throws(ProtoDecodingError)
}

// @inlinable so callers specialise these for their message type: generic code here would look
// up Result<Self, …> metadata at run time on every call, which costs more than a small decode.
extension ProtoMessage {
    /// The memory limit of the convenience decoders (64 MiB): large enough for any message Assay
    /// sends, small enough that a hostile message cannot take the process down.
    @inlinable
    public static var defaultMemoryLimit: Int { 64 << 20 }

    /// Decodes the binary form with the default memory limit (64 MiB).
    @inlinable
    public init(serializedBytes: [UInt8]) throws(ProtoDecodingError) {
        let result = serializedBytes.withUnsafeBytes { buffer in
            Result { () throws(ProtoDecodingError) in
                try Self(serializedBytes: buffer, memoryLimit: Self.defaultMemoryLimit)
            }
        }
        self = try result.get()
    }

    /// The binary encoding as a new array.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        var buffer: [UInt8] = []
        serialize(appendingTo: &buffer)
        return buffer
    }

    /// The proto3 JSON mapping as text, compact or indented for people.
    @inlinable
    public func jsonString(pretty: Bool = false) -> String {
        jsonValue().jsonString(pretty: pretty)
    }

    /// Parses JSON text (strictly, RFC 8259) and reads the proto3 JSON mapping.
    @inlinable
    public init(jsonString: String) throws(ProtoDecodingError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(jsonString)
        } catch {
            throw ProtoDecodingError(messageName: Self.protoMessageName, reason: .invalidJSON(error.description))
        }
        try self.init(jsonValue: value)
    }
}

/// Why a message could not be decoded, from bytes or from JSON.
public struct ProtoDecodingError: Error, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Hashable, Sendable {
        /// The bytes are not a valid encoding of the message (truncated, a wrong wire type).
        case invalidEncoding
        /// Messages nest deeper than `limit` (protobuf's recursion limit, 100): refused before
        /// anything is allocated or protobuf-c recurses.
        case nestingTooDeep(limit: Int)
        /// Decoding would have allocated more than `limit` bytes.
        case memoryLimitExceeded(limit: Int)
        /// A string field (named by its full proto name) is not valid UTF-8.
        case invalidUTF8(field: String)
        /// The JSON text or its structure does not match the message; the text says where.
        case invalidJSON(String)
    }

    /// The full proto name of the message being decoded.
    public var messageName: String
    /// What went wrong.
    public var reason: Reason

    /// An error for `messageName`.
    public init(messageName: String, reason: Reason) {
        self.messageName = messageName
        self.reason = reason
    }

    /// One line for logs, naming the message and the cause.
    public var description: String {
        switch reason {
        case .invalidEncoding:
            "cannot decode \(messageName): invalid protobuf encoding"
        case .nestingTooDeep(let limit):
            "cannot decode \(messageName): messages nest deeper than the limit of \(limit)"
        case .memoryLimitExceeded(let limit):
            "cannot decode \(messageName): decoding needs more than the memory limit of \(limit) bytes"
        case .invalidUTF8(let field):
            "cannot decode \(messageName): string field \(field) is not valid UTF-8"
        case .invalidJSON(let detail):
            "cannot decode \(messageName) from JSON: \(detail)"
        }
    }
}

/// A protobuf enum generated by assay-protogen.
///
/// Enums are open structs rather than Swift enums: proto3 keeps numbers it does not know, so a
/// newer peer's value survives a round trip through an older server.
public protocol ProtoEnum: RawRepresentable, Sendable, Hashable, CustomStringConvertible where RawValue == Int32 {
    /// The full proto name, for example `"assay.v1.HealthCheckResponse.ServingStatus"`.
    static var protoEnumName: String { get }
    /// Every value the .proto declares, in declaration order.
    static var allKnown: [Self] { get }
    /// The value with this number, known or not.
    init(rawValue: Int32)
    /// The value declared with this proto name (`"SERVING"`), or nil.
    init?(protoName: String)
    /// The proto name of the value (`"SERVING"`), or nil for a number the .proto does not declare.
    var protoName: String? { get }
}

extension ProtoEnum {
    /// The proto name, or the number for an unknown value.
    public var description: String {
        protoName ?? "\(Self.protoEnumName)(\(rawValue))"
    }
}
