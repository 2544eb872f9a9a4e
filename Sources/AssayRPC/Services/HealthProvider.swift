public import AssayWire
import AssaySync

/// `assay.v1.Health`: the serving status of the server ("") and of each named service.
public final class HealthProvider: RPCService {
    public typealias Status = HealthCheckResponse.ServingStatus

    struct State: Sendable {
        var statuses: [String: Status] = ["": .serving]
        var watchers: [Int: AsyncStream<Status>.Continuation] = [:]
        var watcherServices: [Int: String] = [:]
        var nextWatcher = 0
    }

    private let state = Lock(State())

    public init(services: [String] = []) {
        state.withLock { s in for name in services { s.statuses[name] = .serving } }
    }

    /// Sets a service's status ("" for the whole server) and tells its watchers.
    public func setStatus(_ status: Status, for service: String = "") {
        let watchers = state.withLock { s -> [AsyncStream<Status>.Continuation] in
            s.statuses[service] = status
            return s.watcherServices.filter { $0.value == service }.compactMap { s.watchers[$0.key] }
        }
        for w in watchers { w.yield(status) }
    }

    /// Marks everything NOT_SERVING (shutdown begins) and ends the watches.
    public func shutDown() {
        let watchers = state.withLock { s -> [AsyncStream<Status>.Continuation] in
            for key in s.statuses.keys { s.statuses[key] = .notServing }
            return Array(s.watchers.values)
        }
        for w in watchers {
            w.yield(.notServing)
            w.finish()
        }
    }

    public func register(in router: inout Router) {
        router.unary(HealthService.check) { [self] request, _ in
            guard let status = state.withLock({ $0.statuses[request.service] }) else {
                throw RPCError(.notFound, "unknown service \"\(request.service)\"")
            }
            return HealthCheckResponse(status: status)
        }
        router.serverStreaming(HealthService.watch) { [self] request, writer, _ in
            let (updates, continuation) = AsyncStream<Status>.makeStream()
            let (id, current) = state.withLock { s -> (Int, Status) in
                let id = s.nextWatcher
                s.nextWatcher += 1
                s.watchers[id] = continuation
                s.watcherServices[id] = request.service
                return (id, s.statuses[request.service] ?? .serviceUnknown)
            }
            defer { _ = state.withLock { s in s.watchers.removeValue(forKey: id); s.watcherServices.removeValue(forKey: id) } }
            try await writer.write(HealthCheckResponse(status: current))
            var last = current
            for await status in updates where status != last {
                try await writer.write(HealthCheckResponse(status: status))
                last = status
            }
        }
    }
}
