/// Writes a message's `ProtobufCBridge` conformance: field-by-field conversion between the
/// Swift struct and protoc-c's C struct. Every C name is spelled as protoc-c spells it, so a
/// mistake here is a compile error, not a silent bug.
struct BridgeGenerator {
    let message: MessageModel

    func writeExtension(_ out: inout CodeWriter) {
        out.block("extension \(message.swiftName): ProtobufCBridge, ProtoJSONCodable") { out in
            out.line("typealias CMessage = \(message.cName)")
            out.line()
            out.line("// The address of an immutable C global: safe to share between threads.")
            out.line(
                "nonisolated(unsafe) static let cDescriptor = descriptor(initializedBy: \(message.cPrefix)__init)")
            out.line()
            out.line("static var nestsWithoutBound: Bool { \(message.nestsWithoutBound) }")
            out.line()
            out.block("static func initialize(_ message: UnsafeMutablePointer<\(message.cName)>)") { out in
                out.line("\(message.cPrefix)__init(message)")
            }
            out.line()
            writeLift(&out)
            out.line()
            writeLower(&out)
        }
    }

    // MARK: C → Swift

    private func writeLift(_ out: inout CodeWriter) {
        out.block("init(lifting message: UnsafePointer<\(message.cName)>) throws(ProtoDecodingError)") { out in
            out.line("self.init()")
            for field in message.fields {
                writeLift(field, &out)
            }
            for oneof in message.oneofs {
                out.switchBlock("switch message.pointee.\(oneof.cCase).rawValue") { out in
                    for field in oneof.fields {
                        out.line("case \(field.number):")
                        let value = lift(field.type, "message.pointee.\(field.cAccess)", field: field)
                        out.indent { $0.line("self.\(oneof.swiftProperty) = .\(field.swiftName)(\(value))") }
                    }
                    out.line("default:")
                    out.indent { $0.line("self.\(oneof.swiftProperty) = nil") }
                }
            }
        }
    }

    private func writeLift(_ field: FieldModel, _ out: inout CodeWriter) {
        let c = "message.pointee.\(field.cAccess)"
        let count = "message.pointee.n_\(field.cMember)"
        let target = "self.\(field.swiftName)"
        switch field.shape {
        case .singular:
            if case .message(let type) = field.type {
                out.block("if let \(field.bareSwiftName) = \(c)") { out in
                    out.line("\(target) = try \(type.swiftName)(lifting: \(field.bareSwiftName))")
                }
            } else {
                out.line("\(target) = \(lift(field.type, c, field: field))")
            }
        case .optional(let cCase):
            out.block("if message.pointee.\(cCase).rawValue == \(field.number)") { out in
                out.line("\(target) = \(lift(field.type, c, field: field))")
            }
        case .repeated:
            switch field.type {
            case _ where field.type.isPlainNumber:
                out.line("\(target) = ProtobufCLift.scalars(\(count), \(c))")
            case .message(let type):
                out.line("\(target) = try ProtobufCLift.messages(\(count), \(c), as: \(type.swiftName).self)")
            default:
                out.block("\(target) = try ProtobufCLift.array(\(count), \(c))") { out in
                    out.line("element throws(ProtoDecodingError) in")
                    out.line(lift(field.type, "element", field: field))
                }
            }
        case .map(let key, let value, _):
            out.block("\(target) = try ProtobufCLift.map(\(count), \(c))") { out in
                out.line("entry throws(ProtoDecodingError) in")
                out.line("(")
                out.indent { out in
                    out.line(lift(key.type, "entry.pointee.key", field: key) + ",")
                    out.line(lift(value.type, "entry.pointee.value", field: value))
                }
                out.line(")")
            }
        case .oneof:
            break  // written per oneof
        }
    }

    /// An expression converting the C value `c` of one element to Swift.
    private func lift(_ type: FieldType, _ c: String, field: FieldModel) -> String {
        switch type {
        case .scalar(.bool): "\(c) != 0"
        case .scalar(.string): "try ProtobufCLift.string(\(c), field: \(field.fullName.quoted))"
        case .scalar(.bytes): "ProtobufCLift.bytes(\(c))"
        case .scalar: c
        case .enumeration(let enumeration):
            "\(enumeration.swiftName)(rawValue: Int32(truncatingIfNeeded: \(c).rawValue))"
        case .message(let message): "try ProtobufCLift.message(\(c), as: \(message.swiftName).self)"
        }
    }

    // MARK: Swift → C

    private func writeLower(_ out: inout CodeWriter) {
        let signature = "func lower(into message: UnsafeMutablePointer<\(message.cName)>, arena: ProtoArena)"
        guard !message.fields.isEmpty else {
            out.line(signature + " {}")
            return
        }
        out.block(signature) { out in
            for field in message.fields {
                writeLower(field, &out)
            }
            for oneof in message.oneofs {
                out.switchBlock("switch self.\(oneof.swiftProperty)") { out in
                    for field in oneof.fields {
                        out.line("case .\(field.swiftName)(let value)?:")
                        out.indent { out in
                            out.line("message.pointee.\(oneof.cCase) = .init(rawValue: \(field.number))")
                            out.line("message.pointee.\(field.cAccess) = \(lower(field.type, "value"))")
                        }
                    }
                    out.line("case nil:")
                    out.indent { $0.line("break") }
                }
            }
        }
    }

    private func writeLower(_ field: FieldModel, _ out: inout CodeWriter) {
        let c = "message.pointee.\(field.cAccess)"
        let count = "message.pointee.n_\(field.cMember)"
        let value = "self.\(field.swiftName)"
        switch field.shape {
        case .singular:
            // Unset messages and strings keep protoc-c's default (NULL, its shared empty string).
            switch field.type {
            case .message:
                out.block("if let \(field.bareSwiftName) = \(value)") { out in
                    out.line("\(c) = \(lower(field.type, field.bareSwiftName))")
                }
            case .scalar(.string):
                out.block("if !\(value).isEmpty") { out in
                    out.line("\(c) = \(lower(field.type, value))")
                }
            default:
                out.line("\(c) = \(lower(field.type, value))")
            }
        case .optional(let cCase):
            out.block("if let \(field.bareSwiftName) = \(value)") { out in
                out.line("message.pointee.\(cCase) = .init(rawValue: \(field.number))")
                out.line("\(c) = \(lower(field.type, field.bareSwiftName))")
            }
        case .repeated:
            out.line("\(count) = \(value).count")
            switch field.type {
            case _ where field.type.isPlainNumber:
                out.line("\(c) = arena.scalars(\(value))")
            case .message:
                out.line("\(c) = arena.messages(\(value))")
            default:
                out.line("\(c) = arena.array(\(value)) { element in \(lower(field.type, "element")) }")
            }
        case .map(let key, let mapValue, let entry):
            out.line("\(count) = \(value).count")
            out.line("\(c) = arena.entries(")
            out.indent { out in
                out.line("\(value),")
                out.line("\(entry.cPrefix)__init,")
                out.line("orderedBy: { ProtobufCMapOrder.precedes($0.pointee.key, $1.pointee.key) }")
            }
            out.block(")") { out in
                out.line("entry, key, value in")
                out.line("entry.pointee.key = \(lower(key.type, "key"))")
                out.line("entry.pointee.value = \(lower(mapValue.type, "value"))")
            }
        case .oneof:
            break  // written per oneof
        }
    }

    /// An expression converting the Swift value `value` of one element to C, in `arena`.
    private func lower(_ type: FieldType, _ value: String) -> String {
        switch type {
        case .scalar(.bool): "\(value) ? 1 : 0"
        // A oneof string must not be protoc-c's shared empty string (that reads as "not set"):
        // `arena.string` always copies, so an empty member still gets encoded.
        case .scalar(.string): "arena.string(\(value))"
        case .scalar(.bytes): "arena.bytes(\(value))"
        case .scalar: value
        case .enumeration: ".init(rawValue: .init(truncatingIfNeeded: \(value).rawValue))"
        case .message: "arena.message(\(value))"
        }
    }
}
