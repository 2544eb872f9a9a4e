import AssayCore
import AssayModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Foundation
import Testing

@testable import AssayLLM

/// Image + question rows through Generate and Evaluate to an OpenAI-compatible vision
/// endpoint: the scripted chat server (Tests/AssayLLMTests/chat_server.py, mode `vision`)
/// answers with the type and size of the image it received, so an exact match against
/// that description proves the row's bytes reached the endpoint unchanged as a content part.
@Suite("Vision evaluation through an OpenAI-compatible endpoint")
struct VisionEvaluationTests {
    /// Starts chat_server.py on a free port; the caller terminates it.
    static func startChatServer() async throws -> (process: Process, root: String) {
        let port = try LocalLlamaServer.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AssayLLMTests/chat_server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(port)]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let root = "http://127.0.0.1:\(port)"
        let transport = URLSessionTransport()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let r = try? await transport.send(
                HTTPRequest(method: "GET", url: root + "/calls/ping"), timeout: .seconds(1)), r.status == 200
            {
                return (process, root)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw TestFailure("chat_server.py did not start on port \(port)")
    }

    @Test("image rows reach a vision endpoint as content parts; a text-only model fails them and they count as missing")
    func visionRows() async throws {
        let (server, root) = try await Self.startChatServer()
        defer { server.terminate() }
        let key = UUID().uuidString
        let vision = OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(
                id: "vision-chat", baseURL: "\(root)/vision/\(key)/v1", model: "m", retry: RetryPolicy(retries: 0),
                vision: true))
        let textOnly = OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(
                id: "text-chat", baseURL: "\(root)/vision/\(key)-text/v1", model: "m", retry: RetryPolicy(retries: 0)))
        let h = try await ServerHarness.start(
            models: ModelRegistry(providers: [vision, textOnly]), billing: AdmitAll())
        defer { Task { await h.stop() } }
        let (client, _, _) = try await h.organization("acme")
        let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "images"))
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 92)
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 1, count: 36)
        let rows = [
            AssayWire.DataRow(
                globalKey: "png", mediaType: .image, content: png,
                metadata: ["question": "What is shown?", "reference": "sees image/png of 100 bytes"]),
            AssayWire.DataRow(
                globalKey: "jpeg", mediaType: .image, content: jpeg, text: "Describe it.",
                metadata: ["reference": "sees image/jpeg of 40 bytes"]),
            AssayWire.DataRow(
                globalKey: "text", mediaType: .text, text: "No picture here.", metadata: ["reference": "no image"]),
        ]
        try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
            try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty) }
        }
        let project = try await client.unary(
            PreferenceService.createProject,
            CreatePreferenceProjectRequest(
                name: "vision", prompts: RowSelection(datasetId: dataset.id),
                candidates: [
                    AssayWire.PreferenceCandidate(name: "vision", modelId: "vision-chat"),
                    AssayWire.PreferenceCandidate(name: "text", modelId: "text-chat"),
                ]))
        let generated = try await client.unary(
            PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
        let visionRun = try await waitCompleted(client, generated.candidates[0].runId)
        #expect(visionRun.progress?.withPredictions == 3 && visionRun.progress?.failed == 0)
        let textRun = try await waitCompleted(client, generated.candidates[1].runId)
        #expect(textRun.progress?.withPredictions == 1 && textRun.progress?.failed == 2)

        let e = try await client.unary(
            PreferenceService.evaluate, EvaluatePreferenceRequest(projectId: project.id, includeRows: true))
        #expect(e.rowsWithReference == 3)
        let byCandidate = Dictionary(uniqueKeysWithValues: e.candidates.map { ($0.candidate, $0) })
        #expect(byCandidate["vision"]?.exactMatch == 1 && byCandidate["vision"]?.missing == 0, "\(e.rows)")
        // The text-only model answered the text row only; its image rows failed and score 0.
        #expect(byCandidate["text"]?.missing == 2 && abs((byCandidate["text"]?.exactMatch ?? 0) - 1.0 / 3.0) < 1e-12)

        // The endpoint was called once per row of the vision model, never for the text-only one.
        let transport = URLSessionTransport()
        let calls = try await transport.send(
            HTTPRequest(method: "GET", url: "\(root)/calls/\(key)"), timeout: .seconds(5))
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(calls.body))
        #expect(value["calls"] == .integer(3))
        let failed = try await client.unary(RunService.listRows, ListRunRowsRequest(id: textRun.id, failedOnly: true))
            .rows
        #expect(
            failed.count == 2
                && failed.allSatisfy { $0.error.contains("reads text, conversation rows; this row is image") },
            "\(failed)")
    }
}
