import AssayCatalog
public import AssayCore
public import AssayModels
public import AssayRPC
import AssayRuns
public import AssayWire

/// Worker wire messages to and from the model provider's values.
public enum WorkerConvert {
    /// A card a worker registers, checked; its provider is always "worker".
    public static func card(_ w: AssayWire.ModelCard) throws(RPCError) -> AssayCore.ModelCard {
        func bad(_ why: String) -> RPCError { RPCError(.invalidArgument, "model card \(w.id.isEmpty ? "(no id)" : w.id): \(why)") }
        guard !w.id.isEmpty, w.id.utf8.count <= 128 else { throw bad("the id must be 1 to 128 bytes") }
        guard !w.version.isEmpty else { throw bad("a card needs a version (it keys the prediction cache)") }
        var tasks: [TaskKind] = []
        for t in w.taskKinds {
            guard let kind = TaskKind(rawValue: t) else { throw bad("unknown task kind \"\(t)\"") }
            tasks.append(kind)
        }
        var media: [AssayCore.MediaType] = []
        for m in w.mediaTypes {
            guard let type = Convert.mediaType(m) else { throw bad("unknown media type") }
            media.append(type)
        }
        guard !media.isEmpty else { throw bad("a card names the media types it reads") }
        var outputs: [AssayCore.FeatureKind] = []
        for k in w.outputKinds {
            guard let kind = Convert.featureKind(k) else { throw bad("unknown output kind") }
            outputs.append(kind)
        }
        var parameters: [AssayCore.ParameterSpec] = []
        for p in w.parameters {
            guard let kind = AssayCore.ParameterSpec.Kind(rawValue: p.kind) else { throw bad("parameter \(p.name): unknown kind \"\(p.kind)\"") }
            let defaults: [String: AssayCore.ParameterValue]
            do {
                defaults = try RunConvert.parameters([p.name: p.defaultValue ?? AssayWire.ParameterValue()])
            } catch {
                throw bad("parameter \(p.name) has no default value")
            }
            parameters.append(AssayCore.ParameterSpec(
                name: p.name, kind: kind, description: p.description, defaultValue: defaults[p.name]!,
                minimum: p.hasMinimum ? p.minimum : nil, maximum: p.hasMaximum ? p.maximum : nil, choices: p.choices))
        }
        let price: AssayCore.Price
        if let wp = w.price, !wp.unit.isEmpty {
            guard let unit = AssayCore.Price.Unit(rawValue: wp.unit) else { throw bad("unknown price unit \"\(wp.unit)\"") }
            guard wp.microdollars >= 0 else { throw bad("a negative price") }
            price = AssayCore.Price(unit: unit, microdollars: wp.microdollars)
        } else {
            price = .free
        }
        return AssayCore.ModelCard(
            id: w.id, name: w.name.isEmpty ? w.id : w.name, version: w.version, description: w.description, taskKinds: tasks,
            mediaTypes: media, outputKinds: outputs, classes: w.classes, parameters: parameters, price: price, provider: "worker")
    }

    /// The batch a worker receives for a `predict` call (the batch id is set by the caller).
    public static func batch(_ r: PredictRequest) -> PredictBatch {
        PredictBatch(
            modelId: r.card.id,
            parameters: r.parameters.mapValues(RunConvert.parameter),
            targets: r.targets.map { t in
                WorkerTarget(
                    modelClass: t.modelClass, kind: Convert.featureKind(t.kind),
                    options: t.options.map { WorkerTargetOption(name: $0.name, description: $0.description) })
            },
            rows: r.rows.map { row in
                WorkerRow(
                    rowId: row.rowID.rawValue, mediaType: Convert.mediaType(row.mediaType), content: row.content, text: row.text,
                    uri: row.uri, metadata: row.metadata)
            })
    }

    /// A worker's answer as the run engine wants it: one outcome per row, in order.
    public static func predictions(_ result: BatchResult, expected: Int, worker: String) throws(ModelError) -> [RowPrediction] {
        guard result.rows.count == expected else {
            throw ModelError(.internal, "\(worker) answered \(result.rows.count) rows for a batch of \(expected)")
        }
        return result.rows.map { row in
            if !row.error.isEmpty { return .failure(row.error) }
            var out: [RawPrediction] = []
            for p in row.predictions {
                let value: RawValue
                switch p.value {
                case .box(let b)?: value = .box(left: b.left, top: b.top, width: b.width, height: b.height)
                case .polygon(let poly)?: value = .polygon(poly.points.map { Point(x: $0.x, y: $0.y) })
                case .text(let t)?: value = .text(t)
                case .options(let o)?: value = .options(o.names)
                case .span(let s)?: value = .span(start: Int(s.start), end: Int(s.end))
                case nil: return .failure("the worker sent a prediction for \(p.modelClass) without a value")
                }
                out.append(RawPrediction(
                    modelClass: p.modelClass, value: value, confidencePPM: p.hasConfidence ? min(1_000_000, Int(p.confidencePpm)) : nil))
            }
            let usage = row.usage.map { ModelUsage(promptTokens: $0.promptTokens, completionTokens: $0.completionTokens, images: Int($0.images)) }
            return .success(out, usage ?? .zero)
        }
    }
}
