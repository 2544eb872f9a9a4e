import Foundation
import Testing
import AssayModels
@testable import AssayLLM
import AssayCore

/// The scripted chat-completions server (chat_server.py), started once for the test process
/// on a free port; it exits when the test process does.
actor TestChatServer {
    static let shared = TestChatServer()
    /// The one start; callers that come while it runs await the same task (actor reentrancy
    /// would otherwise let two callers start two servers).
    private var starting: Task<String, any Error>?
    let transport = URLSessionTransport()

    /// The server's root URL, such as `http://127.0.0.1:40123`.
    func root() async throws -> String {
        if let starting { return try await starting.value }
        let transport = self.transport
        let task = Task { try await Self.start(transport: transport) }
        starting = task
        return try await task.value
    }

    private static func start(transport: URLSessionTransport) async throws -> String {
        let port = try LocalLlamaServer.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("chat_server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(port)]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let root = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let response = try? await transport.send(HTTPRequest(method: "GET", url: root + "/calls/ping"), timeout: .seconds(1)),
                response.status == 200
            {
                return root
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("chat_server.py did not start on port \(port)")
    }

    /// The base URL of `mode` for a fresh key: `http://127.0.0.1:P/<mode>/<key>/v1`.
    func baseURL(_ mode: String, key: String = UUID().uuidString) async throws -> (url: String, key: String) {
        ("\(try await root())/\(mode)/\(key)/v1", key)
    }

    /// How many chat calls `key` received, and the last request body and Authorization header.
    func calls(_ key: String) async throws -> (count: Int, body: JSONValue?, authorization: String?) {
        let response = try await transport.send(HTTPRequest(method: "GET", url: "\(try await root())/calls/\(key)"), timeout: .seconds(5))
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        guard case .integer(let count)? = value["calls"] else { throw TestFailure("bad /calls answer") }
        return (Int(count), value["last"]?["body"], value["last"]?["authorization"]?.stringValue)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A provider for `mode` of the test server, with a fresh key.
func testProvider(
    _ mode: String, retry: RetryPolicy = RetryPolicy(retries: 3, initialBackoff: .milliseconds(10)), timeout: Duration = .seconds(10),
    apiKey: String? = nil, concurrency: Int = 2, vision: Bool = false
) async throws -> (provider: OpenAICompatibleProvider, key: String) {
    let (url, key) = try await TestChatServer.shared.baseURL(mode)
    let configuration = OpenAICompatibleConfiguration(
        id: "test-chat", baseURL: url, model: "test-model", apiKey: apiKey, timeout: timeout, retry: retry, concurrency: concurrency,
        pricePer1kTokens: 150, vision: vision)
    return (OpenAICompatibleProvider(configuration: configuration, transport: TestChatServer.shared.transport), key)
}

func textRow(_ text: String, mediaType: MediaType = .text, metadata: [String: String] = [:]) -> ModelInput {
    ModelInput(rowID: ObjectID(rawValue: "dr_test"), mediaType: mediaType, text: text, metadata: metadata)
}

extension OpenAICompatibleProvider {
    /// Predicts one row with the card's default parameters merged with `parameters`.
    func predictOne(_ row: ModelInput, targets: [TargetFeature] = [], parameters: [String: ParameterValue] = [:]) async throws -> RowPrediction {
        let card = cards[0]
        let results = try await predict(PredictRequest(card: card, parameters: try card.resolve(parameters), targets: targets, rows: [row]))
        guard results.count == 1 else { throw TestFailure("expected one result, got \(results.count)") }
        return results[0]
    }
}
