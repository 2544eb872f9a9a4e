public import AssayModels
public import AssayCore

/// Serves `tesseract-ocr`: the text of an image (class `text`, free text) and the box of every
/// word (class `word`, bounding boxes with Tesseract's word confidence).
///
/// Each of `threads` dedicated threads keeps its own `TesseractEngine` per language, created on
/// first use and reused for every later image; each engine runs single-threaded, so the cores
/// are used by parallel calls (`concurrency` = threads), never by one call fanning out.
public final class TesseractProvider: ModelProvider {
    public static let modelID = "tesseract-ocr"
    public let cards: [ModelCard]
    public let batchSize: Int
    public let concurrency: Int
    public let dataPath: String
    private let pool: BlockingPool
    private let engines: PerThreadCache<TesseractEngine>

    /// Fails when `dataPath` holds no language data (install `tesseract-ocr-eng`).
    public init(threads: Int = NativeModels.cores, dataPath: String = TesseractEngine.defaultDataPath)
        throws(ModelError)
    {
        let languages = TesseractEngine.installedLanguages(dataPath: dataPath)
        guard !languages.isEmpty else {
            throw ModelError(.unavailable, "no Tesseract language data in \(dataPath) (install tesseract-ocr-eng)")
        }
        let threads = max(1, threads)
        self.dataPath = dataPath
        cards = [Self.card(languages: languages)]
        concurrency = threads
        batchSize = 4
        pool = BlockingPool(threads: threads, name: "tesseract")
        engines = PerThreadCache(threads: threads)
    }

    deinit { pool.stop() }

    /// The card: its languages are the traineddata files installed (English by default).
    static func card(languages: [String]) -> ModelCard {
        ModelCard(
            id: modelID, name: "Tesseract OCR", version: TesseractEngine.version,
            description: "Tesseract \(TesseractEngine.version) LSTM OCR: the text of an image and a box per word.",
            taskKinds: [.ocr], mediaTypes: [.image, .document], outputKinds: [.freeText, .boundingBox],
            classes: ["text", "word"],
            parameters: [
                ParameterSpec(
                    name: "language", kind: .choice, description: "The traineddata to read with.",
                    defaultValue: .string(languages.contains("eng") ? "eng" : languages[0]), choices: languages),
                ParameterSpec(
                    name: "page_segmentation_mode", kind: .integer,
                    description:
                        "Tesseract's --psm: 3 automatic, 4 one column, 6 one block, 7 one line, 8 one word, 11 sparse text.",
                    defaultValue: .integer(3), minimum: Double(TesseractEngine.pageSegmentationModes.lowerBound),
                    maximum: Double(TesseractEngine.pageSegmentationModes.upperBound)),
                ParameterSpec(
                    name: "min_confidence", kind: .number,
                    description: "Words below this confidence (0-100) get no box; the text keeps them.",
                    defaultValue: .number(0), minimum: 0, maximum: 100),
            ],
            price: Price(unit: .perImage, microdollars: 1000), provider: "tesseract")
    }

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        let options = try Options(request, card: cards[0])
        let dataPath = dataPath
        let engines = engines
        return await withTaskGroup(of: (Int, RowPrediction).self) { group in
            for (index, row) in request.rows.enumerated() {
                group.addTask { [pool] in
                    let prediction = await pool.run { thread in
                        Self.predict(row, options: options) { () throws(TesseractError) in
                            try engines.object(thread: thread, key: options.language) { () throws(TesseractError) in
                                try TesseractEngine(language: options.language, dataPath: dataPath)
                            }
                        }
                    }
                    return (index, prediction)
                }
            }
            var results = [RowPrediction](repeating: .failure("not predicted"), count: request.rows.count)
            for await (index, prediction) in group { results[index] = prediction }
            return results
        }
    }

    /// What a request asks for, checked once per call.
    struct Options: Sendable {
        var language: String
        var pageSegmentationMode: Int
        var minConfidence: Double
        var wantsText: Bool
        var wantsWords: Bool

        init(_ request: PredictRequest, card: ModelCard) throws(ModelError) {
            guard request.card.id == card.id else {
                throw ModelError(.invalidRequest, "the Tesseract provider does not serve model \(request.card.id)")
            }
            let parameters: [String: ParameterValue]
            do { parameters = try card.resolve(request.parameters) } catch {
                throw ModelError(.invalidRequest, error.description)
            }
            language = parameters["language"]?.stringValue ?? "eng"
            pageSegmentationMode = Int(parameters["page_segmentation_mode"]?.intValue ?? 3)
            minConfidence = parameters["min_confidence"]?.doubleValue ?? 0
            if let unknown = request.targets.first(where: { !card.classes.contains($0.modelClass) }) {
                throw ModelError(
                    .invalidRequest, "model \(card.id) has no class \(unknown.modelClass) (it has: text, word)")
            }
            // No targets: everything the model gives.
            wantsText = request.targets.isEmpty || request.targets.contains { $0.modelClass == "text" }
            wantsWords = request.targets.isEmpty || request.targets.contains { $0.modelClass == "word" }
        }
    }

    /// One row on a pool thread.
    static func predict(_ row: ModelInput, options: Options, engine: () throws(TesseractError) -> TesseractEngine)
        -> RowPrediction
    {
        let bytes: [UInt8]
        do { bytes = try RowImage.bytes(of: row) } catch { return .failure(error.message) }
        let page: OCRPage
        do { page = try engine().recognize(bytes, pageSegmentationMode: options.pageSegmentationMode) } catch {
            return .failure(error.message)
        }
        var predictions: [RawPrediction] = []
        let text = page.text.trimmingWhitespace()
        if options.wantsText && !text.isEmpty {
            predictions.append(
                RawPrediction(modelClass: "text", value: .text(text), confidencePPM: page.meanConfidence * 10_000))
        }
        if options.wantsWords {
            for word in page.words where word.confidence >= options.minConfidence && word.width > 0 && word.height > 0 {
                predictions.append(
                    RawPrediction(
                        modelClass: "word",
                        value: .box(
                            left: Double(word.left), top: Double(word.top), width: Double(word.width),
                            height: Double(word.height)),
                        confidencePPM: Int((word.confidence * 10_000).rounded())))
            }
        }
        return .success(predictions, ModelUsage(images: 1))
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
