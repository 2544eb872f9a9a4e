/// A failure that stops generation, with a message that says what to change in the .proto.
struct GenerationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The type of one value of a field.
enum FieldType {
    case scalar(FieldDescriptor.Kind)
    case enumeration(EnumModel)
    case message(MessageModel)
}

/// An enum ready to generate.
final class EnumModel {
    struct Value {
        let protoName: String
        let swiftName: String
        let number: Int32
    }

    let fullName: String
    /// The Swift type, qualified for nested enums: `HealthCheckResponse.ServingStatus`.
    let swiftName: String
    let shortName: String
    let values: [Value]

    init(_ descriptor: EnumDescriptor, fullName: String, swiftName: String) throws(GenerationError) {
        self.fullName = fullName
        self.swiftName = swiftName
        self.shortName = descriptor.name
        guard descriptor.values.first?.number == 0 else {
            throw GenerationError("\(fullName): the first value of a proto3 enum must be 0")
        }
        // Strip the SCREAMING_SNAKE prefix of the enum name (COLOR_RED in Color → red), unless
        // that leaves a name that is empty, starts with a digit or collides with another.
        let prefix = Naming.screamingSnake(descriptor.name) + "_"
        func swiftNames(strip: Bool) -> [String] {
            descriptor.values.map { value in
                var name = value.name
                if strip, name.hasPrefix(prefix), let first = name.dropFirst(prefix.count).first, first.isLetter {
                    name.removeFirst(prefix.count)
                }
                return Naming.swiftIdentifier(Naming.lowerCamel(name), reserved: Naming.reservedEnumMembers)
            }
        }
        var names = swiftNames(strip: true)
        if Set(names).count != names.count { names = swiftNames(strip: false) }
        guard Set(names).count == names.count else {
            throw GenerationError("\(fullName): two values map to the same Swift name; rename one")
        }
        values = zip(descriptor.values, names).map { Value(protoName: $0.name, swiftName: $1, number: $0.number) }
    }
}

/// A oneof ready to generate (a real one: single-field `_name` oneofs become optionals).
final class OneofModel {
    let protoName: String
    let swiftProperty: String
    let swiftType: String
    let cCase: String
    var fields: [FieldModel] = []
    /// Whether a member's message type contains the enclosing message, so the enum must be
    /// `indirect` to have a finite size.
    var isIndirect = false

    init(protoName: String) {
        self.protoName = protoName
        self.swiftProperty = Naming.swiftIdentifier(
            Naming.lowerCamel(protoName),
            reserved: Naming.reservedMessageMembers
        )
        self.swiftType = "OneOf_" + Naming.cCamel(protoName)
        self.cCase = Naming.swiftMemberAccess(Naming.cOneofCase(protoName))
    }
}

/// A field ready to generate.
final class FieldModel {
    enum Shape {
        /// proto3 implicit presence: the default value means absent.
        case singular
        /// `oneof _name { T name = N; }`, the spelling of proto3 `optional` that protoc-c 1.4
        /// accepts: presence is the case member `cCase`.
        case optional(cCase: String)
        case repeated
        case map(key: FieldModel, value: FieldModel, entry: MessageModel)
        case oneof(OneofModel)
    }

    let protoName: String
    /// `assay.v1.EchoRow.id`, for error messages.
    let fullName: String
    let number: Int
    let jsonName: String
    let swiftName: String
    let cMember: String
    var type: FieldType
    var shape: Shape = .singular
    /// A singular message field whose type contains this message: stored in a `ProtoBox`.
    var isBoxed = false

    init(_ descriptor: FieldDescriptor, in messageName: String, type: FieldType) {
        self.protoName = descriptor.name
        self.fullName = messageName + "." + descriptor.name
        self.number = descriptor.number
        self.jsonName = descriptor.jsonName.isEmpty ? Naming.jsonName(descriptor.name) : descriptor.jsonName
        self.swiftName = Naming.swiftIdentifier(
            Naming.lowerCamel(descriptor.name),
            reserved: Naming.reservedMessageMembers
        )
        self.cMember = Naming.cMember(descriptor.name)
        self.type = type
    }

    /// The C member as Swift writes it after a dot.
    var cAccess: String { Naming.swiftMemberAccess(cMember) }

    /// The message type of a message-typed field.
    var messageType: MessageModel? {
        if case .message(let message) = type { message } else { nil }
    }
}

/// A message ready to generate.
final class MessageModel {
    let fullName: String
    /// The Swift type, qualified for nested messages: `AllTypes.Nested`.
    let swiftName: String
    let shortName: String
    /// protoc-c's struct, `Assay__V1__EchoRow`.
    let cName: String
    /// protoc-c's function prefix, `assay__v1__echo_row` (`__init`, `__descriptor`).
    let cPrefix: String
    let isMapEntry: Bool
    let descriptor: MessageDescriptor
    var fields: [FieldModel] = []
    var oneofs: [OneofModel] = []
    var nestedMessages: [MessageModel] = []
    var nestedEnums: [EnumModel] = []
    /// Whether values can nest without bound (a cycle of message fields is reachable).
    var nestsWithoutBound = false

    init(_ descriptor: MessageDescriptor, fullName: String, swiftName: String) {
        self.descriptor = descriptor
        self.fullName = fullName
        self.swiftName = swiftName
        self.shortName = descriptor.name
        self.cName = Naming.cTypeName(fullName)
        self.cPrefix = Naming.cFunctionPrefix(fullName)
        self.isMapEntry = descriptor.isMapEntry
    }

    /// Message types of every field, singular or not (map fields through their value type).
    var referencedMessages: [MessageModel] {
        fields.compactMap { field in
            if case .map(_, let value, _) = field.shape { return value.messageType }
            return field.messageType
        }
    }

    /// Message types held inline: singular fields, optionals and oneof members.
    var inlineMessages: [MessageModel] {
        fields.compactMap { field in
            switch field.shape {
            case .singular, .optional, .oneof: field.messageType
            case .repeated, .map: nil
            }
        }
    }
}
