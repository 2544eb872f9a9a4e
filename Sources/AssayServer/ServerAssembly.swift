#if canImport(Glibc)
import Glibc
#endif
public import AssayAccess
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
public import AssayTLS
public import AssayTransport
import AssayWire
public import AssayWorkers

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
    /// The models connected worker processes serve; part of the run service's registry.
    public let workers: RemoteWorkerProvider

    /// The services `assay serve --services` can host; keys and health are always hosted.
    public static let serviceNames = ["catalog", "run", "billing", "compare", "review", "worker", "preference"]

    /// Whether this server works on model runs (it hosts the run service).
    public let hostsRuns: Bool

    /// What runs beside the listeners for as long as the server does (`run(on:)`): the billing
    /// cycle scheduler when the server hosts billing.
    public let lifecycleServices: [any LifecycleService]

    /// Paths callable without an API key.
    public static let unauthenticatedPaths: Set<String> = [HealthService.check.path, HealthService.watch.path]

    /// `clock` is every service's time; `closeCyclesEvery` how often the cycle scheduler looks
    /// for ended billing cycles (nil: no scheduler, cycles close on demand and when invoices
    /// are listed) and `sleep` how it waits between passes (tests inject both). `requestRate`
    /// caps each organisation's calls (nil: no cap) and `runQuota` its queued and running runs.
    public init(
        storage: any Storage, models: ModelRegistry = ModelRegistry(providers: []), runBilling: (any RunBilling)? = nil,
        workers: RemoteWorkerProvider? = nil, limits: ServerLimits = ServerLimits(), logger: Logger,
        executor: (any TaskExecutor)? = nil, clock: @escaping @Sendable () -> Timestamp = ServerAssembly.now,
        services: Set<String>? = nil, sharing: WorkSharing = WorkSharing(),
        closeCyclesEvery: Duration? = CycleScheduler.defaultInterval,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        requestRate: RequestRate? = nil, requestRateClock: (@Sendable () -> UInt64)? = nil, runQuota: RunQuota = RunQuota()
    ) {
        // nil hosts everything; the names are `serviceNames`.
        let hosts = { (name: String) in services?.contains(name) ?? true }
        let metrics = MethodMetrics()
        let hosted: [(String, String)] = [
            ("catalog", "assay.v1.Catalog"), ("run", "assay.v1.Run"), ("billing", "assay.v1.Billing"), ("compare", "assay.v1.Compare"),
            ("review", "assay.v1.Review"), ("worker", "assay.v1.Worker"), ("preference", "assay.v1.Preference"),
        ]
        let health = HealthProvider(services: ["assay.v1.Keys"] + hosted.filter { hosts($0.0) }.map(\.1))
        // Whatever registry the caller built, remote workers' models come after its own.
        let workers = workers ?? RemoteWorkerProvider(logger: logger.with("service", "worker"))
        let models = models.adding(workers)
        let billing = Billing(store: storage, clock: clock)
        // Tests that are not about billing may hand the run service another implementation.
        let runBilling: any RunBilling = runBilling ?? billing
        let runs = RunEngine(
            store: storage, models: models, billing: runBilling, clock: clock, logger: logger.with("service", "run"),
            sharing: sharing, quota: runQuota)
        var router = Router()
        router.register(health)
        router.register(EchoProvider())
        let authenticator = KeyAuthenticator(store: storage)
        router.register(KeysProvider(store: storage, authenticator: authenticator, clock: clock))
        if hosts("catalog") { router.register(CatalogProvider(store: storage, clock: clock)) }
        if hosts("run") { router.register(RunProvider(store: storage, engine: runs, models: models, billing: runBilling, clock: clock)) }
        if hosts("billing") { router.register(BillingProvider(billing: billing, store: storage, models: { models.card($0) })) }
        if hosts("compare") { router.register(CompareProvider(store: storage)) }
        if hosts("review") {
            router.register(
                ReviewProvider(
                    store: storage, billing: billing,
                    reviewRowsPerUnit: { org in billing.prices(for: try await storage.billingAccount(organization: org)).plan.reviewRowsPerUnit },
                    clock: clock))
        }
        if hosts("worker") { router.register(WorkerServiceProvider(workers: workers, store: storage)) }
        if hosts("preference") {
            router.register(
                PreferenceProvider(
                    store: storage, runs: PreferenceRuns(store: storage, engine: runs, models: models, billing: runBilling, clock: clock),
                    clock: clock))
        }
        self.hostsRuns = hosts("run")
        // Ended cycles close on schedule (nil: only on demand and when invoices are listed).
        if hosts("billing"), let interval = closeCyclesEvery {
            lifecycleServices = [
                CycleScheduler(billing: billing, interval: interval, logger: logger.with("service", "billing"), sleep: sleep)
            ]
        } else {
            lifecycleServices = []
        }
        let methods = router.methods + [ReflectionService.listServices.erased, ReflectionService.methodStats.erased]
        router.register(ReflectionProvider(methods: { methods }, metrics: metrics))
        var interceptors: [any ServerInterceptor] = [
            metrics,
            LoggingInterceptor(logger: logger),
            AuthenticationInterceptor(authenticator: authenticator, exempt: Self.unauthenticatedPaths),
        ]
        // After authentication: the rate is the caller's organisation's.
        if let requestRate { interceptors.append(RequestRateLimiter(rate: requestRate, now: requestRateClock)) }
        server = RPCServer(
            router: router,
            interceptors: interceptors,
            limits: limits,
            logger: logger,
            executor: executor
        )
        self.health = health
        self.metrics = metrics
        self.runs = runs
        self.billing = billing
        self.workers = workers
    }

    /// Serves on `listener` with the lifecycle services running beside it, all children of
    /// one task group, until `server.shutdown()` has let the in-flight calls finish; then the
    /// lifecycle services are cancelled and awaited before this returns.
    public func run(on listener: TCPListener, tls: TLSServerCredentials? = nil) async {
        let server = server
        await withDiscardingTaskGroup { group in
            for service in lifecycleServices { group.addTask { await service.run() } }
            await server.run(on: listener, tls: tls)
            group.cancelAll()
        }
    }

    /// Resumes the runs the store says are unfinished.
    public func start() async throws {
        if hostsRuns { try await runs.resume() }
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

