import AssaySync
import Testing
import AssayModels
@testable import AssayLLM
import AssayCore

/// Stands in for the OCR provider: answers every row with fixed page text (and a word box,
/// as a real OCR does), or with a row failure for rows whose bytes are empty.
final class FixedTextOCR: ModelProvider {
    let text: String
    let requests = Lock<[PredictRequest]>([])
    init(text: String) { self.text = text }

    var cards: [ModelCard] {
        [ModelCard(id: "tesseract-ocr", name: "Fixed OCR", version: "test", taskKinds: [.ocr], mediaTypes: [.image, .document], outputKinds: [.freeText],
                   parameters: [ParameterSpec(name: "language", kind: .string, defaultValue: .string("eng"))], price: Price(unit: .perImage, microdollars: 1000),
                   provider: "test")]
    }
    var batchSize: Int { 4 }
    var concurrency: Int { 2 }

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        requests.withLock { $0.append(request) }
        return request.rows.map { row in
            row.content.isEmpty
                ? .failure("empty image")
                : .success(
                    [RawPrediction(modelClass: "text", value: .text(text)), RawPrediction(modelClass: "word", value: .box(left: 1, top: 2, width: 3, height: 4))],
                    ModelUsage(images: 1))
        }
    }
}

func imageRow(metadata: [String: String] = [:], bytes: [UInt8] = [0x89, 0x50, 0x4e, 0x47]) -> ModelInput {
    ModelInput(rowID: ObjectID(rawValue: "dr_doc"), mediaType: .image, content: bytes, metadata: metadata)
}

@Suite("Document QA pipeline (fake OCR, scripted chat server)")
struct DocumentQAScriptedTests {
    static let invoice = "ACME Corp\nInvoice number: INV-2041\nTotal due: $1,234.50\nDue date: 2026-12-01"

    @Test("OCR text and the question from the run's parameter reach the LLM; its answer is the output")
    func questionFromParameter() async throws {
        let ocr = FixedTextOCR(text: Self.invoice)
        let (llm, key) = try await testProvider("ok")
        let qa = try DocumentQAProvider(ocr: ocr, ocrModel: "tesseract-ocr", llm: llm)
        #expect(qa.card.id == "document-qa-test-chat")
        #expect(qa.card.taskKinds == [.documentQA])
        let results = try await qa.predict(
            PredictRequest(card: qa.card, parameters: ["question": .string("What is the total due?")], targets: [TargetFeature(modelClass: "answer", kind: .freeText)],
                           rows: [imageRow()]))
        guard case .success(let predictions, let usage)? = results.first, results.count == 1 else { throw TestFailure("got \(results)") }
        // The scripted server echoes the user message: it must hold the page and the question.
        guard case .text(let answer) = predictions[0].value else { throw TestFailure("not text: \(predictions)") }
        #expect(predictions[0].modelClass == "answer")
        #expect(answer.contains("Total due: $1,234.50"))
        #expect(answer.hasSuffix("Question: What is the total due?"))
        #expect(usage == ModelUsage(promptTokens: 12, completionTokens: 7, images: 1))
        let sent = ocr.requests.withLock { $0 }
        #expect(sent.count == 1)
        #expect(sent[0].card.id == "tesseract-ocr")
        #expect(sent[0].parameters == ["language": .string("eng")])
        let body = try await TestChatServer.shared.calls(key).body
        guard case .array(let messages)? = body?["messages"] else { throw TestFailure("no messages") }
        #expect(messages.first?["role"] == .string("system"))
    }

    @Test("the question falls back to the row's metadata; no question at all fails the row")
    func questionFromMetadata() async throws {
        let (llm, key) = try await testProvider("ok")
        let qa = try DocumentQAProvider(ocr: FixedTextOCR(text: Self.invoice), ocrModel: "tesseract-ocr", llm: llm)
        let results = try await qa.predict(
            PredictRequest(card: qa.card, parameters: [:], targets: [], rows: [imageRow(metadata: ["question": "Who issued it?"]), imageRow()]))
        guard case .success(let predictions, _) = results[0], case .text(let answer) = predictions[0].value else { throw TestFailure("got \(results)") }
        #expect(answer.hasSuffix("Question: Who issued it?"))
        #expect(results[1] == .failure(#"no question: set the run parameter "question" or the row's metadata "question""#))
        #expect(try await TestChatServer.shared.calls(key).count == 1)
    }

    @Test("an OCR row failure is the row's failure, and the LLM is not called")
    func ocrFailure() async throws {
        let (llm, key) = try await testProvider("ok")
        let qa = try DocumentQAProvider(ocr: FixedTextOCR(text: "x"), ocrModel: "tesseract-ocr", llm: llm)
        let results = try await qa.predict(PredictRequest(card: qa.card, parameters: ["question": .string("q")], targets: [], rows: [imageRow(bytes: [])]))
        #expect(results == [.failure("OCR (tesseract-ocr) failed: empty image")])
        #expect(try await TestChatServer.shared.calls(key).count == 0)
    }

    @Test("a long page is cut to the context limit, and the prompt says so")
    func longPageIsCut() {
        let prompt = DocumentQAProvider.prompt(question: "q?", document: String(repeating: "word ", count: 2000), limit: 300)
        #expect(prompt.count < 500)
        #expect(prompt.contains("only its beginning is shown"))
    }

    @Test("an OCR model the provider does not serve is refused")
    func unknownOCRModel() async throws {
        let (llm, _) = try await testProvider("ok")
        #expect(throws: ModelError.self) { try DocumentQAProvider(ocr: FixedTextOCR(text: "x"), ocrModel: "paddle-ocr", llm: llm) }
    }
}
