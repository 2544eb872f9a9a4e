import Foundation
import AssaySync
import Testing
import AssayModels
@testable import AssayLLM
import AssayCore

/// The chat-completions client and provider against the scripted server (chat_server.py).
@Suite("OpenAI-compatible chat endpoint")
struct ChatCompletionsTests {
    @Test("two 500s then 200: retried with backoff, succeeds on the third call")
    func retriesServerErrors() async throws {
        let (provider, key) = try await testProvider("flaky")
        let result = try await provider.predictOne(textRow("hello"))
        #expect(result == .success([RawPrediction(modelClass: "text", value: .text("echo: hello"))], ModelUsage(promptTokens: 14, completionTokens: 7)))
        #expect(try await TestChatServer.shared.calls(key).count == 3)
    }

    @Test("retries run out: the call fails as unavailable after 1 + retries attempts")
    func retriesRunOut() async throws {
        let (provider, key) = try await testProvider("flaky", retry: RetryPolicy(retries: 1, initialBackoff: .milliseconds(10)))
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hello")) }
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains("HTTP 500") == true)
        #expect(error?.message.contains("after 2 attempts") == true)
        #expect(try await TestChatServer.shared.calls(key).count == 2)
    }

    @Test("429 with Retry-After is retried")
    func retriesTooManyRequests() async throws {
        let (provider, key) = try await testProvider("busy")
        let result = try await provider.predictOne(textRow("hi"))
        guard case .success(let predictions, _) = result else { throw TestFailure("expected success, got \(result)") }
        #expect(predictions == [RawPrediction(modelClass: "text", value: .text("echo: hi"))])
        #expect(try await TestChatServer.shared.calls(key).count == 2)
    }

    @Test("400 is not retried and fails only the row, with the endpoint's message")
    func badRequestIsRowFailure() async throws {
        let (provider, key) = try await testProvider("bad")
        let result = try await provider.predictOne(textRow("a very long prompt"))
        guard case .failure(let message) = result else { throw TestFailure("expected a row failure, got \(result)") }
        #expect(message.contains("HTTP 400"))
        #expect(message.contains("context length exceeded"))
        #expect(try await TestChatServer.shared.calls(key).count == 1)
    }

    @Test("401 is not retried and fails the call as an invalid request")
    func unauthorizedIsNotRetried() async throws {
        let (provider, key) = try await testProvider("unauthorized", apiKey: "wrong")
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hi")) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("invalid API key") == true)
        #expect(try await TestChatServer.shared.calls(key).count == 1)
    }

    @Test("a server slower than the timeout: the call fails within the timeout, not the server's delay")
    func timesOut() async throws {
        let (provider, _) = try await testProvider("slow", retry: .none, timeout: .milliseconds(500))
        let start = ContinuousClock.now
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hi")) }
        let elapsed = ContinuousClock.now - start
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains("no response within") == true)
        // The server sleeps 15 s; the bound is generous for a loaded machine (the test suite
        // shares two threads with CPU-heavy suites) and still far below the server's delay.
        #expect(elapsed < .seconds(10))
    }

    @Test("a timed-out attempt is retried")
    func timeoutIsRetried() async throws {
        // The timeout leaves a loaded machine (the suite shares two cores with CPU-heavy suites)
        // time to deliver each attempt before it is given up; the server sleeps 15 s.
        let (provider, key) = try await testProvider("slow", retry: RetryPolicy(retries: 1, initialBackoff: .milliseconds(10)), timeout: .milliseconds(1_500))
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hi")) }
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains("no response within") == true, "\(String(describing: error))")
        #expect(error?.message.contains("(after 2 attempts)") == true, "\(String(describing: error))")
        // The second attempt reached the server too (each attempt is counted on arrival).
        var count = 0
        for _ in 0..<100 {
            count = try await TestChatServer.shared.calls(key).count
            if count == 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(count == 2)
    }

    @Test("usage, model, parameters and the API key travel as the API says")
    func requestAndUsage() async throws {
        let (provider, key) = try await testProvider("ok", apiKey: "sk-test")
        let result = try await provider.predictOne(
            textRow("what is 2+2?"), parameters: ["temperature": .number(0.5), "max_tokens": .integer(12), "seed": .integer(7), "system_prompt": .string("Be brief.")])
        #expect(result == .success([RawPrediction(modelClass: "text", value: .text("echo: what is 2+2?"))], ModelUsage(promptTokens: 12, completionTokens: 7)))
        let (_, body, authorization) = try await TestChatServer.shared.calls(key)
        #expect(authorization == "Bearer sk-test")
        #expect(body?["model"] == .string("test-model"))
        #expect(body?["max_tokens"] == .integer(12))
        #expect(body?["temperature"] == .number(0.5))
        #expect(body?["seed"] == .integer(7))
        #expect(body?["stream"] == .bool(false))
        #expect(body?["response_format"] == nil)
        #expect(body?["messages"] == .array([
            .object(["role": .string("system"), "content": .string("Be brief.")]),
            .object(["role": .string("user"), "content": .string("what is 2+2?")]),
        ]))
    }

    @Test("a chunked response body is read whole")
    func chunkedBody() async throws {
        let (provider, _) = try await testProvider("chunked")
        let result = try await provider.predictOne(textRow("a chunked answer, long enough to span many chunks"))
        #expect(result == .success(
            [RawPrediction(modelClass: "text", value: .text("echo: a chunked answer, long enough to span many chunks"))], ModelUsage(promptTokens: 12, completionTokens: 7)))
    }

    @Test("nobody listening: unavailable, after the retries")
    func connectionRefused() async throws {
        let port = try LocalLlamaServer.freePort()
        let provider = OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(
                id: "gone", baseURL: "http://127.0.0.1:\(port)/v1", model: "m", retry: RetryPolicy(retries: 2, initialBackoff: .milliseconds(5))))
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hi")) }
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains("after 3 attempts") == true)
    }

    @Test("a base URL that is not http(s) fails the call at once, without retries")
    func invalidURL() async throws {
        let provider = OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(id: "bad-url", baseURL: "ftp://127.0.0.1/v1", model: "m", retry: RetryPolicy(retries: 5, initialBackoff: .seconds(5))))
        let start = ContinuousClock.now
        let error = await #expect(throws: ModelError.self) { try await provider.predictOne(textRow("hi")) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("invalid URL ftp://127.0.0.1/v1/chat/completions") == true)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("a conversation row is sent as its messages")
    func conversationRow() async throws {
        let (provider, key) = try await testProvider("ok")
        let conversation = #"[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"bye"}]"#
        let result = try await provider.predictOne(textRow(conversation, mediaType: .conversation))
        guard case .success(let predictions, _) = result else { throw TestFailure("expected success, got \(result)") }
        #expect(predictions == [RawPrediction(modelClass: "text", value: .text("echo: bye"))])
        let body = try await TestChatServer.shared.calls(key).body
        guard case .array(let messages)? = body?["messages"] else { throw TestFailure("no messages") }
        #expect(messages.count == 3)
    }

    @Test("an empty row fails the row without calling the endpoint")
    func emptyRow() async throws {
        let (provider, key) = try await testProvider("ok")
        let result = try await provider.predictOne(textRow("   "))
        #expect(result == .failure("the row has no text to send to the model"))
        #expect(try await TestChatServer.shared.calls(key).count == 0)
    }
}

/// Classification through a JSON schema: the scripted server answers with the row's text, so
/// each test chooses the model's answer.
@Suite("LLM classification")
struct ClassificationTests {
    static let sentiment = TargetFeature(
        modelClass: "sentiment", kind: .radio, options: [TargetOption(name: "Positive"), TargetOption(name: "Negative", description: "unhappy")])
    static let topics = TargetFeature(
        modelClass: "topics", kind: .checklist, options: [TargetOption(name: "billing"), TargetOption(name: "shipping"), TargetOption(name: "refund")])

    @Test("the request carries a json_schema with the options as an enum; the answer is parsed")
    func schemaAndParse() async throws {
        let (provider, key) = try await testProvider("answer")
        let result = try await provider.predictOne(textRow(#"{"sentiment": "positive"}"#), targets: [Self.sentiment])
        #expect(result == .success([RawPrediction(modelClass: "sentiment", value: .options(["Positive"]))], ModelUsage(promptTokens: 12, completionTokens: 7)))
        let body = try await TestChatServer.shared.calls(key).body
        #expect(body?["response_format"]?["type"] == .string("json_schema"))
        let schema = body?["response_format"]?["json_schema"]?["schema"]
        #expect(schema?["properties"]?["sentiment"]?["enum"] == .array([.string("Positive"), .string("Negative")]))
        #expect(schema?["required"] == .array([.string("sentiment")]))
        guard case .array(let messages)? = body?["messages"], case .string(let prompt)? = messages.last?["content"] else {
            throw TestFailure("no prompt")
        }
        #expect(prompt.contains(#""Negative" (unhappy)"#))
    }

    @Test("an answer that is not an option is returned as it is, never dropped")
    func unknownOptionKept() async throws {
        let (provider, _) = try await testProvider("answer")
        let result = try await provider.predictOne(textRow(#"{"sentiment": "meh"}"#), targets: [Self.sentiment])
        guard case .success(let predictions, _) = result else { throw TestFailure("expected success, got \(result)") }
        #expect(predictions == [RawPrediction(modelClass: "sentiment", value: .options(["meh"]))])
    }

    @Test("checklist and radio together in one answer")
    func checklistAndRadio() async throws {
        let (provider, key) = try await testProvider("answer")
        let result = try await provider.predictOne(
            textRow(#"{"sentiment": "Negative", "topics": ["Refund", "billing"]}"#), targets: [Self.sentiment, Self.topics])
        guard case .success(let predictions, _) = result else { throw TestFailure("expected success, got \(result)") }
        #expect(predictions == [
            RawPrediction(modelClass: "sentiment", value: .options(["Negative"])),
            RawPrediction(modelClass: "topics", value: .options(["refund", "billing"])),
        ])
        let schema = try await TestChatServer.shared.calls(key).body?["response_format"]?["json_schema"]?["schema"]
        #expect(schema?["properties"]?["topics"]?["type"] == .string("array"))
    }

    @Test("an answer missing a target's key fails the row with the answer")
    func missingKey() async throws {
        let (provider, _) = try await testProvider("answer")
        let result = try await provider.predictOne(textRow(#"{"topics": ["refund"]}"#), targets: [Self.sentiment, Self.topics])
        guard case .failure(let message) = result else { throw TestFailure("expected a row failure, got \(result)") }
        #expect(message.contains(#"no "sentiment""#))
    }

    @Test("llama.cpp's response_format form: json_object with the schema")
    func jsonObjectSchemaForm() async throws {
        let (url, key) = try await TestChatServer.shared.baseURL("answer")
        let provider = OpenAICompatibleProvider(
            configuration: OpenAICompatibleConfiguration(id: "t", baseURL: url, model: "m", structuredOutput: .jsonObjectSchema),
            transport: TestChatServer.shared.transport)
        _ = try await provider.predictOne(textRow(#"{"sentiment": "Positive"}"#), targets: [Self.sentiment])
        let format = try await TestChatServer.shared.calls(key).body?["response_format"]
        #expect(format?["type"] == .string("json_object"))
        #expect(format?["schema"]?["properties"]?["sentiment"]?["enum"] == .array([.string("Positive"), .string("Negative")]))
    }

    @Test(
        "answers parsed without a schema-following model",
        arguments: [
            ("Positive", ["Positive"]),
            ("  \"negative\". ", ["Negative"]),
            ("```json\n{\"sentiment\": \"Negative\"}\n```", ["Negative"]),
            ("I think it is good", ["I think it is good"]),
            (#"{"label": "Positive"}"#, ["Positive"]),
        ])
    func lenientParsing(answer: String, expected: [String]) throws {
        let predictions = try Prompting.parseClassification(answer, targets: [Self.sentiment])
        #expect(predictions == [RawPrediction(modelClass: "sentiment", value: .options(expected))])
    }

    @Test("two targets and an answer that is not JSON: a row failure naming the answer")
    func notJSONForTwoTargets() {
        #expect(throws: RowFailure("the model's answer is not a JSON object: Positive")) {
            try Prompting.parseClassification("Positive", targets: [Self.sentiment, Self.topics])
        }
    }

    @Test("free-text targets alone are plain generation; with options they join the JSON answer")
    func taskChoice() {
        let note = TargetFeature(modelClass: "summary", kind: .freeText)
        #expect(Prompting.task(for: []) == .generate(modelClass: "text"))
        #expect(Prompting.task(for: [note]) == .generate(modelClass: "summary"))
        #expect(Prompting.task(for: [note, Self.sentiment]) == .classify([note, Self.sentiment]))
        #expect(Prompting.task(for: [TargetFeature(modelClass: "x", kind: .radio)]) == .generate(modelClass: "text"))
    }
}

@Suite("LLM plumbing")
struct PlumbingTests {
    @Test("the concurrency limit holds: never more than the limit in flight, all finish")
    func concurrencyLimit() async throws {
        let limit = ConcurrencyLimit(2)
        final class Counters: Sendable { let state = Lock((current: 0, maximum: 0, done: 0)) }
        let counters = Counters()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await limit.withSlot { () async throws -> Void in
                        counters.state.withLock {
                            $0.current += 1
                            $0.maximum = max($0.maximum, $0.current)
                        }
                        try await Task.sleep(for: .milliseconds(20))
                        counters.state.withLock {
                            $0.current -= 1
                            $0.done += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = counters.state.withLock { $0 }
        #expect(final.maximum == 2)
        #expect(final.done == 8)
    }

    @Test("a waiter cancelled while queued leaves with CancellationError and frees nothing it did not hold")
    func cancelledWaiter() async throws {
        let limit = ConcurrencyLimit(1)
        let (gate, open) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await limit.withSlot { () async -> Void in
                    for await _ in gate {}
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            let waiter = Task { try await limit.withSlot { () async -> Int in 1 } }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            open.finish()
            try await group.waitForAll()
        }
        #expect(try await limit.withSlot { () async -> Int in 2 } == 2)
    }

    @Test("backoff doubles, has jitter below the full value, and is capped")
    func backoff() {
        let policy = RetryPolicy(retries: 5, initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(500))
        let first = policy.backoff(beforeRetry: 1)
        let third = policy.backoff(beforeRetry: 3)
        #expect(first >= .milliseconds(75) && first <= .milliseconds(100))
        #expect(third >= .milliseconds(300) && third <= .milliseconds(400))
        #expect(policy.backoff(beforeRetry: 10) <= .milliseconds(500))
        #expect(policy.backoff(beforeRetry: 1, retryAfter: .seconds(9)) == .milliseconds(500))
        #expect(RetryPolicy.isRetryable(status: 503) && RetryPolicy.isRetryable(status: 429))
        #expect(!RetryPolicy.isRetryable(status: 400) && !RetryPolicy.isRetryable(status: 404) && !RetryPolicy.isRetryable(status: 408))
    }

    @Test("a body that is not a chat completion is malformed, with a preview")
    func malformedBody() {
        #expect(throws: ChatError.self) { try ChatCompletionsClient.parse(Array("<html>oops</html>".utf8)) }
        #expect(throws: ChatError.malformed(#"endpoint answered no choices: {"choices": []}"#)) {
            try ChatCompletionsClient.parse(Array(#"{"choices": []}"#.utf8))
        }
    }

    @Test("parameters out of the card's bounds are refused before any call")
    func parameterBounds() async throws {
        let (provider, key) = try await testProvider("ok")
        let card = provider.cards[0]
        let error = await #expect(throws: ModelError.self) {
            try await provider.predict(PredictRequest(card: card, parameters: ["max_tokens": .integer(0)], targets: [], rows: [textRow("x")]))
        }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("max_tokens") == true)
        #expect(try await TestChatServer.shared.calls(key).count == 0)
    }
}
