/// Heap storage for a singular message field whose type contains the message itself
/// (`message Node { Node next = 1; }`): a struct cannot hold itself inline, so generated code
/// keeps such fields boxed and exposes them as plain optionals.
final class ProtoBox<Value: Sendable & Hashable>: Sendable, Hashable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool {
        lhs === rhs || lhs.value == rhs.value
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(value)
    }
}
