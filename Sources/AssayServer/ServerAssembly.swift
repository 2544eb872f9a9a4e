#if canImport(Glibc)
import Glibc
#endif
import AssayAccess
public import AssayBilling
import AssayCatalog
import AssayCompare
import AssayReview
import AssayPreference
public import AssayCore
public import AssayModels
public import AssayRPC
public import AssayRuns
public import AssayStorage
import AssayWire

/// Puts the services together over one storage backend: the router, the interceptors
/// (metrics, logging, authentication) and the server. The executable chooses the backend and
/// the transport; tests assemble the very same server in-process.
public struct ServerAssembly: Sendable {
    public let server: RPCServer
    public let health: HealthProvider
    public let metrics: MethodMetrics
    /// Works on model runs; `start()` resumes unfinished ones, `stop()` halts the workers.
    public let runs: RunEngine
    /// Billing: what the run service admits and settles runs through (`RunBilling`) and the
    /// review service meters through (`ReviewBilling`).
    public let billing: Billing

    /// Paths callable without an API key.
    public static let unauthenticatedPaths: Set<String> = [HealthService.check.path, HealthService.watch.path]

    public init(
        storage: any Storage, models: ModelRegistry = ModelRegistry(providers: []), runBilling: (any RunBilling)? = nil,
        limits: ServerLimits = ServerLimits(), logger: Logger,
        executor: (any TaskExecutor)? = nil, clock: @escaping @Sendable () -> Timestamp = ServerAssembly.now
    ) {
        let metrics = MethodMetrics()
        let health = HealthProvider(services: ["assay.v1.Catalog", "assay.v1.Keys", "assay.v1.Run", "assay.v1.Billing", "assay.v1.Compare", "assay.v1.Review", "assay.v1.Preference"])
        let billing = Billing(store: storage, clock: clock)
        // Tests that are not about billing may hand the run service another implementation.
        let runBilling: any RunBilling = runBilling ?? billing
        let runs = RunEngine(store: storage, models: models, billing: runBilling, clock: clock, logger: logger.with("service", "run"))
        var router = Router()
        router.register(health)
        router.register(EchoProvider())
        let authenticator = KeyAuthenticator(store: storage)
        router.register(KeysProvider(store: storage, authenticator: authenticator, clock: clock))
        router.register(CatalogProvider(store: storage, clock: clock))
        router.register(RunProvider(store: storage, engine: runs, models: models, billing: runBilling, clock: clock))
        router.register(BillingProvider(billing: billing, store: storage, models: { models.card($0) }))
        router.register(CompareProvider(store: storage))
        router.register(
            ReviewProvider(
                store: storage, billing: billing,
                reviewRowsPerUnit: { org in billing.prices(for: try await storage.billingAccount(organization: org)).plan.reviewRowsPerUnit },
                clock: clock))
        router.register(
            PreferenceProvider(
                store: storage, runs: PreferenceRuns(store: storage, engine: runs, models: models, billing: runBilling, clock: clock), clock: clock))
        let methods = router.methods + [ReflectionService.listServices.erased, ReflectionService.methodStats.erased]
        router.register(ReflectionProvider(methods: { methods }, metrics: metrics))
        server = RPCServer(
            router: router,
            interceptors: [
                metrics,
                LoggingInterceptor(logger: logger),
                AuthenticationInterceptor(authenticator: authenticator, exempt: Self.unauthenticatedPaths),
            ],
            limits: limits,
            logger: logger,
            executor: executor
        )
        self.health = health
        self.metrics = metrics
        self.runs = runs
        self.billing = billing
    }

    /// Resumes the runs the store says are unfinished.
    public func start() async throws {
        try await runs.resume()
    }

    /// Stops working on runs (they resume at the next start).
    public func stop() async {
        await runs.shutdown()
    }

    /// Microseconds since the epoch, from the real-time clock.
    public static let now: @Sendable () -> Timestamp = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec / 1000)
    }
}

