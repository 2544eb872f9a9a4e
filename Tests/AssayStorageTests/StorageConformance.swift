import AssayCore
import AssayStorage
import Testing

/// The behaviour every storage backend must show, written against the `Storage` protocol
/// only, so each backend runs the same checks: pass a factory that makes a fresh, empty
/// store, and run every entry of `checks` (see `SQLiteConformanceTests`).
struct StorageConformance: Sendable {
    /// Makes a new, empty store; each check makes its own and closes it.
    let makeStorage: @Sendable () async throws -> any Storage

    /// One named check, for parameterised tests.
    struct Check: Sendable, CustomTestStringConvertible {
        let name: String
        let body: @Sendable (StorageConformance) async throws -> Void
        var testDescription: String { name }
    }

    /// Every check that needs only fresh stores. Durability needs a store that can be
    /// reopened and is `StorageConformance.durability(reopen:)`.
    static let checks: [Check] = [
        Check(name: "organisations and keys") { try await $0.organizationsAndKeys() },
        Check(name: "datasets") { try await $0.datasets() },
        Check(name: "upsert creates then updates") { try await $0.upsertCreatesThenUpdates() },
        Check(name: "duplicate key within a batch") { try await $0.duplicateKeyWithinBatch() },
        Check(name: "key of another dataset") { try await $0.keyOfAnotherDataset() },
        Check(name: "row fields round-trip") { try await $0.rowFieldsRoundTrip() },
        Check(name: "row lookups") { try await $0.rowLookups() },
        Check(name: "pagination with filters") { try await $0.paginationWithFilters() },
        Check(name: "metadata keys that need quoting") { try await $0.metadataKeysThatNeedQuoting() },
        Check(name: "ontologies") { try await $0.ontologies() },
        Check(name: "labels") { try await $0.labels() },
        Check(name: "delete rows") { try await $0.deleteRows() },
        Check(name: "delete dataset") { try await $0.deleteDataset() },
        Check(name: "tenant isolation") { try await $0.tenantIsolation() },
        Check(name: "billing accounts") { try await $0.billingAccounts() },
        Check(name: "billing ledger and reservations") { try await $0.billingLedgerAndReservations() },
        Check(name: "billing row count history") { try await $0.billingRowCountHistory() },
        Check(name: "billing cycles close once") { try await $0.billingCyclesCloseOnce() },
        Check(name: "review queue and leases") { try await $0.reviewQueueAndLeases() },
        Check(name: "run row claims") { try await $0.runRowClaims() },
        Check(name: "runs by request id") { try await $0.runsByRequestID() },
        Check(name: "active run counts") { try await $0.activeRunCounts() },
        Check(name: "preference projects") { try await $0.preferenceProjects() },
    ]

    /// Runs `body` with a fresh store and closes it, whether or not `body` throws.
    func withStore(_ body: (any Storage) async throws -> Void) async throws {
        let store = try await makeStorage()
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    // MARK: organisations and keys

    func organizationsAndKeys() async throws {
        try await withStore { store in
            #expect(try await store.isEmpty())
            let org = try await store.createOrganization(name: "Acme")
            #expect(org.name == "Acme")
            #expect(try await !store.isEmpty())
            #expect(try await store.organization(org.id) == org)
            await expectError(.notFound) { try await store.organization(.random("org")) }

            let admin = Fixtures.key(org: org.id, name: "ci", role: .admin, seed: 1)
            let reviewer = Fixtures.key(org: org.id, name: "review", role: .reviewer, seed: 2)
            try await store.insertKey(admin)
            try await store.insertKey(reviewer)
            #expect(try await store.key(hash: admin.hash) == admin)
            #expect(try await store.key(hash: reviewer.hash) == reviewer)
            #expect(try await store.key(hash: Array(repeating: 9, count: 32)) == nil)
            #expect(try await store.keys(organization: org.id) == [admin, reviewer])

            var sameHash = Fixtures.key(org: org.id, name: "copy", role: .member, seed: 3)
            sameHash.hash = admin.hash
            await expectError(.alreadyExists) { try await store.insertKey(sameHash) }
            let orphan = Fixtures.key(org: .random("org"), name: "orphan", role: .member, seed: 4)
            await expectError(.notFound) { try await store.insertKey(orphan) }

            try await store.revokeKey(organization: org.id, id: admin.id, at: 1_000)
            #expect(try await store.key(hash: admin.hash)?.revokedAt == 1_000)
            // Revoking again keeps the first time.
            try await store.revokeKey(organization: org.id, id: admin.id, at: 2_000)
            #expect(try await store.key(hash: admin.hash)?.revokedAt == 1_000)
            #expect(try await store.key(hash: reviewer.hash)?.revokedAt == nil)
            await expectError(.notFound) { try await store.revokeKey(organization: org.id, id: .random("key"), at: 1) }
            #expect(try await store.keys(organization: org.id).map(\.id) == [admin.id, reviewer.id])
        }
    }

    // MARK: datasets

    func datasets() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            let cats = try await store.createDataset(organization: org.id, name: "cats", description: "feline")
            let dogs = try await store.createDataset(organization: org.id, name: "dogs", description: "")
            #expect(cats.name == "cats" && cats.description == "feline" && cats.rowCount == 0)
            #expect(cats.organizationID == org.id)
            await expectError(.alreadyExists) {
                try await store.createDataset(organization: org.id, name: "cats", description: "again")
            }
            // Names are unique per organisation, not globally.
            _ = try await store.createDataset(organization: other.id, name: "cats", description: "")
            await expectError(.notFound) {
                try await store.createDataset(organization: .random("org"), name: "x", description: "")
            }

            #expect(try await store.dataset(organization: org.id, id: cats.id) == cats)
            #expect(try await store.datasets(organization: org.id) == [cats, dogs])
            await expectError(.notFound) { try await store.dataset(organization: org.id, id: .random("ds")) }

            try await store.deleteDataset(organization: org.id, id: dogs.id)
            await expectError(.notFound) { try await store.dataset(organization: org.id, id: dogs.id) }
            await expectError(.notFound) { try await store.deleteDataset(organization: org.id, id: dogs.id) }
            #expect(try await store.datasets(organization: org.id) == [cats])
            // The name is free again.
            _ = try await store.createDataset(organization: org.id, name: "dogs", description: "")
        }
    }

    // MARK: upserts

    func upsertCreatesThenUpdates() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let first = (0..<3).map { Fixtures.row($0) }
            let created = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: first)
            #expect(created.count == 3)
            #expect(created.allSatisfy { $0.created })
            #expect(Set(created.map(\.id)).count == 3)
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 3)
            let before = try await store.row(organization: org.id, id: created[1].id)

            var second = first
            for i in second.indices {
                second[i].uri = "s3://bucket/changed-\(i)"
                second[i].metadata = ["source": "retake", "shard": "9"]
                second[i].content = [9, 9]
            }
            let updated = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: second)
            #expect(updated.map(\.id) == created.map(\.id))
            #expect(updated.allSatisfy { !$0.created })
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 3)

            let after = try await store.row(organization: org.id, id: created[1].id)
            #expect(after.uri == "s3://bucket/changed-1")
            #expect(after.metadata == ["source": "retake", "shard": "9"])
            #expect(after.content == [9, 9])
            #expect(after.globalKey == first[1].globalKey)
            #expect(after.createdAt == before.createdAt)
            #expect(after.updatedAt >= before.updatedAt)

            // A mixed batch: one new, one existing.
            let mixed = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: [Fixtures.row(0), Fixtures.row(7)])
            #expect(mixed.map(\.created) == [false, true])
            #expect(mixed[0].id == created[0].id)
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 4)
            #expect(try await store.upsertRows(organization: org.id, dataset: ds.id, rows: []) == [])
        }
    }

    func duplicateKeyWithinBatch() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            var early = Fixtures.row(1)
            early.uri = "s3://first"
            var late = Fixtures.row(1)
            late.uri = "s3://last"
            let outcomes = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: [early, late])
            #expect(outcomes.count == 2)
            #expect(outcomes[0].id == outcomes[1].id)
            #expect(outcomes[0].created)
            #expect(try await store.row(organization: org.id, globalKey: early.globalKey).uri == "s3://last")
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 1)
            let page = try await store.rows(
                organization: org.id, dataset: ds.id, metadataFilter: [:], after: nil, limit: 10)
            #expect(page.items.count == 1)

            // The same in a large batch: repeats near each other and far apart, new keys and
            // the key ingested above.
            var rows = (100..<200).map { Fixtures.row($0) }
            for (i, source) in [(10, 3), (40, 3), (90, 20), (99, 1)] {
                rows[i] = i == 99 ? Fixtures.row(source) : Fixtures.row(100 + source)
                rows[i].uri = "s3://repeat/\(i)"
            }
            let big = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: rows)
            #expect(big.count == 100)
            #expect(big[10].id == big[3].id && big[40].id == big[3].id && big[90].id == big[20].id)
            #expect(big[3].created && !big[10].created && !big[40].created && !big[90].created)
            #expect(big[99].id == outcomes[0].id && !big[99].created)
            #expect(Set(big.map(\.id)).count == 97)
            #expect(try await store.row(organization: org.id, id: big[3].id).uri == "s3://repeat/40")
            #expect(try await store.row(organization: org.id, id: big[20].id).uri == "s3://repeat/90")
            #expect(try await store.row(organization: org.id, globalKey: Fixtures.key(1)).uri == "s3://repeat/99")
            // 96 new rows (100 minus three repeats and the old key) beside the first one.
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 97)
        }
    }

    func keyOfAnotherDataset() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let a = try await store.createDataset(organization: org.id, name: "a", description: "")
            let b = try await store.createDataset(organization: org.id, name: "b", description: "")
            let owned = try await store.upsertRows(organization: org.id, dataset: a.id, rows: [Fixtures.row(5)])
            var clash = Fixtures.row(5)
            clash.uri = "s3://hijack"
            let batch = [Fixtures.row(100), clash, Fixtures.row(101)]
            await expectError(.alreadyExists("global key \(Fixtures.key(5)) belongs to another dataset")) {
                try await store.upsertRows(organization: org.id, dataset: b.id, rows: batch)
            }
            // Nothing of the batch was written, the owner's row is untouched.
            #expect(try await store.dataset(organization: org.id, id: b.id).rowCount == 0)
            let page = try await store.rows(
                organization: org.id, dataset: b.id, metadataFilter: [:], after: nil, limit: 10)
            #expect(page.items.isEmpty)
            await expectError(.notFound) { try await store.row(organization: org.id, globalKey: Fixtures.key(100)) }
            let row = try await store.row(organization: org.id, globalKey: Fixtures.key(5))
            #expect(row.id == owned[0].id && row.datasetID == a.id && row.uri == Fixtures.row(5).uri)
            #expect(try await store.dataset(organization: org.id, id: a.id).rowCount == 1)

            // The same deep inside a large batch.
            var large = (200..<300).map { Fixtures.row($0) }
            large[37] = clash
            await expectError(.alreadyExists("global key \(Fixtures.key(5)) belongs to another dataset")) {
                try await store.upsertRows(organization: org.id, dataset: b.id, rows: large)
            }
            #expect(try await store.dataset(organization: org.id, id: b.id).rowCount == 0)
            await expectError(.notFound) { try await store.row(organization: org.id, globalKey: Fixtures.key(200)) }
            #expect(try await store.row(organization: org.id, globalKey: Fixtures.key(5)).uri == Fixtures.row(5).uri)
        }
    }

    func rowFieldsRoundTrip() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let row = NewDataRow(
                globalKey: "doc/ünïcödé \"quoted\" \\ key", mediaType: .document, uri: "https://example.com/a?b=c&d=é",
                content: [0, 1, 2, 0, 255, 254, 0], text: "Grüße\n\t\"zitat\" \u{1F600} end",
                metadata: [
                    "": "empty key", "tab\tkey": "line\nbreak", "emoji": "\u{1F600}", "quote": "\"", "blank": "",
                ],
                attachments: [
                    Attachment(kind: "image", value: "s3://x/y.png"), Attachment(kind: "note", value: "\\ \" \u{7}"),
                ])
            let outcome = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: [row])
            let stored = try await store.row(organization: org.id, id: outcome[0].id)
            #expect(stored.id == outcome[0].id)
            #expect(stored.datasetID == ds.id)
            #expect(stored.globalKey == row.globalKey)
            #expect(stored.mediaType == .document)
            #expect(stored.uri == row.uri)
            #expect(stored.content == row.content)
            #expect(stored.text == row.text)
            #expect(stored.metadata == row.metadata)
            #expect(stored.attachments == row.attachments)
            #expect(stored.createdAt > 0 && stored.updatedAt == stored.createdAt)

            let bare = NewDataRow(globalKey: "bare", mediaType: .image)
            let bareID = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: [bare])[0].id
            let storedBare = try await store.row(organization: org.id, id: bareID)
            #expect(storedBare.uri == "" && storedBare.content == [] && storedBare.text == "")
            #expect(storedBare.metadata == [:] && storedBare.attachments == [])
        }
    }

    func rowLookups() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let ids = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: (0..<4).map { Fixtures.row($0) }
            ).map(\.id)
            for (i, id) in ids.enumerated() {
                let byID = try await store.row(organization: org.id, id: id)
                let byKey = try await store.row(organization: org.id, globalKey: Fixtures.key(i))
                #expect(byID == byKey)
                #expect(byID.globalKey == Fixtures.key(i))
                #expect(byID.metadata == Fixtures.row(i).metadata)
            }
            await expectError(.notFound) { try await store.row(organization: org.id, id: .random("dr")) }
            await expectError(.notFound) { try await store.row(organization: org.id, globalKey: "no-such-key") }
            await expectError(.notFound) {
                try await store.upsertRows(organization: org.id, dataset: .random("ds"), rows: [Fixtures.row(9)])
            }
            await expectError(.notFound) {
                try await store.rows(
                    organization: org.id, dataset: .random("ds"), metadataFilter: [:], after: nil, limit: 5)
            }
        }
    }
}

/// The kinds of `StorageError`, to expect one without its backend-specific message.
enum StorageErrorKind: Equatable {
    case notFound, alreadyExists, failedPrecondition, unavailable, diskFull, readOnly, `internal`
    /// This exact error, message included, where the message is part of the contract.
    case exactly(StorageError)

    func matches(_ error: StorageError) -> Bool {
        switch (self, error) {
        case (.notFound, .notFound), (.alreadyExists, .alreadyExists), (.failedPrecondition, .failedPrecondition),
            (.unavailable, .unavailable), (.diskFull, .diskFull), (.readOnly, .readOnly), (.internal, .internal):
            true
        case (.exactly(let expected), _): expected == error
        default: false
        }
    }

    static func alreadyExists(_ message: String) -> StorageErrorKind { .exactly(.alreadyExists(message)) }
}

/// Records an issue unless `body` throws a `StorageError` of `kind`.
func expectError<T>(
    _ kind: StorageErrorKind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
    do {
        let value = try await body()
        Issue.record("expected \(kind), got \(value)", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        if !kind.matches(error) { Issue.record("expected \(kind), got \(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected \(kind), got a non-storage error \(error)", sourceLocation: sourceLocation)
    }
}

/// Values the checks build rows and keys from.
enum Fixtures {
    static func key(_ i: Int) -> String { "row-\(i)" }

    static func row(_ i: Int, dataset: String = "") -> NewDataRow {
        NewDataRow(
            globalKey: key(i), mediaType: .image, uri: "s3://bucket/\(i).jpg", content: [UInt8(i & 0xff), 1, 2],
            metadata: ["source": "test", "shard": String(i % 3), "parity": i % 2 == 0 ? "even" : "odd"])
    }

    static func key(org: ObjectID, name: String, role: Role, seed: UInt8) -> APIKey {
        APIKey(
            id: .random("key"), organizationID: org, name: name, role: role, prefix: "ak_\(seed)",
            hash: (0..<32).map { UInt8($0) &+ seed &* 31 }, createdAt: 1_700_000_000_000_000 + Int64(seed))
    }
}
