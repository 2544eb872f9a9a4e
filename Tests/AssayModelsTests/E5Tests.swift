import AssayCore
import Testing

import AssayModels
@testable import AssayNativeModels

/// Sentences no one would label differently; none of them was used to choose the prompts.
private let labelled: [(text: String, topic: String)] = [
    ("The goalkeeper saved a penalty in the last minute and the team reached the final.", "sports"),
    ("The cyclist won the mountain stage of the Tour de France.", "sports"),
    ("The basketball team signed a new point guard for next season.", "sports"),
    ("The prime minister lost a vote of confidence in parliament.", "politics"),
    ("The opposition party promised lower taxes in its election campaign.", "politics"),
    ("Lawmakers debated the new immigration bill in the senate.", "politics"),
    ("Fry the onions in olive oil, then add the rice and the saffron.", "food"),
    ("This recipe for chocolate cake needs eggs, butter and cocoa.", "food"),
    ("The chef serves grilled fish with lemon and roasted potatoes.", "food"),
    ("Thunderstorms and heavy rain are forecast for the weekend.", "weather"),
    ("A cold front will bring snow and icy roads on Monday morning.", "weather"),
    ("Expect sunshine and temperatures around thirty degrees this afternoon.", "weather"),
    ("Le gouvernement a présenté sa réforme des retraites à l'Assemblée nationale.", "politics"),
    ("Mañana habrá lluvias intensas y vientos fuertes en la costa.", "weather"),
]
private let topics = ["sports", "politics", "food", "weather"]

@Suite("e5 zero-shot", .serialized)
struct E5Tests {
    static let provider: E5Provider? = {
        let files = NativeModels.e5Files()
        return try? E5Provider(libraryPath: files.library, modelPath: files.model)
    }()

    func provider() throws -> E5Provider {
        let files = NativeModels.e5Files()
        do { return try Self.provider ?? E5Provider(libraryPath: files.library, modelPath: files.model) } catch {
            Issue.record("\(error): run `make models` first")
            throw error
        }
    }

    @Test func classifiesLabelledSentencesToTheirTopic() async throws {
        let provider = try provider()
        let card = provider.cards[0]
        #expect(card.id == "e5-zero-shot" && card.classes.isEmpty && card.outputKinds == [.radio, .checklist])
        let target = TargetFeature(modelClass: "topic", kind: .radio, options: topics.map { TargetOption(name: $0) })
        let rows = labelled.enumerated().map { row("r\($0.offset)", text: $0.element.text, mediaType: .text) }
        let results = try await provider.predict(
            PredictRequest(card: card, parameters: try card.resolve([:]), targets: [target], rows: rows))
        for (result, example) in zip(results, labelled) {
            guard case .success(let predictions, let usage) = result, predictions.count == 1 else {
                Issue.record("\(example.text): \(result)")
                continue
            }
            #expect(predictions[0].modelClass == "topic")
            #expect(predictions[0].value == .options([example.topic]), "\(example.text)")
            #expect((250_000...1_000_000).contains(predictions[0].confidencePPM ?? -1))
            #expect(usage.promptTokens > 5 && usage.promptTokens < 60)
        }
    }

    @Test func optionDescriptionsAreWhatIsCompared() async throws {
        let provider = try provider()
        // Option names that say nothing; their descriptions decide.
        let target = TargetFeature(
            modelClass: "topic", kind: .radio,
            options: [
                TargetOption(name: "A", description: "weather"),
                TargetOption(name: "B", description: "cooking and food"),
            ])
        let rows = [
            row("w", text: "Heavy snow is expected tonight.", mediaType: .text),
            row("f", text: "Knead the dough and bake the bread.", mediaType: .text),
        ]
        let results = try await provider.predict(
            PredictRequest(card: provider.cards[0], parameters: [:], targets: [target], rows: rows))
        let values = results.map { result -> [RawValue] in
            guard case .success(let predictions, _) = result else { return [] }
            return predictions.map(\.value)
        }
        #expect(values == [[.options(["A"])], [.options(["B"])]])
    }

    @Test func checklistTakesEveryOptionAboveTheThreshold() async throws {
        let provider = try provider()
        let checklist = TargetFeature(
            modelClass: "tags", kind: .checklist, options: topics.map { TargetOption(name: $0) })
        let radio = TargetFeature(modelClass: "topic", kind: .radio, options: topics.map { TargetOption(name: $0) })
        let rows = [row("r", text: "The football match was called off because of the blizzard.", mediaType: .text)]
        func predict(threshold: Double) async throws -> [RawPrediction] {
            let request = PredictRequest(
                card: provider.cards[0], parameters: ["threshold": .number(threshold)], targets: [checklist, radio],
                rows: rows)
            guard case .success(let predictions, _) = try await provider.predict(request)[0] else { return [] }
            return predictions
        }
        let everything = try await predict(threshold: 0)
        let tags = everything.filter { $0.modelClass == "tags" }
        #expect(Set(tags.map(\.value)) == Set(topics.map { RawValue.options([$0]) }))
        #expect(tags.map { $0.confidencePPM ?? 0 } == tags.map { $0.confidencePPM ?? 0 }.sorted(by: >))
        #expect(abs(tags.reduce(0) { $0 + ($1.confidencePPM ?? 0) } - 1_000_000) <= 4)
        #expect(everything.filter { $0.modelClass == "topic" }.count == 1)

        // Nothing reaches 1: the most probable tag alone, the same the radio feature gets.
        let best = try await predict(threshold: 1)
        #expect(best.count == 2 && best[0].value == best[1].value)
        #expect(best[0].value == tags[0].value)
    }

    @Test func badRowsAndRequests() async throws {
        let provider = try provider()
        let card = provider.cards[0]
        let target = TargetFeature(modelClass: "topic", kind: .radio, options: topics.map { TargetOption(name: $0) })
        let results = try await provider.predict(
            PredictRequest(
                card: card, parameters: [:], targets: [target],
                rows: [row("empty", mediaType: .text), row("ok", text: "Rain tomorrow.", mediaType: .text)]))
        #expect(results[0] == .failure("the row has no text to classify"))
        #expect(results[1] != .failure("the row has no text to classify"))

        await #expect(
            throws: ModelError(
                .invalidRequest, "model e5-zero-shot needs a radio or checklist feature with options to choose from")
        ) {
            try await provider.predict(PredictRequest(card: card, parameters: [:], targets: [], rows: []))
        }
        await #expect(
            throws: ModelError(
                .invalidRequest, "model e5-zero-shot fills radio and checklist features, not bounding_box (face)")
        ) {
            try await provider.predict(
                PredictRequest(
                    card: card, parameters: [:], targets: [TargetFeature(modelClass: "face", kind: .boundingBox)],
                    rows: []))
        }
        await #expect(throws: ModelError(.invalidRequest, "feature topic has no options to choose from")) {
            try await provider.predict(
                PredictRequest(
                    card: card, parameters: [:], targets: [TargetFeature(modelClass: "topic", kind: .radio)], rows: []))
        }
        await #expect(throws: ModelError(.invalidRequest, "parameter threshold: 1.5 is above the maximum 1.0")) {
            try await provider.predict(
                PredictRequest(card: card, parameters: ["threshold": .number(1.5)], targets: [target], rows: []))
        }
    }

    @Test func embeddingsAreUnitVectorsThatPlaceParaphrasesClose() throws {
        let model = try provider().model
        let vectors = try model.embed(
            ["The cat sleeps on the sofa.", "A cat is napping on the couch.", "Interest rates rose again."], as: .query)
        #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 384 })
        for vector in vectors { #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3) }
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.05)
        // One text alone and in a batch give the same vector.
        let alone = try model.embed(["Interest rates rose again."], as: .query)[0]
        #expect(zip(alone, vectors[2]).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(throws: E5Error("no e5 model file /nonexistent/e5.bin")) {
            try E5Model(libraryPath: model.libraryPath, modelPath: "/nonexistent/e5.bin")
        }
    }

    @Test func zeroShotArithmetic() {
        let probabilities = ZeroShot.probabilities(
            of: [1, 0], against: [[1, 0], [0, 1], [0.6, 0.8]], temperature: 0.1)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-12)
        #expect(probabilities[0] > probabilities[2] && probabilities[2] > probabilities[1])
        #expect(ZeroShot.choose(probabilities, checklist: false, threshold: 0) == [0])
        #expect(ZeroShot.choose(probabilities, checklist: true, threshold: 0) == [0, 2, 1])
        #expect(ZeroShot.choose(probabilities, checklist: true, threshold: 0.99) == [0])
        #expect(ZeroShot.choose([0.5, 0.5], checklist: false, threshold: 0) == [0])
    }
}

@Suite("NativeModels")
struct NativeModelsTests {
    @Test func listsEveryInstalledModel() {
        let (providers, missing) = NativeModels.discover(threads: 1)
        #expect(missing == [])
        let ids = Set(ModelRegistry(providers: providers).cards.map(\.id))
        #expect(ids == ["tesseract-ocr", "opencv-haar-faces", "opencv-lbp-faces", "opencv-cascade", "e5-zero-shot"])
        let elsewhere = NativeModels.discover(cache: "/nonexistent", threads: 1)
        #expect(elsewhere.missing.count == 1 && elsewhere.missing[0].hasPrefix("e5: /nonexistent/e5-0.3.0/libe5.so"))
    }
}
