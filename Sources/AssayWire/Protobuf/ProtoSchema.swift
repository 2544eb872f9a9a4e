// CAssayProto as well: protobuf-c's enum constants are found through its headers (see ProtobufCCodec).
internal import CAssayProto
internal import CProtobufC

/// The fields of a generated message, read from protoc-c's descriptors: enough for generic
/// code to fill a message by field name through its JSON mapping (a test that calls every
/// method of every service with made-up requests, a tool that prints a message's shape).
///
/// No C type shows: the descriptor pointer stays inside, and values are names and kinds.
public struct ProtoSchema: Sendable, CustomStringConvertible {
    /// What a field holds, in proto terms.
    public enum Kind: String, Sendable, Hashable {
        case bool, int32, int64, uint32, uint64, float, double, string, bytes, `enum`, message
    }

    /// One field of the message.
    public struct Field: Sendable {
        /// The name in the .proto (`dataset_id`), which the JSON reader accepts as a key.
        public let name: String
        public let number: UInt32
        public let kind: Kind
        public let isRepeated: Bool
        /// A map field (a repeated `…Entry` message of `key` and `value`, as protoc writes maps).
        public let isMap: Bool
        /// Fields of one `oneof` share a group; nil outside a `oneof`.
        public let oneofGroup: Int?
        /// For message fields (and map entries): the nested message's schema.
        public let message: ProtoSchema?
    }

    // Unchecked: protoc-c's descriptors are immutable globals that live as long as the process.
    private struct Descriptor: @unchecked Sendable {
        let pointer: UnsafePointer<ProtobufCMessageDescriptor>
    }

    private let descriptor: Descriptor

    private init(_ pointer: UnsafePointer<ProtobufCMessageDescriptor>) {
        descriptor = Descriptor(pointer: pointer)
    }

    /// The schema of a generated message type (nil for a type assay-protogen did not make).
    public init?(of type: any ProtoMessage.Type) {
        guard let bridged = type as? any ProtobufCBridge.Type else { return nil }
        self.init(bridged.cDescriptor)
    }

    /// The full proto name, for example `assay.v1.GetDatasetRequest`.
    public var name: String { String(cString: descriptor.pointer.pointee.name) }

    /// The fields in the order protoc-c lists them (by number).
    public var fields: [Field] {
        let d = descriptor.pointer.pointee
        return (0..<Int(d.n_fields)).map { i in
            let f = d.fields[i]
            let nested =
                f.type == PROTOBUF_C_TYPE_MESSAGE
                ? f.descriptor.map { ProtoSchema($0.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)) } : nil
            let repeated = f.label == PROTOBUF_C_LABEL_REPEATED
            let isMap =
                repeated
                && nested.map { n in
                    n.name.hasSuffix("Entry") && n.fieldNames == ["key", "value"]
                } == true
            let inOneof = f.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0
            return Field(
                name: String(cString: f.name), number: f.id, kind: Self.kind(f.type), isRepeated: repeated,
                isMap: isMap,
                oneofGroup: inOneof ? Int(f.quantifier_offset) : nil, message: nested)
        }
    }

    private var fieldNames: [String] {
        let d = descriptor.pointer.pointee
        return (0..<Int(d.n_fields)).map { String(cString: d.fields[$0].name) }
    }

    private static func kind(_ type: ProtobufCType) -> Kind {
        switch type {
        case PROTOBUF_C_TYPE_BOOL: .bool
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32: .int32
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64: .int64
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32: .uint32
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64: .uint64
        case PROTOBUF_C_TYPE_FLOAT: .float
        case PROTOBUF_C_TYPE_DOUBLE: .double
        case PROTOBUF_C_TYPE_STRING: .string
        case PROTOBUF_C_TYPE_BYTES: .bytes
        case PROTOBUF_C_TYPE_ENUM: .enum
        default: .message
        }
    }

    public var description: String {
        "\(name) { "
            + fields.map { "\($0.isRepeated ? "repeated " : "")\($0.kind) \($0.name) = \($0.number)" }.joined(
                separator: "; ")
            + " }"
    }
}
