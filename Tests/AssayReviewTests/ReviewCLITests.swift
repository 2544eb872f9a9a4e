import AssayCore
import AssayRPC
import AssayTestSupport
import AssayWire
import Foundation
import Testing

/// `assay review` as a person works a queue in a terminal: an admin creates a project and
/// sends a run's predictions; a reviewer takes tasks, edits, rejects, accepts and skips; the
/// status, the export and the ground truth show what the decisions imply.
@Suite("Review command line")
struct ReviewCLITests {
    @Test func aPersonWorksThroughAQueueFromTheTerminal() async throws {
        let harness = try await ServerHarness.start()
        defer { Task { await harness.stop() } }
        let f = try await ReviewFixture.make(harness, rows: 3)
        let run = try await f.run { _ in [.kind(f.optionA, confidence: 900_000), .box(10, 10, 20, 20, confidence: 800_000)] }
        let admin = try await harness.addKey(to: f.organization, role: .admin)
        let reviewer = try await harness.addKey(to: f.organization, role: .reviewer)
        func assay(_ key: String, _ args: [String]) async -> (status: Int32, out: String, err: String) {
            await AssayCommand.run(
                ["review"] + args + ["--addr", harness.address.description, "--api-key", key], in: harness.directory)
        }

        var r = await assay(reviewer, ["create", "check", "--ontology", f.ontology.id])
        #expect(r.status == 1 && r.err.contains("PERMISSION_DENIED"), "\(r.err)")
        r = await assay(admin, ["create", "check", "--ontology", f.ontology.id, "--instructions", "check the kind", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let project = try AssayWire.ReviewProject(jsonString: r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(project.name == "check" && project.reviewersPerRow == 1 && project.instructions == "check the kind")

        r = await assay(admin, ["send", project.id, "--run", run.rawValue, "--conflict", "sideways"])
        #expect(r.status == 2 && r.err.contains("--conflict is keep-existing, override or keep-both"), "\(r.err)")
        r = await assay(admin, ["send", project.id, "--run", run.rawValue, "--conflict", "keep-both"])
        #expect(r.status == 0 && r.out.hasPrefix("sent 3 row(s), 3 review unit(s); 0 already queued"), "\(r.out) \(r.err)")

        // Task 1, read as JSON: the kind becomes b, the box is rejected.
        r = await assay(reviewer, ["next", project.id, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let first = try AssayWire.ReviewTask(jsonString: r.out)
        let kind = try #require(first.preLabels.first { $0.featureId == f.kindFeature })
        let box = try #require(first.preLabels.first { $0.featureId == f.boxFeature })
        r = await assay(reviewer, ["submit", first.id, "--edit", "\(kind.id)=nonsense"])
        #expect(r.status == 2 && r.err.contains("a value is option:ID, options:ID,ID, box:L,T,W,H"), "\(r.err)")
        r = await assay(reviewer, ["submit", first.id, "--edit", "\(box.id)=box:1,2,3"])
        #expect(r.status == 2 && r.err.contains("cannot read the value box:1,2,3"), "\(r.err)")
        r = await assay(reviewer, ["submit", first.id, "--edit", "\(kind.id)=option:\(f.optionB)", "--reject", box.id])
        #expect(r.status == 0 && r.out.hasPrefix("submitted; the row is final"), "\(r.out) \(r.err)")

        // Task 2, read as a person reads it: everything accepted.
        r = await assay(reviewer, ["next", project.id])
        #expect(r.status == 0 && r.out.contains("pre-labels (accept, edit or reject each):"), "\(r.out) \(r.err)")
        #expect(r.out.contains("instructions: check the kind"))
        let secondID = try #require(r.out.split(separator: " ").dropFirst().first.map(String.init))
        let secondRow = try #require(
            r.out.split(separator: "\n").dropFirst().first?.split(separator: " ").dropFirst().first.map(String.init))
        r = await assay(reviewer, ["submit", secondID, "--accept", "all"])
        #expect(r.status == 0 && r.out.hasPrefix("submitted; the row is final"), "\(r.out) \(r.err)")

        // Task 3: skipped with a reason; it stays unfinished.
        r = await assay(reviewer, ["next", project.id, "--json"])
        let third = try AssayWire.ReviewTask(jsonString: r.out)
        r = await assay(reviewer, ["submit", third.id, "--skip", "cannot see the box"])
        #expect(r.status == 0, "\(r.err)")

        r = await assay(admin, ["status", project.id])
        #expect(r.status == 0 && r.out.hasPrefix("check: 3 row(s), 2 final"), "\(r.out) \(r.err)")
        #expect(r.out.contains("skips: 1"), "\(r.out)")

        r = await assay(admin, ["export", project.id, "--decisions"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 3, "\(r.out)")
        for line in lines { #expect(throws: Never.self) { try AssayWire.ReviewedRow(jsonString: String(line)) } }

        // The decisions became ground truth: b alone on the first row, both pre-labels on the second.
        let rowOf = Dictionary(uniqueKeysWithValues: f.rows.map { ($0.rawValue, $0) })
        let edited = try await f.groundTruth(try #require(rowOf[first.dataRowId]))
        #expect(edited == ["\(f.kindFeature)=\(AssayCore.LabelValue.radio(optionID: f.optionB))"])
        let accepted = try await f.groundTruth(try #require(rowOf[secondRow]))
        #expect(accepted.count == 2, "\(accepted)")

        r = await assay(admin, ["frobnicate", project.id])
        #expect(r.status == 2 && r.err.contains("usage: assay review create"), "\(r.err)")
    }
}
