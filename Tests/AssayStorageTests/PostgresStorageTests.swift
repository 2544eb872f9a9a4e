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
