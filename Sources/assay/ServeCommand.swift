#if canImport(Glibc)
import Glibc
#endif
import AssayAccess
import AssayCore
import AssayModels
import AssayNativeModels
import AssayLLM
import AssayRPC
import AssayRuns
import AssayServer
import AssayStorage
import AssayTLS
import AssayTransport
import AssayWire
import AssayWorkers
import Dispatch

/// `assay serve`: the server, with its defaults, until SIGINT or SIGTERM.
enum ServeCommand {
    static let defaultAddress = "127.0.0.1:7400"

    static func run(_ args: inout Arguments) async throws -> Int32 {
        let addressText = args.option("addr") ?? environment("ASSAY_ADDR") ?? defaultAddress
        let dataDirectory = args.option("data") ?? environment("ASSAY_DATA") ?? "./assay-data"
        var limits = ServerLimits()
        if let text = args.option("max-connections") {
            guard let n = Int(text), n > 0 else { throw UsageError("--max-connections needs a positive number") }
            limits.maxConnections = n
        }
        if let text = args.option("max-buffered-mib") ?? environment("ASSAY_MAX_BUFFERED_MIB") {
            guard let n = Int(text), n >= 0, n <= 1 << 20 else {
                throw UsageError("--max-buffered-mib needs a number of MiB from 0 (no limit) to 1048576")
            }
            limits.maxBufferedInboundBytes = n << 20
        }
        var requestRate: RequestRate?
        if let text = args.option("request-rate") ?? environment("ASSAY_REQUEST_RATE") {
            guard let n = Int(text), n >= 0, n <= RequestRate.maximum else {
                throw UsageError(
                    "--request-rate needs calls per second per organisation, 0 (no limit) to \(RequestRate.maximum)")
            }
            if n > 0 { requestRate = RequestRate(perSecond: n, burst: n) }
        }
        if let text = args.option("request-burst") ?? environment("ASSAY_REQUEST_BURST") {
            guard let n = Int(text), n >= 1, n <= RequestRate.maximum else {
                throw UsageError("--request-burst needs a number of calls from 1 to \(RequestRate.maximum)")
            }
            guard requestRate != nil else { throw UsageError("--request-burst needs --request-rate") }
            requestRate?.burst = n
        }
        var runQuota = RunQuota()
        if let text = args.option("max-active-runs") ?? environment("ASSAY_MAX_ACTIVE_RUNS") {
            guard let n = Int(text), n >= 0 else {
                throw UsageError("--max-active-runs needs a number of runs per organisation (0: no quota)")
            }
            runQuota.maxActiveRuns = n
        }
        let modelsConfig = args.option("models-config") ?? environment("ASSAY_MODELS_CONFIG")
        // Several servers on one PostgreSQL database (docs/operations.md); SQLite in --data otherwise.
        let postgresURL = args.option("postgres") ?? environment("ASSAY_POSTGRES")
        var poolSize = PostgresStorage.defaultPoolSize
        if let text = args.option("postgres-pool") ?? environment("ASSAY_POSTGRES_POOL") {
            guard let n = Int(text), n > 0 else { throw UsageError("--postgres-pool needs a positive number") }
            poolSize = n
        }
        var services: Set<String>?
        if let text = args.option("services") ?? environment("ASSAY_SERVICES") {
            let names = text.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
            for name in names where !ServerAssembly.serviceNames.contains(name) {
                throw UsageError("--services: unknown service \(name); choose from \(ServerAssembly.serviceNames.joined(separator: ","))")
            }
            services = Set(names)
        }
        var lease = Duration.seconds(30)
        if let text = args.option("run-lease") ?? environment("ASSAY_RUN_LEASE") {
            guard let seconds = Double(text), seconds >= 0.3 else { throw UsageError("--run-lease needs seconds (at least 0.3)") }
            lease = .milliseconds(Int64(seconds * 1000))
        }
        var batchTimeout: Duration? = RemoteWorkerProvider.defaultBatchTimeout
        if let text = args.option("worker-batch-timeout") ?? environment("ASSAY_WORKER_BATCH_TIMEOUT") {
            guard let seconds = Double(text), seconds >= 0 else {
                throw UsageError("--worker-batch-timeout needs seconds (0: no limit)")
            }
            batchTimeout = seconds == 0 ? nil : .milliseconds(Int64(seconds * 1000))
        }
        let levelText = args.option("log-level") ?? environment("ASSAY_LOG_LEVEL") ?? "info"
        guard let level = ["debug": Logger.Level.debug, "info": .info, "warning": .warning, "error": .error][levelText] else {
            throw UsageError("--log-level must be debug, info, warning or error")
        }
        let formatText = args.option("log-format") ?? environment("ASSAY_LOG_FORMAT") ?? "text"
        guard let format = Logger.Format(rawValue: formatText) else { throw UsageError("--log-format must be text or json") }
        let metricsAddressText = args.option("metrics-addr") ?? environment("ASSAY_METRICS_ADDR")
        let tlsConfiguration = try TLSOptions.server(&args)
        let tlsReloadInterval = try TLSOptions.reloadInterval(&args)
        let checkOnly = args.flag("check")
        let json = args.flag("json")
        try args.checkAllUsed()
        guard let address = SocketAddress(parsing: addressText) else {
            throw UsageError("cannot read the address \(addressText); write HOST:PORT")
        }
        var metricsAddress: SocketAddress?
        if let metricsAddressText {
            guard let parsed = SocketAddress(parsing: metricsAddressText) else {
                throw UsageError("cannot read the metrics address \(metricsAddressText); write HOST:PORT")
            }
            metricsAddress = parsed
        }
        if checkOnly {
            return await OperationsCommands.check(
                address: address, dataDirectory: dataDirectory, postgresURL: postgresURL, modelsConfig: modelsConfig,
                tls: tlsConfiguration, json: json)
        }
        guard mkdir(dataDirectory, 0o700) == 0 || errno == EEXIST else {
            printError("assay: cannot create the data folder \(dataDirectory): \(String(cString: strerror(errno)))")
            return 1
        }

        let logger = Logger(label: "assay", level: level, format: format)
        // TLS files are loaded before anything else starts: a server that cannot present its
        // certificate should not come up half-way.
        let credentials: TLSServerCredentials?
        do {
            credentials = try tlsConfiguration.map { configuration throws(TLSError) in
                try TLSServerCredentials(configuration)
            }
        } catch {
            printError("assay: TLS: \(error)")
            return 1
        }
        let storage: any Storage
        var sharing = WorkSharing()
        if let postgresURL {
            do {
                let postgres = try await PostgresStorage.open(url: postgresURL, poolSize: poolSize)
                // Runs are shared with the other servers on the database: rows are claimed under
                // leases, and runs other servers started are looked for every two seconds.
                sharing = WorkSharing(serverID: postgres.serverID, lease: lease, rescan: min(Duration.seconds(2), lease / 2))
                storage = postgres
            } catch {
                printError("assay: cannot open the PostgreSQL database: \(error)")
                return 1
            }
        } else {
            do {
                storage = try await SQLiteStorage.open(path: dataDirectory + "/assay.sqlite")
            } catch {
                printError("assay: cannot open the database in \(dataDirectory): \(error)")
                return 1
            }
        }
        if let key = try await Bootstrap.ensureAdmin(store: storage, keyFile: dataDirectory + "/admin.key", now: ServerAssembly.now()) {
            logger.info("first start: created the organisation 'default' and an admin key", [("key_file", dataDirectory + "/admin.key"), ("prefix", APIKeyGenerator.prefix(of: key))])
            // The server's own organisation is its operator's: enterprise, with runs enabled
            // (the server administrator enabling it, as docs/billing.md describes).
            if let org = try await storage.operatorOrganization() {
                var account = try await storage.billingAccount(organization: org)
                account.plan = .enterprise
                account.addonEnabled = true
                try await storage.saveBillingAccount(account)
            }
        }
        let native = NativeModels.discover()
        for reason in native.missing { logger.warning("a model is not available", [("reason", reason)]) }
        // Chat models: the local llama.cpp ones `make models` installed (each server starts on
        // first use), then the endpoints of --models-config.
        var chats = LocalChatModel.all.filter { $0.isInstalled() }.map { $0.provider() }
        for missing in LocalChatModel.all where !missing.isInstalled() {
            logger.warning("a model is not available", [("reason", "\(missing.card.id): not installed (run make models)")])
        }
        if let modelsConfig {
            do {
                chats += try ModelsConfiguration.load(path: modelsConfig).providers
            } catch {
                printError("assay: --models-config \(modelsConfig): \(error)")
                return 1
            }
        }
        var providers: [any ModelProvider] = native.providers + chats
        // Document QA: OCR, then the first chat model.
        if let ocr = native.providers.first(where: { $0.cards.contains { $0.id == "tesseract-ocr" } }), let chat = chats.first {
            do { providers.append(try DocumentQAProvider(ocr: ocr, ocrModel: "tesseract-ocr", llm: chat)) } catch {
                logger.warning("document QA is not available", [("reason", "\(error)")])
            }
        }
        let models = ModelRegistry(providers: providers)
        logger.info("models", [("served", models.cards.map(\.id).joined(separator: ","))])
        let workers = RemoteWorkerProvider(batchTimeout: batchTimeout, logger: logger.with("service", "worker"))
        let assembly = ServerAssembly(
            storage: storage, models: models, workers: workers, limits: limits, logger: logger,
            executor: PollingExecutor.shared, services: services, sharing: sharing, requestRate: requestRate,
            runQuota: runQuota)
        let server = assembly.server
        let health = assembly.health

        let loop = try EventLoop(name: "assay-io")
        let listener: TCPListener
        do {
            listener = try TCPListener(bindingTo: address, loop: loop)
        } catch {
            printError("assay: cannot listen on \(address): \(error)")
            return 1
        }
        var metricsEndpoint: MetricsEndpoint?
        if let metricsAddress {
            do {
                let metrics = assembly.metrics
                metricsEndpoint = try MetricsEndpoint(bindingTo: metricsAddress, loop: loop) {
                    MetricsEndpoint.exposition(metrics: metrics, server: server)
                }
            } catch {
                printError("assay: cannot listen for metrics on \(metricsAddress): \(error)")
                return 1
            }
        }
        try await assembly.start()
        logger.info(
            "serving",
            [
                ("addr", listener.localAddress.description), ("data", dataDirectory),
                ("storage", postgresURL == nil ? "sqlite" : "postgresql"),
                ("services", services.map { $0.sorted().joined(separator: ",") } ?? "all"),
                ("metrics", metricsEndpoint.map { "http://\($0.localAddress)/metrics" } ?? "off"),
                ("tls", credentials.map { $0.configuration.clientCAFile == nil ? "on" : "mutual" } ?? "off"),
            ])
        if let certificate = credentials?.current.certificate {
            logger.info("TLS certificate", [("subject", certificate.subject), ("serial", certificate.serialNumber)])
        }
        // New certificates without a restart: on SIGHUP, and when the files change.
        let reloadSignal = credentials.map { credentials in
            ReloadSignal { TLSOptions.report(credentials.reload(), logger: logger, trigger: "SIGHUP") }
        }

        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { signal in
            logger.info("signal received, shutting down gracefully", [("signal", "\(signal)")])
            health.shutDown()
            Task { await server.shutdown() }
        }
        // The listener and the lifecycle services (the billing cycle scheduler) until shutdown,
        // beside the watch on the TLS files.
        await withDiscardingTaskGroup { group in
            if let credentials, let tlsReloadInterval {
                group.addTask {
                    await credentials.watch(every: tlsReloadInterval) {
                        TLSOptions.report($0, logger: logger, trigger: "file change")
                    }
                }
            }
            await assembly.run(on: listener, tls: credentials)
            group.cancelAll()
        }
        reloadSignal?.cancel()
        metricsEndpoint?.close()
        signals.cancel()
        await assembly.stop()
        for chat in chats { await chat.shutdown() }
        await storage.close()
        await loop.shutdown()
        logger.info("stopped")
        return 0
    }
}

/// Turns SIGINT/SIGTERM into a callback (once), through Dispatch signal sources.
final class SignalWatcher: @unchecked Sendable {
    // @unchecked: `sources` is set once in init and only cancelled afterwards; Dispatch sources are thread-safe.
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "assay.signals")
        nonisolated(unsafe) var fired = false
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if fired {
                    // A second signal: stop now.
                    exit(130)
                }
                fired = true
                handler(sig)
            }
            source.resume()
            return source
        }
    }

    func cancel() { for s in sources { s.cancel() } }
}
