/// Writes a message's proto3 JSON mapping: `jsonValue()` and `init(jsonValue:)`.
struct JSONGenerator {
    let message: MessageModel

    func writeMethods(_ out: inout CodeWriter) {
        writeEncode(&out)
        out.line()
        writeDecode(&out)
    }

    private func writeEncode(_ out: inout CodeWriter) {
        out.doc("The proto3 JSON mapping: json_name keys, fields at their default value left out.")
        guard !message.fields.isEmpty else {
            out.line("public func jsonValue() -> JSONValue { .object([]) }")
            return
        }
        out.block("public func jsonValue() -> JSONValue") { out in
            out.line("var json = ProtoJSONObjectWriter()")
            for field in message.fields {
                let key = field.jsonName.quoted
                let value = "self.\(field.swiftName)"
                switch field.shape {
                case .singular:
                    if case .message = field.type {
                        out.line("if let value = \(value) { json.add(\(key), value) }")
                    } else {
                        out.line("if \(field.type.isSetCondition(value)) { json.add(\(key), \(value)) }")
                    }
                case .optional:
                    out.line("if let value = \(value) { json.add(\(key), value) }")
                case .repeated, .map:
                    out.line("if !\(value).isEmpty { json.add(\(key), \(value)) }")
                case .oneof:
                    break
                }
            }
            for oneof in message.oneofs {
                out.switchBlock("switch self.\(oneof.swiftProperty)") { out in
                    for field in oneof.fields {
                        out.line("case .\(field.swiftName)(let value)?: json.add(\(field.jsonName.quoted), value)")
                    }
                    out.line("case nil: break")
                }
            }
            out.line("return json.value")
        }
    }

    private func writeDecode(_ out: inout CodeWriter) {
        out.doc("Reads the proto3 JSON mapping; accepts json_name and proto names, rejects unknown fields.")
        out.block("public init(jsonValue: JSONValue) throws(ProtoDecodingError)") { out in
            out.line("self.init()")
            guard !message.fields.isEmpty else {
                out.line("let reader = try ProtoJSONObjectReader(jsonValue, message: Self.protoMessageName)")
                out.line("if let field = reader.fields.first { throw reader.unknownField(field) }")
                return
            }
            out.line("var reader = try ProtoJSONObjectReader(jsonValue, message: Self.protoMessageName)")
            out.block("for field in reader.fields") { out in
                out.switchBlock("switch field.key") { out in
                    for field in message.fields {
                        writeCase(field, &out)
                    }
                    out.line("default:")
                    out.indent { $0.line("throw reader.unknownField(field)") }
                }
            }
        }
    }

    private func writeCase(_ field: FieldModel, _ out: inout CodeWriter) {
        let keys = field.jsonName == field.protoName ? [field.jsonName] : [field.jsonName, field.protoName]
        out.line("case \(keys.map(\.quoted).joined(separator: ", ")):")
        let target = "self.\(field.swiftName)"
        out.indent { out in
            switch field.shape {
            case .singular:
                out.line("try reader.claim(field, number: \(field.number))")
                let read = if case .message = field.type { "optional" } else { "value" }
                out.line("\(target) = try reader.\(read)(field)")
            case .optional:
                out.line("try reader.claim(field, number: \(field.number))")
                out.line("\(target) = try reader.optional(field)")
            case .repeated:
                out.line("try reader.claim(field, number: \(field.number))")
                out.line("\(target) = try reader.repeated(field)")
            case .map:
                out.line("try reader.claim(field, number: \(field.number))")
                out.line("\(target) = try reader.map(field)")
            case .oneof(let oneof):
                out.line("try reader.claim(field, number: \(field.number), oneof: \(oneof.protoName.quoted))")
                out.block("if let value: \(field.type.swiftType) = try reader.optional(field)") { out in
                    out.line("self.\(oneof.swiftProperty) = .\(field.swiftName)(value)")
                }
            }
        }
    }
}
