import AssayCore
import Testing

import AssayModels
@testable import AssayNativeModels

/// skimage's astronaut.png (Eileen Collins, NASA portrait, 512×512), from Debian's
/// python3-skimage, installed by scripts/models/native.sh.
private let astronautPath = "native-samples-1/astronaut.png"
/// Her face, measured by hand on a 4× enlargement with a 10 px grid: cheek to cheek
/// x 180...272, hairline to chin y 77...185.
private let astronautFace = (180.0, 77.0, 92.0, 108.0)

@Suite("OpenCV cascades")
struct CascadeTests {
    /// The LBP cascade draws its box tighter (eyebrows to mouth), so it is held to lying on
    /// the face rather than to IoU.
    @Test(arguments: [("opencv-haar-faces", true), ("opencv-lbp-faces", false), ("opencv-cascade", true)])
    func findsTheAstronautsFace(model: String, measuredByIoU: Bool) async throws {
        let provider = try CascadeProvider(threads: 2)
        let card = try #require(provider.cards.first { $0.id == model })
        #expect(card.classes.contains("face") && card.price == Price(unit: .perImage, microdollars: 200))
        let image = try cachedFile(astronautPath)
        let request = PredictRequest(
            card: card, parameters: try card.resolve([:]),
            targets: [TargetFeature(modelClass: "face", kind: .boundingBox)],
            rows: [row("astronaut", image: image)])
        let results = try await provider.predict(request)
        guard case .success(let predictions, let usage) = results.first else {
            Issue.record("the row failed: \(results)")
            return
        }
        #expect(usage.images == 1)
        #expect(predictions.allSatisfy { $0.modelClass == "face" })
        let boxes = predictions.compactMap { prediction -> (Double, Double, Double, Double)? in
            guard case .box(let left, let top, let width, let height) = prediction.value else { return nil }
            return (left, top, width, height)
        }
        // One face in the photo; the best (first) box is on it.
        #expect(boxes.count == 1)
        let best = try #require(boxes.first)
        if measuredByIoU {
            #expect(iou(best, astronautFace) > 0.5, "\(best)")
        } else {
            let (x, y) = (best.0 + best.2 / 2, best.1 + best.3 / 2)
            #expect(
                x > astronautFace.0 && x < astronautFace.0 + astronautFace.2 && y > astronautFace.1
                    && y < astronautFace.1 + astronautFace.3)
            #expect(
                best.2 * best.3 > 0.4 * astronautFace.2 * astronautFace.3 && iou(best, astronautFace) > 0.4, "\(best)")
        }
        #expect((500_000...1_000_000).contains(predictions[0].confidencePPM ?? -1))
    }

    @Test func findsEyesInsideTheFace() async throws {
        let provider = try CascadeProvider(threads: 1)
        let card = try #require(provider.cards.first { $0.id == "opencv-cascade" })
        let request = PredictRequest(
            card: card, parameters: ["min_neighbors": .integer(5)],
            targets: [
                TargetFeature(modelClass: "eye", kind: .boundingBox),
                TargetFeature(modelClass: "face", kind: .boundingBox),
            ],
            rows: [row("astronaut", image: try cachedFile(astronautPath))])
        guard case .success(let predictions, _) = try await provider.predict(request).first else {
            Issue.record("the row failed")
            return
        }
        let eyes = predictions.filter { $0.modelClass == "eye" }
        #expect(eyes.count == 2)
        for eye in eyes {
            guard case .box(let left, let top, let width, let height) = eye.value else { continue }
            let (x, y) = (left + width / 2, top + height / 2)
            #expect(
                x > astronautFace.0 && x < astronautFace.0 + astronautFace.2 && y > astronautFace.1
                    && y < astronautFace.1 + astronautFace.3 / 2)
        }
        #expect(predictions.filter { $0.modelClass == "face" }.count == 1)
    }

    @Test func badRowsFailAloneAndBadRequestsFailWhole() async throws {
        let provider = try CascadeProvider(threads: 1)
        let card = try #require(provider.cards.first { $0.id == "opencv-haar-faces" })
        let rows = [
            row("garbage", image: [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), row("text-only", text: "no image here"),
            row("blank", image: try renderTextPNG(" ")),
        ]
        let results = try await provider.predict(PredictRequest(card: card, parameters: [:], targets: [], rows: rows))
        #expect(
            results[0]
                == .failure("the row's image cannot be decoded: not a decodable image (PNG, JPEG, BMP, TIFF, WebP …)"))
        #expect(results[1] == .failure("the row has no image: no inline bytes and no uri"))
        #expect(results[2] == .success([], ModelUsage(images: 1)))

        await #expect(throws: ModelError(.invalidRequest, "model opencv-haar-faces has no class eye (it has: face)")) {
            try await provider.predict(
                PredictRequest(
                    card: card, parameters: [:], targets: [TargetFeature(modelClass: "eye", kind: .boundingBox)],
                    rows: []))
        }
        await #expect(throws: ModelError(.invalidRequest, "parameter scale_factor: 1.0 is below the minimum 1.01")) {
            try await provider.predict(
                PredictRequest(card: card, parameters: ["scale_factor": .number(1)], targets: [], rows: []))
        }
        await #expect(throws: ModelError(.invalidRequest, "parameter max_size: 10 is below min_size 30")) {
            try await provider.predict(
                PredictRequest(
                    card: card, parameters: ["min_size": .integer(30), "max_size": .integer(10)], targets: [], rows: [])
            )
        }
        var other = card
        other.id = "yolo"
        await #expect(throws: ModelError(.invalidRequest, "the OpenCV cascade provider does not serve model yolo")) {
            try await provider.predict(PredictRequest(card: other, parameters: [:], targets: [], rows: []))
        }
    }

    @Test func scoresAreMonotoneInTheLevelWeight() {
        let weights: [Double] = [-.infinity, -50, -1, 0, 0.5, 1, 6.6, 56, 1e9, .infinity]
        let scores = weights.map { CascadeProvider.confidencePPM(levelWeight: $0) }
        #expect(scores == scores.sorted())
        #expect(
            scores.first == 0 && scores.last == 1_000_000 && CascadeProvider.confidencePPM(levelWeight: 0) == 500_000)
        #expect(Set(scores.dropFirst().dropLast()).count == weights.count - 2)
    }
}
