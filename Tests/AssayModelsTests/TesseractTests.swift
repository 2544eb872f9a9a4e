import AssayCore
import Testing

import AssayModels
@testable import AssayNativeModels

private let sample = "The quick brown fox\njumps over the lazy dog 42\nInvoice 2024-117 total 318.50"

@Suite("Tesseract OCR")
struct TesseractTests {
    @Test func readsRenderedTextWithPlausibleWordBoxes() throws {
        let png = try renderTextPNG(sample)
        let image = try GrayImage(encoded: png)
        let page = try TesseractEngine().recognize(png)

        #expect(normalized(page.text) == normalized(sample))
        #expect(page.width == image.width && page.height == image.height)
        #expect(page.meanConfidence > 80)
        #expect(page.words.map { normalized($0.text) } == normalized(sample).split(separator: " ").map(String.init))
        for word in page.words {
            #expect(
                word.left >= 0 && word.top >= 0 && word.left + word.width <= page.width
                    && word.top + word.height <= page.height)
            // Rendered at scale 1.5: letters are 20-50 px high and 10-35 px wide.
            #expect((15...60).contains(word.height), "\(word)")
            #expect(word.width >= 10 * word.text.count && word.width <= 35 * word.text.count + 20, "\(word)")
            #expect(word.confidence > 50, "\(word)")
        }
        // Reading order: left to right on a line, lines top to bottom.
        let lines = sample.split(separator: "\n").map { $0.split(separator: " ").count }
        var index = 0
        var previousLineTop = -1
        for count in lines {
            let line = page.words[index..<index + count]
            index += count
            #expect(line.first!.top > previousLineTop)
            previousLineTop = line.first!.top
            for (a, b) in zip(line, line.dropFirst()) {
                #expect(a.left + a.width < b.left, "\(a.text) then \(b.text)")
                #expect(
                    abs((a.top + a.height) - (b.top + b.height)) < 20 || abs(a.top - b.top) < 20,
                    "\(a.text) and \(b.text) share a line")
            }
        }
    }

    @Test func providerGivesTextAndWordsPerRowAndFailsUndecodableRows() async throws {
        let provider = try TesseractProvider(threads: 2)
        let card = try #require(provider.cards.first)
        #expect(
            card.id == "tesseract-ocr" && card.classes == ["text", "word"]
                && card.price == Price(unit: .perImage, microdollars: 1000))
        let png = try renderTextPNG("Hello Assay\nsecond line")
        let path = try temporaryFile(named: "hello world.png", contents: png)
        defer { removeTemporaryFile(path) }
        let rows = [
            row("good", image: png),
            row("garbage", image: Array("this is not a PNG".utf8)),
            row("file-uri", uri: "file://" + path.replacingSpaces()),
            row("absolute-path", uri: path),
            row("remote", uri: "s3://bucket/key.png"),
            row("missing-file", uri: "/nonexistent/image.png"),
            row("empty"),
        ]
        let request = PredictRequest(card: card, parameters: try card.resolve([:]), targets: [], rows: rows)
        let results = try await provider.predict(request)
        #expect(results.count == rows.count)

        for index in [0, 2, 3] {
            guard case .success(let predictions, let usage) = results[index] else {
                Issue.record("row \(rows[index].rowID) failed: \(results[index])")
                continue
            }
            #expect(usage.images == 1)
            let texts = predictions.filter { $0.modelClass == "text" }
            #expect(texts.count == 1)
            if case .text(let text) = texts.first?.value { #expect(normalized(text) == "hello assay second line") }
            #expect((800_000...1_000_000).contains(texts.first?.confidencePPM ?? 0))
            let words = predictions.filter { $0.modelClass == "word" }
            #expect(words.count == 4)
            for word in words {
                guard case .box(_, _, let width, let height) = word.value else {
                    Issue.record("word is not a box: \(word)")
                    continue
                }
                #expect(width > 0 && height > 0)
            }
        }
        #expect(results[1] == .failure("not a decodable image (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM)"))
        guard case .failure(let remote) = results[4], case .failure(let missing) = results[5],
            case .failure(let empty) = results[6]
        else {
            Issue.record("rows without a readable image must fail: \(results[4...])")
            return
        }
        #expect(remote.contains("is not a local file"))
        #expect(missing.contains("cannot open /nonexistent/image.png"))
        #expect(empty == "the row has no image: no inline bytes and no uri")
    }

    @Test func targetsAndParametersChooseTheOutput() async throws {
        let provider = try TesseractProvider(threads: 1)
        let card = provider.cards[0]
        let png = try renderTextPNG("Hello Assay")
        let onlyText = PredictRequest(
            card: card, parameters: ["page_segmentation_mode": .integer(7)],
            targets: [TargetFeature(modelClass: "text", kind: .freeText)],
            rows: [row("r", image: png)])
        guard case .success(let predictions, _) = try await provider.predict(onlyText).first else {
            Issue.record("the row failed")
            return
        }
        #expect(predictions.map(\.modelClass) == ["text"])

        // Every word is below 100: none gets a box, the text stays.
        let strict = PredictRequest(
            card: card, parameters: ["min_confidence": .number(100)], targets: [], rows: [row("r", image: png)])
        guard case .success(let strictPredictions, _) = try await provider.predict(strict).first else {
            Issue.record("the row failed")
            return
        }
        #expect(strictPredictions.map(\.modelClass) == ["text"])

        let unknownClass = PredictRequest(
            card: card, parameters: [:], targets: [TargetFeature(modelClass: "face", kind: .boundingBox)], rows: [])
        await #expect(throws: ModelError(.invalidRequest, "model tesseract-ocr has no class face (it has: text, word)"))
        {
            try await provider.predict(unknownClass)
        }
        let unknownParameter = PredictRequest(card: card, parameters: ["dpi": .integer(300)], targets: [], rows: [])
        await #expect(
            throws: ModelError(
                .invalidRequest,
                "parameter dpi: unknown for model tesseract-ocr (it takes: language, page_segmentation_mode, min_confidence)"
            )
        ) {
            try await provider.predict(unknownParameter)
        }
        #expect(throws: ParameterError(name: "page_segmentation_mode", reason: "14 is above the maximum 13.0")) {
            try card.resolve(["page_segmentation_mode": .integer(14)])
        }
        #expect(
            throws: ParameterError(
                name: "language",
                reason: "\"klingon\" is not one of \(card.parameters[0].choices.joined(separator: ", "))")
        ) {
            try card.resolve(["language": .string("klingon")])
        }
    }

    /// One engine per thread reads the same as one engine alone; prints the speeds.
    @Test func enginesOnSeveralThreadsReadTheSame() async throws {
        let png = try renderTextPNG("Parallel engines read\nthe same words 1234")
        let expected = normalized(try TesseractEngine().recognize(png).text)
        let images = 8
        for threads in [1, 2] {
            let pool = BlockingPool(threads: threads, name: "ocr-test")
            defer { pool.stop() }
            let engines = PerThreadCache<TesseractEngine>(threads: threads)
            // Warm up (load engines) before timing.
            for _ in 0..<threads * 2 {
                try await pool.run { thread in
                    _ = try engines.object(thread: thread, key: "eng") { () throws(TesseractError) in
                        try TesseractEngine()
                    }
                }
            }
            let start = now()
            let texts = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<images {
                    group.addTask {
                        try await pool.run { thread in
                            let engine = try engines.object(thread: thread, key: "eng") { () throws(TesseractError) in
                                try TesseractEngine()
                            }
                            return normalized(try engine.recognize(png).text)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            let seconds = now() - start
            #expect(texts == Array(repeating: expected, count: images))
            print(
                "tesseract: \(threads) thread(s): \(Int(seconds * 1000 / Double(images))) ms per image, \(Int(Double(images) / seconds)) images/s"
            )
        }
    }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        split(separator: " ", omittingEmptySubsequences: false).joined(separator: "%20")
    }
}
