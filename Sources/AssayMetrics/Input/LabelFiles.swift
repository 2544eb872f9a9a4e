/// One line of a JSON-lines label file: `{"id": ..., "label": "cat"}`, `{"id": ..., "label":
/// ["a", "b"]}` (a checklist) or `{"id": ..., "text": "..."}`, with an optional `"score"`.
public struct LabelRecord: Sendable, Hashable {
    /// The row id as text (a number id is written without a fraction: 7, not 7.0).
    public var id: String
    /// The line it came from.
    public var line: Int
    /// The label (one element), the checklist, or empty for a text record or a null label.
    public var labels: [String]
    /// Whether `label` was a list.
    public var isChecklist: Bool
    public var text: String?
    public var score: Double?

    public init(id: String, line: Int, labels: [String], isChecklist: Bool, text: String? = nil, score: Double? = nil) {
        self.id = id
        self.line = line
        self.labels = labels
        self.isChecklist = isChecklist
        self.text = text
        self.score = score
    }
}

/// Reads JSON-lines label files and pairs predictions with ground truth by id.
public enum LabelFiles {
    /// What each line must carry.
    public enum Field: String, Sendable {
        case label
        case text
    }

    /// Parses every non-blank line. Ids must be unique; `field` must be present on each line.
    public static func records(_ bytes: [UInt8], file: String, field: Field) throws(InputError) -> [LabelRecord] {
        var out: [LabelRecord] = []
        var seen: [String: Int] = [:]
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            defer { start = end + 1 }
            var slice = bytes[start..<end]
            if slice.last == 13 { slice = slice.dropLast() }
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if end >= bytes.count { break }
                continue
            }
            let value = try JSONParser.parse(Array(slice), file: file, firstLine: lineNumber)
            guard case .object(let o) = value else { throw InputError(file: file, line: lineNumber, "expected an object, found \(value.kind)") }
            let id: String
            switch o["id"] {
            case .string(let s)?: id = s
            case .number(let d)?:
                guard d == d.rounded(), abs(d) < 9e15 else { throw InputError(file: file, line: lineNumber, "id must be a string or an integer, found \(d)") }
                id = String(Int(d))
            case nil: throw InputError(file: file, line: lineNumber, "missing \"id\"")
            case let other?: throw InputError(file: file, line: lineNumber, "id must be a string or an integer, found \(other.kind)")
            }
            if let first = seen[id] { throw InputError(file: file, line: lineNumber, "duplicate id \"\(id)\" (first on line \(first))") }
            seen[id] = lineNumber
            var record = LabelRecord(id: id, line: lineNumber, labels: [], isChecklist: false)
            switch field {
            case .label:
                switch o["label"] {
                case .string(let s)?: record.labels = [s]
                case .null?: record.labels = []
                case .array(let items, _)?:
                    record.isChecklist = true
                    for item in items {
                        guard case .string(let s) = item else {
                            throw InputError(file: file, line: lineNumber, "label list must hold strings, found \(item.kind)")
                        }
                        record.labels.append(s)
                    }
                case nil: throw InputError(file: file, line: lineNumber, "missing \"label\"")
                case let other?: throw InputError(file: file, line: lineNumber, "label must be a string or a list of strings, found \(other.kind)")
                }
            case .text:
                switch o["text"] {
                case .string(let s)?: record.text = s
                case nil: throw InputError(file: file, line: lineNumber, "missing \"text\"")
                case let other?: throw InputError(file: file, line: lineNumber, "text must be a string, found \(other.kind)")
                }
            }
            switch o["score"] {
            case nil, .null?: break
            case .number(let d)?: record.score = d
            case let other?: throw InputError(file: file, line: lineNumber, "score must be a number, found \(other.kind)")
            }
            out.append(record)
            if end >= bytes.count { break }
        }
        return out
    }

    /// The predictions in ground-truth order: nil where a row has no prediction. A prediction
    /// for an id that is not in the ground truth is an error (it is usually a join mistake).
    public static func align(truth: [LabelRecord], predictions: [LabelRecord], predictionFile: String) throws(InputError)
        -> [LabelRecord?]
    {
        let truthIDs = Set(truth.map(\.id))
        for p in predictions where !truthIDs.contains(p.id) {
            throw InputError(file: predictionFile, line: p.line, "id \"\(p.id)\" is not in the ground truth")
        }
        let byID = Dictionary(uniqueKeysWithValues: predictions.map { ($0.id, $0) })
        return truth.map { byID[$0.id] }
    }
}
