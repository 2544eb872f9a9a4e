import AssayCore
import AssayStorage
import Testing

/// Listings, ontologies, labels, deletes, tenant isolation and durability.
extension StorageConformance {
    /// Reads every page of a listing; fails the test if a page is over `limit` or the
    /// listing does not end.
    func allPages(
        _ store: any Storage, org: ObjectID, dataset: ObjectID, filter: [String: String], limit: Int
    ) async throws -> (rows: [DataRow], pages: Int) {
        var rows: [DataRow] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await store.rows(
                organization: org, dataset: dataset, metadataFilter: filter, after: cursor, limit: limit)
            #expect(page.items.count <= limit)
            rows += page.items
            cursor = page.nextCursor
            pages += 1
            try #require(pages < 10_000, "the listing never ends")
        } while cursor != nil
        return (rows, pages)
    }

    func paginationWithFilters() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let other = try await store.createDataset(organization: org.id, name: "other", description: "")
            var ids: [ObjectID] = []
            for start in stride(from: 0, to: 250, by: 50) {
                ids += try await store.upsertRows(
                    organization: org.id, dataset: ds.id, rows: (start..<start + 50).map { Fixtures.row($0) }
                ).map(\.id)
            }
            // Rows of another dataset never show up in this one's listing.
            _ = try await store.upsertRows(
                organization: org.id, dataset: other.id, rows: (1000..<1010).map { Fixtures.row($0) })

            let everything = try await allPages(store, org: org.id, dataset: ds.id, filter: [:], limit: 100)
            #expect(everything.rows.map(\.id) == ids)
            #expect(everything.pages == 3)

            let shard1 = try await allPages(store, org: org.id, dataset: ds.id, filter: ["shard": "1"], limit: 7)
            let expected = (0..<250).filter { $0 % 3 == 1 }.map { ids[$0] }
            #expect(shard1.rows.map(\.id) == expected)
            #expect(shard1.pages == (expected.count + 6) / 7)
            #expect(shard1.rows.allSatisfy { $0.metadata["shard"] == "1" })

            let twoKeys = try await allPages(
                store, org: org.id, dataset: ds.id, filter: ["shard": "2", "parity": "even"], limit: 9)
            let evenShard2: [ObjectID] = (0..<250).filter { i in i % 3 == 2 && i % 2 == 0 }.map { i in ids[i] }
            #expect(twoKeys.rows.map(\.id) == evenShard2)

            let none = try await store.rows(
                organization: org.id, dataset: ds.id, metadataFilter: ["shard": "7"], after: nil, limit: 10)
            #expect(none.items.isEmpty && none.nextCursor == nil)
            let missingKey = try await store.rows(
                organization: org.id, dataset: ds.id, metadataFilter: ["absent": "1"], after: nil, limit: 10)
            #expect(missingKey.items.isEmpty)

            // An exact fit ends without an empty extra page.
            let exact = try await allPages(store, org: org.id, dataset: ds.id, filter: [:], limit: 50)
            #expect(exact.pages == 5)

            await expectError(.failedPrecondition) {
                try await store.rows(
                    organization: org.id, dataset: ds.id, metadataFilter: [:], after: "not-a-cursor", limit: 5)
            }
        }
    }

    func metadataKeysThatNeedQuoting() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let keys = ["a.b", "quote\"key", "back\\slash", "ünï cödé", "$[0]", "new\nline", "it's"]
            var rows: [NewDataRow] = []
            for (i, key) in keys.enumerated() {
                rows.append(NewDataRow(globalKey: "k\(i)", mediaType: .text, metadata: [key: "v\(i)", "n": "\(i)"]))
                rows.append(
                    NewDataRow(globalKey: "decoy\(i)", mediaType: .text, metadata: [key: "other", "n": "\(i)"]))
            }
            _ = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: rows)
            for (i, key) in keys.enumerated() {
                let page = try await store.rows(
                    organization: org.id, dataset: ds.id, metadataFilter: [key: "v\(i)"], after: nil, limit: 50)
                #expect(page.items.map(\.globalKey) == ["k\(i)"], "filter on key \(key)")
                let both = try await store.rows(
                    organization: org.id, dataset: ds.id, metadataFilter: [key: "other", "n": "\(i)"], after: nil,
                    limit: 50)
                #expect(both.items.map(\.globalKey) == ["decoy\(i)"], "filter on key \(key) and n")
            }
        }
    }

    // MARK: ontologies and labels

    func ontologies() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let first = try await store.createOntology(
                organization: org.id, name: "vehicles", features: Fixtures.features)
            let second = try await store.createOntology(
                organization: org.id, name: "simple",
                features: [
                    Feature(id: "f-text", name: "caption \"quoted\"", kind: .freeText)
                ])
            #expect(first.features == Fixtures.features && first.organizationID == org.id)
            #expect(try await store.ontology(organization: org.id, id: first.id) == first)
            #expect(try await store.ontologies(organization: org.id) == [first, second])
            await expectError(.notFound) { try await store.ontology(organization: org.id, id: .random("ont")) }
            await expectError(.notFound) {
                try await store.createOntology(organization: .random("org"), name: "x", features: Fixtures.features)
            }
        }
    }

    func labels() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let ontology = try await store.createOntology(
                organization: org.id, name: "vehicles", features: Fixtures.features)
            let rows = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: (0..<3).map { Fixtures.row($0) }
            ).map(\.id)
            let first = Fixtures.labels(row: rows[0], ontology: ontology.id)
            let second = [
                Label(
                    id: .random("lbl"), dataRowID: rows[1], ontologyID: ontology.id, featureID: "f-span",
                    value: .textSpan(start: 3, end: 9), createdAt: 42)
            ]
            try await store.insertLabels(organization: org.id, labels: first + second)

            let byRow = try await store.labels(organization: org.id, rows: [rows[0], rows[1], rows[2], .random("dr")])
            #expect(byRow[rows[0]] == first)
            #expect(byRow[rows[1]] == second)
            #expect(byRow[rows[2]] ?? [] == [])
            #expect(try await store.labels(organization: org.id, rows: []).isEmpty)

            // One bad label fails the whole call.
            let good = Label(
                id: .random("lbl"), dataRowID: rows[2], ontologyID: ontology.id, featureID: "f-text",
                value: .freeText("ok"),
                createdAt: 1)
            let badRow = Label(
                id: .random("lbl"), dataRowID: .random("dr"), ontologyID: ontology.id, featureID: "f-text",
                value: .freeText("x"),
                createdAt: 1)
            await expectError(.notFound) { try await store.insertLabels(organization: org.id, labels: [good, badRow]) }
            var badOntology = good
            badOntology.ontologyID = .random("ont")
            await expectError(.notFound) { try await store.insertLabels(organization: org.id, labels: [badOntology]) }
            #expect(try await store.labels(organization: org.id, rows: [rows[2]])[rows[2]] ?? [] == [])
            await expectError(.alreadyExists) {
                try await store.insertLabels(organization: org.id, labels: [second[0]])
            }

            // A label without a time gets the time of the insert.
            var untimed = good
            untimed.createdAt = 0
            try await store.insertLabels(organization: org.id, labels: [untimed])
            let stamped = try await store.labels(organization: org.id, rows: [rows[2]])[rows[2]]
            #expect(stamped?.count == 1 && (stamped?[0].createdAt ?? 0) > 0)
        }
    }

    // MARK: deletes

    func deleteRows() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let ds = try await store.createDataset(organization: org.id, name: "d", description: "")
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: Fixtures.features)
            let ids = try await store.upsertRows(
                organization: org.id, dataset: ds.id, rows: (0..<5).map { Fixtures.row($0) }
            ).map(\.id)
            try await store.insertLabels(
                organization: org.id, labels: Fixtures.labels(row: ids[1], ontology: ontology.id))
            try await store.insertLabels(
                organization: org.id, labels: Fixtures.labels(row: ids[2], ontology: ontology.id))

            let removed = try await store.deleteRows(
                organization: org.id, ids: [ids[1], ids[4], .random("dr"), ids[1]])
            #expect(removed == 2)
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 3)
            await expectError(.notFound) { try await store.row(organization: org.id, id: ids[1]) }
            await expectError(.notFound) { try await store.row(organization: org.id, globalKey: Fixtures.key(4)) }
            let labels = try await store.labels(organization: org.id, rows: [ids[1], ids[2]])
            #expect(labels[ids[1]] == nil)
            #expect(labels[ids[2]]?.count == Fixtures.labels(row: ids[2], ontology: ontology.id).count)
            let remaining = try await allPages(store, org: org.id, dataset: ds.id, filter: [:], limit: 10)
            #expect(remaining.rows.map(\.id) == [ids[0], ids[2], ids[3]])
            #expect(try await store.deleteRows(organization: org.id, ids: []) == 0)

            // A deleted key (here the newest row's) can be ingested again: a new row with a new
            // id, while the old id stays unknown.
            let again = try await store.upsertRows(organization: org.id, dataset: ds.id, rows: [Fixtures.row(4)])
            #expect(again[0].created && !ids.contains(again[0].id))
            await expectError(.notFound) { try await store.row(organization: org.id, id: ids[4]) }
            #expect(try await store.dataset(organization: org.id, id: ds.id).rowCount == 4)
        }
    }

    func deleteDataset() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let doomed = try await store.createDataset(organization: org.id, name: "doomed", description: "")
            let kept = try await store.createDataset(organization: org.id, name: "kept", description: "")
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: Fixtures.features)
            let gone = try await store.upsertRows(
                organization: org.id, dataset: doomed.id, rows: (0..<20).map { Fixtures.row($0) })
            let stays = try await store.upsertRows(
                organization: org.id, dataset: kept.id, rows: (20..<25).map { Fixtures.row($0) })
            try await store.insertLabels(
                organization: org.id, labels: Fixtures.labels(row: gone[0].id, ontology: ontology.id))
            try await store.insertLabels(
                organization: org.id, labels: Fixtures.labels(row: stays[0].id, ontology: ontology.id))

            try await store.deleteDataset(organization: org.id, id: doomed.id)
            await expectError(.notFound) { try await store.row(organization: org.id, id: gone[0].id) }
            await expectError(.notFound) { try await store.row(organization: org.id, globalKey: Fixtures.key(19)) }
            #expect(try await store.labels(organization: org.id, rows: [gone[0].id]).isEmpty)
            #expect(try await store.labels(organization: org.id, rows: [stays[0].id])[stays[0].id]?.isEmpty == false)
            #expect(try await store.dataset(organization: org.id, id: kept.id).rowCount == 5)
            // Its global keys are free for another dataset, and no id is given out twice.
            let moved = try await store.upsertRows(organization: org.id, dataset: kept.id, rows: [Fixtures.row(0)])
            #expect(moved[0].created && moved[0].id != gone[0].id)
            let reborn = try await store.createDataset(organization: org.id, name: "doomed", description: "")
            let fresh = try await store.upsertRows(
                organization: org.id, dataset: reborn.id, rows: (30..<50).map { Fixtures.row($0) })
            #expect(Set(fresh.map(\.id)).isDisjoint(with: gone.map(\.id)))
            await expectError(.notFound) { try await store.row(organization: org.id, id: gone[5].id) }
        }
    }

    // MARK: tenants

    func tenantIsolation() async throws {
        try await withStore { store in
            let a = try await store.createOrganization(name: "A")
            let b = try await store.createOrganization(name: "B")
            let ds = try await store.createDataset(organization: a.id, name: "shared-name", description: "")
            let ontology = try await store.createOntology(organization: a.id, name: "o", features: Fixtures.features)
            let rows = try await store.upsertRows(
                organization: a.id, dataset: ds.id, rows: (0..<3).map { Fixtures.row($0) })
            let labels = Fixtures.labels(row: rows[0].id, ontology: ontology.id)
            try await store.insertLabels(organization: a.id, labels: labels)
            let key = Fixtures.key(org: a.id, name: "a-key", role: .admin, seed: 7)
            try await store.insertKey(key)

            // Organisation B sees none of it: every lookup is NOT_FOUND, every listing empty.
            await expectError(.notFound) { try await store.dataset(organization: b.id, id: ds.id) }
            #expect(try await store.datasets(organization: b.id).isEmpty)
            await expectError(.notFound) { try await store.row(organization: b.id, id: rows[0].id) }
            await expectError(.notFound) { try await store.row(organization: b.id, globalKey: Fixtures.key(0)) }
            await expectError(.notFound) {
                try await store.rows(organization: b.id, dataset: ds.id, metadataFilter: [:], after: nil, limit: 10)
            }
            await expectError(.notFound) {
                try await store.upsertRows(organization: b.id, dataset: ds.id, rows: [Fixtures.row(9)])
            }
            await expectError(.notFound) { try await store.deleteDataset(organization: b.id, id: ds.id) }
            #expect(try await store.deleteRows(organization: b.id, ids: rows.map(\.id)) == 0)
            await expectError(.notFound) { try await store.ontology(organization: b.id, id: ontology.id) }
            #expect(try await store.ontologies(organization: b.id).isEmpty)
            #expect(try await store.labels(organization: b.id, rows: rows.map(\.id)).isEmpty)
            var foreign = labels[0]
            foreign.id = .random("lbl")
            await expectError(.notFound) { try await store.insertLabels(organization: b.id, labels: [foreign]) }
            await expectError(.notFound) { try await store.revokeKey(organization: b.id, id: key.id, at: 5) }
            #expect(try await store.keys(organization: b.id).isEmpty)

            // B may reuse A's names and global keys; neither side disturbs the other.
            let bds = try await store.createDataset(organization: b.id, name: "shared-name", description: "")
            let bRows = try await store.upsertRows(organization: b.id, dataset: bds.id, rows: [Fixtures.row(0)])
            #expect(bRows[0].created && bRows[0].id != rows[0].id)
            #expect(try await store.row(organization: a.id, globalKey: Fixtures.key(0)).id == rows[0].id)
            #expect(try await store.row(organization: b.id, globalKey: Fixtures.key(0)).id == bRows[0].id)

            // A still has everything.
            #expect(try await store.dataset(organization: a.id, id: ds.id).rowCount == 3)
            #expect(try await store.labels(organization: a.id, rows: [rows[0].id])[rows[0].id] == labels)
            #expect(try await store.key(hash: key.hash)?.revokedAt == nil)
        }
    }

    // MARK: durability

    /// Writes through one store, closes it, and reads everything back through a second one.
    /// `reopen` must open the same database every time it is called.
    static func durability(reopen: @Sendable () async throws -> any Storage) async throws {
        let first = try await reopen()
        let org = try await first.createOrganization(name: "Durable")
        let key = Fixtures.key(org: org.id, name: "k", role: .member, seed: 3)
        try await first.insertKey(key)
        let ds = try await first.createDataset(organization: org.id, name: "d", description: "kept")
        let ontology = try await first.createOntology(organization: org.id, name: "o", features: Fixtures.features)
        var ids: [ObjectID] = []
        for start in stride(from: 0, to: 3_000, by: 1_000) {
            ids += try await first.upsertRows(
                organization: org.id, dataset: ds.id, rows: (start..<start + 1_000).map { Fixtures.row($0) }
            )
            .map(\.id)
        }
        let labels = Fixtures.labels(row: ids[7], ontology: ontology.id)
        try await first.insertLabels(organization: org.id, labels: labels)
        let rowBefore = try await first.row(organization: org.id, id: ids[2_500])
        await first.close()

        let second = try await reopen()
        #expect(try await second.organization(org.id) == org)
        #expect(try await second.key(hash: key.hash) == key)
        #expect(
            try await second.dataset(organization: org.id, id: ds.id)
                == Dataset(
                    id: ds.id, organizationID: org.id, name: "d", description: "kept", createdAt: ds.createdAt,
                    rowCount: 3_000))
        #expect(try await second.ontology(organization: org.id, id: ontology.id) == ontology)
        #expect(try await second.row(organization: org.id, id: ids[2_500]) == rowBefore)
        #expect(try await second.labels(organization: org.id, rows: [ids[7]])[ids[7]] == labels)
        var seen: [ObjectID] = []
        var cursor: String?
        repeat {
            let page = try await second.rows(
                organization: org.id, dataset: ds.id, metadataFilter: [:], after: cursor, limit: 700)
            seen += page.items.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == ids)
        await second.close()
        await expectError(.unavailable) { try await second.organization(org.id) }
    }
}

extension Fixtures {
    /// A tree with every feature kind and nesting under features and options.
    static let features: [Feature] = [
        Feature(
            id: "f-vehicle", name: "vehicle", kind: .boundingBox,
            children: [
                Feature(
                    id: "f-occluded", name: "occluded?", kind: .radio,
                    options: [
                        FeatureOption(
                            id: "o-yes", value: "yes",
                            children: [
                                Feature(id: "f-how", name: "how much", kind: .freeText)
                            ]),
                        FeatureOption(id: "o-no", value: "no"),
                    ])
            ]),
        Feature(id: "f-outline", name: "outline", kind: .polygon),
        Feature(
            id: "f-tags", name: "tags", kind: .checklist,
            options: [
                FeatureOption(id: "o-day", value: "day"), FeatureOption(id: "o-rain", value: "rain \"heavy\""),
            ]),
        Feature(id: "f-span", name: "person", kind: .textSpan),
        Feature(id: "f-text", name: "caption", kind: .freeText),
    ]

    /// Labels of every value kind on `row`, one of them a prediction with a sub-label.
    static func labels(row: ObjectID, ontology: ObjectID) -> [Label] {
        let occluded = Label(
            id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-occluded",
            value: .radio(optionID: "o-yes"),
            children: [
                Label(
                    id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-how",
                    value: .freeText("half"), createdAt: 5)
            ], createdAt: 5)
        return [
            Label(
                id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-vehicle",
                value: .boundingBox(left: 0.5, top: 1e-7, width: 1_920.25, height: 0.1 + 0.2), children: [occluded],
                modelRunID: .random("run"), confidencePPM: 912_345, createdAt: 1_700_000_000_000_001),
            Label(
                id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-outline",
                value: .polygon(points: [Point(x: 0, y: 0), Point(x: 10.5, y: -0), Point(x: 3, y: 1e300)]), createdAt: 2
            ),
            Label(
                id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-tags",
                value: .checklist(optionIDs: ["o-rain", "o-day"]), confidencePPM: 0, createdAt: 3),
            Label(
                id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-span",
                value: .textSpan(start: 0, end: 4), createdAt: 4),
            Label(
                id: .random("lbl"), dataRowID: row, ontologyID: ontology, featureID: "f-text",
                value: .freeText("a \"caption\" with ünïcode\n"), createdAt: 5),
        ]
    }
}
