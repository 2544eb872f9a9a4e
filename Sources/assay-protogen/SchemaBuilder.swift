/// Turns the descriptor set into models: resolves type names, decides each field's Swift shape,
/// checks what protoc-c and Swift cannot express, and finds recursive messages.
struct SchemaBuilder {
    /// One generated .proto file.
    struct File {
        let name: String
        let package: String
        var messages: [MessageModel] = []
        var enums: [EnumModel] = []
        var services: [ServiceDescriptor] = []
    }

    private(set) var files: [File] = []
    private var messagesByName: [String: MessageModel] = [:]
    private var enumsByName: [String: EnumModel] = [:]
    private var swiftTopLevelNames: [String: String] = [:]

    /// Only files whose package is `assay` or `assay.*` are generated; imports (google/protobuf/…)
    /// are read for nothing else.
    static func isGenerated(_ file: FileDescriptor) -> Bool {
        file.package == "assay" || file.package.hasPrefix("assay.")
    }

    init(_ descriptors: [FileDescriptor]) throws(GenerationError) {
        let generated = descriptors.filter(Self.isGenerated)
        for descriptor in generated {
            try check(descriptor)
            var file = File(name: descriptor.name, package: descriptor.package, services: descriptor.services)
            for message in descriptor.messages {
                file.messages.append(try register(message, scope: descriptor.package, swiftScope: nil))
            }
            for enumeration in descriptor.enums {
                file.enums.append(try register(enumeration, scope: descriptor.package, swiftScope: nil))
            }
            files.append(file)
        }
        for message in messagesByName.values {
            try resolveFields(of: message)
        }
        try checkServices()
        analyseRecursion()
    }

    /// The message a `.assay.v1.Name` type name refers to.
    func message(named typeName: String) throws(GenerationError) -> MessageModel {
        guard let message = messagesByName[String(typeName.drop { $0 == "." })] else {
            throw GenerationError("\(typeName) is not a message of an assay package, so it has no Swift type")
        }
        return message
    }

    // MARK: Registration

    private func check(_ file: FileDescriptor) throws(GenerationError) {
        guard file.syntax == "proto3" else {
            throw GenerationError("\(file.name): assay-protogen generates proto3 files only (syntax = \"proto3\")")
        }
        guard !file.hasExtensions else {
            throw GenerationError("\(file.name): extensions are not supported")
        }
    }

    private mutating func register(
        _ descriptor: MessageDescriptor,
        scope: String,
        swiftScope: String?
    ) throws(GenerationError) -> MessageModel {
        let fullName = scope + "." + descriptor.name
        let swiftName = try swiftTypeName(descriptor.name, fullName: fullName, swiftScope: swiftScope)
        let message = MessageModel(descriptor, fullName: fullName, swiftName: swiftName)
        guard !descriptor.hasExtensions else { throw GenerationError("\(fullName): extensions are not supported") }
        messagesByName[fullName] = message
        for nested in descriptor.nested {
            let model = try register(nested, scope: fullName, swiftScope: swiftName)
            if !model.isMapEntry { message.nestedMessages.append(model) }
        }
        for enumeration in descriptor.enums {
            message.nestedEnums.append(try register(enumeration, scope: fullName, swiftScope: swiftName))
        }
        return message
    }

    private mutating func register(
        _ descriptor: EnumDescriptor,
        scope: String,
        swiftScope: String?
    ) throws(GenerationError) -> EnumModel {
        let fullName = scope + "." + descriptor.name
        let swiftName = try swiftTypeName(descriptor.name, fullName: fullName, swiftScope: swiftScope)
        let model = try EnumModel(descriptor, fullName: fullName, swiftName: swiftName)
        enumsByName[fullName] = model
        return model
    }

    private mutating func swiftTypeName(
        _ name: String,
        fullName: String,
        swiftScope: String?
    ) throws(GenerationError) -> String {
        guard !Naming.reservedTypeNames.contains(name), !name.hasPrefix("OneOf_") else {
            throw GenerationError(
                "\(fullName): the Swift type \(name) would clash with a type of the runtime or the standard library; rename it"
            )
        }
        guard let swiftScope else {
            if let other = swiftTopLevelNames.updateValue(fullName, forKey: name) {
                throw GenerationError("\(fullName) and \(other) would both be the Swift type \(name)")
            }
            return name
        }
        return swiftScope + "." + name
    }

    // MARK: Fields

    private func resolveType(_ field: FieldDescriptor, in message: String) throws(GenerationError) -> FieldType {
        switch field.kind {
        case .group:
            throw GenerationError("\(message).\(field.name): groups are not supported")
        case .message:
            return .message(try self.message(named: field.typeName))
        case .enumeration:
            guard let enumeration = enumsByName[String(field.typeName.drop { $0 == "." })] else {
                throw GenerationError("\(message).\(field.name): \(field.typeName) is not an enum of an assay package")
            }
            return .enumeration(enumeration)
        default:
            return .scalar(field.kind)
        }
    }

    private func resolveFields(of message: MessageModel) throws(GenerationError) {
        let descriptor = message.descriptor
        var oneofs: [Int: OneofModel] = [:]
        for field in descriptor.fields {
            let model = FieldModel(field, in: message.fullName, type: try resolveType(field, in: message.fullName))
            if field.proto3Optional {
                throw GenerationError(
                    "\(model.fullName): protoc-c 1.4 cannot generate proto3 `optional`; write "
                        + "`oneof _\(field.name) { ... \(field.name) = \(field.number); }` instead "
                        + "(what protoc makes of `optional`), which assay-protogen maps to an optional")
            }
            if field.label == .required {
                throw GenerationError("\(model.fullName): required fields do not exist in proto3")
            }
            if field.label == .repeated {
                if let entry = model.messageType, entry.isMapEntry {
                    model.shape = try mapShape(entry, field: model)
                } else {
                    model.shape = .repeated
                }
            } else if let index = field.oneofIndex {
                guard index < descriptor.oneofs.count else {
                    throw GenerationError("\(model.fullName): oneof index \(index) out of range")
                }
                let oneofName = descriptor.oneofs[index]
                let members = descriptor.fields.filter { $0.oneofIndex == index }
                if oneofName == "_" + field.name, members.count == 1 {
                    model.shape = .optional(cCase: Naming.cOneofCase(oneofName))
                } else {
                    let oneof = oneofs[index] ?? OneofModel(protoName: oneofName)
                    oneofs[index] = oneof
                    oneof.fields.append(model)
                    model.shape = .oneof(oneof)
                }
            }
            message.fields.append(model)
        }
        message.oneofs = oneofs.keys.sorted().map { oneofs[$0]! }
        try checkSwiftNames(of: message)
    }

    private func mapShape(_ entry: MessageModel, field: FieldModel) throws(GenerationError) -> FieldModel.Shape {
        let entryFields = entry.descriptor.fields
        guard let key = entryFields.first(where: { $0.number == 1 }),
            let value = entryFields.first(where: { $0.number == 2 })
        else { throw GenerationError("\(entry.fullName): a map entry needs key = 1 and value = 2") }
        switch key.kind {
        case .string, .bool, .int32, .int64, .uint32, .uint64, .sint32, .sint64, .fixed32, .fixed64, .sfixed32,
            .sfixed64:
            break
        default:
            throw GenerationError("\(field.fullName): map keys of type \(key.kind) are not allowed")
        }
        return .map(
            key: FieldModel(key, in: field.fullName, type: try resolveType(key, in: entry.fullName)),
            value: FieldModel(value, in: field.fullName, type: try resolveType(value, in: entry.fullName)),
            entry: entry
        )
    }

    private func checkSwiftNames(of message: MessageModel) throws(GenerationError) {
        var seen: [String: String] = [:]
        let members =
            message.fields.filter { if case .oneof = $0.shape { false } else { true } }.map(\.swiftName)
            + message.oneofs.map(\.swiftProperty)
        for name in members {
            if seen.updateValue(name, forKey: name.trimmingBackticks) != nil {
                throw GenerationError("\(message.fullName): two fields would both be the Swift property \(name)")
            }
        }
        var types = Set<String>()
        for name in message.nestedMessages.map(\.shortName) + message.nestedEnums.map(\.shortName)
            + message.oneofs.map(\.swiftType)
        {
            guard types.insert(name).inserted else {
                throw GenerationError("\(message.fullName): two nested types would both be named \(name)")
            }
        }
    }

    private func checkServices() throws(GenerationError) {
        var names: [String: String] = [:]
        for file in files {
            for service in file.services {
                let fullName = file.package + "." + service.name
                if let other = names.updateValue(fullName, forKey: service.name + "Service") {
                    throw GenerationError(
                        "\(fullName) and \(other) would both be the Swift enum \(service.name)Service")
                }
                for method in service.methods {
                    _ = try message(named: method.inputType)
                    _ = try message(named: method.outputType)
                }
            }
        }
    }

    // MARK: Recursion

    /// Boxes singular fields (and makes oneofs indirect) where a message would contain itself,
    /// and marks every message from which such a cycle is reachable: their input must be checked
    /// for nesting depth before protobuf-c recurses into it.
    private func analyseRecursion() {
        let messages = messagesByName.values.sorted { $0.fullName < $1.fullName }
        for message in messages {
            for field in message.fields {
                guard let target = field.messageType else { continue }
                let cycles = reaches(message, from: target, through: \.inlineMessages)
                switch field.shape {
                case .singular, .optional: field.isBoxed = cycles
                case .oneof(let oneof): oneof.isIndirect = oneof.isIndirect || cycles
                case .repeated, .map: break
                }
            }
        }
        for message in messages {
            var visited = Set<ObjectIdentifier>()
            var stack = [message]
            while let current = stack.popLast() {
                guard visited.insert(ObjectIdentifier(current)).inserted else { continue }
                if reaches(current, from: current, through: \.referencedMessages, startAtNeighbours: true) {
                    message.nestsWithoutBound = true
                    break
                }
                stack.append(contentsOf: current.referencedMessages)
            }
        }
    }

    /// Whether `target` is reachable from `start` (or from its neighbours) along `edges`.
    private func reaches(
        _ target: MessageModel,
        from start: MessageModel,
        through edges: KeyPath<MessageModel, [MessageModel]>,
        startAtNeighbours: Bool = false
    ) -> Bool {
        var visited = Set<ObjectIdentifier>()
        var stack = startAtNeighbours ? start[keyPath: edges] : [start]
        while let current = stack.popLast() {
            if current === target { return true }
            guard visited.insert(ObjectIdentifier(current)).inserted else { continue }
            stack.append(contentsOf: current[keyPath: edges])
        }
        return false
    }
}

extension String {
    var trimmingBackticks: String { filter { $0 != "`" } }
}
