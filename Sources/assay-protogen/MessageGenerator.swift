/// Writes a message's public struct: stored fields, initialisers, the `ProtoMessage` entry
/// points, nested types and oneof enums.
struct MessageGenerator {
    let message: MessageModel

    /// Fields with a property of their own (oneof members live in the oneof's enum).
    var propertyFields: [FieldModel] {
        message.fields.filter { if case .oneof = $0.shape { false } else { true } }
    }

    func writeStruct(_ out: inout CodeWriter) {
        out.doc("The message `\(message.fullName)`.")
        out.block("public struct \(message.shortName): ProtoMessage") { out in
            out.doc("The full proto name, `\(message.fullName)`.")
            out.line("public static var protoMessageName: String { \(message.fullName.quoted) }")
            for field in propertyFields {
                out.line()
                writeProperty(field, &out)
            }
            for oneof in message.oneofs {
                out.line()
                out.doc("The oneof `\(oneof.protoName)`: at most one of its fields is set, nil when none is.")
                out.line("public var \(oneof.swiftProperty): \(oneof.swiftType)? = nil")
            }
            out.line()
            out.doc("A message with every field at its default value.")
            out.line("public init() {}")
            writeMemberwiseInit(&out)
            writeEntryPoints(&out)
            for oneof in message.oneofs {
                out.line()
                writeOneofEnum(oneof, &out)
            }
            for nested in message.nestedEnums {
                out.line()
                EnumGenerator(enumeration: nested).writeStruct(&out)
            }
            for nested in message.nestedMessages {
                out.line()
                MessageGenerator(message: nested).writeStruct(&out)
            }
        }
    }

    private func writeProperty(_ field: FieldModel, _ out: inout CodeWriter) {
        out.doc("`\(field.protoDeclaration)`.")
        guard field.isBoxed else {
            out.line("public var \(field.swiftName): \(field.swiftPropertyType) = \(field.swiftPropertyDefault)")
            return
        }
        // The message contains itself through this field: keep the value on the heap.
        out.block("public var \(field.swiftName): \(field.swiftPropertyType)") { out in
            out.line("get { _\(field.bareSwiftName)?.value }")
            out.line("set { _\(field.bareSwiftName) = newValue.map(ProtoBox.init) }")
        }
        out.line("var _\(field.bareSwiftName): ProtoBox<\(field.type.swiftType)>? = nil")
    }

    private func writeMemberwiseInit(_ out: inout CodeWriter) {
        let fields = propertyFields
        guard !fields.isEmpty || !message.oneofs.isEmpty else { return }
        var parameters = fields.map { "\($0.swiftName): \($0.swiftPropertyType) = \($0.swiftPropertyDefault)" }
        parameters += message.oneofs.map { "\($0.swiftProperty): \($0.swiftType)? = nil" }
        out.line()
        out.doc("A message with the given fields; the others keep their default values.")
        out.line("public init(")
        for (index, parameter) in parameters.enumerated() {
            out.line("    " + parameter + (index == parameters.count - 1 ? "" : ","))
        }
        out.block(")") { out in
            for field in fields {
                out.line("self.\(field.swiftName) = \(field.swiftName)")
            }
            for oneof in message.oneofs {
                out.line("self.\(oneof.swiftProperty) = \(oneof.swiftProperty)")
            }
        }
    }

    private func writeEntryPoints(_ out: inout CodeWriter) {
        out.line()
        out.doc("Decodes the binary form through protobuf-c, allocating at most `memoryLimit` bytes.")
        out.block(
            "public init(serializedBytes: UnsafeRawBufferPointer, memoryLimit: Int) throws(ProtoDecodingError)"
        ) { out in
            out.line("self = try ProtobufCCodec.decode(Self.self, from: serializedBytes, memoryLimit: memoryLimit)")
        }
        out.line()
        out.doc("Appends the binary form to `buffer`; returns the number of bytes appended.")
        out.line("@discardableResult")
        out.block("public func serialize(appendingTo buffer: inout [UInt8]) -> Int") { out in
            out.line("ProtobufCCodec.encode(self, appendingTo: &buffer)")
        }
        out.line()
        JSONGenerator(message: message).writeMethods(&out)
    }

    private func writeOneofEnum(_ oneof: OneofModel, _ out: inout CodeWriter) {
        out.doc("The fields of the oneof `\(oneof.protoName)`.")
        let indirect = oneof.isIndirect ? "indirect " : ""
        out.block("public \(indirect)enum \(oneof.swiftType): Sendable, Hashable") { out in
            for field in oneof.fields {
                out.doc("`\(field.protoDeclaration)`.")
                out.line("case \(field.swiftName)(\(field.type.swiftType))")
            }
        }
    }
}
