public import AssayModels
import Foundation
import AssayCore

/// Turns rows and targets into chat requests, and answers back into predictions: the part of
/// an LLM provider that does not touch the network, so it is tested on its own.
public enum Prompting {
    /// The model class of free text when the run maps no target.
    public static let defaultTextClass = "text"

    /// What a row's call asks for: free text, or a choice for each classification target.
    public enum Task: Hashable, Sendable {
        case generate(modelClass: String)
        case classify([TargetFeature])
    }

    /// The call a request's targets ask for. Classification targets (radio/checklist with
    /// options) and free-text targets both become properties of one JSON answer when mixed;
    /// free text alone is plain generation.
    public static func task(for targets: [TargetFeature]) -> Task {
        let choices = targets.filter { ($0.kind == .radio || $0.kind == .checklist) && !$0.options.isEmpty }
        if choices.isEmpty {
            return .generate(modelClass: targets.first { $0.kind == .freeText }?.modelClass ?? defaultTextClass)
        }
        return .classify(targets.filter { $0.kind == .freeText || choices.contains($0) })
    }

    /// The chat messages of a row: the system prompt, then the row's conversation (a JSON
    /// array of `{role, content}` for conversation rows), or for an image row (when the model
    /// `readsImages`) its question (the row's text, else its metadata `question`) with the image,
    /// or its text as one user message.
    public static func messages(for row: ModelInput, systemPrompt: String, readsImages: Bool = false) throws(RowFailure) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if !systemPrompt.isEmpty { messages.append(.system(systemPrompt)) }
        if row.mediaType == .image {
            guard readsImages else { throw RowFailure("this model does not read images") }
            let question = (row.text.isEmpty ? row.metadata["question"] ?? "" : row.text).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !question.isEmpty else { throw RowFailure("an image row needs a question: its text or its metadata \"question\"") }
            let image: ChatImage
            if !row.content.isEmpty {
                guard let encoded = ChatImage(encoded: row.content) else { throw RowFailure("the row's image is not PNG, JPEG, GIF or WebP") }
                image = encoded
            } else if row.uri.hasPrefix("https://") || row.uri.hasPrefix("http://") {
                image = ChatImage(url: row.uri)
            } else {
                throw RowFailure("the image row has neither inline bytes nor an http(s) URI")
            }
            messages.append(.user(question, images: [image]))
        } else if row.mediaType == .conversation, let turns = try? JSONDecoder().decode([ChatMessage].self, from: Data(row.text.utf8)) {
            guard !turns.isEmpty else { throw RowFailure("the conversation has no messages") }
            messages += turns
        } else {
            guard !row.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw RowFailure("the row has no text to send to the model")
            }
            messages.append(.user(row.text))
        }
        return messages
    }

    /// Adds the instruction to answer each target with one of its options, and the schema the
    /// answer must fit: `{"<model class>": "<option>" | ["<option>", …] | "<text>"}`.
    public static func classification(_ targets: [TargetFeature], into messages: inout [ChatMessage]) -> ResponseSchema {
        var properties: [String: JSONValue] = [:]
        var lines = ["Answer with a JSON object with these keys and nothing else:"]
        for target in targets {
            let names = target.options.map { JSONValue.string($0.name) }
            let described = target.options.map { $0.description.isEmpty ? "\"\($0.name)\"" : "\"\($0.name)\" (\($0.description))" }
            switch target.kind {
            case .checklist:
                properties[target.modelClass] = .object(["type": .string("array"), "items": .object(["type": .string("string"), "enum": .array(names)])])
                lines.append("- \"\(target.modelClass)\": a list of every option that applies, from: \(described.joined(separator: ", "))")
            case .radio:
                properties[target.modelClass] = .object(["type": .string("string"), "enum": .array(names)])
                lines.append("- \"\(target.modelClass)\": exactly one of: \(described.joined(separator: ", "))")
            default:
                properties[target.modelClass] = .object(["type": .string("string")])
                lines.append("- \"\(target.modelClass)\": a short free-text answer")
            }
        }
        let instruction = lines.joined(separator: "\n")
        if let last = messages.indices.last(where: { messages[$0].role == "user" }) {
            messages[last].content += "\n\n" + instruction
        } else {
            messages.append(.user(instruction))
        }
        let schema = JSONValue.object([
            "type": .string("object"),
            "properties": .object(properties),
            "required": .array(targets.map { .string($0.modelClass) }),
            "additionalProperties": .bool(false),
        ])
        return ResponseSchema(name: "classification", schema: schema)
    }

    /// Reads a classification answer. An option is matched ignoring case and surrounding
    /// quotes and whitespace and then named as the ontology names it; an answer that is not
    /// an option is kept as it is (the run service reports it as a row error rather than
    /// dropping it). Text that is not JSON is taken as the answer to a single target.
    public static func parseClassification(_ answer: String, targets: [TargetFeature]) throws(RowFailure) -> [RawPrediction] {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        let object: [String: JSONValue]
        if case .object(let decoded)? = try? JSONDecoder().decode(JSONValue.self, from: Data(jsonBody(trimmed).utf8)) {
            object = decoded
        } else if targets.count == 1 {
            object = [targets[0].modelClass: .string(trimmed)]
        } else {
            throw RowFailure("the model's answer is not a JSON object: \(trimmed.prefix(200))")
        }
        var predictions: [RawPrediction] = []
        for target in targets {
            guard let value = object[target.modelClass] ?? (targets.count == 1 && object.count == 1 ? object.values.first : nil) else {
                throw RowFailure("the model's answer has no \"\(target.modelClass)\": \(trimmed.prefix(200))")
            }
            switch target.kind {
            case .radio, .checklist:
                let answers: [String]
                switch value {
                case .string(let s): answers = target.kind == .checklist && !s.isEmpty && option(s, in: target) == nil ? s.split(separator: ",").map(String.init) : [s]
                case .array(let items): answers = items.map { $0.stringValue ?? text(of: $0) }
                case .null: answers = []
                default: answers = [text(of: value)]
                }
                let named = answers.map { option($0, in: target) ?? $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                predictions.append(RawPrediction(modelClass: target.modelClass, value: .options(named)))
            default:
                predictions.append(RawPrediction(modelClass: target.modelClass, value: .text(value.stringValue ?? text(of: value))))
            }
        }
        return predictions
    }

    /// The option `answer` names, spelled as the ontology spells it.
    static func option(_ answer: String, in target: TargetFeature) -> String? {
        let cleaned = answer.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\"'`.")))
        return target.options.first { $0.name == cleaned }?.name
            ?? target.options.first { $0.name.caseInsensitiveCompare(cleaned) == .orderedSame }?.name
    }

    /// The JSON inside a fenced code block, or the text itself.
    static func jsonBody(_ text: String) -> String {
        guard text.hasPrefix("```") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        if lines.last?.trimmingCharacters(in: .whitespaces) == "```" { lines = lines.dropLast() }
        return lines.joined(separator: "\n")
    }

    static func text(of value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// A row the model cannot answer; the message is recorded on the row.
public struct RowFailure: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
