import AssayCore
import AssayStorage
import Testing

/// Run rows claimed under leases: what lets several servers share a run, the same on every
/// backend (SQLite keeps its leases in memory, PostgreSQL in the rows).
extension StorageConformance {
    func runRowClaims() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let dataset = try await store.createDataset(organization: org.id, name: "d", description: "")
            let rows = try await store.upsertRows(
                organization: org.id, dataset: dataset.id, rows: (0..<10).map { NewDataRow(globalKey: "k\($0)", mediaType: .text, text: "t\($0)") })
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: Fixtures.features)
            let run = try await store.createRun(
                ModelRun(
                    id: .random("run"), organizationID: org.id, name: "r", modelID: "m", modelVersion: "1", ontologyID: ontology.id, mapping: [],
                    parameters: [:], datasetIDs: [dataset.id], createdAt: 1),
                rows: rows.map(\.id), requestID: nil)

            // Two servers claim disjoint rows, in position order, with their content.
            let a = try await store.claimRunRows(organization: org.id, run: run.id, server: "a", limit: 4, now: 100, leaseUntil: 200)
            #expect(a.map(\.position) == [1, 2, 3, 4])
            #expect(a.first?.row?.text == "t0" && a.first?.rowID == rows[0].id)
            let b = try await store.claimRunRows(organization: org.id, run: run.id, server: "b", limit: 100, now: 100, leaseUntil: 200)
            #expect(b.map(\.position) == [5, 6, 7, 8, 9, 10])
            #expect(try await store.claimRunRows(organization: org.id, run: run.id, server: "c", limit: 100, now: 150, leaseUntil: 250).isEmpty)

            // b records two rows and releases the rest; a's heartbeat keeps its rows past 200.
            let outcomes = b.prefix(2).map { RunRowOutcome(position: $0.position, rowID: $0.rowID, predictions: [], error: "x") }
            let recorded = try await store.recordRunRows(organization: org.id, run: run.id, outcomes: Array(outcomes))
            #expect(recorded.progress.done == 2)
            #expect(try await store.renewRunRowLeases(organization: org.id, run: run.id, server: "a", leaseUntil: 400) == 4)
            try await store.releaseRunRows(organization: org.id, run: run.id, server: "b")
            let c = try await store.claimRunRows(organization: org.id, run: run.id, server: "c", limit: 100, now: 300, leaseUntil: 500)
            #expect(c.map(\.position) == [7, 8, 9, 10])

            // a dies: once its lease has ended, its rows go to whoever claims.
            #expect(try await store.claimRunRows(organization: org.id, run: run.id, server: "d", limit: 100, now: 399, leaseUntil: 600).isEmpty)
            let d = try await store.claimRunRows(organization: org.id, run: run.id, server: "d", limit: 100, now: 401, leaseUntil: 600)
            #expect(d.map(\.position) == [1, 2, 3, 4])

            // Outcomes are recorded once, whoever reports them.
            let late = a.map { RunRowOutcome(position: $0.position, rowID: $0.rowID, predictions: [], error: "late") }
            #expect(try await store.recordRunRows(organization: org.id, run: run.id, outcomes: late).progress.done == 6)
            #expect(try await store.recordRunRows(organization: org.id, run: run.id, outcomes: late).progress.done == 6)

            // A finished run has nothing to claim.
            _ = try await store.setRunState(organization: org.id, run: run.id, state: .cancelled, error: "", at: 700)
            #expect(try await store.claimRunRows(organization: org.id, run: run.id, server: "e", limit: 100, now: 10_000, leaseUntil: 20_000).isEmpty)
            await expectError(.notFound) {
                _ = try await store.claimRunRows(organization: org.id, run: .random("run"), server: "e", limit: 1, now: 0, leaseUntil: 1)
            }
        }
    }

    /// A run found by the request id that created it, only in its own organisation.
    func runsByRequestID() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            let dataset = try await store.createDataset(organization: org.id, name: "d", description: "")
            let rows = try await store.upsertRows(
                organization: org.id, dataset: dataset.id, rows: (0..<3).map { NewDataRow(globalKey: "k\($0)", mediaType: .text, text: "t\($0)") })
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: Fixtures.features)
            func run() -> ModelRun {
                ModelRun(
                    id: .random("run"), organizationID: org.id, name: "r", modelID: "m", modelVersion: "1", ontologyID: ontology.id, mapping: [],
                    parameters: [:], datasetIDs: [dataset.id], createdAt: 1)
            }
            #expect(try await store.run(organization: org.id, requestID: "req-1") == nil)
            let first = try await store.createRun(run(), rows: rows.map(\.id), requestID: "req-1")
            _ = try await store.createRun(run(), rows: rows.map(\.id), requestID: nil)
            #expect(try await store.run(organization: org.id, requestID: "req-1")?.id == first.id)
            #expect(try await store.run(organization: org.id, requestID: "req-1")?.progress.total == 3)
            #expect(try await store.run(organization: org.id, requestID: "req-2") == nil)
            #expect(try await store.run(organization: other.id, requestID: "req-1") == nil)
        }
    }

    /// The runs an organisation has queued or running (its concurrent-run quota counts them).
    func activeRunCounts() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            let dataset = try await store.createDataset(organization: org.id, name: "d", description: "")
            let rows = try await store.upsertRows(
                organization: org.id, dataset: dataset.id, rows: (0..<2).map { NewDataRow(globalKey: "k\($0)", mediaType: .text, text: "t\($0)") })
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: Fixtures.features)
            var runs: [ModelRun] = []
            for _ in 0..<4 {
                runs.append(
                    try await store.createRun(
                        ModelRun(
                            id: .random("run"), organizationID: org.id, name: "r", modelID: "m", modelVersion: "1", ontologyID: ontology.id,
                            mapping: [], parameters: [:], datasetIDs: [dataset.id], createdAt: 1),
                        rows: rows.map(\.id), requestID: nil))
            }
            #expect(try await store.activeRunCount(organization: org.id) == 4)
            _ = try await store.setRunState(organization: org.id, run: runs[0].id, state: .running, error: "", at: 2)
            _ = try await store.setRunState(organization: org.id, run: runs[1].id, state: .cancelled, error: "", at: 2)
            _ = try await store.setRunState(organization: org.id, run: runs[2].id, state: .failed, error: "x", at: 2)
            // Queued and running count; cancelled, failed (and completed) do not.
            #expect(try await store.activeRunCount(organization: org.id) == 2)
            #expect(try await store.activeRunCount(organization: other.id) == 0)
        }
    }
}
