import AssayCore
import Glibc
import Testing

@testable import AssayStorage

/// A fresh database file under /tmp for one test; `remove()` deletes it with its WAL.
struct TemporaryDatabase: Sendable {
    let path = "/tmp/assay-test-\(ObjectID.random("db").rawValue).sqlite"

    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }
}

@Suite("SQLite storage: the conformance suite")
struct SQLiteConformanceTests {
    static let conformance = StorageConformance { try await SQLiteStorage.inMemory() }

    @Test(arguments: StorageConformance.checks)
    func conformance(_ check: StorageConformance.Check) async throws {
        try await check.body(Self.conformance)
    }

    @Test func durability() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await StorageConformance.durability { try await SQLiteStorage.open(path: database.path) }
    }
}

@Suite("SQLite storage: the file")
struct SQLiteFileTests {
    @Test func migrationsRecordTheVersion() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let store = try await SQLiteStorage.open(path: database.path)
        #expect(SQLiteStorage.currentSchemaVersion == Schema.migrations.count)
        #expect(SQLiteStorage.currentSchemaVersion >= 1)
        #expect(try await store.schemaVersion() == SQLiteStorage.currentSchemaVersion)
        await store.close()
        // Reopening applies nothing and keeps the version.
        let again = try await SQLiteStorage.open(path: database.path)
        #expect(try await again.schemaVersion() == SQLiteStorage.currentSchemaVersion)
        await again.close()
    }

    @Test func refusesANewerDatabase() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let store = try await SQLiteStorage.open(path: database.path)
        await store.close()
        let newer = SQLiteStorage.currentSchemaVersion + 1
        let connection = try SQLiteConnection.open(path: database.path, mode: .readWrite)
        try connection.exec("PRAGMA user_version = \(newer)")
        connection.close()
        await expectError(
            .exactly(
                .failedPrecondition(
                    "the database \(database.path) has schema version \(newer) but this build knows only up to "
                        + "\(SQLiteStorage.currentSchemaVersion); run a newer Assay"))
        ) { try await SQLiteStorage.open(path: database.path) }
    }

    @Test func usesWALWithForeignKeys() async throws {
        let store = try await SQLiteStorage.inMemory()
        let (mode, readerForeignKeys) = try await store.read { connection throws(StorageError) in
            (
                try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) },
                try connection.queryFirst("PRAGMA foreign_keys") { $0.int(0) }
            )
        }
        #expect(mode == "wal")
        #expect(readerForeignKeys == 1)
        let (synchronous, writerForeignKeys) = try await store.write { connection throws(StorageError) in
            (
                try connection.queryFirst("PRAGMA synchronous") { $0.int(0) },
                try connection.queryFirst("PRAGMA foreign_keys") { $0.int(0) }
            )
        }
        #expect(synchronous == 1)  // NORMAL
        #expect(writerForeignKeys == 1)
        await store.close()
    }

    @Test func aNewFileHasLargePagesAndAnOldOneKeepsItsOwn() async throws {
        let store = try await SQLiteStorage.inMemory()
        let pageSize = try await store.read { connection throws(StorageError) in
            try connection.queryFirst("PRAGMA page_size") { $0.int(0) }
        }
        #expect(pageSize == SQLiteStorage.pageSize)
        await store.close()

        // A file made with 4 KiB pages (by an earlier Assay) opens and keeps them.
        let database = TemporaryDatabase()
        defer { database.remove() }
        let connection = try SQLiteConnection.open(path: database.path, mode: .readWrite)
        try connection.exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER) STRICT;")
        connection.close()
        let reopened = try await SQLiteStorage.open(path: database.path)
        let kept = try await reopened.read { connection throws(StorageError) in
            try connection.queryFirst("PRAGMA page_size") { $0.int(0) }
        }
        #expect(kept == 4096)
        await reopened.close()
    }

    @Test func checkpointsLetTheWALStartOver() async throws {
        let store = try await SQLiteStorage.inMemory()
        let org = try await store.createOrganization(name: "WAL")
        let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
        for start in stride(from: 0, to: 3_000, by: 1_000) {
            _ = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: (start..<start + 1_000).map { Fixtures.row($0) })
        }
        // The writer does not checkpoint by itself below the threshold: the WAL keeps growing.
        let grown = try await store.write { connection throws(StorageError) in connection.walFrames }
        #expect(grown > 100 && grown < store.checkpointFrames)
        try await store.checkpoint()
        // The next commit finds every frame copied and starts the WAL from its beginning.
        _ = try await store.createDataset(organization: org.id, name: "after", description: "")
        let restarted = try await store.write { connection throws(StorageError) in connection.walFrames }
        #expect(restarted < 10)
        #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 3_000)
        await store.close()
    }

    @Test func ingestKeepsTheWALBounded() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        // A tiny threshold, so a few thousand rows go through many checkpoint rounds.
        let store = try await SQLiteStorage.open(path: database.path, removeOnClose: false, checkpointFrames: 40)
        let org = try await store.createOrganization(name: "WAL")
        let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
        var largest = 0
        for start in stride(from: 0, to: 20_000, by: 500) {
            _ = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: (start..<start + 500).map { Fixtures.row($0) })
            largest = max(largest, try await store.write { connection throws(StorageError) in connection.walFrames })
        }
        // Without checkpoints the WAL would hold every page written (well over 1,000 frames);
        // with them it never passes the writer's own limit (8 x 40) plus one batch.
        #expect(largest < 8 * 40 + 100)
        #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 20_000)
        await store.close()
    }

    @Test func cannotOpenAMissingDirectory() async {
        await expectError(.internal) { try await SQLiteStorage.open(path: "/nonexistent-dir/x/assay.sqlite") }
    }

    @Test func readOnlyConnectionsCannotWrite() async throws {
        let store = try await SQLiteStorage.inMemory()
        await expectError(.readOnly) {
            try await store.read { connection throws(StorageError) in
                try connection.run("INSERT INTO organizations (id, name, created_at) VALUES ('x', 'y', 0)")
            }
        }
        #expect(try await store.isEmpty())
        await store.close()
    }

    @Test func closedStoreIsUnavailable() async throws {
        let store = try await SQLiteStorage.inMemory()
        await store.close()
        await expectError(.unavailable) { try await store.createOrganization(name: "late") }
        await expectError(.unavailable) { try await store.isEmpty() }
        await store.close()  // twice is harmless
    }

    @Test func concurrentWritersAndReaders() async throws {
        let store = try await SQLiteStorage.inMemory()
        let org = try await store.createOrganization(name: "Busy")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for d in 0..<8 {
                group.addTask {
                    let ds = try await store.createDataset(organization: org.id, name: "d\(d)", description: "")
                    for batch in 0..<5 {
                        let rows = (0..<100).map { Fixtures.row(d * 10_000 + batch * 100 + $0) }
                        let outcomes = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: rows)
                        #expect(outcomes.allSatisfy { $0.created })
                        let row = try await store.row(organization: org.id, id: outcomes[50].id)
                        #expect(row.globalKey == rows[50].globalKey)
                    }
                    #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 500)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.datasets(organization: org.id).map(\.rowCount).reduce(0, +) == 4_000)
        await store.close()
    }

    @Test func rowIDsRoundTripAndRefuseForgeries() throws {
        let cipher = try #require(RowIDCipher(key: Array(0..<16)))
        // SipHash-2-4's reference vector for key 00..0f and message 00..0f.
        #expect(cipher.mix(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908) == 0x3f2a_cc7f_57c2_9bdb)

        var seen = Set<ObjectID>()
        let rowids: [Int64] = [1, 2, 3, 1 << 40 | 1, 1 << 40 | 2, 77 << 40 | 123_456, Int64.max]
        for rowid in rowids {
            let id = cipher.id(for: rowid)
            #expect(id.rawValue.hasPrefix("dr_") && id.rawValue.count == 35)
            #expect(cipher.rowid(for: id) == rowid)
            #expect(cipher.rowid(forCursor: cipher.cursor(after: rowid)) == rowid)
            #expect(cipher.rowid(forCursor: id.rawValue) == nil)
            seen.insert(id)
            // Any changed digit makes an id nobody was given.
            var digits = Array(id.rawValue)
            digits[10] = digits[10] == "0" ? "1" : "0"
            #expect(cipher.rowid(for: ObjectID(rawValue: String(digits))) == nil)
        }
        #expect(seen.count == 7)
        // Neighbouring rows get unrelated ids.
        #expect(cipher.id(for: 1).rawValue.prefix(10) != cipher.id(for: 2).rawValue.prefix(10))
        for bad in [
            "", "dr_", "dr_xyz", "DR_" + String(repeating: "0", count: 32), "dr_" + String(repeating: "A", count: 32),
        ] {
            #expect(cipher.rowid(for: ObjectID(rawValue: bad)) == nil)
        }
        #expect(cipher.rowid(for: .random("dr")) == nil)
        let other = try #require(RowIDCipher(key: Array(repeating: 7, count: 16)))
        #expect(other.rowid(for: cipher.id(for: 5)) == nil)
        #expect(RowIDCipher(key: [1, 2, 3]) == nil)
    }

    @Test func eachDatabaseHasItsOwnRowIDKey() async throws {
        let one = try await SQLiteStorage.inMemory()
        let two = try await SQLiteStorage.inMemory()
        #expect(one.rowIDs != two.rowIDs)
        await one.close()
        await two.close()
    }
}

/// SQLite's full-disk and read-only failures become the errors that tell clients so
/// (RESOURCE_EXHAUSTED, FAILED_PRECONDITION), not INTERNAL. The real faults (a full tmpfs, an
/// immutable file under a running server) are staged in Tests/AssayFaultTests.
@Suite("SQLite storage: full and read-only files")
struct SQLiteFaultMappingTests {
    @Test func aFileThatCannotGrowIsDiskFull() throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let connection = try SQLiteConnection.open(path: database.path, mode: .readWrite)
        defer { connection.close() }
        try connection.exec("CREATE TABLE t (b BLOB)")
        let pages = try connection.queryFirst("PRAGMA page_count") { $0.int(0) } ?? 0
        // max_page_count makes SQLite answer SQLITE_FULL, as ENOSPC does.
        try connection.exec("PRAGMA max_page_count = \(pages + 2)")
        do {
            for _ in 0..<10 { try connection.run("INSERT INTO t VALUES (zeroblob(100000))") }
            Issue.record("the file grew past max_page_count")
        } catch {
            guard case .diskFull(let message) = error else {
                Issue.record("expected diskFull, got \(error)")
                return
            }
            #expect(message.contains(database.path) && message.contains("full"))
        }
    }

    @Test func aReadOnlyConnectionIsReadOnly() throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let writer = try SQLiteConnection.open(path: database.path, mode: .readWrite)
        try writer.exec("CREATE TABLE t (v INTEGER)")
        writer.close()
        let reader = try SQLiteConnection.open(path: database.path, mode: .readOnly)
        defer { reader.close() }
        do {
            try reader.run("INSERT INTO t VALUES (1)")
            Issue.record("a read-only connection wrote")
        } catch {
            guard case .readOnly = error else {
                Issue.record("expected readOnly, got \(error)")
                return
            }
        }
        #expect(try reader.queryFirst("SELECT count(*) FROM t") { $0.int(0) } == 0)
    }
}
