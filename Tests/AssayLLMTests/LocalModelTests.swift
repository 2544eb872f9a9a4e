import Foundation
import Testing
import AssayModels
@testable import AssayLLM
import AssayCore

/// The real local models (`make models`): a llama.cpp server started by `LocalLlamaServer`,
/// short prompts, small max_tokens. One model at a time: two servers would fight over the
/// two cores.
@Suite("Local llama.cpp models", .serialized)
struct LocalModelTests {
    static let colour = TargetFeature(
        modelClass: "colour", kind: .radio, options: [TargetOption(name: "red"), TargetOption(name: "green"), TargetOption(name: "blue")])

    static func installed(_ model: LocalChatModel) throws -> OpenAICompatibleProvider {
        guard model.isInstalled() else {
            throw TestFailure(
                "\(model.card.id) is not installed in \(LocalChatModel.defaultCache) (python \(LocalChatModel.python()), \(model.ggufPath)): run `make models`")
        }
        return model.provider()
    }

    @Test("generation and classification", arguments: LocalChatModel.all.map(\.card.id))
    func generateAndClassify(id: String) async throws {
        let provider = try Self.installed(try #require(LocalChatModel.all.first { $0.card.id == id }))
        defer { Task { await provider.shutdown() } }
        let card = provider.cards[0]

        let started = ContinuousClock.now
        let generated = try await provider.predictOne(textRow("Name three fruits."), parameters: ["max_tokens": .integer(24)])
        let firstCall = ContinuousClock.now - started
        guard case .success(let predictions, let usage) = generated, case .text(let text) = predictions.first?.value else {
            throw TestFailure("\(card.id): \(generated)")
        }
        #expect(!text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(usage.promptTokens > 0)
        #expect(usage.completionTokens > 0 && usage.completionTokens <= 24)

        // A second, timed generation for the tokens/s figure (server warm).
        let timed = ContinuousClock.now
        let again = try await provider.predictOne(textRow("Write one sentence about the sea."), parameters: ["max_tokens": .integer(48)])
        let elapsed = ContinuousClock.now - timed
        guard case .success(_, let timedUsage) = again else { throw TestFailure("\(card.id): \(again)") }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("[\(card.id)] start + first answer \(firstCall); \(timedUsage.completionTokens) tokens in \(elapsed): "
            + "\(String(format: "%.1f", Double(timedUsage.completionTokens) / seconds)) tokens/s (prompt \(timedUsage.promptTokens) tokens, whole request)")

        let classified = try await provider.predictOne(
            textRow("The sky on a clear day has this colour."), targets: [Self.colour], parameters: ["max_tokens": .integer(24)])
        guard case .success(let choice, _) = classified, case .options(let options) = choice.first?.value else {
            throw TestFailure("\(card.id): \(classified)")
        }
        // The grammar built from the schema lets the model answer only an option.
        #expect(options.count == 1)
        #expect(["red", "green", "blue"].contains(options.first ?? ""), "\(options)")
        print("[\(card.id)] sky colour: \(options)")
    }

    @Test("the server is restarted when it dies, and refuses after stop")
    func restartsAfterDeath() async throws {
        let provider = try Self.installed(.smolLM2)
        guard let server = provider.server else { throw TestFailure("no server") }
        _ = try await provider.predictOne(textRow("Say hi."), parameters: ["max_tokens": .integer(4)])
        guard let pid = await server.processID else { throw TestFailure("no process") }
        kill(pid, SIGKILL)
        // Wait for the death to be visible.
        for _ in 0..<100 where await server.processID != nil { try await Task.sleep(for: .milliseconds(50)) }
        let result = try await provider.predictOne(textRow("Say hi."), parameters: ["max_tokens": .integer(4)])
        guard case .success = result else { throw TestFailure("after restart: \(result)") }
        #expect(await server.starts == 2)
        #expect(await server.processID != pid)
        await provider.shutdown()
        #expect(await server.processID == nil)
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("Say hi.")) }
        #expect(error?.kind == .unavailable)
    }

    @Test("a missing model file is a precise error, not a hang")
    func missingModel() async throws {
        let server = LocalLlamaServer(configuration: .init(python: LocalChatModel.python(), modelPath: "/nonexistent/x.gguf", modelAlias: "x"))
        await #expect(throws: LocalServerError("no model file at /nonexistent/x.gguf: run `make models`")) { try await server.start() }
    }

    @Test("document QA with fake OCR and the real SmolLM2")
    func documentQA() async throws {
        let llm = try Self.installed(.smolLM2)
        defer { Task { await llm.shutdown() } }
        let qa = try DocumentQAProvider(ocr: FixedTextOCR(text: DocumentQAScriptedTests.invoice), ocrModel: "tesseract-ocr", llm: llm)
        let results = try await qa.predict(
            PredictRequest(card: qa.card, parameters: ["question": .string("What is the invoice number?"), "max_tokens": .integer(32)], targets: [],
                           rows: [imageRow()]))
        guard case .success(let predictions, let usage)? = results.first, case .text(let answer) = predictions.first?.value else {
            throw TestFailure("\(results)")
        }
        print("[document-qa smollm2] \(answer)")
        #expect(!answer.isEmpty)
        #expect(usage.images == 1 && usage.promptTokens > 20)
    }
}
