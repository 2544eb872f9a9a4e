#if canImport(Glibc)
import Glibc
#endif
import AssayRPC
import AssayTestSupport
import AssayWire
import Dispatch
import Testing

/// `assay report RUN [RUN ...]` and the Report call behind it.
@Suite struct CompareReportTests {
    /// Runs `assay ARGS` off the cooperative pool; returns its exit status, standard error and output.
    func assay(_ args: [String], directory: String) async -> (status: Int32, err: String, out: String) {
        let r = await AssayCommand.run(args, in: directory)
        return (r.status, r.err, r.out)
    }

    func read(_ path: String) -> String { AssayCommand.read(path) }

    @Test func theCommandLineWritesOneSelfContainedHTMLFile() async throws {
        let (harness, f) = try await start()
        let a = try await f.run("model-a")
        let b = try await f.run("model-b")
        let out = harness.directory + "/report.html"
        let r = await assay(
            ["report", a.id, b.id, "--out", out, "--seed", "3", "--resamples", "200", "--addr", harness.address.description, "--api-key", f.key],
            directory: harness.directory)
        #expect(r.status == 0, "\(r.err)")
        let html = read(out)
        #expect(html.hasPrefix("<!DOCTYPE html>") || html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"))
        for text in ["model-a", "model-b", "AP50", "accuracy", "macro F1", "McNemar", "background", "WER", "acme-"] {
            #expect(html.contains(text), "the report lacks \(text)")
        }
        // The Report call gives the very bytes the command wrote (same seed).
        let request = ReportRequest(runIds: [a.id, b.id], seed: 3, resamples: 200)
        let bytes = try await f.client.serverStreaming(CompareService.report, request) { chunks in
            var all: [UInt8] = []
            for try await c in chunks { all += c.data }
            return all
        }
        #expect(String(decoding: bytes, as: UTF8.self) == html)

        // A bad threshold is refused before anything is written.
        let bad = await assay(
            ["report", a.id, "--out", harness.directory + "/bad.html", "--iou", "2", "--addr", harness.address.description, "--api-key", f.key],
            directory: harness.directory)
        #expect(bad.status == 2 && bad.err.contains("--iou must be a number from 0 to 1"))
        let missing = await assay(
            ["report", "run_missing", "--out", harness.directory + "/missing.html", "--addr", harness.address.description, "--api-key", f.key],
            directory: harness.directory)
        #expect(missing.status == 1 && missing.err.contains("run run_missing not found"), "\(missing.err)")

        // The other client commands print what the service computed.
        let server = ["--addr", harness.address.description, "--api-key", f.key]
        let runs = await assay(["compare", "runs", a.id, b.id, "--feature", "kind", "--seed", "3", "--resamples", "100"] + server, directory: harness.directory)
        #expect(runs.status == 0, "\(runs.err)")
        #expect(runs.out.contains("McNemar b 3 c 3 p 1.0") && runs.out.contains("accuracy: 0.6667 -> 0.6667"), "\(runs.out)")
        let evaluate = await assay(["compare", "evaluate", a.id, "--slice-by", "split"] + server, directory: harness.directory)
        #expect(evaluate.out.contains("accuracy 0.6667") && evaluate.out.contains("split = night: 6 rows"), "\(evaluate.out)")
        let cell = await assay(["compare", "cell", a.id, "cat", "dog", "--feature", "kind"] + server, directory: harness.directory)
        #expect(cell.out.contains("1 of 1 rows") && cell.out.contains("acme-1\t"), "\(cell.out)")
        let json = await assay(["compare", "rank", a.id, "--feature", "kind", "--limit", "2", "--json"] + server, directory: harness.directory)
        #expect(json.status == 0 && json.out.contains("\"acme-6\""), "\(json.out)")
        let wrong = await assay(["compare", "rank", a.id, "--by", "height"] + server, directory: harness.directory)
        #expect(wrong.status == 1 && wrong.err.contains("INVALID_ARGUMENT"), "\(wrong.err)")
        await harness.stop(keepFiles: false)
    }
}
