import AssayCore
import AssayModels
import AssayRPC
import AssayStorage
import AssayTestSupport
import AssayWire
import Foundation
import AssaySync
import Testing

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Admits every run (these tests are not about billing).
final class AdmitAll: RunBilling {
    func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> AssayCore.RunEstimate {
        AssayCore.RunEstimate(id: "est", modelUnits: 0, inferenceMicrodollars: 0, assumptions: [], expiresAt: .max)
    }
    func admit(_ request: RunBillingRequest) async throws(BillingRefusal) {}
    func settle(_ usage: RunUsage) async throws(BillingRefusal) {}
}

/// Admits every run and counts the admissions.
final class CountingBilling: RunBilling {
    let admissions = Lock(0)
    func estimate(_ request: RunBillingRequest) async throws(BillingRefusal) -> AssayCore.RunEstimate {
        AssayCore.RunEstimate(id: "est", modelUnits: 0, inferenceMicrodollars: 0, assumptions: [], expiresAt: .max)
    }
    func admit(_ request: RunBillingRequest) async throws(BillingRefusal) { admissions.withLock { $0 += 1 } }
    func settle(_ usage: RunUsage) async throws(BillingRefusal) {}
}

/// A chat-like model that answers "<style> answer to: <prompt>", so a test knows which
/// candidate wrote which response.
final class StyleWriter: ModelProvider {
    let cards = [
        AssayCore.ModelCard(
            id: "writer", name: "Writer", version: "1", taskKinds: [.generation], mediaTypes: [.text, .conversation],
            outputKinds: [.freeText, .radio],
            parameters: [ParameterSpec(name: "style", kind: .string, defaultValue: .string("plain"))], provider: "test")
    ]
    let batchSize = 8
    let concurrency = 1

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard case .string(let style)? = request.parameters["style"] else { throw ModelError(.invalidRequest, "no style") }
        return request.rows.map { row in
            // "oracle" answers the row's reference answer, and fails rows marked oracle_fails.
            if style == "oracle" {
                if row.metadata["oracle_fails"] != nil { return .failure("the oracle is out") }
                return .success([RawPrediction(modelClass: request.targets[0].modelClass, value: .text(row.metadata["reference"] ?? ""))], ModelUsage())
            }
            return .success([RawPrediction(modelClass: request.targets[0].modelClass, value: .text("\(style) answer to: \(row.text)"))], ModelUsage())
        }
    }
}

/// An organisation with a dataset of text prompts.
func makePrompts(_ harness: ServerHarness, _ texts: [String]) async throws -> (client: RPCClient, org: ObjectID, dataset: String) {
    let (client, org, _) = try await harness.organization("acme")
    let dataset = try await client.unary(CatalogService.createDataset, CreateDatasetRequest(name: "prompts"))
    let rows = texts.enumerated().map { i, t in AssayWire.DataRow(globalKey: "prompt-\(i)", mediaType: .text, text: t) }
    try await client.bidirectional(CatalogService.ingest) { writer, close, acks in
        try await writer.write(IngestBatch(datasetId: dataset.id, rows: rows))
        close()
        for try await ack in acks { #expect(ack.errors.isEmpty) }
    }
    return (client, org.id, dataset.id)
}

/// Waits for a run to finish; fails unless it completed.
func waitCompleted(_ client: RPCClient, _ id: String) async throws -> AssayWire.ModelRun {
    let last = try await client.serverStreaming(RunService.watch, WatchRunRequest(id: id), timeout: .seconds(1800)) { updates in
        var last: AssayWire.ModelRun?
        for try await run in updates { last = run }
        return last
    }
    guard let last, last.state == .completed else { throw TestFailure("run \(id) ended \(String(describing: last?.state)): \(last?.error ?? "")") }
    return last
}

func exportLines(
    _ client: RPCClient, _ project: String, _ format: PreferenceExportFormat, source: PreferenceSource = .all, minAgreement: Double = 0
) async throws -> [[String: Any]] {
    let bytes = try await client.serverStreaming(
        PreferenceService.export, ExportPreferenceRequest(projectId: project, format: format, source: source, minAgreement: minAgreement)
    ) { chunks in
        var bytes: [UInt8] = []
        for try await chunk in chunks { bytes += chunk.data }
        return bytes
    }
    return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure("not an object: \(line)")
        }
        return object
    }
}

/// Checks one line against a format's field names and types.
func validate(_ line: [String: Any], _ format: PreferenceExportFormat) throws {
    func string(_ v: Any?) -> Bool { (v as? String).map { !$0.isEmpty } ?? false }
    func messages(_ v: Any?, lastRole: String? = nil) -> Bool {
        guard let list = v as? [[String: Any]], !list.isEmpty else { return false }
        for m in list {
            guard let role = m["role"] as? String, ["system", "user", "assistant"].contains(role), m["content"] is String, m.count == 2 else { return false }
        }
        return lastRole == nil || (list.last?["role"] as? String) == lastRole
    }
    let keys = Set(line.keys)
    let ok: Bool
    switch format {
    case .trl:
        ok = keys == ["prompt", "chosen", "rejected"] && string(line["prompt"]) && string(line["chosen"]) && string(line["rejected"])
    case .trlConversational:
        ok = keys == ["prompt", "chosen", "rejected"] && messages(line["prompt"], lastRole: "user")
            && messages(line["chosen"], lastRole: "assistant") && messages(line["rejected"], lastRole: "assistant")
    case .kto:
        ok = keys == ["prompt", "completion", "label"] && string(line["prompt"]) && string(line["completion"])
            && line["label"] is Bool
    case .openai:
        let input = line["input"] as? [String: Any]
        ok = keys == ["input", "preferred_output", "non_preferred_output"] && input.map { Set($0.keys) == ["messages"] } == true
            && messages(input?["messages"], lastRole: "user") && messages(line["preferred_output"], lastRole: "assistant")
            && messages(line["non_preferred_output"], lastRole: "assistant")
            && (line["preferred_output"] as? [Any])?.count == 1
    case .anthropicHh:
        ok = keys == ["chosen", "rejected"] && [line["chosen"], line["rejected"]].allSatisfy { v in
            (v as? String).map { $0.hasPrefix("\n\nHuman: ") && $0.contains("\n\nAssistant: ") } == true
        }
    default:
        let votes = line["votes"] as? [[String: Any]]
        ok = string(line["prompt_row_id"]) && string(line["chosen"]) && string(line["rejected"]) && line["tie"] is Bool
            && (line["chosen_candidate"] as? [String: Any])?["model"] is String && (line["chosen_candidate"] as? [String: Any])?["parameters"] is [String: Any]
            && votes.map { !$0.isEmpty && $0.allSatisfy { $0["source"] is String && $0["annotator"] is String && $0["shown"] is [String] } } == true
    }
    if !ok { throw TestFailure("line does not fit format \(format.rawValue): \(line)") }
}

/// The free text of a wire label.
func text(of label: AssayWire.Label) -> String {
    if case .freeText(let t)? = label.value?.value { return t }
    return ""
}

func freeText(_ feature: String, _ text: String) -> AssayWire.Label {
    AssayWire.Label(featureId: feature, value: LabelValue(value: .freeText(text)))
}

/// A deterministic judge. Rule `prefer:STYLE` picks the response written in STYLE (by
/// StyleWriter) whichever side it is shown on, and answers tie when neither or both are:
/// consistent across orders. Rule `first` always answers A: every verdict flips with the order.
/// Rule `grade` scores a rubric prompt: 5 when the answer is the reference, else 1.
final class ScriptedJudge: ModelProvider {
    let cards = [
        AssayCore.ModelCard(
            id: "scripted-judge", name: "Scripted judge", version: "1", taskKinds: [.classification], mediaTypes: [.text],
            outputKinds: [.radio], parameters: [ParameterSpec(name: "rule", kind: .string, defaultValue: .string("first"))], provider: "test")
    ]
    let batchSize = 8
    let concurrency = 1

    /// The text between `[Response X]` and the next section of a judge prompt.
    static func response(_ letter: String, in prompt: String) -> String? {
        guard let start = prompt.range(of: "[Response \(letter)]\n") else { return nil }
        let rest = prompt[start.upperBound...]
        let end = rest.range(of: "\n\n[Response")?.lowerBound ?? rest.range(of: "\n\nWhich response")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// The text after a `[Title]` line of a rubric prompt, up to the next blank line.
    static func section(_ title: String, in prompt: String) -> String? {
        guard let start = prompt.range(of: title + "\n") else { return nil }
        let rest = prompt[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n\n")?.lowerBound ?? rest.endIndex)])
    }

    func predict(_ request: PredictRequest) async throws(ModelError) -> [RowPrediction] {
        guard case .string(let rule)? = request.parameters["rule"] else { throw ModelError(.invalidRequest, "no rule") }
        return request.rows.map { row in
            var verdict = "A"
            if rule == "grade" {
                let reference = Self.section("[Reference answer]", in: row.text)
                verdict = reference != nil && reference == Self.section("[Answer]", in: row.text) ? "5" : "1"
            } else if rule.hasPrefix("prefer:") {
                let style = rule.dropFirst("prefer:".count) + " answer to:"
                let a = Self.response("A", in: row.text)?.hasPrefix(style) ?? false
                let b = Self.response("B", in: row.text)?.hasPrefix(style) ?? false
                verdict = a == b ? "tie" : a ? "A" : "B"
            }
            return .success([RawPrediction(modelClass: request.targets[0].modelClass, value: .options([verdict]))], ModelUsage())
        }
    }
}

/// A project of StyleWriter candidates in `styles` over `prompts`, generated (runs completed),
/// with the scripted judge under `rule` (nil: no judge).
func generatedProject(
    _ harness: ServerHarness, prompts: [String], styles: [String], judgeRule: String?, inconsistent: AssayWire.PreferenceInconsistentRule = .tie,
    tieRule: AssayWire.PreferenceTieRule = .drop
) async throws -> (client: RPCClient, project: AssayWire.PreferenceProject) {
    let (client, _, dataset) = try await makePrompts(harness, prompts)
    var request = CreatePreferenceProjectRequest(
        name: "styles", prompts: RowSelection(datasetId: dataset),
        candidates: styles.map { AssayWire.PreferenceCandidate(name: $0, modelId: "writer", parameters: ["style": ParameterValue(value: .string($0))]) },
        tieRule: tieRule)
    if let judgeRule {
        request.judge = PreferenceJudgeConfig(modelId: "scripted-judge", parameters: ["rule": ParameterValue(value: .string(judgeRule))], inconsistent: inconsistent)
    }
    let project = try await client.unary(PreferenceService.createProject, request)
    let generated = try await client.unary(PreferenceService.generate, GeneratePreferenceRequest(projectId: project.id))
    for c in generated.candidates { _ = try await waitCompleted(client, c.runId) }
    return (client, generated)
}
