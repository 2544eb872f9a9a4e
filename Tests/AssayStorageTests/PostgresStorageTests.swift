import AssayCore
import Glibc
import Testing

@testable import AssayStorage

/// The PostgreSQL server the tests use: `$ASSAY_TEST_POSTGRES` (a libpq URL), which
/// `make test` sets after starting a throwaway cluster (scripts/ci/postgres.sh). Unset
/// outside CI, the PostgreSQL tests are skipped and say why; in CI (`$CI` set) they fail.
enum TestPostgres {
    static let url: String? = getenv("ASSAY_TEST_POSTGRES").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }

    static var isRequired: Bool { getenv("CI") != nil }

    /// True when the tests can run; records an issue in CI when they cannot.
    static var available: Bool {
        if url != nil { return true }
        if isRequired { Issue.record("ASSAY_TEST_POSTGRES is not set; make test starts PostgreSQL and sets it") }
        return false
    }
}

@Suite(
    "PostgreSQL storage: the conformance suite",
    .enabled(if: TestPostgres.url != nil || TestPostgres.isRequired, "ASSAY_TEST_POSTGRES is unset: PostgreSQL tests skipped (make test sets it)"))
struct PostgresConformanceTests {
    static let conformance = StorageConformance { try await PostgresStorage.temporary(url: TestPostgres.url ?? "") }

    @Test(arguments: StorageConformance.checks)
    func conformance(_ check: StorageConformance.Check) async throws {
        guard TestPostgres.available else { return }
        try await check.body(Self.conformance)
    }
}

/// What needs no database: the backend facing a server that is not there.
@Suite("PostgreSQL storage: no server")
struct PostgresUnreachableTests {
    @Test func anUnreachableDatabaseIsUnavailable() async {
        do {
            _ = try await PostgresStorage.open(url: "postgresql://assay@127.0.0.1:1/assay?connect_timeout=2", poolSize: 1)
            Issue.record("opened a database on a closed port")
        } catch {
            guard case .unavailable(let message) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(message.contains("cannot connect to PostgreSQL"))
        }
    }
}

/// Against a real server: skipped, with the reason, when ASSAY_TEST_POSTGRES is unset, and a
/// failure then under CI (where `make test` must have set it).
@Suite(
    "PostgreSQL storage: the server",
    .enabled(if: TestPostgres.url != nil || TestPostgres.isRequired, "ASSAY_TEST_POSTGRES is unset: PostgreSQL tests skipped (make test sets it)"))
struct PostgresServerTests {
    @Test func migrationsRecordTheVersionAndDataSurvivesReopening() async throws {
        guard TestPostgres.available, let url = TestPostgres.url else { return }
        let name = "assay_reopen_\(UInt32.random(in: 0...UInt32.max))"
        try await PostgresStorage.administer(url: url, "CREATE DATABASE \(name)")
        let database = PostgresStorage.url(url, database: name)
        do {
            let first = try await PostgresStorage.open(url: database, poolSize: 2)
            #expect(try await first.schemaVersion() == PostgresStorage.currentSchemaVersion)
            await first.close()
            try await StorageConformance.durability { try await PostgresStorage.open(url: database, poolSize: 2) }
        } catch {
            try? await PostgresStorage.administer(url: url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
        try await PostgresStorage.administer(url: url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test func closingACycleOnTwoServersAtOnceClosesItOnce() async throws {
        guard TestPostgres.available, let url = TestPostgres.url else { return }
        let name = "assay_close_\(UInt32.random(in: 0...UInt32.max))"
        try await PostgresStorage.administer(url: url, "CREATE DATABASE \(name)")
        defer {
            let drop = Task { try? await PostgresStorage.administer(url: url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
            _ = drop
        }
        let database = PostgresStorage.url(url, database: name)
        let one = try await PostgresStorage.open(url: database, poolSize: 2)
        let two = try await PostgresStorage.open(url: database, poolSize: 2)
        let org = try await one.createOrganization(name: "Acme")
        let cycle = BillingCycle("2026-03")!
        let charge = LedgerEntry(
            key: "catalog:2026-03", organizationID: org.id, kind: .catalog, modelID: "", datasetIDs: "", runID: "", quantity: 60, units: 1,
            unitMicrodollars: 100, microdollars: 100, cycle: cycle, at: cycle.start, priceBookVersion: "v")
        let invoices = try await withThrowingTaskGroup(of: Invoice.self) { group in
            for store in [one, two, one, two] as [PostgresStorage] {
                group.addTask {
                    try await store.closeCycle(organization: org.id, cycle: cycle, charges: [charge]) { _ in
                        Invoice(
                            id: "inv_" + ObjectID.random("x").rawValue, organizationID: org.id, cycle: cycle, closedAt: cycle.end, plan: .free,
                            priceBookVersion: "v", lines: [])
                    }
                }
            }
            var all: [Invoice] = []
            for try await invoice in group { all.append(invoice) }
            return all
        }
        #expect(Set(invoices.map(\.id)).count == 1)
        #expect(try await two.invoices(organization: org.id).count == 1)
        #expect(try await two.charges(organization: org.id, cycle: cycle).count == 1)
        await two.close()
        await one.close()
    }
}

/// Statements with as many parameters as PostgreSQL takes: binding them once recursed a stack
/// frame per parameter and overflowed the stack of a batch insert (found by `make asan`).
@Suite(
    "PostgreSQL storage: parameters",
    .enabled(if: TestPostgres.url != nil || TestPostgres.isRequired, "ASSAY_TEST_POSTGRES is unset: PostgreSQL tests skipped (make test sets it)"))
struct PostgresParameterTests {
    @Test func sixtyThousandParametersBindAndArriveIntact() throws {
        guard TestPostgres.available, let url = TestPostgres.url else { return }
        let connection = try PostgresConnection.connect(url)
        let count = 60_000
        // Numbered in the order they appear: the three blobs (one empty, one NULL) first.
        let values: [SQLValue] = [.blob([]), .null, .blob([0, 1, 2])] + (0..<count - 3).map { .text("row-\($0)") }
        let placeholders = Array(repeating: "(?::text)", count: count - 3).joined(separator: ",")
        let blobs = "(SELECT count(*) FROM (VALUES (?::bytea), (?::bytea), (?::bytea)) AS b(y) WHERE y IS NOT NULL)"
        let sql = "SELECT count(*), min(x), max(x), \(blobs) FROM (VALUES \(placeholders)) AS v(x)"
        let rows = try connection.query(sql, values) { row in
            (row.int(0), row.text(1), row.text(2), row.int(3))
        }
        #expect(rows.count == 1)
        #expect(rows.first?.0 == count - 3)
        #expect(rows.first?.1 == "row-0")
        #expect(rows.first?.2 == "row-9999")
        #expect(rows.first?.3 == 2)
    }
}
