/// How many messages flow each way in a call, as the .proto's `stream` keywords say.
public enum MethodKind: String, Sendable, Hashable {
    /// One request, one response.
    case unary
    /// One request, a stream of responses.
    case serverStreaming
    /// A stream of requests, one response.
    case clientStreaming
    /// A stream each way.
    case bidirectional

    /// The kind for the .proto's `stream` keywords on the request and the response.
    public init(clientStreaming: Bool, serverStreaming: Bool) {
        switch (clientStreaming, serverStreaming) {
        case (false, false): self = .unary
        case (false, true): self = .serverStreaming
        case (true, false): self = .clientStreaming
        case (true, true): self = .bidirectional
        }
    }
}

/// One RPC method with its request and response types, as the generated `<Name>Service` enums
/// declare them; the router and the client look methods up by `path`.
public struct MethodDescriptor<Input: ProtoMessage, Output: ProtoMessage>: Sendable, Hashable {
    /// The full service name, for example `"assay.v1.Echo"`.
    public let service: String
    /// The method name as the .proto spells it, for example `"Unary"`.
    public let method: String
    /// Streaming on either side.
    public let kind: MethodKind
    /// `"/assay.v1.Echo/Unary"`: the name a call carries on the wire (computed once, here).
    public let path: String
    /// The same method without the Swift types, for registries and reflection.
    public let erased: AnyMethodDescriptor

    /// A method of `service`; the path and the erased form are derived from the names.
    public init(service: String, method: String, kind: MethodKind) {
        self.service = service
        self.method = method
        self.kind = kind
        self.path = "/\(service)/\(method)"
        self.erased = AnyMethodDescriptor(
            service: service,
            method: method,
            path: path,
            kind: kind,
            inputType: Input.protoMessageName,
            outputType: Output.protoMessageName,
            requestMessage: Input.self,
            responseMessage: Output.self
        )
    }
}

/// A method with its message types erased: names for routing tables and reflection, and the
/// message types themselves so generic code (a test calling every method) can build requests.
public struct AnyMethodDescriptor: Sendable, Hashable {
    /// The full service name, for example `"assay.v1.Health"`.
    public let service: String
    /// The method name, for example `"Check"`.
    public let method: String
    /// `"/assay.v1.Health/Check"`.
    public let path: String
    /// Streaming on either side.
    public let kind: MethodKind
    /// The full proto name of the request message.
    public let inputType: String
    /// The full proto name of the response message.
    public let outputType: String
    /// The request's Swift type, when the descriptor came from a typed `MethodDescriptor`.
    public let requestMessage: (any ProtoMessage.Type)?
    /// The response's Swift type, likewise.
    public let responseMessage: (any ProtoMessage.Type)?

    /// A method described by names (and, from a typed descriptor, its message types).
    public init(
        service: String, method: String, path: String, kind: MethodKind, inputType: String, outputType: String,
        requestMessage: (any ProtoMessage.Type)? = nil, responseMessage: (any ProtoMessage.Type)? = nil
    ) {
        self.service = service
        self.method = method
        self.path = path
        self.kind = kind
        self.inputType = inputType
        self.outputType = outputType
        self.requestMessage = requestMessage
        self.responseMessage = responseMessage
    }

    /// Equal when the names and the kind are: the message types follow from the names.
    public static func == (a: AnyMethodDescriptor, b: AnyMethodDescriptor) -> Bool {
        a.path == b.path && a.kind == b.kind && a.inputType == b.inputType && a.outputType == b.outputType
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(kind)
        hasher.combine(inputType)
        hasher.combine(outputType)
    }
}

/// A service of the contract and its methods in .proto order.
public struct ServiceDescriptor: Sendable, Hashable {
    /// The full service name, for example `"assay.v1.Health"`.
    public let name: String
    /// Every method of the service.
    public let methods: [AnyMethodDescriptor]

    /// A service with these methods.
    public init(name: String, methods: [AnyMethodDescriptor]) {
        self.name = name
        self.methods = methods
    }
}
