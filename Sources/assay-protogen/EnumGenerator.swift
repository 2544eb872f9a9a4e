/// Writes an enum as an open struct: known values as static constants, unknown numbers kept.
struct EnumGenerator {
    let enumeration: EnumModel

    /// The first name declared for each number (later ones are aliases).
    private var canonicalValues: [EnumModel.Value] {
        var seen = Set<Int32>()
        return enumeration.values.filter { seen.insert($0.number).inserted }
    }

    func writeStruct(_ out: inout CodeWriter) {
        let name = enumeration.shortName
        out.doc("The enum `\(enumeration.fullName)`.")
        out.block("public struct \(name): ProtoEnum") { out in
            out.doc("The proto number; numbers the .proto does not declare are kept as they are.")
            out.line("public var rawValue: Int32")
            out.line()
            out.doc("The value with this number, declared or not.")
            out.line("public init(rawValue: Int32) { self.rawValue = rawValue }")
            for value in enumeration.values {
                out.line()
                out.doc("`\(value.protoName) = \(value.number)`.")
                out.line("public static let \(value.swiftName) = \(name)(rawValue: \(value.number))")
            }
            out.line()
            out.doc("Every value the .proto declares, in declaration order.")
            let all = canonicalValues.map { "." + $0.swiftName }
            let line = "public static let allKnown: [\(name)] = [\(all.joined(separator: ", "))]"
            if line.count <= 100 {
                out.line(line)
            } else {
                out.line("public static let allKnown: [\(name)] = [")
                out.indent { out in all.forEach { out.line($0 + ",") } }
                out.line("]")
            }
            out.line()
            out.doc("The full proto name, `\(enumeration.fullName)`.")
            out.line("public static var protoEnumName: String { \(enumeration.fullName.quoted) }")
            out.line()
            out.doc("The proto name of the value, or nil for a number the .proto does not declare.")
            out.block("public var protoName: String?") { out in
                out.switchBlock("switch rawValue") { out in
                    for value in canonicalValues {
                        out.line("case \(value.number): \(value.protoName.quoted)")
                    }
                    out.line("default: nil")
                }
            }
            out.line()
            out.doc("The value declared with this proto name, or nil.")
            out.block("public init?(protoName: String)") { out in
                out.switchBlock("switch protoName") { out in
                    for value in enumeration.values {
                        out.line("case \(value.protoName.quoted): self = .\(value.swiftName)")
                    }
                    out.line("default: return nil")
                }
            }
        }
    }

    func writeExtension(_ out: inout CodeWriter) {
        out.line("extension \(enumeration.swiftName): ProtoJSONCodable {}")
    }
}

/// Writes a service as an enum of method descriptors.
struct ServiceGenerator {
    let service: ServiceDescriptor
    let package: String
    let schema: SchemaBuilder

    var fullName: String { package + "." + service.name }
    var swiftName: String { service.name + "Service" }

    func write(_ out: inout CodeWriter) throws(GenerationError) {
        struct Method {
            let swiftName: String
            let declaration: String
            let input: String
            let output: String
            let protoName: String
            let kind: String
        }
        var methods: [Method] = []
        for method in service.methods {
            let name = Naming.swiftIdentifier(Naming.lowerCamel(method.name), reserved: Naming.reservedServiceMembers)
            guard !methods.contains(where: { $0.swiftName == name }) else {
                throw GenerationError("\(fullName): two methods would both be the Swift name \(name)")
            }
            let stream = { (flag: Bool) in flag ? "stream " : "" }
            methods.append(
                Method(
                    swiftName: name,
                    declaration: "rpc \(method.name)(\(stream(method.clientStreaming))\(method.inputType.dropFirst())) "
                        + "returns (\(stream(method.serverStreaming))\(method.outputType.dropFirst()))",
                    input: try schema.message(named: method.inputType).swiftName,
                    output: try schema.message(named: method.outputType).swiftName,
                    protoName: method.name,
                    kind: kindName(clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming)
                ))
        }
        out.doc("The service `\(fullName)`: its methods with their message types.")
        out.block("public enum \(swiftName)") { out in
            for method in methods {
                out.doc("`\(method.declaration)`.")
                out.line("public static let \(method.swiftName) = MethodDescriptor<\(method.input), \(method.output)>(")
                out.indent { out in
                    out.line("service: \(fullName.quoted),")
                    out.line("method: \(method.protoName.quoted),")
                    out.line("kind: .\(method.kind)")
                }
                out.line(")")
                out.line()
            }
            out.doc("The service and its methods, for routers and reflection.")
            out.line("public static let descriptor = ServiceDescriptor(")
            out.indent { out in
                out.line("name: \(fullName.quoted),")
                out.line("methods: [")
                out.indent { out in methods.forEach { out.line("\($0.swiftName).erased,") } }
                out.line("]")
            }
            out.line(")")
        }
    }

    private func kindName(clientStreaming: Bool, serverStreaming: Bool) -> String {
        switch (clientStreaming, serverStreaming) {
        case (false, false): "unary"
        case (false, true): "serverStreaming"
        case (true, false): "clientStreaming"
        case (true, true): "bidirectional"
        }
    }
}
