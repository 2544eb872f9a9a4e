public import AssayCore
import AssayMetrics

/// LLM evaluation against reference answers: the scores of one response, the rubric judge's
/// prompt and scale, and the per-candidate summary. No I/O: the provider feeds it.
public enum LLMEvaluation {
    /// The radio feature the rubric judge fills: options "1" to "5".
    public static let scoreFeature = "score"
    public static let scale = 1...5

    /// The ontology of rubric runs (one per organisation, found by name).
    static let ontologyName = "preference rubric scores"
    static let features = [
        Feature(
            id: scoreFeature, name: "Score from 1 (wrong) to 5 (correct and complete)", kind: .radio,
            options: scale.map { FeatureOption(id: String($0), value: String($0)) })
    ]

    /// What each score means when the request gives no criteria.
    public static let defaultCriteria = """
        5: correct and complete; it says what the reference answer says.
        4: correct, with a minor omission or an unneeded detail.
        3: partly correct.
        2: mostly wrong, or right only in passing.
        1: wrong, off the question, or no answer.
        """

    /// The judge's question about one response (the run service adds the instruction to answer
    /// with a JSON object whose "score" is one of "1" … "5", and the schema that forces it).
    public static func rubricPrompt(criteria: String, question: String, reference: String, response: String) -> String {
        """
        You are grading an answer to a question against the reference answer. Score it on this scale:
        \(criteria.isEmpty ? defaultCriteria : criteria)

        [Question]
        \(question)

        [Reference answer]
        \(reference)

        [Answer]
        \(response)

        Give the answer a score from 1 to 5.
        """
    }

    /// One candidate's response to one prompt row, scored.
    public struct Scored: Hashable, Sendable {
        public var promptRowID: ObjectID
        public var candidate: Int
        /// Nil when the candidate's run has no response for the row (it failed there).
        public var response: String?
        public var reference: String
        /// SQuAD's exact match: equal after lowercasing and dropping punctuation, articles and
        /// extra whitespace.
        public var exactMatch: Bool
        public var tokenF1: Double
        /// 1...5 once the judge scored it.
        public var rubric: Int?

        public init(promptRowID: ObjectID, candidate: Int, response: String?, reference: String, rubric: Int? = nil) {
            self.promptRowID = promptRowID
            self.candidate = candidate
            self.response = response
            self.reference = reference
            exactMatch = response.map { Text.normalizedExactMatch($0, reference) } ?? false
            tokenF1 = response.map { Text.tokenF1($0, reference) } ?? 0
            self.rubric = rubric
        }
    }

    /// One candidate over every row with a reference.
    public struct Summary: Hashable, Sendable {
        public var candidate: Int
        public var rows = 0
        /// Rows without a response; they count as 0 in the exact-match and F1 means.
        public var missing = 0
        public var exactMatch = 0.0
        public var tokenF1 = 0.0
        public var rubricScored = 0
        /// Mean over the scored responses; 0 when none is.
        public var rubricMean = 0.0
        /// rubricCounts[s - 1]: responses scored s.
        public var rubricCounts = [Int](repeating: 0, count: LLMEvaluation.scale.count)
    }

    /// Means per candidate, in candidate order.
    public static func summarize(_ scored: [Scored], candidates: Int) -> [Summary] {
        var out = (0..<candidates).map { Summary(candidate: $0) }
        var matches = [Int](repeating: 0, count: candidates)
        var f1 = [Double](repeating: 0, count: candidates)
        var rubricTotal = [Int](repeating: 0, count: candidates)
        for s in scored where out.indices.contains(s.candidate) {
            out[s.candidate].rows += 1
            if s.response == nil { out[s.candidate].missing += 1 }
            if s.exactMatch { matches[s.candidate] += 1 }
            f1[s.candidate] += s.tokenF1
            if let r = s.rubric, scale.contains(r) {
                out[s.candidate].rubricScored += 1
                out[s.candidate].rubricCounts[r - scale.lowerBound] += 1
                rubricTotal[s.candidate] += r
            }
        }
        for k in out.indices where out[k].rows > 0 {
            out[k].exactMatch = Double(matches[k]) / Double(out[k].rows)
            out[k].tokenF1 = f1[k] / Double(out[k].rows)
            if out[k].rubricScored > 0 { out[k].rubricMean = Double(rubricTotal[k]) / Double(out[k].rubricScored) }
        }
        return out
    }

    /// A short stable digest (FNV-1a, 64 bits, hex) of a rubric configuration: rubric runs and
    /// their prompt rows are keyed by it, so another rubric or judge is another run.
    public static func digest(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The rubric row key: which prompt row and which candidate's response.
    static func rubricKey(project: ObjectID, digest: String, row: ObjectID, candidate: Int) -> String {
        "rubric:\(project.rawValue):\(digest):\(row.rawValue):\(candidate)"
    }

    static func parseRubricKey(_ key: String, project: ObjectID, digest: String) -> (row: ObjectID, candidate: Int)? {
        let parts = key.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "rubric", parts[1] == project.rawValue, parts[2] == digest,
            let k = Int(parts[4])
        else { return nil }
        return (ObjectID(rawValue: String(parts[3])), k)
    }
}
