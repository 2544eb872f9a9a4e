/// Names on both sides of the bridge: protoc-c's C identifiers (which the generated Swift must
/// spell exactly, or it does not compile) and the Swift names the rest of Assay sees.
enum Naming {
    // MARK: protoc-c (protoc-c/c_helpers.cc)

    /// protoc-c's `ToCamel`: drops underscores, capitalises the letter after each and the first.
    static func cCamel(_ name: String) -> String {
        var result = ""
        var upperNext = true
        for character in name {
            if character == "_" {
                upperNext = true
            } else if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// protoc-c's `CamelToLower`: an underscore before each capital that follows a non-capital.
    static func cCamelToLower(_ name: String) -> String {
        var result = ""
        var wasUpper = true
        for character in name {
            let isUpper = character.isASCII && character.isUppercase
            if isUpper {
                if !wasUpper { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
            wasUpper = isUpper
        }
        return result
    }

    /// The struct name of a message or enum: `assay.v1.EchoRow.MetadataEntry` →
    /// `Assay__V1__EchoRow__MetadataEntry` (protoc-c's `FullNameToC`).
    static func cTypeName(_ fullName: String) -> String {
        fullName.split(separator: ".").map { cCamel(String($0)) }.joined(separator: "__")
    }

    /// The prefix of a message's functions and descriptor: `assay.v1.EchoRow` →
    /// `assay__v1__echo_row` (protoc-c's `FullNameToLower`).
    static func cFunctionPrefix(_ fullName: String) -> String {
        fullName.split(separator: ".").map { cCamelToLower(String($0)) }.joined(separator: "__")
    }

    /// A struct member: the field name lower-cased, with `_` after C and C++ keywords
    /// (protoc-c's `FieldName`).
    static func cMember(_ fieldName: String) -> String {
        let lower = fieldName.lowercased()
        return cKeywords.contains(lower) ? lower + "_" : lower
    }

    /// A C member name as Swift must write it after a dot: `self`, `init` and keywords in
    /// backticks (an `int32 self = 1;` field is the C member `self`).
    static func swiftMemberAccess(_ cMember: String) -> String {
        swiftKeywords.contains(cMember) || unescapable.contains(cMember) ? "`\(cMember)`" : cMember
    }

    /// The member that says which field of a oneof is set.
    static func cOneofCase(_ oneofName: String) -> String {
        cCamelToLower(oneofName) + "_case"
    }

    static let cKeywords: Set<String> = [
        "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char", "class",
        "compl", "const", "const_cast", "continue", "default", "delete", "do", "double", "dynamic_cast", "else",
        "enum", "explicit", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
        "mutable", "namespace", "new", "not", "not_eq", "operator", "or", "or_eq", "private", "protected",
        "public", "register", "reinterpret_cast", "return", "short", "signed", "sizeof", "static",
        "static_cast", "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typeid",
        "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor",
        "xor_eq",
    ]

    // MARK: Swift

    /// protoc's json_name: underscores dropped, the letter after each capitalised.
    static func jsonName(_ fieldName: String) -> String {
        var result = ""
        var upperNext = false
        for character in fieldName {
            if character == "_" {
                upperNext = true
            } else if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// lowerCamelCase for properties, cases and methods: `delay_micros` → `delayMicros`,
    /// `ListServices` → `listServices`, `NOT_SERVING` → `notServing`.
    static func lowerCamel(_ name: String) -> String {
        let parts = name.split(separator: "_").map(String.init)
        var result = ""
        for (index, part) in parts.enumerated() {
            let word = part.allSatisfy { !$0.isLowercase } ? part.lowercased() : part
            if index == 0 {
                result += lowercasedFirst(word)
            } else {
                result += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        if result.isEmpty || result.first!.isNumber { result = "_" + result }
        return result
    }

    /// `ServingStatus` → `SERVING_STATUS`: the prefix proto style puts on enum values.
    static func screamingSnake(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if index > 0, character.isUppercase {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    result += "_"
                }
            }
            result += character.uppercased()
        }
        return result
    }

    private static func lowercasedFirst(_ word: String) -> String {
        // "HTTPStatus" → "httpStatus": lower the leading run of capitals but the last one
        // before a lower-case letter.
        let characters = Array(word)
        var count = 0
        while count < characters.count, characters[count].isUppercase { count += 1 }
        if count > 1, count < characters.count { count -= 1 }
        return String(characters[..<count]).lowercased() + String(characters[count...])
    }

    /// `name` as a Swift identifier: keywords in backticks, and a trailing underscore for the
    /// names backticks cannot rescue or that the generated type already uses.
    static func swiftIdentifier(_ name: String, reserved: Set<String>) -> String {
        if reserved.contains(name) || unescapable.contains(name) { return name + "_" }
        return swiftKeywords.contains(name) ? "`\(name)`" : name
    }

    /// Members every generated message has.
    static let reservedMessageMembers: Set<String> = [
        "jsonValue", "jsonString", "serialize", "serializedBytes", "hashValue", "hash", "protoMessageName",
        "defaultMemoryLimit", "lower", "initialize", "cDescriptor", "nestsWithoutBound",
    ]

    /// Members every generated enum has.
    static let reservedEnumMembers: Set<String> = [
        "rawValue", "protoName", "allKnown", "protoEnumName", "description", "hashValue", "hash",
    ]

    /// Members every generated service enum has.
    static let reservedServiceMembers: Set<String> = ["descriptor"]

    static let unescapable: Set<String> = ["self", "Self", "Type", "Protocol", "init", "_"]

    static let swiftKeywords: Set<String> = [
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate", "func",
        "import", "inout", "internal", "let", "nonisolated", "open", "operator", "private", "precedencegroup",
        "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case",
        "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in",
        "repeat", "return", "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil",
        "super", "throws", "true", "try", "some", "any",
    ]

    /// Type names the generated code or the runtime already means something by.
    static let reservedTypeNames: Set<String> = [
        "ProtoMessage", "ProtoEnum", "ProtoDecodingError", "JSONValue", "JSONField", "JSONParseError",
        "MethodKind", "MethodDescriptor", "AnyMethodDescriptor", "ServiceDescriptor", "AssayContract",
        "ProtoArena", "ProtoBox", "String", "Int", "Int32", "Int64", "UInt32", "UInt64", "UInt8", "Bool",
        "Double", "Float", "Array", "Dictionary", "Optional", "Set", "Error", "Result", "Never", "Any",
        "Sendable", "Hashable", "Equatable", "Type", "Protocol", "Self",
    ]
}
