/// The parts of google/protobuf/descriptor.proto that assay-protogen reads, decoded from the
/// FileDescriptorSet protoc-c writes with `-o`. Field numbers are descriptor.proto's.

struct FileDescriptor {
    var name = ""
    var package = ""
    var syntax = ""
    var messages: [MessageDescriptor] = []
    var enums: [EnumDescriptor] = []
    var services: [ServiceDescriptor] = []
    var hasExtensions = false

    /// FileDescriptorSet: `repeated FileDescriptorProto file = 1`.
    static func decodeSet(_ bytes: [UInt8]) throws(WireReader.Failure) -> [FileDescriptor] {
        var reader = WireReader(bytes[...])
        var files: [FileDescriptor] = []
        while let (number, value) = try reader.next() {
            if number == 1 { files.append(try FileDescriptor(try value.message())) }
        }
        return files
    }

    init(_ bytes: ArraySlice<UInt8>) throws(WireReader.Failure) {
        var reader = WireReader(bytes)
        while let (number, value) = try reader.next() {
            switch number {
            case 1: name = try value.string()
            case 2: package = try value.string()
            case 4: messages.append(try MessageDescriptor(try value.message()))
            case 5: enums.append(try EnumDescriptor(try value.message()))
            case 6: services.append(try ServiceDescriptor(try value.message()))
            case 7: hasExtensions = true
            case 12: syntax = try value.string()
            default: break
            }
        }
    }
}

struct MessageDescriptor {
    var name = ""
    var fields: [FieldDescriptor] = []
    var nested: [MessageDescriptor] = []
    var enums: [EnumDescriptor] = []
    var oneofs: [String] = []
    var isMapEntry = false
    var hasExtensions = false

    init(_ bytes: ArraySlice<UInt8>) throws(WireReader.Failure) {
        var reader = WireReader(bytes)
        while let (number, value) = try reader.next() {
            switch number {
            case 1: name = try value.string()
            case 2: fields.append(try FieldDescriptor(try value.message()))
            case 3: nested.append(try MessageDescriptor(try value.message()))
            case 4: enums.append(try EnumDescriptor(try value.message()))
            case 5, 6: hasExtensions = true
            case 7:
                // MessageOptions: `optional bool map_entry = 7`.
                var options = WireReader(try value.message())
                while let (option, optionValue) = try options.next() {
                    if option == 7 { isMapEntry = try optionValue.bool() }
                }
            case 8:
                // OneofDescriptorProto: `optional string name = 1`.
                var oneof = WireReader(try value.message())
                var oneofName = ""
                while let (field, fieldValue) = try oneof.next() {
                    if field == 1 { oneofName = try fieldValue.string() }
                }
                oneofs.append(oneofName)
            default: break
            }
        }
    }
}

struct FieldDescriptor {
    /// FieldDescriptorProto.Type.
    enum Kind: Int {
        case double = 1
        case float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message, bytes
        case uint32, enumeration, sfixed32, sfixed64, sint32, sint64
    }

    /// FieldDescriptorProto.Label.
    enum Label: Int {
        case optional = 1
        case required, repeated
    }

    var name = ""
    var number = 0
    var label = Label.optional
    var kind = Kind.int32
    /// The full name of a message or enum type, with a leading dot: `.assay.v1.EchoRow`.
    var typeName = ""
    var jsonName = ""
    var oneofIndex: Int?
    var proto3Optional = false
    var hasDefault = false

    init(_ bytes: ArraySlice<UInt8>) throws(WireReader.Failure) {
        var reader = WireReader(bytes)
        while let (number, value) = try reader.next() {
            switch number {
            case 1: name = try value.string()
            case 3: self.number = try value.int()
            case 4:
                guard let label = Label(rawValue: try value.int()) else {
                    throw WireReader.Failure(offset: 0, reason: "unknown label in field \(name)")
                }
                self.label = label
            case 5:
                guard let kind = Kind(rawValue: try value.int()) else {
                    throw WireReader.Failure(offset: 0, reason: "unknown type in field \(name)")
                }
                self.kind = kind
            case 6: typeName = try value.string()
            case 7: hasDefault = true
            case 9: oneofIndex = try value.int()
            case 10: jsonName = try value.string()
            case 17: proto3Optional = try value.bool()
            default: break
            }
        }
    }
}

struct EnumDescriptor {
    var name = ""
    var values: [(name: String, number: Int32)] = []

    init(_ bytes: ArraySlice<UInt8>) throws(WireReader.Failure) {
        var reader = WireReader(bytes)
        while let (number, value) = try reader.next() {
            switch number {
            case 1: name = try value.string()
            case 2:
                // EnumValueDescriptorProto: name = 1, number = 2.
                var valueReader = WireReader(try value.message())
                var valueName = ""
                var valueNumber: Int32 = 0
                while let (field, fieldValue) = try valueReader.next() {
                    if field == 1 { valueName = try fieldValue.string() }
                    if field == 2 { valueNumber = Int32(truncatingIfNeeded: try fieldValue.int()) }
                }
                values.append((valueName, valueNumber))
            default: break
            }
        }
    }
}

struct ServiceDescriptor {
    struct Method {
        var name = ""
        var inputType = ""
        var outputType = ""
        var clientStreaming = false
        var serverStreaming = false
    }

    var name = ""
    var methods: [Method] = []

    init(_ bytes: ArraySlice<UInt8>) throws(WireReader.Failure) {
        var reader = WireReader(bytes)
        while let (number, value) = try reader.next() {
            switch number {
            case 1: name = try value.string()
            case 2:
                var methodReader = WireReader(try value.message())
                var method = Method()
                while let (field, fieldValue) = try methodReader.next() {
                    switch field {
                    case 1: method.name = try fieldValue.string()
                    case 2: method.inputType = try fieldValue.string()
                    case 3: method.outputType = try fieldValue.string()
                    case 5: method.clientStreaming = try fieldValue.bool()
                    case 6: method.serverStreaming = try fieldValue.bool()
                    default: break
                    }
                }
                methods.append(method)
            default: break
            }
        }
    }
}
