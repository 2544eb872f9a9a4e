import AssayRPC
import AssayTestSupport
import AssayWire
import Testing

/// `assay serve --services` hosts a subset of the services: the others are UNIMPLEMENTED on
/// that process (a client goes to a process that hosts them), and health and reflection say
/// what is hosted.
@Suite("Serving a subset of the services", .serialized)
struct ServiceSubsetTests {
    @Test func aCatalogOnlyServerAnswersCatalogCallsAndNoRunCalls() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory, arguments: ["--services", "catalog"])
        let client = try await server.client()
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "docs"))
        #expect(
            try await client.unary(CatalogService.listDatasets, ListDatasetsRequest()).datasets.map(\.id) == [
                dataset.id
            ])
        // Keys and health are always hosted.
        #expect(try await client.unary(KeysService.list, ListKeysRequest()).keys.count == 1)
        #expect(
            try await client.unary(HealthService.check, HealthCheckRequest(service: "assay.v1.Catalog")).status
                == .serving)
        #expect(
            await code { _ = try await client.unary(HealthService.check, HealthCheckRequest(service: "assay.v1.Run")) }
                == .notFound)

        for call in [
            { _ = try await client.unary(RunService.list, ListRunsRequest()) },
            { _ = try await client.unary(RunService.listModels, ListModelsRequest()) },
            { _ = try await client.unary(BillingService.getAccount, GetAccountRequest()) },
            { _ = try await client.unary(ReviewService.listProjects, ListReviewProjectsRequest()) },
        ] as [@Sendable () async throws -> Void] {
            #expect(await code(call) == .unimplemented)
        }
        let services = try await client.unary(ReflectionService.listServices, ListServicesRequest()).services.map(
            \.name)
        #expect(services.contains("assay.v1.Catalog") && services.contains("assay.v1.Keys"))
        #expect(
            !services.contains("assay.v1.Run") && !services.contains("assay.v1.Billing")
                && !services.contains("assay.v1.Worker"))
        client.close()
        await server.stop()
    }

    @Test func aRunAndBillingServerLeavesTheCatalogToAnother() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try await ServerProcess.start(directory: directory, arguments: ["--services", "run, billing"])
        let client = try await server.client()
        #expect(
            await code { _ = try await client.unary(CatalogService.listDatasets, ListDatasetsRequest()) }
                == .unimplemented)
        #expect(try await client.unary(RunService.list, ListRunsRequest()).runs.isEmpty)
        #expect(try await client.unary(BillingService.getAccount, GetAccountRequest()).plan == .enterprise)
        client.close()
        await server.stop()
    }

    @Test func anUnknownServiceIsAUsageError() async {
        let result = await run([
            assayBinary, "serve", "--addr", "127.0.0.1:0", "--data", "/nonexistent/x", "--services", "catalog,runs",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--services: unknown service runs"))
        #expect(result.stderr.contains("catalog,run,billing,compare,review,worker,preference"))
    }
}
