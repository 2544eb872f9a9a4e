/// What becomes of a tie when pairs are made (docs/preference.md).
public enum PreferenceTieRule: String, Hashable, Sendable, CaseIterable {
    /// A tie makes no pair.
    case drop
    /// A tie makes no chosen/rejected pair, but the KTO export emits both responses as desirable.
    case kto
}

/// What becomes of a judge model's verdicts that change when the order of the responses does.
public enum InconsistentVerdictRule: String, Hashable, Sendable, CaseIterable {
    /// The pair is judged a tie.
    case tie
    /// The judgment is dropped.
    case drop
}

/// One candidate of a preference project: a chat model with its parameters (two candidates
/// may be the same model at different temperatures or seeds), and the run that generated its
/// responses once `Generate` started it.
public struct PreferenceCandidate: Hashable, Sendable {
    public var name: String
    public var modelID: String
    public var parameters: [String: ParameterValue]
    public var runID: ObjectID?

    public init(name: String, modelID: String, parameters: [String: ParameterValue], runID: ObjectID? = nil) {
        self.name = name
        self.modelID = modelID
        self.parameters = parameters
        self.runID = runID
    }
}

/// The judge model of a preference project and how its verdicts are used.
public struct PreferenceJudge: Hashable, Sendable {
    public var modelID: String
    public var parameters: [String: ParameterValue]
    public var inconsistent: InconsistentVerdictRule
    /// Extra instructions put before the question (criteria); empty for the default.
    public var instructions: String

    public init(modelID: String, parameters: [String: ParameterValue], inconsistent: InconsistentVerdictRule, instructions: String) {
        self.modelID = modelID
        self.parameters = parameters
        self.inconsistent = inconsistent
        self.instructions = instructions
    }
}

/// A preference project: prompt rows, candidate models, the runs that answer the prompts,
/// the judge's run, and the review project of human rankings.
public struct PreferenceProject: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    /// Prompt rows (text, conversation, or image + text), in order.
    public var promptRowIDs: [ObjectID]
    public var candidates: [PreferenceCandidate]
    public var judge: PreferenceJudge?
    public var tieRule: PreferenceTieRule
    /// The free-text ontology the generation runs write responses into (made by the service).
    public var ontologyID: ObjectID
    /// The dataset of judge prompts (one row per prompt, pair and order) and the judge's run.
    public var judgeDatasetID: ObjectID?
    public var judgeRunID: ObjectID?
    /// The review project of human rankings.
    public var reviewProjectID: ObjectID?
    public var createdAt: Timestamp

    public init(
        id: ObjectID, organizationID: ObjectID, name: String, promptRowIDs: [ObjectID], candidates: [PreferenceCandidate], judge: PreferenceJudge?,
        tieRule: PreferenceTieRule, ontologyID: ObjectID, judgeDatasetID: ObjectID? = nil, judgeRunID: ObjectID? = nil,
        reviewProjectID: ObjectID? = nil, createdAt: Timestamp
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.promptRowIDs = promptRowIDs
        self.candidates = candidates
        self.judge = judge
        self.tieRule = tieRule
        self.ontologyID = ontologyID
        self.judgeDatasetID = judgeDatasetID
        self.judgeRunID = judgeRunID
        self.reviewProjectID = reviewProjectID
        self.createdAt = createdAt
    }
}
