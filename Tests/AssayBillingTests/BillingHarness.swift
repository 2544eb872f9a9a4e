#if canImport(Glibc)
import Glibc
#endif
import AssayAccess
import AssayBilling
import AssayCore
import AssayModels
import AssayRPC
import AssayServer
import AssayStorage
import AssayTransport
import AssayWire
import AssaySync
import Testing

/// A real server on 127.0.0.1 over a fresh SQLite file with an injected clock, whose first
/// organisation ("operator") holds the server administrator's key.
final class BillingHarness: Sendable {
    let storage: SQLiteStorage
    let assembly: ServerAssembly
    let loop: EventLoop
    let address: SocketAddress
    let directory: String
    let operatorOrg: Organization
    let operatorClient: RPCClient
    private let now: TestClock
    private let runTask: Task<Void, Never>

    /// A model priced $0.004 per image, as in the reference example.
    static let imageModel = ModelCard(
        id: "detector-x", name: "Detector X", version: "1", taskKinds: [.detection], mediaTypes: [.image],
        outputKinds: [.boundingBox], price: Price(unit: .perImage, microdollars: 4_000), provider: "test")
    /// A model priced $0.002 per 1,000 tokens.
    static let tokenModel = ModelCard(
        id: "llm-y", name: "LLM Y", version: "1", taskKinds: [.generation], mediaTypes: [.text],
        outputKinds: [.freeText], price: Price(unit: .per1kTokens, microdollars: 2_000), provider: "test")

    private init(
        storage: SQLiteStorage, assembly: ServerAssembly, loop: EventLoop, address: SocketAddress, directory: String,
        operatorOrg: Organization, operatorClient: RPCClient, now: TestClock, runTask: Task<Void, Never>
    ) {
        self.storage = storage
        self.assembly = assembly
        self.loop = loop
        self.address = address
        self.directory = directory
        self.operatorOrg = operatorOrg
        self.operatorClient = operatorClient
        self.now = now
        self.runTask = runTask
    }

    /// Starts with the clock at `start` (by default a day into the month after the real now,
    /// so rows ingested now, by the storage's real clock, are held that whole month).
    ///
    /// `closeCyclesEvery` starts the server's cycle scheduler, as `assay serve` does; without
    /// it, the tests close cycles themselves (a scheduler pass could land mid-test).
    static func start(at start: Timestamp? = nil, closeCyclesEvery: Duration? = nil) async throws -> BillingHarness {
        let directory = makeTemporaryDirectory()
        let storage = try await SQLiteStorage.open(path: directory + "/assay.sqlite")
        let operatorOrg = try await storage.createOrganization(name: "operator")
        let clock = TestClock(start ?? (BillingCycle(containing: ServerAssembly.now()).next.start + day))
        let assembly = ServerAssembly(
            storage: storage, models: ModelRegistry(providers: [BoxModel(cards: [imageModel, tokenModel])]), logger: .silent,
            clock: { [clock] in clock.read() }, closeCyclesEvery: closeCyclesEvery)
        let loop = try EventLoop(name: "billing-test-io")
        let listener = try TCPListener(bindingTo: SocketAddress(host: "127.0.0.1", port: 0), loop: loop)
        // On the handler threads `assay serve` uses, not on the cooperative pool that CPU-bound
        // tests beside it can hold for seconds.
        let task = Task(executorPreference: PollingExecutor.shared) { await assembly.run(on: listener) }
        let key = try await addKey(storage, to: operatorOrg.id, role: .admin)
        let client = try await connect(listener.localAddress, key: key)
        return BillingHarness(
            storage: storage, assembly: assembly, loop: loop, address: listener.localAddress, directory: directory,
            operatorOrg: operatorOrg, operatorClient: client, now: clock, runTask: task)
    }

    static let day: Timestamp = 86_400 * 1_000_000

    var clock: Timestamp { now.read() }
    func advance(to t: Timestamp) { now.value.withLock { $0 = t } }
    func advance(by d: Timestamp) { now.value.withLock { $0 += d } }
    var billing: Billing { assembly.billing }

    /// A new organisation and a key of `role` in it, with a client using the key.
    func organization(_ name: String, role: Role = .admin) async throws -> (client: RPCClient, org: Organization) {
        let org = try await storage.createOrganization(name: name)
        let key = try await Self.addKey(storage, to: org.id, role: role)
        return (try await Self.connect(address, key: key), org)
    }

    /// Another client of `org` with a key of `role`.
    func client(of org: ObjectID, role: Role) async throws -> RPCClient {
        try await Self.connect(address, key: try await Self.addKey(storage, to: org, role: role))
    }

    static func addKey(_ storage: SQLiteStorage, to org: ObjectID, role: Role) async throws -> String {
        let key = APIKeyGenerator.newKey()
        try await storage.insertKey(
            APIKey(
                id: ObjectID.random("key"), organizationID: org, name: "\(role.rawValue)-key", role: role,
                prefix: APIKeyGenerator.prefix(of: key), hash: SHA256.hash(Array(key.utf8)), createdAt: 1))
        return key
    }

    static func connect(_ address: SocketAddress, key: String) async throws -> RPCClient {
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(key)")
        return try await RPCClient.connect(to: address, metadata: metadata)
    }

    /// A self-service organisation ready to run: STARTER, payment method, terms accepted.
    func enabledSelfService(_ name: String) async throws -> (client: RPCClient, org: Organization) {
        let (client, org) = try await organization(name)
        _ = try await client.unary(BillingService.setPlan, SetPlanRequest(plan: .starter))
        _ = try await client.unary(
            BillingService.setPaymentMethod,
            SetPaymentMethodRequest(paymentMethod: AssayWire.PaymentMethod(reference: "pm_test_1", displayHint: "visa ending 4242")))
        let account = try await client.unary(BillingService.enableAddon, EnableAddonRequest(acceptTermsVersion: BillingTerms.version))
        #expect(account.addonEnabled && account.runBlockers.isEmpty)
        return (client, org)
    }

    /// A dataset of `count` image rows ingested through the catalog service.
    func ingest(_ client: RPCClient, dataset name: String, count: Int) async throws -> AssayWire.Dataset {
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: name))
        _ = try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            var first = true
            for start in stride(from: 0, to: count, by: 500) {
                let rows = (start..<min(start + 500, count)).map {
                    AssayWire.DataRow(globalKey: "\(name)-\($0)", mediaType: .image, uri: "s3://bucket/\(name)/\($0).jpg")
                }
                try await writer.write(IngestBatch(datasetId: first ? dataset.id : "", rows: rows))
                first = false
            }
            close()
            for try await _ in acks {}
        }
        return try await client.unary(CatalogService.getDataset, GetDatasetRequest(id: dataset.id))
    }

    func stop() async {
        operatorClient.close()
        await assembly.server.shutdown()
        await runTask.value
        await assembly.stop()
        await loop.shutdown()
        await storage.close()
        removeTree(directory)
    }
}

/// The server's injected clock, moved by the test.
final class TestClock: Sendable {
    let value: Lock<Timestamp>
    init(_ start: Timestamp) { value = Lock(start) }
    func read() -> Timestamp { value.withLock { $0 } }
}

func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/assay-billing-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

func removeTree(_ path: String) {
    _ = path.withCString { p in
        if let dir = opendir(p) {
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        return rmdir(p)
    }
}

/// The status of what `body` threw (nil when it did not throw) and the billing reason code.
func failure(_ body: () async throws -> Void) async -> (code: RPCCode, reason: String?)? {
    do {
        try await body()
        return nil
    } catch let e as RPCError {
        return (e.code, e.metadata[BillingRefusal.reasonMetadataKey])
    } catch let e as BillingRefusal {
        return (e.rpcError.code, e.reason)
    } catch {
        return (.unknown, nil)
    }
}

/// A model that finds one box in every row (the billing tests are about what runs cost, not
/// what models see).
struct BoxModel: ModelProvider {
    let cards: [AssayCore.ModelCard]
    var batchSize: Int { 16 }
    var concurrency: Int { 2 }
    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        request.rows.map { _ in .success([RawPrediction(modelClass: "object", value: .box(left: 1, top: 1, width: 10, height: 10), confidencePPM: 900_000)], ModelUsage()) }
    }
}
