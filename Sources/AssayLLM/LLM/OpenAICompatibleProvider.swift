public import AssayModels
public import AssayCore

extension ModelCard {
    /// The parameters every chat model takes.
    public static let chatParameters: [ParameterSpec] = [
        ParameterSpec(
            name: "temperature", kind: .number, description: "Sampling temperature; 0 picks the likeliest token.", defaultValue: .number(0),
            minimum: 0, maximum: 2),
        ParameterSpec(
            name: "max_tokens", kind: .integer, description: "The most tokens the answer may have.", defaultValue: .integer(256), minimum: 1,
            maximum: 4096),
        ParameterSpec(
            name: "seed", kind: .integer, description: "Sampling seed, for repeatable answers at a temperature above 0.",
            defaultValue: .integer(0), minimum: 0, maximum: Double(Int32.max)),
        ParameterSpec(name: "system_prompt", kind: .string, description: "Sent first, as the system message (empty: none).", defaultValue: .string("")),
    ]

    /// The card of a chat model: generation and classification over text and conversations
    /// (and image + question rows when `vision`), priced per 1,000 tokens.
    public static func chatModel(
        id: String, name: String, version: String, description: String = "", pricePer1kTokens microdollars: Int64, provider: String,
        vision: Bool = false
    ) -> ModelCard {
        ModelCard(
            id: id, name: name, version: version, description: description, taskKinds: [.generation, .classification],
            mediaTypes: vision ? [.text, .conversation, .image] : [.text, .conversation], outputKinds: [.freeText, .radio, .checklist], parameters: chatParameters,
            price: Price(unit: .per1kTokens, microdollars: microdollars), provider: provider)
    }
}

/// A chat model behind an OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp,
/// Ollama, TGI, OpenAI), or behind a llama.cpp server Assay starts itself.
public struct OpenAICompatibleConfiguration: Hashable, Sendable {
    public var card: ModelCard
    public var endpoint: ChatEndpoint
    /// Calls in flight at once against the endpoint.
    public var concurrency: Int

    public init(card: ModelCard, endpoint: ChatEndpoint, concurrency: Int = 4) {
        self.card = card
        self.endpoint = endpoint
        self.concurrency = max(1, concurrency)
    }

    /// An external endpoint with a card built from its settings.
    public init(
        id: String, name: String? = nil, version: String = "1", description: String = "", baseURL: String, model: String,
        apiKey: String? = nil, timeout: Duration = .seconds(60), retry: RetryPolicy = RetryPolicy(), concurrency: Int = 4,
        pricePer1kTokens: Int64 = 0, structuredOutput: StructuredOutput = .jsonSchema, vision: Bool = false
    ) {
        self.init(
            card: .chatModel(
                id: id, name: name ?? model, version: version, description: description, pricePer1kTokens: pricePer1kTokens,
                provider: "openai-compatible", vision: vision),
            endpoint: ChatEndpoint(
                baseURL: baseURL, model: model, apiKey: apiKey, timeout: timeout, retry: retry, structuredOutput: structuredOutput),
            concurrency: concurrency)
    }
}

/// Serves one chat model: one row per call (`batchSize` 1), at most `concurrency` calls at
/// once. A row's text (or conversation) is the prompt; an image row (for a vision card) is its
/// question with the image as a content part; when the run maps the model to
/// radio/checklist features the model is asked, with a JSON schema, to choose among their
/// options, and the answer is parsed; otherwise the answer is free text.
public final class OpenAICompatibleProvider: ModelProvider {
    public let configuration: OpenAICompatibleConfiguration
    public let server: LocalLlamaServer?
    private let transport: any HTTPTransport
    private let limit: ConcurrencyLimit

    /// - Parameters:
    ///   - server: when set, Assay starts (and restarts) that llama.cpp server and sends to it;
    ///     the configuration's base URL is then ignored.
    ///   - transport: how HTTP is sent (URLSession by default).
    public init(configuration: OpenAICompatibleConfiguration, server: LocalLlamaServer? = nil, transport: (any HTTPTransport)? = nil) {
        self.configuration = configuration
        self.server = server
        self.transport = transport ?? URLSessionTransport()
        limit = ConcurrencyLimit(configuration.concurrency)
    }

    public var cards: [ModelCard] { [configuration.card] }
    public var batchSize: Int { 1 }
    public var concurrency: Int { configuration.concurrency }

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard request.card.id == configuration.card.id else {
            throw ModelError(.invalidRequest, "model \(request.card.id) is not served here (this provider serves \(configuration.card.id))")
        }
        var results: [RowPrediction] = []
        for row in request.rows {
            results.append(try await predict(row: row, request: request))
        }
        return results
    }

    /// One row: build the chat, send it, read the answer.
    private func predict(row: ModelInput, request: PredictRequest) async throws(ModelError) -> RowPrediction {
        let settings: ChatSettings
        do { settings = try ChatSettings(request.parameters, card: configuration.card) } catch { throw ModelError(.invalidRequest, error.description) }
        let task = Prompting.task(for: request.targets)
        var chat: ChatRequest
        do {
            chat = ChatRequest(
                messages: try Prompting.messages(
                    for: row, systemPrompt: settings.systemPrompt, readsImages: configuration.card.mediaTypes.contains(.image)),
                temperature: settings.temperature,
                maxTokens: settings.maxTokens, seed: settings.seed)
        } catch {
            return .failure(error.message)
        }
        if case .classify(let targets) = task { chat.schema = Prompting.classification(targets, into: &chat.messages) }
        let result: ChatResult
        do {
            result = try await complete(chat)
        } catch {
            if case .rejected = error { return .failure(error.description) }
            throw error.modelError
        }
        switch task {
        case .generate(let modelClass):
            return .success([RawPrediction(modelClass: modelClass, value: .text(result.text))], result.usage)
        case .classify(let targets):
            do {
                return .success(try Prompting.parseClassification(result.text, targets: targets), result.usage)
            } catch {
                return .failure(error.message)
            }
        }
    }

    /// Sends one chat request within the concurrency limit, starting the local server first
    /// when there is one. Also what pipelines (document QA) call.
    public func complete(_ chat: ChatRequest) async throws(ChatError) -> ChatResult {
        do {
            return try await limit.withSlot { () async throws(ChatError) -> ChatResult in
                guard let server else {
                    return try await ChatCompletionsClient(endpoint: configuration.endpoint, transport: transport).complete(chat)
                }
                // A local server that dies during a call is started again once, at a new port.
                var restarted = false
                while true {
                    var endpoint = configuration.endpoint
                    do { endpoint.baseURL = try await server.start() } catch { throw ChatError.unavailable(String(describing: error)) }
                    do throws(ChatError) {
                        return try await ChatCompletionsClient(endpoint: endpoint, transport: transport).complete(chat)
                    } catch {
                        guard case .unavailable = error, !restarted, await server.processID == nil else { throw error }
                        restarted = true
                    }
                }
            }
        } catch let error as ChatError {
            throw error
        } catch {
            throw ChatError.unavailable("cancelled while waiting for a free slot")
        }
    }

    /// Stops the local server, if Assay started one.
    public func shutdown() async {
        await server?.stop()
    }
}

/// The chat parameters of a resolved parameter set.
struct ChatSettings {
    var temperature: Double
    var maxTokens: Int
    var seed: Int64?
    var systemPrompt: String

    init(_ given: [String: ParameterValue], card: ModelCard) throws(ParameterError) {
        let parameters = try card.resolve(given)
        temperature = parameters["temperature"]?.doubleValue ?? 0
        maxTokens = Int(parameters["max_tokens"]?.intValue ?? 256)
        seed = parameters["seed"]?.intValue
        systemPrompt = parameters["system_prompt"]?.stringValue ?? ""
    }
}
