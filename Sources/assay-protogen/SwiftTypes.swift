/// How a field looks in Swift: its type, its default and whether it is "set" in proto3 terms.
extension FieldType {
    /// The Swift type of one value.
    var swiftType: String {
        switch self {
        case .scalar(let kind):
            switch kind {
            case .double: "Double"
            case .float: "Float"
            case .int64, .sint64, .sfixed64: "Int64"
            case .uint64, .fixed64: "UInt64"
            case .int32, .sint32, .sfixed32: "Int32"
            case .uint32, .fixed32: "UInt32"
            case .bool: "Bool"
            case .string: "String"
            case .bytes: "[UInt8]"
            case .group, .message, .enumeration: fatalError("not a scalar: \(kind)")
            }
        case .enumeration(let enumeration): enumeration.swiftName
        case .message(let message): message.swiftName
        }
    }

    /// The proto3 default of one value (messages have none: their fields are optionals).
    var swiftDefault: String {
        switch self {
        case .scalar(.bool): "false"
        case .scalar(.string): "\"\""
        case .scalar(.bytes): "[]"
        case .scalar: "0"
        case .enumeration(let enumeration): "\(enumeration.swiftName)(rawValue: 0)"
        case .message: "nil"
        }
    }

    /// Whether the C element type is the Swift type itself (integers and floats), so repeated
    /// fields copy as memory.
    var isPlainNumber: Bool {
        switch self {
        case .scalar(.bool), .scalar(.string), .scalar(.bytes), .enumeration, .message: false
        case .scalar: true
        }
    }

    /// The condition under which a proto3 field without presence is written (not default).
    func isSetCondition(_ value: String) -> String {
        switch self {
        case .scalar(.bool): value
        case .scalar(.string), .scalar(.bytes): "!\(value).isEmpty"
        case .scalar: "\(value) != 0"
        case .enumeration: "\(value).rawValue != 0"
        case .message: "\(value) != nil"
        }
    }
}

extension FieldModel {
    /// The Swift type of the property (oneof members have none of their own).
    var swiftPropertyType: String {
        switch shape {
        case .singular:
            if case .message = type { return type.swiftType + "?" }
            return type.swiftType
        case .optional:
            return type.swiftType + "?"
        case .repeated:
            return "[\(type.swiftType)]"
        case .map(let key, let value, _):
            return "[\(key.type.swiftType): \(value.type.swiftType)]"
        case .oneof:
            fatalError("oneof members live in their oneof's enum")
        }
    }

    /// The default value of the property.
    var swiftPropertyDefault: String {
        switch shape {
        case .singular: type.swiftDefault
        case .optional: "nil"
        case .repeated: "[]"
        case .map: "[:]"
        case .oneof: fatalError("oneof members live in their oneof's enum")
        }
    }

    /// The property name without backticks, for derived names (`_next` storage of a box).
    var bareSwiftName: String { swiftName.trimmingBackticks }

    /// A short description for doc comments: `repeated string tags = 3`.
    var protoDeclaration: String {
        let typeName: String
        switch type {
        case .scalar(let kind): typeName = kind.protoName
        case .enumeration(let enumeration): typeName = enumeration.fullName
        case .message(let message): typeName = message.fullName
        }
        switch shape {
        case .singular, .oneof: return "\(typeName) \(protoName) = \(number)"
        case .optional: return "optional \(typeName) \(protoName) = \(number)"
        case .repeated: return "repeated \(typeName) \(protoName) = \(number)"
        case .map(let key, let value, _):
            return "map<\(key.protoDeclarationType), \(value.protoDeclarationType)> \(protoName) = \(number)"
        }
    }

    private var protoDeclarationType: String {
        switch type {
        case .scalar(let kind): kind.protoName
        case .enumeration(let enumeration): enumeration.fullName
        case .message(let message): message.fullName
        }
    }
}

extension FieldDescriptor.Kind {
    /// The .proto spelling of the type.
    var protoName: String {
        switch self {
        case .enumeration: "enum"
        default: "\(self)"
        }
    }
}
