public import AssayModels
import Foundation
import AssayCore

/// The chat models of `assay serve --models-config FILE`: a JSON file listing external
/// OpenAI-compatible endpoints and local GGUF models Assay serves itself. Format (see
/// docs/models.md, "LLMs"):
///
/// ```json
/// {"models": [
///   {"id": "gpt-4o-mini", "base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini",
///    "api_key_env": "OPENAI_API_KEY", "timeout_seconds": 60, "retries": 3, "concurrency": 4,
///    "price": {"unit": "per_1k_tokens", "microdollars": 600}, "vision": true},
///   {"id": "my-gguf", "local": {"gguf": "/models/x.gguf", "threads": 2}}
/// ]}
/// ```
public struct ModelsConfiguration: Sendable {
    public var providers: [OpenAICompatibleProvider]

    /// Reads and checks the file; every error names the entry and field.
    public static func load(path: String, environment: [String: String]? = nil, cache: String = LocalChatModel.defaultCache)
        throws(ModelsConfigurationError) -> ModelsConfiguration
    {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelsConfigurationError("cannot read \(path)") }
        return try parse([UInt8](data), environment: environment ?? ProcessInfo.processInfo.environment, cache: cache, source: path)
    }

    /// Parses a configuration's bytes.
    public static func parse(_ bytes: [UInt8], environment: [String: String] = [:], cache: String = LocalChatModel.defaultCache, source: String = "models config")
        throws(ModelsConfigurationError) -> ModelsConfiguration
    {
        if let raw = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) { try checkFields(raw, source: source) }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(bytes)) } catch {
            throw ModelsConfigurationError("\(source): \(Self.describe(error))")
        }
        var seen: Set<String> = []
        var providers: [OpenAICompatibleProvider] = []
        for (index, entry) in file.models.enumerated() {
            let at = "\(source): models[\(index)]"
            guard !entry.id.isEmpty, entry.id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ModelsConfigurationError("\(at): id \"\(entry.id)\" must be letters, digits, '-', '_' or '.'")
            }
            guard seen.insert(entry.id).inserted else { throw ModelsConfigurationError("\(at): id \(entry.id) appears twice") }
            let price = entry.price ?? PriceEntry(unit: Price.Unit.per1kTokens.rawValue, microdollars: 0)
            guard price.unit == Price.Unit.per1kTokens.rawValue || price.unit == Price.Unit.free.rawValue else {
                throw ModelsConfigurationError("\(at): price.unit must be per_1k_tokens or free, not \(price.unit)")
            }
            guard price.microdollars >= 0 else { throw ModelsConfigurationError("\(at): price.microdollars must not be negative") }
            let timeout = entry.timeout_seconds ?? 60
            guard timeout > 0, timeout <= 3600 else { throw ModelsConfigurationError("\(at): timeout_seconds must be in 1...3600") }
            let retries = entry.retries ?? 3
            guard (0...10).contains(retries) else { throw ModelsConfigurationError("\(at): retries must be in 0...10") }
            let concurrency = entry.concurrency ?? (entry.local == nil ? 4 : 1)
            guard (1...256).contains(concurrency) else { throw ModelsConfigurationError("\(at): concurrency must be in 1...256") }
            var apiKey = entry.api_key
            if let variable = entry.api_key_env {
                guard let value = environment[variable], !value.isEmpty else {
                    throw ModelsConfigurationError("\(at): api_key_env names \(variable), which is not set")
                }
                apiKey = value
            }
            let structured: StructuredOutput
            if let name = entry.structured_output {
                guard let value = StructuredOutput(rawValue: name) else {
                    throw ModelsConfigurationError(
                        "\(at): structured_output must be one of \(StructuredOutput.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                structured = value
            } else {
                structured = entry.local == nil ? .jsonSchema : .jsonObjectSchema
            }
            let card = ModelCard.chatModel(
                id: entry.id, name: entry.name ?? entry.model ?? entry.id, version: entry.version ?? "1", description: entry.description ?? "",
                pricePer1kTokens: price.unit == "free" ? 0 : price.microdollars, provider: entry.local == nil ? "openai-compatible" : "llama.cpp",
                vision: entry.vision ?? false)
            let retry = RetryPolicy(retries: retries)
            if let local = entry.local {
                guard entry.base_url == nil else { throw ModelsConfigurationError("\(at): give either base_url or local, not both") }
                guard local.gguf.hasPrefix("/") else { throw ModelsConfigurationError("\(at): local.gguf must be an absolute path") }
                let threads = local.threads ?? 1
                guard (1...64).contains(threads) else { throw ModelsConfigurationError("\(at): local.threads must be in 1...64") }
                let server = LocalLlamaServer(
                    configuration: .init(
                        python: local.python ?? LocalChatModel.python(cache: cache), modelPath: local.gguf, modelAlias: entry.id, threads: threads,
                        contextSize: local.context_size ?? 2048, chatFormat: local.chat_format))
                let endpoint = ChatEndpoint(
                    baseURL: "", model: entry.id, timeout: .seconds(timeout), retry: retry, structuredOutput: structured)
                providers.append(
                    OpenAICompatibleProvider(
                        configuration: OpenAICompatibleConfiguration(card: card, endpoint: endpoint, concurrency: concurrency), server: server))
            } else {
                guard let baseURL = entry.base_url, baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
                    throw ModelsConfigurationError("\(at): base_url (http:// or https://) is required unless local is given")
                }
                guard let model = entry.model, !model.isEmpty else { throw ModelsConfigurationError("\(at): model is required with base_url") }
                let endpoint = ChatEndpoint(
                    baseURL: baseURL, model: model, apiKey: apiKey, timeout: .seconds(timeout), retry: retry, structuredOutput: structured)
                providers.append(
                    OpenAICompatibleProvider(configuration: OpenAICompatibleConfiguration(card: card, endpoint: endpoint, concurrency: concurrency)))
            }
        }
        return ModelsConfiguration(providers: providers)
    }

    private static let entryFields: Set<String> = [
        "id", "name", "version", "description", "base_url", "model", "api_key", "api_key_env", "timeout_seconds", "retries", "concurrency",
        "price", "structured_output", "local", "vision",
    ]

    /// Refuses fields the format does not have, so a misspelt setting is not silently ignored.
    private static func checkFields(_ raw: JSONValue, source: String) throws(ModelsConfigurationError) {
        func check(_ value: JSONValue?, _ known: Set<String>, at: String) throws(ModelsConfigurationError) {
            guard case .object(let object)? = value else { return }
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw ModelsConfigurationError("\(at): unknown field \(unknown) (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        try check(raw, ["models"], at: source)
        guard case .array(let entries)? = raw["models"] else { return }
        for (index, entry) in entries.enumerated() {
            let at = "\(source): models[\(index)]"
            try check(entry, entryFields, at: at)
            try check(entry["price"], ["unit", "microdollars"], at: at + ".price")
            if let amount = entry["price"]?["microdollars"], case .integer = amount {} else if entry["price"]?["microdollars"] != nil {
                throw ModelsConfigurationError("\(at).price.microdollars must be a whole number of micro-dollars (1 USD = 1,000,000)")
            }
            try check(entry["local"], ["gguf", "threads", "context_size", "python", "chat_format"], at: at + ".local")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is required"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(type), not null"
        case .dataCorrupted(let context): return "not valid JSON at \(path(context)): \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }

    private struct File: Decodable {
        var models: [Entry]
    }
    private struct PriceEntry: Decodable {
        var unit: String
        var microdollars: Int64
    }
    private struct LocalEntry: Decodable {
        var gguf: String
        var threads: Int?
        var context_size: Int?
        var python: String?
        var chat_format: String?
    }
    private struct Entry: Decodable {
        var id: String
        var name: String?
        var version: String?
        var description: String?
        var base_url: String?
        var model: String?
        var api_key: String?
        var api_key_env: String?
        var timeout_seconds: Int64?
        var retries: Int?
        var concurrency: Int?
        var price: PriceEntry?
        var structured_output: String?
        var local: LocalEntry?
        /// The endpoint reads image content parts: image + question rows go to it.
        var vision: Bool?
    }
}

public struct ModelsConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
