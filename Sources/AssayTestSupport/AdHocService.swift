public import AssayRPC

/// A service assembled from closures in a test.
public struct AdHocService: RPCService {
    let registration: @Sendable (inout Router) -> Void

    public init(_ registration: @escaping @Sendable (inout Router) -> Void) {
        self.registration = registration
    }

    public func register(in router: inout Router) { registration(&router) }
}
