import Testing
import AssayModels
@testable import AssayLLM
import AssayCore

@Suite("--models-config file")
struct ModelsConfigurationTests {
    @Test("an external endpoint and a local GGUF model")
    func parsesBothKinds() throws {
        let json = """
            {"models": [
              {"id": "gpt-4o-mini", "base_url": "https://api.example.com/v1", "model": "gpt-4o-mini", "api_key_env": "TEST_KEY",
               "timeout_seconds": 30, "retries": 2, "concurrency": 8, "price": {"unit": "per_1k_tokens", "microdollars": 600}},
              {"id": "my-gguf", "name": "My GGUF", "local": {"gguf": "/models/x.gguf", "threads": 2}}
            ]}
            """
        let configuration = try ModelsConfiguration.parse(Array(json.utf8), environment: ["TEST_KEY": "sk-1"], cache: "/cache")
        #expect(configuration.providers.count == 2)
        let external = configuration.providers[0]
        #expect(external.cards[0].id == "gpt-4o-mini")
        #expect(external.cards[0].price == Price(unit: .per1kTokens, microdollars: 600))
        #expect(external.cards[0].taskKinds == [.generation, .classification])
        #expect(external.concurrency == 8)
        #expect(external.batchSize == 1)
        #expect(external.configuration.endpoint == ChatEndpoint(
            baseURL: "https://api.example.com/v1", model: "gpt-4o-mini", apiKey: "sk-1", timeout: .seconds(30),
            retry: RetryPolicy(retries: 2), structuredOutput: .jsonSchema))
        #expect(external.server == nil)
        let local = configuration.providers[1]
        #expect(local.cards[0].name == "My GGUF")
        #expect(local.cards[0].provider == "llama.cpp")
        #expect(local.concurrency == 1)
        #expect(local.configuration.endpoint.structuredOutput == .jsonObjectSchema)
        #expect(local.server?.configuration == LocalLlamaServer.Configuration(
            python: "/cache/llama-cpp-\(LocalChatModel.llamaCppVersion)/bin/python", modelPath: "/models/x.gguf", modelAlias: "my-gguf", threads: 2))
    }

    @Test(
        "bad configurations name the entry and the field",
        arguments: [
            (#"{"models": [{"id": "a", "model": "m"}]}"#, "models[0]: base_url (http:// or https://) is required unless local is given"),
            (#"{"models": [{"id": "a", "base_url": "ftp://x", "model": "m"}]}"#, "models[0]: base_url (http:// or https://) is required"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1"}]}"#, "models[0]: model is required with base_url"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "api_key_env": "NOPE"}]}"#, "api_key_env names NOPE, which is not set"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "price": {"unit": "per_1k_tokens", "microdollars": 1.5}}]}"#, "microdollars"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "price": {"unit": "per_image", "microdollars": 1}}]}"#, "price.unit must be per_1k_tokens or free"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "retries": 99}]}"#, "retries must be in 0...10"),
            (#"{"models": [{"id": "a b", "base_url": "http://x/v1", "model": "m"}]}"#, #"id "a b" must be"#),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m"}, {"id": "a", "base_url": "http://y/v1", "model": "m"}]}"#, "models[1]: id a appears twice"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "structured_output": "xml"}]}"#, "structured_output must be one of"),
            (#"{"models": [{"id": "a", "local": {"gguf": "relative.gguf"}}]}"#, "local.gguf must be an absolute path"),
            (#"{"models": [{"id": "a", "base_url": "http://x/v1", "model": "m", "timeout": 5}]}"#, "unknown field timeout"),
            (#"{"modles": []}"#, "unknown field modles"),
            (#"{}"#, "models is required"),
            (#"{"models": [}"#, "not valid JSON"),
        ])
    func rejects(json: String, expected: String) {
        do {
            _ = try ModelsConfiguration.parse(Array(json.utf8), environment: [:], source: "test.json")
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.hasPrefix("test.json"))
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
