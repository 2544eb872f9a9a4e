internal import CProtobufC

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#endif

/// What assay-protogen generates for every message so `ProtobufCCodec` can move it through
/// protobuf-c: protoc-c's struct and descriptor, and field-by-field conversion both ways.
///
/// Internal on purpose: the C types stay inside AssayWire, services only see `ProtoMessage`.
protocol ProtobufCBridge: ProtoMessage {
    /// protoc-c's struct for the message, for example `Assay__V1__EchoRow`.
    associatedtype CMessage

    /// protoc-c's descriptor for the message, for example `&assay__v1__echo_row__descriptor`.
    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }

    /// Whether a value can contain itself through its fields (directly or through other
    /// messages), so nesting depth in the input is unbounded and must be checked before
    /// protobuf-c recurses into it.
    static var nestsWithoutBound: Bool { get }

    /// Fills uninitialised memory with protoc-c's `__INIT` value (calls `<type>__init`).
    static func initialize(_ message: UnsafeMutablePointer<CMessage>)

    /// Copies an unpacked C message into Swift values, validating strings as UTF-8.
    init(lifting message: UnsafePointer<CMessage>) throws(ProtoDecodingError)

    /// Builds the C form of `self` in `message` (already initialised); every pointer it stores
    /// points into `arena`.
    func lower(into message: UnsafeMutablePointer<CMessage>, arena: ProtoArena)
}

extension ProtobufCBridge {
    /// The descriptor protoc-c's `__init` stores in `base.descriptor`: the address of the C
    /// global, found without naming it (Swift cannot take the address of an imported constant).
    static func descriptor(
        initializedBy initialize: (UnsafeMutablePointer<CMessage>) -> Void
    ) -> UnsafePointer<ProtobufCMessageDescriptor> {
        let message = UnsafeMutablePointer<CMessage>.allocate(capacity: 1)
        defer { message.deallocate() }
        initialize(message)
        return UnsafeRawPointer(message).load(as: UnsafePointer<ProtobufCMessageDescriptor>.self)
    }
}

/// Conversions from protobuf-c's unpacked fields to Swift values, used by generated
/// `init(lifting:)`. Errors name the field by its full proto name.
enum ProtobufCLift {
    /// A NUL-terminated string, validated as UTF-8.
    @inline(__always)
    static func string(_ string: UnsafePointer<CChar>?, field: String) throws(ProtoDecodingError) -> String {
        guard let string else { return "" }
        guard let value = String(validatingCString: string) else {
            throw ProtoDecodingError(messageName: field, reason: .invalidUTF8(field: field))
        }
        return value
    }

    /// A length-delimited byte string.
    @inline(__always)
    static func bytes(_ bytes: ProtobufCBinaryData) -> [UInt8] {
        guard bytes.len > 0, let data = bytes.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: bytes.len))
    }

    /// A repeated scalar whose C element type is the Swift type (integers, floats).
    @inline(__always)
    static func scalars<T>(_ count: Int, _ elements: UnsafePointer<T>?) -> [T] {
        guard count > 0, let elements else { return [] }
        return Array(UnsafeBufferPointer(start: elements, count: count))
    }

    /// A repeated field converted element by element (bools, enums, strings, bytes).
    @inline(__always)
    static func array<C, T>(
        _ count: Int,
        _ elements: UnsafePointer<C>?,
        _ transform: (C) throws(ProtoDecodingError) -> T
    ) throws(ProtoDecodingError) -> [T] {
        guard count > 0, let elements else { return [] }
        var result: [T] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try transform(elements[index]))
        }
        return result
    }

    /// A message that must have a value (a oneof member, a map value): NULL reads as the
    /// default message.
    // Not always inlined: messages that contain each other would inline without end.
    @inline(never)
    static func message<M: ProtobufCBridge>(
        _ message: UnsafePointer<M.CMessage>?,
        as _: M.Type = M.self
    ) throws(ProtoDecodingError) -> M {
        guard let message else { return M() }
        return try M(lifting: message)
    }

    /// A repeated message field: an array of pointers to C structs.
    // Not always inlined: messages that contain each other would inline without end.
    @inline(never)
    static func messages<M: ProtobufCBridge>(
        _ count: Int,
        _ elements: UnsafePointer<UnsafeMutablePointer<M.CMessage>?>?,
        as _: M.Type = M.self
    ) throws(ProtoDecodingError) -> [M] {
        guard count > 0, let elements else { return [] }
        var result: [M] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            if let element = elements[index] {
                result.append(try M(lifting: element))
            } else {
                result.append(M())
            }
        }
        return result
    }

    /// A map field: protobuf-c keeps it as a repeated entry message; a later key wins, as
    /// protobuf specifies.
    // Always inlined: a message-valued map reaches other messages only through
    // `message`, which is never inlined, so this cannot recurse.
    @inline(__always)
    static func map<E, K: Hashable, V>(
        _ count: Int,
        _ entries: UnsafePointer<UnsafeMutablePointer<E>?>?,
        _ entry: (UnsafePointer<E>) throws(ProtoDecodingError) -> (K, V)
    ) throws(ProtoDecodingError) -> [K: V] {
        guard count > 0, let entries else { return [:] }
        var result: [K: V] = Dictionary(minimumCapacity: count)
        for index in 0..<count {
            guard let element = entries[index] else { continue }
            let (key, value) = try entry(element)
            result[key] = value
        }
        return result
    }
}

extension ProtoArena {
    /// A NUL-terminated copy of `string` (protobuf-c measures strings with strlen, so a string
    /// with U+0000 in it is cut there: a limit of protobuf-c's C representation).
    @inline(__always)
    func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        if let copy = string.utf8.withContiguousStorageIfAvailable({ copyCString($0) }) {
            return copy
        }
        var string = string
        return string.withUTF8 { copyCString($0) }
    }

    @inline(__always)
    private func copyCString(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar> {
        let copy = makeArray(CChar.self, count: utf8.count + 1)
        if let source = utf8.baseAddress, utf8.count > 0 {
            UnsafeMutableRawPointer(copy).copyMemory(from: source, byteCount: utf8.count)
        }
        copy[utf8.count] = 0
        return copy
    }

    /// A copy of `bytes` as protobuf-c's binary data.
    @inline(__always)
    func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = makeArray(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { source in
            copy.initialize(from: source.baseAddress!, count: source.count)
        }
        return ProtobufCBinaryData(len: bytes.count, data: copy)
    }

    /// A copy of a repeated scalar whose C element type is the Swift type; nil when empty.
    @inline(__always)
    func scalars<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let copy = makeArray(T.self, count: values.count)
        values.withUnsafeBufferPointer { source in
            copy.initialize(from: source.baseAddress!, count: source.count)
        }
        return copy
    }

    /// A repeated field converted element by element; nil when empty.
    @inline(__always)
    func array<S, T>(_ values: [S], _ transform: (S) -> T) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let copy = makeArray(T.self, count: values.count)
        values.withUnsafeBufferPointer { source in
            for index in source.indices {
                (copy + index).initialize(to: transform(source[index]))
            }
        }
        return copy
    }

    /// The C form of a message, built in this arena.
    // Not always inlined: messages that contain each other would inline without end.
    @inline(never)
    func message<M: ProtobufCBridge>(_ message: M) -> UnsafeMutablePointer<M.CMessage> {
        let copy = make(M.CMessage.self)
        M.initialize(copy)
        message.lower(into: copy, arena: self)
        return copy
    }

    /// A repeated message field as protobuf-c wants it: an array of pointers; nil when empty.
    // Not always inlined: messages that contain each other would inline without end.
    @inline(never)
    func messages<M: ProtobufCBridge>(_ messages: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>? {
        guard !messages.isEmpty else { return nil }
        let pointers = makeArray(UnsafeMutablePointer<M.CMessage>?.self, count: messages.count)
        messages.withUnsafeBufferPointer { source in
            for index in source.indices {
                let copy = make(M.CMessage.self)
                M.initialize(copy)
                source[index].lower(into: copy, arena: self)
                (pointers + index).initialize(to: copy)
            }
        }
        return pointers
    }

    /// A map field as protobuf-c wants it: an array of pointers to entry messages; nil when
    /// empty. Entries are sorted by key (`precedes` compares two built entries, without
    /// touching Swift values) so the same map always encodes to the same bytes.
    // Always inlined: a message-valued map reaches other messages only through
    // `message`, which is never inlined, so this cannot recurse.
    @inline(__always)
    func entries<K, V, E>(
        _ map: [K: V],
        _ initialize: (UnsafeMutablePointer<E>) -> Void,
        orderedBy precedes: (UnsafeMutablePointer<E>, UnsafeMutablePointer<E>) -> Bool,
        _ fill: (UnsafeMutablePointer<E>, K, V) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<E>?>? {
        guard !map.isEmpty else { return nil }
        let pointers = makeArray(UnsafeMutablePointer<E>?.self, count: map.count)
        var index = 0
        for (key, value) in map {
            let entry = make(E.self)
            initialize(entry)
            fill(entry, key, value)
            (pointers + index).initialize(to: entry)
            index += 1
        }
        var sorted = UnsafeMutableBufferPointer(start: pointers, count: index)
        sorted.sort { precedes($0.unsafelyUnwrapped, $1.unsafelyUnwrapped) }
        return pointers
    }
}

/// Orders map entries by key, the same way for every key type protobuf allows.
enum ProtobufCMapOrder {
    /// Byte order of NUL-terminated UTF-8 strings (what protoc's deterministic mode uses).
    @inline(__always)
    static func precedes(_ lhs: UnsafePointer<CChar>, _ rhs: UnsafePointer<CChar>) -> Bool {
        strcmp(lhs, rhs) < 0
    }

    /// Numeric order for integer keys (bools are protobuf_c_boolean: 0 before 1).
    @inline(__always)
    static func precedes<T: BinaryInteger>(_ lhs: T, _ rhs: T) -> Bool {
        lhs < rhs
    }
}
