import AssayMetrics
import AssayReport
import Foundation
import Testing

/// The report renders, is self-contained, and opens in headless Chromium with its charts drawn.
@Suite("HTML report")
struct HTMLReportTests {
    /// A small detection comparison: two categories, a crowd region, an empty image, two runs.
    static func detectionDocument() -> ReportDocument {
        func box(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Box { Box(x: x, y: y, width: w, height: h) }
        let truth = [
            COCOGroundTruth(id: 1, imageID: 1, categoryID: 1, box: box(10, 10, 50, 50), area: 2500),
            COCOGroundTruth(id: 2, imageID: 1, categoryID: 2, box: box(100, 100, 40, 60), area: 2400),
            COCOGroundTruth(id: 3, imageID: 2, categoryID: 1, box: box(0, 0, 200, 200), area: 40000),
            COCOGroundTruth(id: 4, imageID: 2, categoryID: 2, box: box(300, 300, 100, 100), area: 10000, isCrowd: true),
            COCOGroundTruth(id: 5, imageID: 3, categoryID: 2, box: box(5, 5, 20, 20), area: 400),
        ]
        let a = [
            COCODetection(imageID: 1, categoryID: 1, box: box(12, 11, 50, 48), score: 0.9),
            COCODetection(imageID: 1, categoryID: 1, box: box(100, 100, 40, 60), score: 0.6),  // wrong class
            COCODetection(imageID: 2, categoryID: 1, box: box(5, 5, 190, 195), score: 0.8),
            COCODetection(imageID: 3, categoryID: 2, box: box(300, 10, 20, 20), score: 0.7),  // background
        ]
        let b = [
            COCODetection(imageID: 1, categoryID: 1, box: box(10, 10, 50, 50), score: 0.95),
            COCODetection(imageID: 1, categoryID: 2, box: box(101, 99, 40, 61), score: 0.85),
            COCODetection(imageID: 2, categoryID: 1, box: box(0, 0, 200, 200), score: 0.9),
            COCODetection(imageID: 3, categoryID: 2, box: box(6, 5, 19, 20), score: 0.75),
        ]
        let runs = [("baseline", a), ("candidate", b)].map { name, detections in
            DetectionRun(
                name: name,
                evaluation: COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: [1, 2, 3, 4], categoryIDs: [1, 2]),
                operatingPoint: DetectionOperatingPoint.evaluate(
                    truth: truth, detections: detections, confidence: 0.5, iouThreshold: 0.5, imageIDs: [1, 2, 3, 4], categoryIDs: [1, 2]))
        }
        return .detection(title: "Test <report> & co", categories: [(1, "cat"), (2, "dog")], runs: runs, seed: 3, resamples: 200)
    }

    @Test func rendersEverySection() {
        let html = HTMLReport.render(Self.detectionDocument())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Test &lt;report&gt; &amp; co"))
        for section in ["Summary", "Precision–recall curves", "Confusion matrix", "Run against run", "Worst images"] {
            #expect(html.contains("<h2>\(section)"), "missing section \(section)")
        }
        #expect(html.components(separatedBy: "class=\"pr-curve\"").count - 1 == 2)
        #expect(html.components(separatedBy: "class=\"confusion\"").count - 1 == 2)
        // Self-contained: no scripts, nothing loaded from elsewhere.
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("href="))
        #expect(!html.contains("url("))
    }

    @Test func confusionWithBackgroundIsShown() {
        let html = HTMLReport.render(Self.detectionDocument())
        // Baseline: cat→cat twice, dog predicted as cat once, background→dog once (see the fixture above).
        #expect(html.contains("<title>cat → cat: 2</title>"))
        #expect(html.contains("<title>dog → cat: 1</title>"))
        #expect(html.contains("<title>background → dog: 1</title>"))
    }

    @Test func formatting() {
        #expect(HTMLReport.fmt(0.12345, 4) == "0.1235")
        #expect(HTMLReport.fmt(-0.5, 2) == "-0.50")
        #expect(HTMLReport.fmt(-0.0001, 2) == "0.00")
        #expect(HTMLReport.fmt(3, 0) == "3")
        #expect(HTMLReport.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
    }

    /// Runs `chromium --headless --dump-dom` on the page without blocking a cooperative thread.
    static func dumpDOM(_ html: String) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("assay-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html"), dom = folder.appendingPathComponent("dom.html")
        try Data(html.utf8).write(to: page)
        FileManager.default.createFile(atPath: dom.path, contents: nil)
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            Issue.record("chromium is not installed (make test-deps installs it)")
            return ""
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--dump-dom", page.absoluteString]
        let output = try FileHandle(forWritingTo: dom)
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        #expect(status == 0, "chromium exited with \(status)")
        return String(decoding: try Data(contentsOf: dom), as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(2)))
    func opensInHeadlessChromiumWithChartsDrawn() async throws {
        let dom = try await Self.dumpDOM(HTMLReport.render(Self.detectionDocument()))
        #expect(dom.contains("<h1>"))
        // Every SVG the browser built, with what it holds.
        let svgs = dom.components(separatedBy: "<svg").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
        let curves = svgs.filter { $0.contains("class=\"pr-curve\"") }
        let matrices = svgs.filter { $0.contains("class=\"confusion\"") }
        #expect(curves.count == 2)
        #expect(matrices.count == 2)
        #expect(svgs.count >= 6, "PR curves, confusion matrices and delta bars")
        // Each PR chart has drawn curves: a path with a move and line segments.
        for curve in curves {
            let paths = curve.components(separatedBy: "<path d=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
            #expect(!paths.isEmpty && paths.allSatisfy { $0.hasPrefix("M") && $0.contains("L") })
        }
        for matrix in matrices {
            #expect(matrix.components(separatedBy: "<rect").count - 1 == 9, "3 × 3 cells with background")
        }
    }
}
