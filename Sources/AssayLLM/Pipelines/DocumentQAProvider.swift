public import AssayModels
import Foundation
public import AssayCore

/// Answers questions about document images: an OCR model reads the image, then a chat model
/// answers the question with the OCR text as context. The question comes from the run's
/// `question` parameter or, when that is empty, from the row's metadata `question`.
public struct DocumentQAProvider: ModelProvider {
    public let card: ModelCard
    private let ocr: any ModelProvider
    private let ocrCard: ModelCard
    private let llm: OpenAICompatibleProvider
    /// The most characters of OCR text put in the prompt (the rest is cut, and the prompt
    /// says so), so that a long page cannot overflow a small model's context.
    public let maximumContextCharacters: Int

    /// - Parameters:
    ///   - ocr: serves `ocrModel` (its output: a `text` prediction with the page's text).
    ///   - llm: the chat model that answers.
    ///   - id: the card id; by default `document-qa-<llm card id>`.
    ///   - price: by default the chat model's price per 1,000 tokens.
    public init(
        ocr: any ModelProvider, ocrModel: String, llm: OpenAICompatibleProvider, id: String? = nil, price: Price? = nil,
        maximumContextCharacters: Int = 4000
    ) throws(ModelError) {
        guard let ocrCard = ocr.cards.first(where: { $0.id == ocrModel }) else {
            throw ModelError(.invalidRequest, "the OCR provider does not serve \(ocrModel) (it serves \(ocr.cards.map(\.id).joined(separator: ", ")))")
        }
        let chat = llm.configuration.card
        self.ocr = ocr
        self.ocrCard = ocrCard
        self.llm = llm
        self.maximumContextCharacters = max(200, maximumContextCharacters)
        card = ModelCard(
            id: id ?? "document-qa-\(chat.id)", name: "Document QA (\(ocrCard.name) + \(chat.name))", version: "\(ocrCard.version)+\(chat.version)",
            description: "Reads a document image with \(ocrCard.id), then answers the question with \(chat.id).",
            taskKinds: [.documentQA], mediaTypes: [.image, .document], outputKinds: [.freeText],
            parameters: [
                ParameterSpec(
                    name: "question", kind: .string, description: "The question; empty: the row's metadata \"question\".", defaultValue: .string(""))
            ] + ModelCard.chatParameters.filter { $0.name != "system_prompt" },
            price: price ?? chat.price, provider: "pipeline")
    }

    public var cards: [ModelCard] { [card] }
    public var batchSize: Int { 1 }
    public var concurrency: Int { min(ocr.concurrency, llm.concurrency) }

    public static let systemPrompt =
        "You answer questions about a document using only its text, which was read by OCR and may contain errors. "
        + "Answer briefly. If the text does not contain the answer, say that the document does not say."

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard request.card.id == card.id else { throw ModelError(.invalidRequest, "model \(request.card.id) is not served here (this is \(card.id))") }
        let parameters: [String: ParameterValue]
        do { parameters = try card.resolve(request.parameters) } catch { throw ModelError(.invalidRequest, error.description) }
        let ocrParameters: [String: ParameterValue]
        do { ocrParameters = try ocrCard.resolve([:]) } catch { throw ModelError(.internal, "OCR card \(ocrCard.id): \(error)") }
        let modelClass = request.targets.first { $0.kind == .freeText }?.modelClass ?? "answer"

        var results: [RowPrediction] = []
        for row in request.rows {
            let asked = parameters["question"]?.stringValue ?? ""
            let question = (asked.isEmpty ? row.metadata["question"] ?? "" : asked).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !question.isEmpty else {
                results.append(.failure("no question: set the run parameter \"question\" or the row's metadata \"question\""))
                continue
            }
            let read = try await ocr.predict(
                PredictRequest(card: ocrCard, parameters: ocrParameters, targets: [TargetFeature(modelClass: "text", kind: .freeText)], rows: [row]))
            guard read.count == 1 else { throw ModelError(.internal, "\(ocrCard.id) returned \(read.count) results for 1 row") }
            let predictions: [RawPrediction]
            let ocrUsage: ModelUsage
            switch read[0] {
            case .failure(let message):
                results.append(.failure("OCR (\(ocrCard.id)) failed: \(message)"))
                continue
            case .success(let p, let usage):
                predictions = p
                ocrUsage = usage
            }
            let pageText = Self.text(of: predictions)
            var messages = [ChatMessage.system(Self.systemPrompt), .user(Self.prompt(question: question, document: pageText, limit: maximumContextCharacters))]
            if pageText.isEmpty { messages[1].content = "The OCR found no text in the document.\n\nQuestion: \(question)" }
            let chat = ChatRequest(
                messages: messages, temperature: parameters["temperature"]?.doubleValue ?? 0,
                maxTokens: Int(parameters["max_tokens"]?.intValue ?? 256), seed: parameters["seed"]?.intValue)
            let answer: ChatResult
            do { answer = try await llm.complete(chat) } catch {
                if case .rejected = error {
                    results.append(.failure(error.description))
                    continue
                }
                throw error.modelError
            }
            let usage = ModelUsage(
                promptTokens: ocrUsage.promptTokens + answer.usage.promptTokens,
                completionTokens: ocrUsage.completionTokens + answer.usage.completionTokens, images: max(ocrUsage.images, 1))
            results.append(.success([RawPrediction(modelClass: modelClass, value: .text(Self.clean(answer.text)))], usage))
        }
        return results
    }

    /// The page text of an OCR result: its `text` prediction, else every text value joined.
    static func text(of predictions: [RawPrediction]) -> String {
        var texts: [String] = []
        for prediction in predictions {
            if case .text(let value) = prediction.value {
                if prediction.modelClass == "text" { return value.trimmingCharacters(in: .whitespacesAndNewlines) }
                texts.append(value)
            }
        }
        return texts.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The user message: the document between markers, cut at `limit` characters, then the question.
    static func prompt(question: String, document: String, limit: Int) -> String {
        var text = document
        var note = ""
        if text.count > limit {
            text = String(text.prefix(limit))
            note = "\n(The document continues; only its beginning is shown.)"
        }
        return "Document text:\n\"\"\"\n\(text)\n\"\"\"\(note)\n\nQuestion: \(question)"
    }

    static func clean(_ answer: String) -> String {
        answer.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
