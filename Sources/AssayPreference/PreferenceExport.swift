public import AssayCore

/// The export formats, one JSON object per line. Field names follow each trainer's reader:
/// TRL's preference and unpaired datasets, OpenAI's preference fine-tuning, Anthropic's HH.
public enum PreferenceExport {
    public enum Format: String, Hashable, Sendable, CaseIterable {
        case assay, trl, trlConversational = "trl_conversational", kto, openai, anthropicHH = "anthropic_hh"
    }

    /// A JSON value written with keys in the order given (readers do not care; diffs do).
    public indirect enum Value: Hashable, Sendable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case array([Value])
        case object([(String, Value)])

        public static func == (a: Value, b: Value) -> Bool { a.text == b.text }
        public func hash(into h: inout Hasher) { h.combine(text) }

        public var text: String {
            switch self {
            case .string(let s): return Self.quote(s)
            case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
            case .bool(let b): return b ? "true" : "false"
            case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
            case .object(let members): return "{" + members.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
            }
        }

        static func quote(_ s: String) -> String {
            var out = "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case let c where c.value < 0x20:
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(c)
                }
            }
            return out + "\""
        }
    }

    /// What a line needs besides the pair: the prompt, the responses, the candidates.
    public struct Context: Sendable {
        public var prompts: [ObjectID: PromptText]
        /// responses[candidate][row]
        public var responses: [[ObjectID: String]]
        public var candidates: [PreferenceCandidate]
        public var tieRule: PreferenceTieRule
    }

    static func messages(_ m: [[String: String]]) -> Value {
        .array(m.map { .object([("role", .string($0["role"] ?? "user")), ("content", .string($0["content"] ?? ""))]) })
    }

    static func assistant(_ text: String) -> Value { .array([.object([("role", .string("assistant")), ("content", .string(text))])]) }

    /// An Anthropic HH transcript: "\n\nHuman: …\n\nAssistant: …" turns, ending with the response.
    static func transcript(_ messages: [[String: String]], response: String) -> String {
        var out = ""
        for m in messages {
            let role = m["role"] == "assistant" ? "Assistant" : "Human"
            if m["role"] == "system" { continue }
            out += "\n\n\(role): \(m["content"] ?? "")"
        }
        return out + "\n\nAssistant: " + response
    }

    static func parameters(_ p: [String: ParameterValue]) -> Value {
        .object(p.keys.sorted().map { k in
            switch p[k]! {
            case .integer(let v): (k, .number(Double(v)))
            case .number(let v): (k, .number(v))
            case .string(let v): (k, .string(v))
            case .boolean(let v): (k, .bool(v))
            }
        })
    }

    /// The lines of one pair in `format` (none for a tie, except KTO under the KTO tie rule
    /// and Assay's own format, which records ties too).
    public static func lines(_ pair: Judgments.Pair, format: Format, context: Context) -> [String] {
        guard let prompt = context.prompts[pair.promptRowID],
            let chosen = context.responses[pair.chosen][pair.promptRowID],
            let rejected = context.responses[pair.rejected][pair.promptRowID]
        else { return [] }
        if pair.tie && format != .assay && !(format == .kto && context.tieRule == .kto) { return [] }
        let value: [Value]
        switch format {
        case .trl:
            value = [.object([("prompt", .string(prompt.text)), ("chosen", .string(chosen)), ("rejected", .string(rejected))])]
        case .trlConversational:
            value = [.object([("prompt", messages(prompt.messages)), ("chosen", assistant(chosen)), ("rejected", assistant(rejected))])]
        case .kto:
            value = [
                .object([("prompt", .string(prompt.text)), ("completion", .string(chosen)), ("label", .bool(true))]),
                .object([("prompt", .string(prompt.text)), ("completion", .string(rejected)), ("label", .bool(pair.tie))]),
            ]
        case .openai:
            value = [
                .object([
                    ("input", .object([("messages", messages(prompt.messages))])),
                    ("preferred_output", assistant(chosen)), ("non_preferred_output", assistant(rejected)),
                ])
            ]
        case .anthropicHH:
            value = [
                .object([
                    ("chosen", .string(transcript(prompt.messages, response: chosen))),
                    ("rejected", .string(transcript(prompt.messages, response: rejected))),
                ])
            ]
        case .assay:
            let c = context.candidates
            func candidate(_ k: Int) -> Value {
                .object([("name", .string(c[k].name)), ("model", .string(c[k].modelID)), ("parameters", parameters(c[k].parameters)),
                         ("run_id", .string(c[k].runID?.rawValue ?? ""))])
            }
            let votes: [Value] = pair.votes.map { v in
                var members: [(String, Value)] = [
                    ("source", .string(v.source.rawValue)), ("annotator", .string(v.annotator)),
                    ("winner", v.winner.map { .string(c[$0].name) } ?? .string("")), ("margin", .number(Double(v.margin))),
                    ("shown", .array(v.shown.map { .string(c[$0].name) })),
                ]
                if v.source == .judge {
                    members += [("first_verdict", .string(v.firstVerdict)), ("second_verdict", .string(v.secondVerdict)), ("consistent", .bool(v.consistent))]
                } else {
                    members += [("rationale", .string(v.rationale)), ("task_id", .string(v.taskID))]
                }
                return .object(members)
            }
            value = [
                .object([
                    ("prompt_row_id", .string(pair.promptRowID.rawValue)), ("prompt", .string(prompt.text)),
                    ("messages", messages(prompt.messages)), ("chosen", .string(chosen)), ("rejected", .string(rejected)),
                    ("tie", .bool(pair.tie)), ("chosen_candidate", candidate(pair.chosen)), ("rejected_candidate", candidate(pair.rejected)),
                    ("agreement", .number(pair.agreement)), ("margin", .number(Double(pair.margin))), ("votes", .array(votes)),
                ])
            ]
        }
        return value.map(\.text)
    }
}
