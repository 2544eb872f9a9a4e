import AssayCore
import AssayModels
import struct AssayWire.JSONField
import enum AssayWire.JSONValue

/// Keys and values of the prediction cache. A key is the SHA-256 of everything that decides
/// a model's answer: the model id and version, the resolved parameters, the targets it is
/// asked to fill, and the row's media type, content, text and uri. The value is the model's
/// raw answer (before mapping), as JSON.
enum PredictionCache {
    static func key(card: ModelCard, parameters: [String: ParameterValue], targets: [TargetFeature], row: DataRow) -> [UInt8] {
        var bytes: [UInt8] = []
        func field(_ s: String) { field(Array(s.utf8)) }
        func field(_ b: [UInt8]) {
            var n = UInt64(b.count)
            for _ in 0..<8 {
                bytes.append(UInt8(n & 0xff))
                n >>= 8
            }
            bytes += b
        }
        field("assay-prediction-cache-v1")
        field(card.id)
        field(card.version)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            field(name)
            switch value {
            case .integer(let v): field("i" + String(v))
            case .number(let v): field("n" + String(v.bitPattern))
            case .string(let v): field("s" + v)
            case .boolean(let v): field(v ? "b1" : "b0")
            }
        }
        field("targets")
        for t in targets {
            field(t.modelClass)
            field(t.kind.rawValue)
            for o in t.options { field(o.name) }
            field("")
        }
        field(row.mediaType.rawValue)
        field(SHA256.hash(row.content))
        field(row.text)
        field(row.uri)
        return SHA256.hash(bytes)
    }

    static func encode(_ predictions: [RawPrediction], usage: ModelUsage) -> [UInt8] {
        func number(_ d: Double) -> JSONValue { .number(d.isFinite ? String(d) : "0") }
        let items: [JSONValue] = predictions.map { p in
            var fields = [JSONField("class", .string(p.modelClass))]
            switch p.value {
            case .box(let l, let t, let w, let h): fields.append(JSONField("box", .array([number(l), number(t), number(w), number(h)])))
            case .polygon(let points): fields.append(JSONField("polygon", .array(points.flatMap { [number($0.x), number($0.y)] })))
            case .text(let s): fields.append(JSONField("text", .string(s)))
            case .options(let names): fields.append(JSONField("options", .array(names.map { .string($0) })))
            case .span(let s, let e): fields.append(JSONField("span", .array([.number(String(s)), .number(String(e))])))
            }
            if let c = p.confidencePPM { fields.append(JSONField("confidence_ppm", .number(String(c)))) }
            return .object(fields)
        }
        let doc = JSONValue.object([
            JSONField("predictions", .array(items)),
            JSONField("prompt_tokens", .number(String(usage.promptTokens))),
            JSONField("completion_tokens", .number(String(usage.completionTokens))),
            JSONField("images", .number(String(usage.images))),
        ])
        return Array(doc.jsonString().utf8)
    }

    /// Nil when the stored value cannot be read (it is then ignored and the model asked again).
    static func decode(_ bytes: [UInt8]) -> (predictions: [RawPrediction], usage: ModelUsage)? {
        guard let doc = try? JSONValue.parse(String(decoding: bytes, as: UTF8.self)) else { return nil }
        func int(_ v: JSONValue?) -> Int64? {
            if case .number(let n)? = v { return Int64(n) }
            return nil
        }
        func doubles(_ v: JSONValue?) -> [Double]? {
            guard case .array(let items)? = v else { return nil }
            var out: [Double] = []
            for item in items {
                guard case .number(let n) = item, let d = Double(n) else { return nil }
                out.append(d)
            }
            return out
        }
        guard case .array(let items)? = doc["predictions"] else { return nil }
        var predictions: [RawPrediction] = []
        for item in items {
            guard case .string(let cls)? = item["class"] else { return nil }
            let value: RawValue
            if let b = doubles(item["box"]), b.count == 4 {
                value = .box(left: b[0], top: b[1], width: b[2], height: b[3])
            } else if let p = doubles(item["polygon"]), p.count % 2 == 0 {
                value = .polygon(stride(from: 0, to: p.count, by: 2).map { Point(x: p[$0], y: p[$0 + 1]) })
            } else if case .string(let s)? = item["text"] {
                value = .text(s)
            } else if case .array(let names)? = item["options"] {
                value = .options(names.compactMap { if case .string(let s) = $0 { s } else { nil } })
            } else if let s = doubles(item["span"]), s.count == 2 {
                value = .span(start: Int(s[0]), end: Int(s[1]))
            } else {
                return nil
            }
            predictions.append(RawPrediction(modelClass: cls, value: value, confidencePPM: int(item["confidence_ppm"]).map { Int($0) }))
        }
        let usage = ModelUsage(
            promptTokens: int(doc["prompt_tokens"]) ?? 0, completionTokens: int(doc["completion_tokens"]) ?? 0,
            images: Int(int(doc["images"]) ?? 0))
        return (predictions, usage)
    }
}
