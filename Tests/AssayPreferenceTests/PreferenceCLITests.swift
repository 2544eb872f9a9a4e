import AssayCore
import AssayModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the `assay` executable built next to the tests against a live in-process server.
struct AssayCLI {
    let harness: ServerHarness
    let key: String

    /// `assay ARGS --addr … --api-key …`, off the cooperative pool: exit status, stdout, stderr.
    func callAsFunction(_ args: [String]) async -> (status: Int32, out: String, err: String) {
        await AssayCommand.run(args + ["--addr", harness.address.description, "--api-key", key], in: harness.directory)
    }

    static func read(_ path: String) -> String { AssayCommand.read(path) }
}

/// Parses NDJSON text into objects.
func objects(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure("not an object: \(line)")
        }
        return o
    }
}

@Suite("assay pref command line")
struct PreferenceCLITests {
    @Test("create, generate, judge, pairs, export and leaderboard from the command line; bad input is a usage error")
    func preferenceCommands() async throws {
        let h = try await ServerHarness.start(
            models: ModelRegistry(providers: [StyleWriter(), ScriptedJudge()]), billing: AdmitAll())
        defer { Task { await h.stop() } }
        let (client, org, dataset) = try await makePrompts(h, ["What is rain?", "Name a prime."])
        let key = try await h.addKey(to: org, role: .admin)
        let assay = AssayCLI(harness: h, key: key)

        var r = await assay(["pref", "create", "x", "--dataset", dataset, "--candidate", "writer,style=terse"])
        #expect(r.status == 2 && r.err.contains("pref create needs at least two --candidate"), "\(r.err)")
        r = await assay(["pref", "create", "x", "--candidate", "a=writer", "--candidate", "b=writer"])
        #expect(r.status == 2 && r.err.contains("pref create needs prompts"), "\(r.err)")
        r = await assay([
            "pref", "create", "x", "--dataset", dataset, "--candidate", "a=writer", "--candidate", "a=writer,style=x",
        ])
        #expect(r.status == 1 && r.err.contains("INVALID_ARGUMENT: two candidates are named a"), "\(r.err)")

        r = await assay([
            "pref", "create", "styles", "--dataset", dataset, "--candidate", "terse=writer,style=terse", "--candidate",
            "verbose=writer,style=verbose",
            "--judge", "scripted-judge,rule=prefer:verbose", "--tie-rule", "kto", "--json",
        ])
        #expect(r.status == 0, "\(r.err)")
        let project = try AssayWire.PreferenceProject(jsonString: r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(
            project.candidates.map(\.name) == ["terse", "verbose"] && project.promptRowIds.count == 2
                && project.tieRule == .kto)
        #expect(project.judge?.parameters["rule"]?.value == .string("prefer:verbose"))

        r = await assay(["pref", "show", project.id])
        #expect(r.out.contains("candidate terse: writer (style=terse)  run -"), "\(r.out)")
        r = await assay(["pref", "list"])
        #expect(r.out.contains("\(project.id)  styles  2 prompts  terse, verbose"), "\(r.out)")

        r = await assay(["pref", "judge", project.id])
        #expect(
            r.status == 1 && r.err.contains("FAILED_PRECONDITION: candidate terse has no generation run yet"),
            "\(r.err)")
        r = await assay(["pref", "generate", project.id, "--watch"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("terse: run run_") && r.out.contains("completed: 2/2 rows"), "\(r.out)")
        r = await assay(["pref", "judge", project.id, "--watch"])
        #expect(r.status == 0 && r.out.contains("completed: 4/4 rows"), "\(r.out) \(r.err)")

        r = await assay(["pref", "pairs", project.id, "--source", "judge"])
        #expect(
            r.out.components(separatedBy: "verbose > terse  agreement 1.0  margin 1  1 vote(s)").count == 3, "\(r.out)")
        #expect(r.out.hasSuffix("2 pair(s)\n"))
        r = await assay(["pref", "pairs", project.id, "--json"])
        let pairs = try AssayWire.ListPreferencePairsResponse(jsonString: r.out)
        #expect(pairs.pairs.count == 2 && pairs.pairs.allSatisfy { $0.chosen == "verbose" && $0.votes[0].consistent })

        let path = h.directory + "/trl.jsonl"
        r = await assay(["pref", "export", project.id, "--format", "trl", "--out", path])
        #expect(r.status == 0 && r.out == "wrote 2 line(s) to \(path)\n", "\(r.out) \(r.err)")
        let trl = try objects(AssayCLI.read(path))
        #expect(trl.count == 2)
        for line in trl {
            try validate(line, .trl)
            #expect((line["chosen"] as? String)?.hasPrefix("verbose answer to:") == true)
        }
        for (name, format) in [
            ("kto", PreferenceExportFormat.kto), ("openai", .openai), ("anthropic_hh", .anthropicHh),
            ("trl_conversational", .trlConversational), ("assay", .assay),
        ] {
            r = await assay(["pref", "export", project.id, "--format", name, "--source", "judge"])
            let lines = try objects(r.out)
            #expect(lines.count == (format == .kto ? 4 : 2), "\(name)")
            for line in lines { try validate(line, format) }
        }
        r = await assay(["pref", "export", project.id, "--format", "csv"])
        #expect(r.status == 2 && r.err.contains("--format is assay, trl"), "\(r.err)")
        r = await assay(["pref", "export", project.id, "--min-agreement", "2"])
        #expect(r.status == 2 && r.err.contains("--min-agreement must be a number from 0 to 1"), "\(r.err)")
        r = await assay(["pref", "export", project.id, "--min-agreement", "1", "--min-margin", "2"])
        #expect(r.status == 0 && r.out.isEmpty)  // every judge pair has margin 1

        // The judge always prefers verbose: no ratings exist yet, and the command says why.
        r = await assay(["pref", "leaderboard", project.id])
        #expect(
            r.status == 1 && r.err.contains("FAILED_PRECONDITION") && r.err.contains("verbose never lost"), "\(r.err)")

        // A reviewer prefers terse on one prompt: now both won a battle and ratings exist.
        r = await assay(["pref", "review", project.id, "--seed", "5"])
        #expect(
            r.status == 0 && r.out.contains(": 2 prompt(s) sent, 0 already queued, 0 without two responses"),
            "\(r.out) \(r.err)")
        let reviewProject = try #require(r.out.split(separator: " ").dropFirst(2).first.map { String($0.dropLast()) })
        let task = try #require(
            try await client.unary(ReviewService.next, NextReviewTaskRequest(projectId: reviewProject)).task)
        let terseShownFirst = text(of: task.preLabels[0]).hasPrefix("terse")
        _ = try await client.unary(
            ReviewService.submit,
            SubmitReviewRequest(
                taskId: task.id,
                decisions: [
                    ReviewDecision(action: .add, label: freeText("ranking", terseShownFirst ? "A > B" : "B > A"))
                ],
                acceptUndecided: true))
        r = await assay(["pref", "leaderboard", project.id, "--anchor", "terse", "--seed", "2", "--resamples", "100"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("3 battles, 95% intervals from 100 resamples (seed 2)\n1. verbose  "), "\(r.out)")
        #expect(r.out.contains("2. terse  1000.0  ") && r.out.contains("W-L-T 1-2-0"), "\(r.out)")
        #expect(r.out.contains("judge: 2/2 consistent, first shown wins 0.5 of verdicts"), "\(r.out)")
        r = await assay(["pref", "leaderboard", project.id, "--source", "human", "--json", "--resamples", "0"])
        #expect(r.status == 2 && r.err.contains("--resamples must be from 1 to 10000"))
        r = await assay([
            "pref", "leaderboard", project.id, "--anchor", "terse", "--seed", "2", "--resamples", "100", "--json",
        ])
        let board = try AssayWire.PreferenceLeaderboard(jsonString: r.out)
        #expect(board.ratings.map(\.candidate) == ["verbose", "terse"] && board.battles == 3 && board.resamples == 100)
        // verbose's 2-1 record: 400 log10(2) above the anchor, by maximum likelihood.
        #expect(abs(board.ratings[0].rating - (1000 + 400 * log10(2.0))) < 1e-6)
        #expect(board.ratings.allSatisfy { $0.hasInterval })

        r = await assay(["pref", "frobnicate", project.id])
        #expect(r.status == 2 && r.err.contains("unknown pref command frobnicate"))
        r = await assay(["pref", "show", project.id, "--colour", "red"])
        #expect(r.status == 2 && r.err.contains("unknown option --colour"))
    }

    @Test(
        "assay eval: one shot (create, generate, rubric) with --json, then over the project as a table; bad input refused"
    )
    func evalCommand() async throws {
        let h = try await ServerHarness.start(
            models: ModelRegistry(providers: [StyleWriter(), ScriptedJudge()]), billing: AdmitAll())
        defer { Task { await h.stop() } }
        let (client, org, _) = try await h.organization("acme")
        let dataset = try await EvaluationTests.ingest(client)
        let assay = AssayCLI(harness: h, key: try await h.addKey(to: org.id, role: .admin))

        var r = await assay([
            "eval", "--dataset", dataset, "--candidate", "terse=writer,style=terse", "--candidate",
            "oracle=writer,style=oracle",
            "--judge", "scripted-judge,rule=grade", "--json",
        ])
        #expect(r.status == 0, "\(r.err)")
        let e = try AssayWire.PreferenceEvaluation(jsonString: r.out)
        #expect(e.rowsWithReference == 2 && e.rowsWithoutReference == 1 && e.rubricRunState == .completed)
        #expect(e.candidates.map(\.candidate) == ["terse", "oracle"])
        #expect(
            e.candidates.map(\.exactMatch) == [0, 0.5] && e.candidates.map(\.rubricMean) == [1, 5]
                && e.candidates.map(\.missing) == [0, 1])

        r = await assay(["eval", e.projectId, "--judge", "scripted-judge,rule=grade", "--per-row"])
        #expect(r.status == 0, "\(r.err)")
        #expect(
            r.out.contains(
                "project \(e.projectId): 2 prompt row(s) with a reference answer (\"reference\"), 1 without"),
            "\(r.out)")
        #expect(r.out.contains("rubric: run \(e.rubricRunId) completed\n"), "\(r.out)")
        #expect(
            r.out.contains("candidate  rows  missing  exact match  token F1  rubric mean  scored  1-5 counts"),
            "\(r.out)")
        #expect(
            r.out.contains("oracle     2     1        0.5          0.5       5.0          1       0/0/0/0/1"),
            "\(r.out)")
        #expect(
            r.out.contains(
                "  oracle  EM 1  F1 1.0  rubric 5  response: Water falling from clouds.  reference: Water falling from clouds."
            ), "\(r.out)")
        #expect(r.out.contains("  oracle  EM 0  F1 0.0  response: (none)  reference: 7"), "\(r.out)")

        // Without a rubric: the reference scores only.
        r = await assay(["eval", e.projectId])
        #expect(
            r.status == 0 && r.out.contains("candidate  rows  missing  exact match  token F1\n")
                && !r.out.contains("rubric"), "\(r.out)")

        // One model alone: an evaluation project of one candidate.
        r = await assay([
            "eval", "--dataset", dataset, "--candidate", "writer,style=oracle", "--name", "solo", "--json",
        ])
        #expect(r.status == 0, "\(r.err)")
        let solo = try AssayWire.PreferenceEvaluation(jsonString: r.out)
        #expect(
            solo.candidates.map(\.candidate) == ["writer"] && solo.candidates[0].exactMatch == 0.5
                && solo.rubricRunId.isEmpty)

        r = await assay(["eval", e.projectId, "--rubric", "be kind"])
        #expect(r.status == 2 && r.err.contains("--rubric needs --judge MODEL"))
        r = await assay(["eval"])
        #expect(r.status == 2 && r.err.contains("eval needs a PROJECT, or --candidate and the prompts"))
        r = await assay(["eval", e.projectId, "--reference-key", "answer"])
        #expect(
            r.status == 1 && r.err.contains("FAILED_PRECONDITION") && r.err.contains("metadata \"answer\""), "\(r.err)")
    }
}
