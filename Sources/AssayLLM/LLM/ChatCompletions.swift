public import AssayModels
import Foundation
import AssayCore

/// One message of a chat, as the chat-completions API names roles (`system`, `user`,
/// `assistant`). A message with images is sent as content parts: the text, then one
/// `image_url` part per image (a `data:` URL of the bytes, or the image's http(s) URL), the
/// form OpenAI-compatible vision endpoints read.
public struct ChatMessage: Hashable, Sendable, Codable {
    public var role: String
    public var content: String
    public var images: [ChatImage]

    public init(role: String, content: String, images: [ChatImage] = []) {
        self.role = role
        self.content = content
        self.images = images
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String, images: [ChatImage] = []) -> ChatMessage {
        ChatMessage(role: "user", content: content, images: images)
    }

    private enum CodingKeys: String, CodingKey { case role, content }

    private struct Part: Codable {
        struct ImageURL: Codable { var url: String }
        var type: String
        var text: String?
        var image_url: ImageURL?
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        if images.isEmpty {
            try c.encode(content, forKey: .content)
        } else {
            let parts = [Part(type: "text", text: content)] + images.map { Part(type: "image_url", image_url: .init(url: $0.url)) }
            try c.encode(parts, forKey: .content)
        }
    }

    /// Reads `{role, content}` with content a string or a list of parts (text and image URLs).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        if let text = try? c.decode(String.self, forKey: .content) {
            content = text
            images = []
        } else {
            let parts = try c.decode([Part].self, forKey: .content)
            content = parts.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            images = parts.compactMap { $0.type == "image_url" ? $0.image_url.map { ChatImage(url: $0.url) } : nil }
        }
    }
}

/// An image in a chat message: its URL as the endpoint receives it.
public struct ChatImage: Hashable, Sendable {
    /// `data:<mime type>;base64,<bytes>` or an http(s) URL.
    public var url: String

    public init(url: String) { self.url = url }

    /// The encoded image bytes as a `data:` URL; nil when they are not PNG, JPEG, GIF or WebP.
    public init?(encoded bytes: [UInt8]) {
        guard let type = Self.mimeType(bytes) else { return nil }
        url = "data:\(type);base64," + Data(bytes).base64EncodedString()
    }

    /// The image type the leading bytes announce.
    public static func mimeType(_ b: [UInt8]) -> String? {
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) { return "image/gif" }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        return nil
    }
}

/// How an endpoint is asked to answer in JSON that fits a schema.
public enum StructuredOutput: String, Hashable, Sendable, CaseIterable, Codable {
    /// `response_format: {type: json_schema, json_schema: {name, schema, strict}}`: OpenAI,
    /// vLLM, Ollama, TGI.
    case jsonSchema = "json_schema"
    /// `response_format: {type: json_object, schema}`: llama-cpp-python's server, which turns
    /// the schema into a grammar.
    case jsonObjectSchema = "json_object_schema"
    /// No response_format: the schema is only described in the prompt.
    case promptOnly = "prompt_only"
}

/// A chat-completions request in Assay's terms.
public struct ChatRequest: Hashable, Sendable {
    public var messages: [ChatMessage]
    public var temperature: Double
    public var maxTokens: Int
    public var seed: Int64?
    /// A JSON schema the answer must fit.
    public var schema: ResponseSchema?

    public init(messages: [ChatMessage], temperature: Double = 0, maxTokens: Int = 256, seed: Int64? = nil) {
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// A JSON schema an answer must fit, and the name endpoints want for it.
public struct ResponseSchema: Hashable, Sendable {
    public var name: String
    public var schema: JSONValue

    public init(name: String, schema: JSONValue) {
        self.name = name
        self.schema = schema
    }
}

/// What came back: the first choice's text and the tokens the endpoint counted.
public struct ChatResult: Hashable, Sendable {
    public var text: String
    public var finishReason: String?
    public var usage: ModelUsage
}

/// Where a chat-completions endpoint is and how to talk to it.
public struct ChatEndpoint: Hashable, Sendable {
    /// Up to and including the API version, such as `http://127.0.0.1:8080/v1`; the client
    /// appends `/chat/completions`.
    public var baseURL: String
    /// The `model` field of requests.
    public var model: String
    /// Sent as `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// The most one attempt may take, response body included.
    public var timeout: Duration
    public var retry: RetryPolicy
    public var structuredOutput: StructuredOutput

    public init(
        baseURL: String, model: String, apiKey: String? = nil, timeout: Duration = .seconds(60), retry: RetryPolicy = RetryPolicy(),
        structuredOutput: StructuredOutput = .jsonSchema
    ) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
        self.retry = retry
        self.structuredOutput = structuredOutput
    }
}

/// Why a chat call failed, split the way a provider must react.
public enum ChatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The endpoint refused this request's content (400, 413, 422): the row fails, others go on.
    case rejected(status: Int, message: String)
    /// The request can never work (401, 403, 404, bad URL): fails the whole call.
    case invalid(String)
    /// Down, overloaded or too slow, after every retry.
    case unavailable(String)
    /// The endpoint answered something that is not a chat completion.
    case malformed(String)

    public var description: String {
        switch self {
        case .rejected(let status, let message): "endpoint rejected the request (HTTP \(status)): \(message)"
        case .invalid(let message), .unavailable(let message), .malformed(let message): message
        }
    }

    /// The batch-level error for a provider to throw.
    public var modelError: ModelError {
        switch self {
        case .rejected, .invalid: ModelError(.invalidRequest, description)
        case .unavailable: ModelError(.unavailable, description)
        case .malformed: ModelError(.internal, description)
        }
    }
}

/// A client of one OpenAI-compatible `/chat/completions` endpoint: builds the JSON, retries
/// what is worth retrying with backoff, and reads the answer and its token usage.
public struct ChatCompletionsClient: Sendable {
    public let endpoint: ChatEndpoint
    private let transport: any HTTPTransport

    public init(endpoint: ChatEndpoint, transport: any HTTPTransport) {
        self.endpoint = endpoint
        self.transport = transport
    }

    /// Sends `request`, retrying per the endpoint's policy.
    public func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        let http = try httpRequest(for: request)
        var retry = 0
        while true {
            let failure: ChatError
            var retryAfter: Duration?
            do {
                let response = try await transport.send(http, timeout: endpoint.timeout)
                if (200...299).contains(response.status) { return try Self.parse(response.body) }
                let message = Self.errorMessage(response.body)
                if !RetryPolicy.isRetryable(status: response.status) {
                    switch response.status {
                    case 400, 413, 422: throw ChatError.rejected(status: response.status, message: message)
                    default: throw ChatError.invalid("endpoint \(endpoint.baseURL) answered HTTP \(response.status): \(message)")
                    }
                }
                failure = .unavailable("endpoint \(endpoint.baseURL) answered HTTP \(response.status): \(message)")
                retryAfter = response.headers["retry-after"].flatMap { Int64($0) }.map { Duration.seconds($0) }
            } catch let error as ChatError {
                throw error
            } catch let error as HTTPError {
                switch error {
                case .invalidURL: throw ChatError.invalid("endpoint \(endpoint.baseURL): \(error)")
                case .cancelled: throw ChatError.unavailable("cancelled")
                case .connection, .timedOut: failure = .unavailable("endpoint \(endpoint.baseURL): \(error)")
                }
            } catch {
                failure = .unavailable("endpoint \(endpoint.baseURL): \(error)")
            }
            retry += 1
            if retry > endpoint.retry.retries {
                if case .unavailable(let message) = failure, endpoint.retry.retries > 0 {
                    throw ChatError.unavailable("\(message) (after \(endpoint.retry.retries + 1) attempts)")
                }
                throw failure
            }
            do {
                try await Task.sleep(for: endpoint.retry.backoff(beforeRetry: retry, retryAfter: retryAfter))
            } catch {
                throw ChatError.unavailable("cancelled while waiting to retry: \(failure)")
            }
        }
    }

    /// The HTTP request for `request` (public so tests can look at the JSON).
    public func httpRequest(for request: ChatRequest) throws(ChatError) -> HTTPRequest {
        var body = RequestBody(
            model: endpoint.model, messages: request.messages, temperature: request.temperature, max_tokens: request.maxTokens,
            seed: request.seed)
        if let schema = request.schema {
            switch endpoint.structuredOutput {
            case .jsonSchema:
                body.response_format = .object([
                    "type": .string("json_schema"),
                    "json_schema": .object(["name": .string(schema.name), "schema": schema.schema, "strict": .bool(true)]),
                ])
            case .jsonObjectSchema:
                body.response_format = .object(["type": .string("json_object"), "schema": schema.schema])
            case .promptOnly:
                break
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do { bytes = [UInt8](try encoder.encode(body)) } catch { throw .invalid("cannot encode the request: \(error)") }
        var url = endpoint.baseURL
        while url.hasSuffix("/") { url.removeLast() }
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key = endpoint.apiKey, !key.isEmpty { headers["Authorization"] = "Bearer \(key)" }
        return HTTPRequest(method: "POST", url: url + "/chat/completions", headers: headers, body: bytes)
    }

    /// Reads a chat-completion body: the first choice's message content and `usage`.
    public static func parse(_ body: [UInt8]) throws(ChatError) -> ChatResult {
        let decoded: ResponseBody
        do { decoded = try JSONDecoder().decode(ResponseBody.self, from: Data(body)) } catch {
            throw .malformed("endpoint answered a body that is not a chat completion: \(error): \(Self.preview(body))")
        }
        guard let choice = decoded.choices.first else { throw .malformed("endpoint answered no choices: \(Self.preview(body))") }
        let usage = ModelUsage(
            promptTokens: decoded.usage?.prompt_tokens ?? 0, completionTokens: decoded.usage?.completion_tokens ?? 0)
        return ChatResult(text: choice.message.content ?? "", finishReason: choice.finish_reason, usage: usage)
    }

    /// The `error.message` of an error body, or the start of the body.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) {
            if let message = value["error"]?["message"]?.stringValue ?? value["error"]?.stringValue ?? value["detail"]?.stringValue
                ?? value["message"]?.stringValue
            {
                return message
            }
        }
        return preview(body)
    }

    static func preview(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return body.count > 300 ? text + "…" : text
    }

    private struct RequestBody: Encodable {
        var model: String
        var messages: [ChatMessage]
        var temperature: Double
        var max_tokens: Int
        var seed: Int64?
        var response_format: JSONValue?
        var stream = false
    }

    private struct ResponseBody: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message
            var finish_reason: String?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int64?
            var completion_tokens: Int64?
        }
        var choices: [Choice]
        var usage: Usage?
    }
}
