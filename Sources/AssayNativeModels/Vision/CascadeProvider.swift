public import AssayModels
public import AssayCore

/// Serves OpenCV's pretrained cascade detectors (Debian's `opencv-data`): boxes of faces, eyes,
/// bodies, plates … with a score.
///
/// Each of `threads` dedicated threads loads the cascades it is asked for once and reuses them
/// (a cascade is not thread-safe); OpenCV's own threading is turned off (process-wide) so that
/// parallel calls, not one call, use the cores.
public final class CascadeProvider: ModelProvider {
    public let cards: [ModelCard]
    public let batchSize: Int
    public let concurrency: Int
    /// Where `haarcascades/` and `lbpcascades/` are.
    public let dataDirectory: String
    private let models: [String: CascadeModel]
    private let pool: BlockingPool
    private let detectors: PerThreadCache<CascadeDetector>

    /// The cards whose cascade files exist under `dataDirectory`; fails when none does
    /// (install `opencv-data`).
    public init(dataDirectory: String = CascadeProvider.defaultDataDirectory, threads: Int = NativeModels.cores)
        throws(ModelError)
    {
        var models: [String: CascadeModel] = [:]
        var cards: [ModelCard] = []
        for model in CascadeModel.all {
            let installed = model.classes.filter { LocalFile.exists("\(dataDirectory)/\($0.file)") }
            guard !installed.isEmpty else { continue }
            let available = CascadeModel(
                id: model.id, name: model.name, description: model.description, classes: installed)
            models[model.id] = available
            cards.append(available.card)
        }
        guard !cards.isEmpty else {
            throw ModelError(.unavailable, "no OpenCV cascades in \(dataDirectory) (install opencv-data)")
        }
        let threads = max(1, threads)
        self.dataDirectory = dataDirectory
        self.models = models
        self.cards = cards
        concurrency = threads
        batchSize = 4
        CascadeDetector.setOpenCVThreads(1)
        pool = BlockingPool(threads: threads, name: "opencv")
        detectors = PerThreadCache(threads: threads)
    }

    deinit { pool.stop() }

    /// Where Debian's opencv-data puts the cascades.
    public static let defaultDataDirectory = "/usr/share/opencv4"

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard let model = models[request.card.id] else {
            throw ModelError(.invalidRequest, "the OpenCV cascade provider does not serve model \(request.card.id)")
        }
        let options = try Options(request, model: model, dataDirectory: dataDirectory)
        let detectors = detectors
        return await withTaskGroup(of: (Int, RowPrediction).self) { group in
            for (index, row) in request.rows.enumerated() {
                group.addTask { [pool] in
                    let prediction = await pool.run { thread in
                        Self.predict(row, options: options) { (path) throws(VisionError) in
                            try detectors.object(thread: thread, key: path) { () throws(VisionError) in
                                try CascadeDetector(path: path)
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
        /// (class, cascade file path) to run, in the card's order.
        var cascades: [(modelClass: String, path: String)]
        var scaleFactor: Double
        var minNeighbors: Int
        var minSize: Int
        var maxSize: Int

        init(_ request: PredictRequest, model: CascadeModel, dataDirectory: String) throws(ModelError) {
            let card = model.card
            let parameters: [String: ParameterValue]
            do { parameters = try card.resolve(request.parameters) } catch {
                throw ModelError(.invalidRequest, error.description)
            }
            scaleFactor = parameters["scale_factor"]?.doubleValue ?? 1.1
            minNeighbors = Int(parameters["min_neighbors"]?.intValue ?? 3)
            minSize = Int(parameters["min_size"]?.intValue ?? 0)
            maxSize = Int(parameters["max_size"]?.intValue ?? 0)
            if maxSize > 0 && maxSize < minSize {
                throw ModelError(.invalidRequest, "parameter max_size: \(maxSize) is below min_size \(minSize)")
            }
            if let unknown = request.targets.first(where: { !card.classes.contains($0.modelClass) }) {
                throw ModelError(
                    .invalidRequest,
                    "model \(card.id) has no class \(unknown.modelClass) (it has: \(card.classes.joined(separator: ", ")))"
                )
            }
            // No targets: every class of the model.
            let wanted = Set(request.targets.map(\.modelClass))
            cascades = model.classes.filter { wanted.isEmpty || wanted.contains($0.name) }.map {
                (modelClass: $0.name, path: "\(dataDirectory)/\($0.file)")
            }
        }
    }

    /// One row on a pool thread.
    static func predict(_ row: ModelInput, options: Options, detector: (String) throws(VisionError) -> CascadeDetector)
        -> RowPrediction
    {
        let image: GrayImage
        do { image = try GrayImage(encoded: try RowImage.bytes(of: row)) } catch let failure as RowFailure {
            return .failure(failure.message)
        } catch {
            return .failure("the row's image cannot be decoded: \(error)")
        }
        var predictions: [RawPrediction] = []
        for cascade in options.cascades {
            do {
                let found = try detector(cascade.path).detect(
                    in: image, scaleFactor: options.scaleFactor, minNeighbors: options.minNeighbors,
                    minSize: options.minSize,
                    maxSize: options.maxSize)
                for detection in found.sorted(by: { $0.levelWeight > $1.levelWeight }) {
                    predictions.append(
                        RawPrediction(
                            modelClass: cascade.modelClass,
                            value: .box(
                                left: Double(detection.left), top: Double(detection.top),
                                width: Double(detection.width),
                                height: Double(detection.height)),
                            confidencePPM: confidencePPM(levelWeight: detection.levelWeight)))
                }
            } catch {
                return .failure("\(cascade.modelClass) detection failed: \(error.message)")
            }
        }
        return .success(predictions, ModelUsage(images: 1))
    }

    /// A cascade's score is a sum of stage responses without a fixed range, so it is mapped to
    /// 0...1,000,000 by the softsign 0.5 + 0.5·w/(1+|w|): monotone (it ranks detections of one
    /// class as OpenCV does, which is what AP needs), never saturating; not a calibrated
    /// probability, and not comparable between cascades.
    static func confidencePPM(levelWeight: Double) -> Int {
        guard levelWeight.isFinite else { return levelWeight > 0 ? 1_000_000 : 0 }
        let score = 0.5 + 0.5 * levelWeight / (1 + abs(levelWeight))
        return min(1_000_000, max(0, Int((score * 1_000_000).rounded())))
    }
}

/// A card served by cascades: which class each cascade file finds.
struct CascadeModel: Sendable {
    struct Class: Sendable {
        var name: String
        /// Relative to the data directory.
        var file: String
    }
    var id: String
    var name: String
    var description: String
    var classes: [Class]

    var card: ModelCard {
        ModelCard(
            id: id, name: name, version: "opencv-\(CascadeDetector.openCVVersion)", description: description,
            taskKinds: [.detection], mediaTypes: [.image], outputKinds: [.boundingBox], classes: classes.map(\.name),
            parameters: [
                ParameterSpec(
                    name: "scale_factor", kind: .number,
                    description: "How much the image shrinks between scales: smaller finds more, slower.",
                    defaultValue: .number(1.1), minimum: 1.01, maximum: 2),
                ParameterSpec(
                    name: "min_neighbors", kind: .integer,
                    description: "Overlapping hits a detection needs: higher gives fewer false positives.",
                    defaultValue: .integer(3), minimum: 0, maximum: 100),
                ParameterSpec(
                    name: "min_size", kind: .integer,
                    description: "Smallest object side in pixels (0: the cascade's window).",
                    defaultValue: .integer(0), minimum: 0, maximum: 100_000),
                ParameterSpec(
                    name: "max_size", kind: .integer, description: "Largest object side in pixels (0: no limit).",
                    defaultValue: .integer(0), minimum: 0, maximum: 100_000),
            ],
            price: Price(unit: .perImage, microdollars: 200), provider: "opencv")
    }

    static let all: [CascadeModel] = [
        CascadeModel(
            id: "opencv-haar-faces", name: "OpenCV Haar frontal faces",
            description: "Viola-Jones frontal face detector (haarcascade_frontalface_default).",
            classes: [Class(name: "face", file: "haarcascades/haarcascade_frontalface_default.xml")]),
        CascadeModel(
            id: "opencv-lbp-faces", name: "OpenCV LBP frontal faces",
            description:
                "Local-binary-pattern frontal face detector (lbpcascade_frontalface_improved): faster than Haar.",
            classes: [Class(name: "face", file: "lbpcascades/lbpcascade_frontalface_improved.xml")]),
        CascadeModel(
            id: "opencv-cascade", name: "OpenCV cascades",
            description:
                "OpenCV's pretrained Haar cascades: faces, profiles, eyes, smiles, bodies, (Russian) plates, cat faces.",
            classes: [
                Class(name: "face", file: "haarcascades/haarcascade_frontalface_default.xml"),
                Class(name: "profile_face", file: "haarcascades/haarcascade_profileface.xml"),
                Class(name: "eye", file: "haarcascades/haarcascade_eye.xml"),
                Class(name: "smile", file: "haarcascades/haarcascade_smile.xml"),
                Class(name: "full_body", file: "haarcascades/haarcascade_fullbody.xml"),
                Class(name: "upper_body", file: "haarcascades/haarcascade_upperbody.xml"),
                Class(name: "lower_body", file: "haarcascades/haarcascade_lowerbody.xml"),
                Class(name: "plate", file: "haarcascades/haarcascade_russian_plate_number.xml"),
                Class(name: "cat_face", file: "haarcascades/haarcascade_frontalcatface.xml"),
            ]),
    ]
}
