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
            let all = canonicalValues.map { "." + $0.swiftName }.joined(separator: ", ")
            out.line("public static let allKnown: [\(name)] = [\(all)]")
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
        out.doc("The service `\(fullName)`: its methods with their message types.")
        var methodNames: [String] = []
        var body = CodeWriter()
        for method in service.methods {
            let input = try schema.message(named: method.inputType).swiftName
            let output = try schema.message(named: method.outputType).swiftName
            let name = Naming.swiftIdentifier(
                Naming.lowerCamel(method.name),
                reserved: Naming.reservedServiceMembers
            )
            guard !methodNames.contains(name) else {
                throw GenerationError("\(fullName): two methods would both be the Swift name \(name)")
            }
            methodNames.append(name)
            let kind = kindName(clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming)
            let stream = { (flag: Bool) in flag ? "stream " : "" }
            body.doc(
                "`rpc \(method.name)(\(stream(method.clientStreaming))\(method.inputType.dropFirst())) "
                    + "returns (\(stream(method.serverStreaming))\(method.outputType.dropFirst()))`.")
            body.line(
                "public static let \(name) = MethodDescriptor<\(input), \(output)>("
                    + "service: \(fullName.quoted), method: \(method.name.quoted), kind: .\(kind))")
            body.line()
        }
        out.block("public enum \(swiftName)") { out in
            for line in body.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                out.line(String(line))
            }
            out.doc("The service and its methods, for routers and reflection.")
            let erased = methodNames.map { "\($0).erased" }.joined(separator: ", ")
            out.line("public static let descriptor = ServiceDescriptor(name: \(fullName.quoted), methods: [\(erased)])")
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
