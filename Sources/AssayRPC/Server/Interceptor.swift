/// Code that runs around every call: authentication, logging, metrics, limits.
///
/// An interceptor calls `next` to go on (maybe with the context enriched through `set`), or
/// throws an `RPCError` to end the call with that status before the handler runs. It sees
/// what the handler threw, so it can record the outcome.
public protocol ServerInterceptor: Sendable {
    func intercept(_ context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws
}

extension RPCError {
    /// The status the call ends with, after `error` escaped (or nil: OK), for interceptors.
    public static func status(of error: (any Error)?, in context: ServerContext) -> RPCError? {
        if let abandoned = context.abandonment { return abandoned }
        guard let error else { return nil }
        return RPCError.from(error).0
    }
}
