import AssayCore

/// How domain values are kept in the JSON text columns. The shapes are part of the file
/// format: changing one needs a migration.
///
/// - metadata: `{"key":"value",…}`, keys sorted
/// - attachments: `[{"kind":…,"value":…},…]`
/// - features: `[{"id","name","kind","options":[{"id","value","children"}],"children"}]`
/// - label value: `{"radio":"opt"}`, `{"checklist":["a","b"]}`, `{"box":[l,t,w,h]}`,
///   `{"polygon":[[x,y],…]}`, `{"span":[start,end]}`, `{"text":"…"}`
/// - label children: `[{"id","feature","value","children","model_run","confidence_ppm","created_at"}]`
enum DomainJSON {
    // MARK: metadata and attachments

    /// Appends `metadata` as a JSON object with sorted keys (the ingest hot path).
    static func writeMetadata(_ metadata: [String: String], to writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        if metadata.count == 1, let (key, value) = metadata.first {
            writer.string(key)
            writer.byte(UInt8(ascii: ":"))
            writer.string(value)
        } else {
            for (i, member) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(member.key)
                writer.byte(UInt8(ascii: ":"))
                writer.string(member.value)
            }
        }
        writer.byte(UInt8(ascii: "}"))
    }

    static func writeAttachments(_ attachments: [Attachment], to writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "["))
        for (i, a) in attachments.enumerated() {
            if i > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw("{\"kind\":")
            writer.string(a.kind)
            writer.raw(",\"value\":")
            writer.string(a.value)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.byte(UInt8(ascii: "]"))
    }

    /// A JSON path naming `key` (`$."key"`), or nil when the key holds a quote, a backslash or
    /// a control character, which SQLite's path syntax cannot express.
    static func metadataPath(forKey key: String) -> String? {
        guard !key.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            return nil
        }
        return "$.\"\(key)\""
    }

    static func metadata(from bytes: UnsafeRawBufferPointer) throws(StorageError) -> [String: String] {
        // The common empty case costs no parse.
        if bytes.count == 2 { return [:] }
        guard let members = try parse(bytes, "metadata").object else { throw corrupt("metadata", "not an object") }
        var result: [String: String] = [:]
        result.reserveCapacity(members.count)
        for (key, value) in members {
            guard let s = value.string else { throw corrupt("metadata", "value of \(key) is not a string") }
            result[key] = s
        }
        return result
    }

    static func attachments(from bytes: UnsafeRawBufferPointer) throws(StorageError) -> [Attachment] {
        if bytes.count == 2 { return [] }
        guard let items = try parse(bytes, "attachments").array else { throw corrupt("attachments", "not an array") }
        var result: [Attachment] = []
        for item in items {
            guard let o = item.object, let kind = o["kind"]?.string, let value = o["value"]?.string else {
                throw corrupt("attachments", "an item lacks kind or value")
            }
            result.append(Attachment(kind: kind, value: value))
        }
        return result
    }

    // MARK: ontology features

    static func features(_ features: [Feature]) -> String {
        var writer = JSONWriter(capacity: 256)
        writer.value(.array(features.map(json(feature:))))
        return writer.text
    }

    private static func json(feature f: Feature) -> JSON {
        .object([
            "id": .string(f.id), "name": .string(f.name), "kind": .string(f.kind.rawValue),
            "options": .array(
                f.options.map { o in
                    .object([
                        "id": .string(o.id), "value": .string(o.value),
                        "children": .array(o.children.map(json(feature:))),
                    ])
                }),
            "children": .array(f.children.map(json(feature:))),
        ])
    }

    static func features(from bytes: UnsafeRawBufferPointer) throws(StorageError) -> [Feature] {
        guard let items = try parse(bytes, "features").array else { throw corrupt("features", "not an array") }
        return try features(items)
    }

    private static func features(_ items: [JSON]) throws(StorageError) -> [Feature] {
        var result: [Feature] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let o = item.object, let id = o["id"]?.string, let name = o["name"]?.string,
                let kind = o["kind"]?.string.flatMap(FeatureKind.init(rawValue:)),
                let options = o["options"]?.array, let children = o["children"]?.array
            else { throw corrupt("features", "a feature lacks a field") }
            var parsedOptions: [FeatureOption] = []
            for option in options {
                guard let oo = option.object, let oid = oo["id"]?.string, let value = oo["value"]?.string,
                    let optionChildren = oo["children"]?.array
                else { throw corrupt("features", "an option lacks a field") }
                parsedOptions.append(FeatureOption(id: oid, value: value, children: try features(optionChildren)))
            }
            result.append(
                Feature(id: id, name: name, kind: kind, options: parsedOptions, children: try features(children)))
        }
        return result
    }

    // MARK: labels

    static func value(_ value: LabelValue) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.value(json(value: value))
        return writer.text
    }

    private static func json(value: LabelValue) -> JSON {
        func number(_ d: Double) -> JSON {
            d.isFinite ? .number(d.description) : .string(d.isNaN ? "nan" : (d < 0 ? "-inf" : "inf"))
        }
        switch value {
        case .radio(let option):
            return .object(["radio": .string(option)])
        case .checklist(let options):
            return .object(["checklist": .array(options.map(JSON.string))])
        case .boundingBox(let left, let top, let width, let height):
            return .object(["box": .array([left, top, width, height].map(number))])
        case .polygon(let points):
            return .object(["polygon": .array(points.map { .array([number($0.x), number($0.y)]) })])
        case .textSpan(let start, let end):
            return .object(["span": .array([.number(String(start)), .number(String(end))])])
        case .freeText(let text):
            return .object(["text": .string(text)])
        }
    }

    static func value(from bytes: UnsafeRawBufferPointer) throws(StorageError) -> LabelValue {
        try value(try parse(bytes, "label value"))
    }

    private static func value(_ json: JSON) throws(StorageError) -> LabelValue {
        guard let o = json.object, o.count == 1, let (kind, body) = o.first else {
            throw corrupt("label value", "not a one-member object")
        }
        func numbers(_ j: JSON?, count: Int) throws(StorageError) -> [Double] {
            guard let items = j?.array, items.count == count else {
                throw corrupt("label value", "\(kind) needs \(count) numbers")
            }
            var result: [Double] = []
            for item in items {
                guard let d = item.double else { throw corrupt("label value", "\(kind) holds a non-number") }
                result.append(d)
            }
            return result
        }
        switch kind {
        case "radio":
            guard let option = body.string else { break }
            return .radio(optionID: option)
        case "checklist":
            guard let items = body.array else { break }
            var options: [String] = []
            for item in items {
                guard let s = item.string else { throw corrupt("label value", "checklist holds a non-string") }
                options.append(s)
            }
            return .checklist(optionIDs: options)
        case "box":
            let v = try numbers(body, count: 4)
            return .boundingBox(left: v[0], top: v[1], width: v[2], height: v[3])
        case "polygon":
            guard let items = body.array else { break }
            var points: [Point] = []
            for item in items {
                let xy = try numbers(item, count: 2)
                points.append(Point(x: xy[0], y: xy[1]))
            }
            return .polygon(points: points)
        case "span":
            guard let items = body.array, items.count == 2, let start = items[0].int, let end = items[1].int else {
                break
            }
            return .textSpan(start: start, end: end)
        case "text":
            guard let text = body.string else { break }
            return .freeText(text)
        default:
            break
        }
        throw corrupt("label value", "unknown or malformed \(kind)")
    }

    /// Sub-labels, which share their parent's row and ontology.
    static func children(_ labels: [Label]) -> String {
        if labels.isEmpty { return "[]" }
        var writer = JSONWriter(capacity: 128)
        writer.value(.array(labels.map(json(label:))))
        return writer.text
    }

    private static func json(label l: Label) -> JSON {
        var o: [String: JSON] = [
            "id": .string(l.id.rawValue), "feature": .string(l.featureID), "value": json(value: l.value),
            "children": .array(l.children.map(json(label:))), "created_at": .number(String(l.createdAt)),
        ]
        if let run = l.modelRunID { o["model_run"] = .string(run.rawValue) }
        if let ppm = l.confidencePPM { o["confidence_ppm"] = .number(String(ppm)) }
        return .object(o)
    }

    static func children(from bytes: UnsafeRawBufferPointer, row: ObjectID, ontology: ObjectID) throws(StorageError)
        -> [Label]
    {
        if bytes.count == 2 { return [] }
        guard let items = try parse(bytes, "label children").array else {
            throw corrupt("label children", "not an array")
        }
        return try labels(items, row: row, ontology: ontology)
    }

    private static func labels(_ items: [JSON], row: ObjectID, ontology: ObjectID) throws(StorageError) -> [Label] {
        var result: [Label] = []
        for item in items {
            guard let o = item.object, let id = o["id"]?.string, let feature = o["feature"]?.string, let v = o["value"],
                let children = o["children"]?.array, let createdAt = o["created_at"]?.int
            else { throw corrupt("label children", "a label lacks a field") }
            result.append(
                Label(
                    id: ObjectID(rawValue: id), dataRowID: row, ontologyID: ontology, featureID: feature,
                    value: try value(v), children: try labels(children, row: row, ontology: ontology),
                    modelRunID: o["model_run"]?.string.map(ObjectID.init(rawValue:)),
                    confidencePPM: o["confidence_ppm"]?.int,
                    createdAt: Timestamp(createdAt)))
        }
        return result
    }

    // MARK: helpers

    private static func parse(_ bytes: UnsafeRawBufferPointer, _ what: String) throws(StorageError) -> JSON {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw corrupt(what, "\(error.reason) at byte \(error.offset)")
        }
    }

    private static func corrupt(_ what: String, _ reason: String) -> StorageError {
        .internal("stored \(what) is not valid: \(reason)")
    }
}
