import AssayAccess
public import AssayCore
public import AssayStorage
import Foundation

/// A prompt row as the exports need it: its text and its messages.
public struct PromptText: Hashable, Sendable {
    public var text: String
    /// Role/content messages (a conversation row's turns, else one user message).
    public var messages: [[String: String]]
    public var mediaType: MediaType
}

/// What a project's runs and review queue hold, read back: responses, judge verdicts, rankings.
struct PreferenceData {
    static let responseFeature = "response"
    static let verdictFeature = "verdict"
    static let rankingFeature = "ranking"
    static let rationaleFeature = "rationale"

    /// The ontology every preference project gets.
    static let features: [Feature] = [
        Feature(id: responseFeature, name: "Response", kind: .freeText),
        Feature(
            id: verdictFeature, name: "Which response is better", kind: .radio,
            options: [FeatureOption(id: "A", value: "A"), FeatureOption(id: "B", value: "B"), FeatureOption(id: "tie", value: "tie")]),
        Feature(id: rankingFeature, name: "Ranking, best first (e.g. B > A = D > C)", kind: .freeText),
        Feature(id: rationaleFeature, name: "Rationale", kind: .freeText),
    ] + (0..<PreferenceProvider.maximumCandidates).map { k in Feature(id: shownFeature(k), name: "Response shown as \(letter(k))", kind: .freeText) }

    /// The letter a reviewer sees position k as (A, B, …).
    static func letter(_ k: Int) -> String { String(UnicodeScalar(UInt8(65 + k))) }

    /// The feature of the response shown at position k: the review queue records the order
    /// shown as which response fills which of these.
    static func shownFeature(_ k: Int) -> String { "shown_" + letter(k).lowercased() }

    let store: any Storage
    let organization: ObjectID

    /// Labels of `rows`, in chunks.
    func labels(_ rows: [ObjectID]) async throws(StorageError) -> [ObjectID: [Label]] {
        var out: [ObjectID: [Label]] = [:]
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(rows.count, start + 500)])
            for (k, v) in try await store.labels(organization: organization, rows: chunk) { out[k] = v }
            start += chunk.count
        }
        return out
    }

    /// responses[candidate][prompt row] = text, from each candidate's generation run.
    func responses(_ project: AssayCore.PreferenceProject) async throws(StorageError) -> [[ObjectID: String]] {
        let labels = try await labels(project.promptRowIDs)
        return project.candidates.map { c in
            var out: [ObjectID: String] = [:]
            guard let run = c.runID else { return out }
            for (row, ls) in labels {
                for l in ls where l.modelRunID == run && l.featureID == Self.responseFeature {
                    if case .freeText(let t) = l.value { out[row] = t }
                }
            }
            return out
        }
    }

    func prompts(_ project: AssayCore.PreferenceProject) async throws(StorageError) -> [ObjectID: PromptText] {
        var out: [ObjectID: PromptText] = [:]
        for id in project.promptRowIDs {
            guard let row = try? await store.row(organization: organization, id: id) else { continue }
            out[id] = Self.prompt(row)
        }
        return out
    }

    static func prompt(_ row: DataRow) -> PromptText {
        if row.mediaType == .conversation,
            let turns = try? JSONDecoder().decode([[String: String]].self, from: Data(row.text.utf8)), !turns.isEmpty
        {
            let messages = turns.map { ["role": $0["role"] ?? "user", "content": $0["content"] ?? ""] }
            let text = messages.map { "\($0["role"]!): \($0["content"]!)" }.joined(separator: "\n")
            return PromptText(text: text, messages: messages, mediaType: row.mediaType)
        }
        return PromptText(text: row.text, messages: [["role": "user", "content": row.text]], mediaType: row.mediaType)
    }

    /// The judge row key: which prompt and which candidates, the first shown as A.
    static func judgeKey(project: ObjectID, row: ObjectID, first: Int, second: Int) -> String {
        "pref:\(project.rawValue):\(row.rawValue):\(first):\(second)"
    }

    static func parseJudgeKey(_ key: String, project: ObjectID) -> (row: ObjectID, first: Int, second: Int)? {
        let parts = key.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "pref", parts[1] == project.rawValue, let a = Int(parts[3]), let b = Int(parts[4]) else { return nil }
        return (ObjectID(rawValue: String(parts[2])), a, b)
    }

    /// The question the judge answers (the run service adds the instruction to answer A, B or tie).
    static func judgePrompt(instructions: String, prompt: String, a: String, b: String) -> String {
        let lead = instructions.isEmpty
            ? "You are judging two AI assistant responses to the same prompt. Pick the response that is more helpful, correct and clear. "
                + "Do not let the order or the length of the responses sway you."
            : instructions
        return """
            \(lead)

            [Prompt]
            \(prompt)

            [Response A]
            \(a)

            [Response B]
            \(b)

            Which response is better: A, B, or tie?
            """
    }

    /// The judge's verdicts, both orders gathered per pair.
    func judgeVerdicts(_ project: AssayCore.PreferenceProject) async throws(StorageError) -> [JudgeVerdicts] {
        guard let run = project.judgeRunID else { return [] }
        var rows: [RunRow] = []
        var after: Int64 = 0
        while true {
            let page = try await store.runRows(organization: organization, run: run, failedOnly: false, after: after, limit: 1000)
            rows += page
            guard page.count == 1000, let last = page.last else { break }
            after = last.position
        }
        let labels = try await labels(rows.map(\.rowID))
        struct Key: Hashable {
            var row: ObjectID
            var low: Int
            var high: Int
        }
        var order: [Key] = []
        var found: [Key: JudgeVerdicts] = [:]
        for r in rows {
            guard let (prompt, first, second) = Self.parseJudgeKey(r.globalKey, project: project.id) else { continue }
            let key = Key(row: prompt, low: min(first, second), high: max(first, second))
            if found[key] == nil {
                order.append(key)
                found[key] = JudgeVerdicts(promptRowID: prompt, i: key.low, j: key.high)
            }
            let verdict = (labels[r.rowID] ?? []).first { $0.modelRunID == run && $0.featureID == Self.verdictFeature }
            guard case .radio(let option)? = verdict?.value else { continue }
            if first == key.low { found[key]!.iFirst = option } else { found[key]!.jFirst = option }
        }
        return order.map { found[$0]! }
    }

    /// Candidate index of a pre-label id ("prl_c<k>_…").
    static func candidate(ofPreLabel id: ObjectID) -> Int? {
        let parts = id.rawValue.split(separator: "_")
        guard parts.count >= 2, parts[0] == "prl", parts[1].hasPrefix("c") else { return nil }
        return Int(parts[1].dropFirst())
    }

    /// Human rankings from the review project: every submitted review's ranking as votes.
    func humanVotes(_ project: AssayCore.PreferenceProject) async throws -> [Vote] {
        guard let review = project.reviewProjectID else { return [] }
        var votes: [Vote] = []
        var after: Int64 = 0
        while true {
            let page = try await store.reviewedRows(organization: organization, project: review, after: after, limit: 500, decisions: true)
            for row in page {
                var byAssignment: [ObjectID: (ranking: String?, rationale: String, reviewer: ObjectID)] = [:]
                var order: [ObjectID] = []
                for d in row.decisions where d.action == .add || d.action == .edit {
                    guard let label = d.label, case .freeText(let text) = label.value else { continue }
                    if byAssignment[d.assignmentID] == nil {
                        order.append(d.assignmentID)
                        byAssignment[d.assignmentID] = (nil, "", d.reviewerKeyID)
                    }
                    if label.featureID == Self.rankingFeature { byAssignment[d.assignmentID]!.ranking = text }
                    if label.featureID == Self.rationaleFeature { byAssignment[d.assignmentID]!.rationale = text }
                }
                for id in order {
                    guard let entry = byAssignment[id], let ranking = entry.ranking else { continue }
                    let assignment = try await store.reviewAssignment(organization: organization, id: id)
                    guard assignment.state == .submitted else { continue }
                    let shown = assignment.preLabels.compactMap { Self.candidate(ofPreLabel: $0.id) }
                    guard shown.count == assignment.preLabels.count,
                        let tiers = try? Judgments.parseRanking(ranking, shown: shown.count)
                    else { continue }
                    votes += Judgments.votes(
                        ranking: tiers, shown: shown, promptRowID: row.rowID, reviewer: entry.reviewer.rawValue, rationale: entry.rationale,
                        taskID: id.rawValue)
                }
            }
            guard page.count == 500, let last = page.last else { break }
            after = last.position
        }
        return votes
    }
}
