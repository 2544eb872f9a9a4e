import AssayCore
import AssayModels
import Foundation
import Testing

@testable import AssayLLM

/// Image + question rows sent to a vision endpoint as chat content parts.
@Suite("Image content parts")
struct ImageContentTests {
    /// The 8-byte PNG signature and an IHDR start: enough for the type to be recognised.
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]

    func imageRow(_ bytes: [UInt8], text: String = "", uri: String = "", metadata: [String: String] = [:]) -> ModelInput
    {
        ModelInput(
            rowID: ObjectID(rawValue: "dr_img"), mediaType: .image, content: bytes, text: text, uri: uri,
            metadata: metadata)
    }

    @Test("an image row reaches the endpoint as a text part and an image_url part with a data URL of the bytes")
    func imageParts() async throws {
        let (provider, key) = try await testProvider("ok", vision: true)
        #expect(provider.cards[0].mediaTypes.contains(.image))
        let result = try await provider.predictOne(
            imageRow(Self.png, metadata: ["question": "What does the sign say?"]))
        #expect(
            result
                == .success(
                    [RawPrediction(modelClass: "text", value: .text("echo: What does the sign say?[image]"))],
                    ModelUsage(promptTokens: 12, completionTokens: 7)))
        let body = try await TestChatServer.shared.calls(key).body
        let expectedURL = "data:image/png;base64," + Data(Self.png).base64EncodedString()
        #expect(
            body?["messages"]
                == .array([
                    .object([
                        "role": .string("user"),
                        "content": .array([
                            .object(["type": .string("text"), "text": .string("What does the sign say?")]),
                            .object(["type": .string("image_url"), "image_url": .object(["url": .string(expectedURL)])]
                            ),
                        ]),
                    ])
                ]))
    }

    @Test("an image known only by its https URI is sent as that URL; the row's text is the question")
    func imageURL() async throws {
        let (provider, key) = try await testProvider("ok", vision: true)
        _ = try await provider.predictOne(imageRow([], text: "How many cats?", uri: "https://example.com/cats.jpg"))
        let body = try await TestChatServer.shared.calls(key).body
        #expect(body?["messages"]?[0]?["content"]?[1]?["image_url"]?["url"] == .string("https://example.com/cats.jpg"))
        #expect(body?["messages"]?[0]?["content"]?[0]?["text"] == .string("How many cats?"))
    }

    @Test("image rows that cannot be sent fail the row, precisely, without calling the endpoint")
    func badImageRows() async throws {
        let (vision, key) = try await testProvider("ok", vision: true)
        #expect(
            try await vision.predictOne(imageRow(Self.png))
                == .failure("an image row needs a question: its text or its metadata \"question\""))
        #expect(
            try await vision.predictOne(imageRow([1, 2, 3, 4], text: "What?"))
                == .failure("the row's image is not PNG, JPEG, GIF or WebP"))
        #expect(
            try await vision.predictOne(imageRow([], text: "What?", uri: "file:///tmp/x.png"))
                == .failure("the image row has neither inline bytes nor an http(s) URI"))
        #expect(try await TestChatServer.shared.calls(key).count == 0)
        let (text, _) = try await testProvider("ok")
        #expect(!text.cards[0].mediaTypes.contains(.image))
        #expect(
            try await text.predictOne(imageRow(Self.png, text: "What?")) == .failure("this model does not read images"))
    }

    @Test("image types from their leading bytes; content parts read back")
    func typesAndDecoding() throws {
        #expect(ChatImage.mimeType(Self.png) == "image/png")
        #expect(ChatImage.mimeType([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(ChatImage.mimeType(Array("GIF89a..".utf8)) == "image/gif")
        #expect(ChatImage.mimeType(Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == "image/webp")
        #expect(ChatImage.mimeType(Array("RIFF\0\0\0\0WAVE".utf8)) == nil)
        let json =
            #"{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}"#
        let message = try JSONDecoder().decode(ChatMessage.self, from: Data(json.utf8))
        #expect(message == ChatMessage(role: "user", content: "hi", images: [ChatImage(url: "https://x/y.png")]))
        let plain = try JSONDecoder().decode(ChatMessage.self, from: Data(#"{"role":"assistant","content":"ok"}"#.utf8))
        #expect(plain == ChatMessage(role: "assistant", content: "ok"))
    }

    @Test("the models file's vision flag puts images on the card")
    func visionInConfiguration() throws {
        let config = try ModelsConfiguration.parse(
            Array(
                #"{"models":[{"id":"v","base_url":"http://127.0.0.1:1/v1","model":"m","vision":true},{"id":"t","base_url":"http://127.0.0.1:1/v1","model":"m"}]}"#
                    .utf8))
        #expect(config.providers.map { $0.cards[0].mediaTypes.contains(.image) } == [true, false])
    }
}
