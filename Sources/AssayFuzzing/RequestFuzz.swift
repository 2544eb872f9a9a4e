import AssayRPC
package import AssayWire

/// The decoding of every request message the contract's methods take, as the server decodes
/// them (protobuf-c's unpack with the server's memory limit, then the lift into Swift values:
/// UTF-8 checks, enums, maps, oneofs, nesting).
///
/// Input: two bytes choosing the message type (an index, modulo their number, into the
/// request types sorted by name: `requestTypes`), then the message bytes. Invariants: nothing
/// traps; a message that decodes re-encodes to bytes that decode to the same message; and its
/// JSON form reads back to the same message (compared as JSON, which writes maps in key order
/// and NaN as a name, so equal messages compare equal).
package enum RequestFuzz {
    /// Every distinct request type of every method of `AssayContract`, sorted by proto name.
    package static let requestTypes: [any ProtoMessage.Type] = {
        let names = Set(AssayContract.services.flatMap { $0.methods.map(\.inputType) })
        return names.sorted().map { name in
            guard let type = AssayContract.messageTypes[name] else {
                fatalError("AssayContract.messageTypes has no \(name), which a method takes")
            }
            return type
        }
    }()

    /// The first two bytes of an input that decodes its rest as `type`.
    package static func prefix(for type: any ProtoMessage.Type) -> [UInt8]? {
        guard let index = requestTypes.firstIndex(where: { $0.protoMessageName == type.protoMessageName }) else {
            return nil
        }
        return [UInt8(index >> 8), UInt8(index & 0xFF)]
    }

    /// Checks one input.
    package static func check(_ input: UnsafeRawBufferPointer) throws {
        guard input.count >= 2 else { return }
        let index = (Int(input[0]) << 8 | Int(input[1])) % requestTypes.count
        try check(requestTypes[index], UnsafeRawBufferPointer(rebasing: input[2...]))
    }

    /// Checks `body` as a message of type `M`.
    package static func check<M: ProtoMessage>(_: M.Type, _ body: UnsafeRawBufferPointer) throws {
        let message: M
        do {
            message = try M(serializedBytes: body, memoryLimit: MessageLimits.memoryLimit(forMessageOf: body.count))
        } catch {
            return  // refused with a reason: what the server answers INVALID_ARGUMENT with
        }
        let name = M.protoMessageName
        let json = message.jsonString()
        let encoded = message.serializedBytes()
        let decodedAgain: M
        do {
            decodedAgain = try M(serializedBytes: encoded)
        } catch {
            throw FuzzFinding("\(name): the encoding of a decoded message does not decode (\(error)): \(json)")
        }
        guard decodedAgain.jsonString() == json else {
            throw FuzzFinding("\(name): decode(encode(m)) differs from m:\n\(decodedAgain.jsonString())\nvs\n\(json)")
        }
        let fromJSON: M
        do {
            fromJSON = try M(jsonString: json)
        } catch {
            throw FuzzFinding("\(name): the JSON of a decoded message does not read back (\(error)): \(json)")
        }
        guard fromJSON.jsonString() == json else {
            throw FuzzFinding("\(name): its JSON reads back as another message:\n\(fromJSON.jsonString())\nvs\n\(json)")
        }
    }
}
