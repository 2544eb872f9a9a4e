public import AssayWire

/// `assay.v1.Reflection`: what the server offers, and its per-method counters.
public struct ReflectionProvider: RPCService {
    let methods: @Sendable () -> [AnyMethodDescriptor]
    let metrics: MethodMetrics?

    /// `methods` is read per call, so it sees every service the router ended up with.
    public init(methods: @escaping @Sendable () -> [AnyMethodDescriptor], metrics: MethodMetrics?) {
        self.methods = methods
        self.metrics = metrics
    }

    public func register(in router: inout Router) {
        router.unary(ReflectionService.listServices) { _, _ in
            let grouped = Dictionary(grouping: methods(), by: \.service)
            return ListServicesResponse(services: grouped.keys.sorted().map { name in
                ServiceInfo(name: name, methods: grouped[name]!.sorted { $0.path < $1.path }.map { m in
                    MethodInfo(name: m.method, path: m.path, kind: Self.kind(m.kind), inputType: m.inputType, outputType: m.outputType)
                })
            })
        }
        router.unary(ReflectionService.methodStats) { _, _ in
            MethodStatsResponse(methods: (metrics?.snapshot() ?? []).map { m in
                MethodStats(path: m.path, calls: m.calls, codes: m.codes, inFlight: m.inFlight,
                            latencyP50Micros: m.p50Micros, latencyP99Micros: m.p99Micros)
            })
        }
    }

    static func kind(_ kind: MethodKind) -> MethodInfo.Kind {
        switch kind {
        case .unary: .unary
        case .serverStreaming: .serverStreaming
        case .clientStreaming: .clientStreaming
        case .bidirectional: .bidirectional
        }
    }
}
