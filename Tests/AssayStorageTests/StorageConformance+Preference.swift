import AssayCore
import AssayStorage
import Testing

/// Preference projects: stored whole, read back equal, scoped to their organisation, and
/// updated only from the version the caller read (compare and swap).
extension StorageConformance {
    func preferenceProjects() async throws {
        try await withStore { store in
            let org = try await store.createOrganization(name: "Acme")
            let other = try await store.createOrganization(name: "Other")
            let dataset = try await store.createDataset(organization: org.id, name: "prompts", description: "")
            let rows = try await store.upsertRows(
                organization: org.id, dataset: dataset.id, rows: (0..<3).map { NewDataRow(globalKey: "p\($0)", mediaType: .text, text: "prompt \($0)") }
            ).map(\.id)
            let ontology = try await store.createOntology(organization: org.id, name: "o", features: [Feature(id: "response", name: "response", kind: .freeText)])
            let project = PreferenceProject(
                id: .random("prf"), organizationID: org.id, name: "chat", promptRowIDs: rows,
                candidates: [
                    PreferenceCandidate(name: "a", modelID: "m1", parameters: ["temperature": .number(0.7), "seed": .integer(3)]),
                    PreferenceCandidate(name: "b", modelID: "m2", parameters: [:]),
                ],
                judge: PreferenceJudge(modelID: "judge", parameters: ["max_tokens": .integer(4)], inconsistent: .tie, instructions: "be fair"),
                tieRule: .kto, ontologyID: ontology.id, createdAt: 7)
            #expect(try await store.createPreferenceProject(project) == project)
            #expect(try await store.preferenceProject(organization: org.id, id: project.id) == project)
            #expect(try await store.preferenceProjects(organization: org.id) == [project])
            #expect(try await store.preferenceProjects(organization: other.id).isEmpty)
            await expectError(.notFound) { _ = try await store.preferenceProject(organization: other.id, id: project.id) }

            var started = project
            started.candidates[0].runID = .random("run")
            let first = try await store.updatePreferenceProject(started, expected: project)
            #expect(first.updated && first.project == started)
            // A writer holding the old version loses, and sees what is stored now.
            var stale = project
            stale.candidates[1].runID = .random("run")
            let second = try await store.updatePreferenceProject(stale, expected: project)
            #expect(!second.updated && second.project == started)
            #expect(try await store.preferenceProject(organization: org.id, id: project.id) == started)
        }
    }
}
