from assay.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
PREFERENCE_EXPORT_FORMAT_ANTHROPIC_HH: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_ASSAY: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_KTO: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_OPENAI: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_TRL: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_TRL_CONVERSATIONAL: PreferenceExportFormat
PREFERENCE_EXPORT_FORMAT_UNSPECIFIED: PreferenceExportFormat
PREFERENCE_INCONSISTENT_RULE_DROP: PreferenceInconsistentRule
PREFERENCE_INCONSISTENT_RULE_TIE: PreferenceInconsistentRule
PREFERENCE_INCONSISTENT_RULE_UNSPECIFIED: PreferenceInconsistentRule
PREFERENCE_SOURCE_ALL: PreferenceSource
PREFERENCE_SOURCE_HUMAN: PreferenceSource
PREFERENCE_SOURCE_JUDGE: PreferenceSource
PREFERENCE_SOURCE_UNSPECIFIED: PreferenceSource
PREFERENCE_TIE_RULE_DROP: PreferenceTieRule
PREFERENCE_TIE_RULE_KTO: PreferenceTieRule
PREFERENCE_TIE_RULE_UNSPECIFIED: PreferenceTieRule

class CandidateEvaluation(_message.Message):
    __slots__ = ["candidate", "exact_match", "missing", "rows", "rubric_counts", "rubric_mean", "rubric_scored", "token_f1"]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_COUNTS_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_MEAN_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_SCORED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_F1_FIELD_NUMBER: _ClassVar[int]
    candidate: str
    exact_match: float
    missing: int
    rows: int
    rubric_counts: _containers.RepeatedScalarFieldContainer[int]
    rubric_mean: float
    rubric_scored: int
    token_f1: float
    def __init__(self, candidate: _Optional[str] = ..., rows: _Optional[int] = ..., missing: _Optional[int] = ..., exact_match: _Optional[float] = ..., token_f1: _Optional[float] = ..., rubric_scored: _Optional[int] = ..., rubric_mean: _Optional[float] = ..., rubric_counts: _Optional[_Iterable[int]] = ...) -> None: ...

class CreatePreferenceProjectRequest(_message.Message):
    __slots__ = ["candidates", "evaluation", "judge", "name", "prompts", "tie_rule"]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    JUDGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    TIE_RULE_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[PreferenceCandidate]
    evaluation: bool
    judge: PreferenceJudgeConfig
    name: str
    prompts: _run_pb2.RowSelection
    tie_rule: PreferenceTieRule
    def __init__(self, name: _Optional[str] = ..., prompts: _Optional[_Union[_run_pb2.RowSelection, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[PreferenceCandidate, _Mapping]]] = ..., judge: _Optional[_Union[PreferenceJudgeConfig, _Mapping]] = ..., tie_rule: _Optional[_Union[PreferenceTieRule, str]] = ..., evaluation: bool = ...) -> None: ...

class EvaluatePreferenceRequest(_message.Message):
    __slots__ = ["estimate_id", "include_rows", "project_id", "reference_key", "rubric"]
    ESTIMATE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ROWS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_KEY_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_FIELD_NUMBER: _ClassVar[int]
    estimate_id: str
    include_rows: bool
    project_id: str
    reference_key: str
    rubric: EvaluationRubric
    def __init__(self, project_id: _Optional[str] = ..., reference_key: _Optional[str] = ..., rubric: _Optional[_Union[EvaluationRubric, _Mapping]] = ..., estimate_id: _Optional[str] = ..., include_rows: bool = ...) -> None: ...

class EvaluationRow(_message.Message):
    __slots__ = ["candidate", "exact_match", "prompt_row_id", "reference", "response", "rubric_score", "token_f1"]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_SCORE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_F1_FIELD_NUMBER: _ClassVar[int]
    candidate: str
    exact_match: bool
    prompt_row_id: str
    reference: str
    response: str
    rubric_score: int
    token_f1: float
    def __init__(self, prompt_row_id: _Optional[str] = ..., candidate: _Optional[str] = ..., response: _Optional[str] = ..., reference: _Optional[str] = ..., exact_match: bool = ..., token_f1: _Optional[float] = ..., rubric_score: _Optional[int] = ...) -> None: ...

class EvaluationRubric(_message.Message):
    __slots__ = ["criteria", "judge_model_id", "parameters"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _run_pb2.ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_run_pb2.ParameterValue, _Mapping]] = ...) -> None: ...
    CRITERIA_FIELD_NUMBER: _ClassVar[int]
    JUDGE_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    criteria: str
    judge_model_id: str
    parameters: _containers.MessageMap[str, _run_pb2.ParameterValue]
    def __init__(self, judge_model_id: _Optional[str] = ..., parameters: _Optional[_Mapping[str, _run_pb2.ParameterValue]] = ..., criteria: _Optional[str] = ...) -> None: ...

class ExportPreferenceRequest(_message.Message):
    __slots__ = ["format", "min_agreement", "min_margin", "project_id", "source"]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MIN_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_MARGIN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    format: PreferenceExportFormat
    min_agreement: float
    min_margin: int
    project_id: str
    source: PreferenceSource
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[PreferenceExportFormat, str]] = ..., source: _Optional[_Union[PreferenceSource, str]] = ..., min_agreement: _Optional[float] = ..., min_margin: _Optional[int] = ...) -> None: ...

class GeneratePreferenceRequest(_message.Message):
    __slots__ = ["estimate_id", "project_id"]
    ESTIMATE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    estimate_id: str
    project_id: str
    def __init__(self, project_id: _Optional[str] = ..., estimate_id: _Optional[str] = ...) -> None: ...

class GetPreferenceProjectRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class JudgePreferenceRequest(_message.Message):
    __slots__ = ["estimate_id", "project_id"]
    ESTIMATE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    estimate_id: str
    project_id: str
    def __init__(self, project_id: _Optional[str] = ..., estimate_id: _Optional[str] = ...) -> None: ...

class ListPreferencePairsRequest(_message.Message):
    __slots__ = ["min_agreement", "min_margin", "project_id", "source"]
    MIN_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_MARGIN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    min_agreement: float
    min_margin: int
    project_id: str
    source: PreferenceSource
    def __init__(self, project_id: _Optional[str] = ..., source: _Optional[_Union[PreferenceSource, str]] = ..., min_agreement: _Optional[float] = ..., min_margin: _Optional[int] = ...) -> None: ...

class ListPreferencePairsResponse(_message.Message):
    __slots__ = ["pairs"]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[PreferencePair]
    def __init__(self, pairs: _Optional[_Iterable[_Union[PreferencePair, _Mapping]]] = ...) -> None: ...

class ListPreferenceProjectsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListPreferenceProjectsResponse(_message.Message):
    __slots__ = ["projects"]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[PreferenceProject]
    def __init__(self, projects: _Optional[_Iterable[_Union[PreferenceProject, _Mapping]]] = ...) -> None: ...

class PreferenceCandidate(_message.Message):
    __slots__ = ["model_id", "name", "parameters", "run_id"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _run_pb2.ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_run_pb2.ParameterValue, _Mapping]] = ...) -> None: ...
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    name: str
    parameters: _containers.MessageMap[str, _run_pb2.ParameterValue]
    run_id: str
    def __init__(self, name: _Optional[str] = ..., model_id: _Optional[str] = ..., parameters: _Optional[_Mapping[str, _run_pb2.ParameterValue]] = ..., run_id: _Optional[str] = ...) -> None: ...

class PreferenceEvaluation(_message.Message):
    __slots__ = ["candidates", "project_id", "reference_key", "rows", "rows_with_reference", "rows_without_reference", "rubric_run_id", "rubric_run_state"]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_KEY_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROWS_WITHOUT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ROWS_WITH_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_RUN_STATE_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[CandidateEvaluation]
    project_id: str
    reference_key: str
    rows: _containers.RepeatedCompositeFieldContainer[EvaluationRow]
    rows_with_reference: int
    rows_without_reference: int
    rubric_run_id: str
    rubric_run_state: _run_pb2.RunState
    def __init__(self, project_id: _Optional[str] = ..., reference_key: _Optional[str] = ..., rows_with_reference: _Optional[int] = ..., rows_without_reference: _Optional[int] = ..., rubric_run_id: _Optional[str] = ..., rubric_run_state: _Optional[_Union[_run_pb2.RunState, str]] = ..., candidates: _Optional[_Iterable[_Union[CandidateEvaluation, _Mapping]]] = ..., rows: _Optional[_Iterable[_Union[EvaluationRow, _Mapping]]] = ...) -> None: ...

class PreferenceJudgeConfig(_message.Message):
    __slots__ = ["inconsistent", "instructions", "model_id", "parameters"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _run_pb2.ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_run_pb2.ParameterValue, _Mapping]] = ...) -> None: ...
    INCONSISTENT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    inconsistent: PreferenceInconsistentRule
    instructions: str
    model_id: str
    parameters: _containers.MessageMap[str, _run_pb2.ParameterValue]
    def __init__(self, model_id: _Optional[str] = ..., parameters: _Optional[_Mapping[str, _run_pb2.ParameterValue]] = ..., inconsistent: _Optional[_Union[PreferenceInconsistentRule, str]] = ..., instructions: _Optional[str] = ...) -> None: ...

class PreferenceLeaderboard(_message.Message):
    __slots__ = ["battles", "candidates", "confidence", "degenerate_resamples", "position_bias", "ratings", "resamples", "seed", "win_rates"]
    BATTLES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    DEGENERATE_RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    POSITION_BIAS_FIELD_NUMBER: _ClassVar[int]
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WIN_RATES_FIELD_NUMBER: _ClassVar[int]
    battles: int
    candidates: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    degenerate_resamples: int
    position_bias: PreferencePositionBias
    ratings: _containers.RepeatedCompositeFieldContainer[PreferenceRating]
    resamples: int
    seed: int
    win_rates: _containers.RepeatedCompositeFieldContainer[PreferenceWinRates]
    def __init__(self, ratings: _Optional[_Iterable[_Union[PreferenceRating, _Mapping]]] = ..., candidates: _Optional[_Iterable[str]] = ..., win_rates: _Optional[_Iterable[_Union[PreferenceWinRates, _Mapping]]] = ..., position_bias: _Optional[_Union[PreferencePositionBias, _Mapping]] = ..., confidence: _Optional[float] = ..., resamples: _Optional[int] = ..., seed: _Optional[int] = ..., degenerate_resamples: _Optional[int] = ..., battles: _Optional[int] = ...) -> None: ...

class PreferenceLeaderboardRequest(_message.Message):
    __slots__ = ["anchor", "project_id", "resamples", "seed", "source"]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    anchor: str
    project_id: str
    resamples: int
    seed: int
    source: PreferenceSource
    def __init__(self, project_id: _Optional[str] = ..., source: _Optional[_Union[PreferenceSource, str]] = ..., anchor: _Optional[str] = ..., seed: _Optional[int] = ..., resamples: _Optional[int] = ...) -> None: ...

class PreferencePair(_message.Message):
    __slots__ = ["agreement", "chosen", "margin", "prompt_row_id", "rejected", "tie", "votes"]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    TIE_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    agreement: float
    chosen: str
    margin: int
    prompt_row_id: str
    rejected: str
    tie: bool
    votes: _containers.RepeatedCompositeFieldContainer[PreferenceVote]
    def __init__(self, prompt_row_id: _Optional[str] = ..., chosen: _Optional[str] = ..., rejected: _Optional[str] = ..., tie: bool = ..., agreement: _Optional[float] = ..., margin: _Optional[int] = ..., votes: _Optional[_Iterable[_Union[PreferenceVote, _Mapping]]] = ...) -> None: ...

class PreferencePositionBias(_message.Message):
    __slots__ = ["consistency", "consistent", "first_shown_rate", "first_shown_wins", "judged_pairs", "second_shown_wins", "ties"]
    CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SHOWN_RATE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SHOWN_WINS_FIELD_NUMBER: _ClassVar[int]
    JUDGED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    SECOND_SHOWN_WINS_FIELD_NUMBER: _ClassVar[int]
    TIES_FIELD_NUMBER: _ClassVar[int]
    consistency: float
    consistent: int
    first_shown_rate: float
    first_shown_wins: int
    judged_pairs: int
    second_shown_wins: int
    ties: int
    def __init__(self, judged_pairs: _Optional[int] = ..., consistent: _Optional[int] = ..., consistency: _Optional[float] = ..., first_shown_wins: _Optional[int] = ..., second_shown_wins: _Optional[int] = ..., ties: _Optional[int] = ..., first_shown_rate: _Optional[float] = ...) -> None: ...

class PreferenceProject(_message.Message):
    __slots__ = ["candidates", "created_at_micros", "id", "judge", "judge_dataset_id", "judge_run_id", "name", "ontology_id", "prompt_row_ids", "review_project_id", "tie_rule"]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    JUDGE_DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGE_FIELD_NUMBER: _ClassVar[int]
    JUDGE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ROW_IDS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TIE_RULE_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[PreferenceCandidate]
    created_at_micros: int
    id: str
    judge: PreferenceJudgeConfig
    judge_dataset_id: str
    judge_run_id: str
    name: str
    ontology_id: str
    prompt_row_ids: _containers.RepeatedScalarFieldContainer[str]
    review_project_id: str
    tie_rule: PreferenceTieRule
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., prompt_row_ids: _Optional[_Iterable[str]] = ..., candidates: _Optional[_Iterable[_Union[PreferenceCandidate, _Mapping]]] = ..., judge: _Optional[_Union[PreferenceJudgeConfig, _Mapping]] = ..., tie_rule: _Optional[_Union[PreferenceTieRule, str]] = ..., ontology_id: _Optional[str] = ..., judge_dataset_id: _Optional[str] = ..., judge_run_id: _Optional[str] = ..., review_project_id: _Optional[str] = ..., created_at_micros: _Optional[int] = ...) -> None: ...

class PreferenceRating(_message.Message):
    __slots__ = ["battles", "candidate", "has_interval", "losses", "lower", "rating", "ties", "upper", "wins"]
    BATTLES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    HAS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    TIES_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    battles: int
    candidate: str
    has_interval: bool
    losses: int
    lower: float
    rating: float
    ties: int
    upper: float
    wins: int
    def __init__(self, candidate: _Optional[str] = ..., rating: _Optional[float] = ..., has_interval: bool = ..., lower: _Optional[float] = ..., upper: _Optional[float] = ..., battles: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., ties: _Optional[int] = ...) -> None: ...

class PreferenceVote(_message.Message):
    __slots__ = ["annotator", "consistent", "first_verdict", "margin", "rationale", "second_verdict", "shown", "source", "task_id", "winner"]
    ANNOTATOR_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    FIRST_VERDICT_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    SECOND_VERDICT_FIELD_NUMBER: _ClassVar[int]
    SHOWN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    annotator: str
    consistent: bool
    first_verdict: str
    margin: int
    rationale: str
    second_verdict: str
    shown: _containers.RepeatedScalarFieldContainer[str]
    source: str
    task_id: str
    winner: str
    def __init__(self, source: _Optional[str] = ..., annotator: _Optional[str] = ..., winner: _Optional[str] = ..., margin: _Optional[int] = ..., shown: _Optional[_Iterable[str]] = ..., first_verdict: _Optional[str] = ..., second_verdict: _Optional[str] = ..., consistent: bool = ..., rationale: _Optional[str] = ..., task_id: _Optional[str] = ...) -> None: ...

class PreferenceWinRates(_message.Message):
    __slots__ = ["candidate", "win_rates"]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    WIN_RATES_FIELD_NUMBER: _ClassVar[int]
    candidate: str
    win_rates: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, candidate: _Optional[str] = ..., win_rates: _Optional[_Iterable[float]] = ...) -> None: ...

class SendPreferenceReviewRequest(_message.Message):
    __slots__ = ["instructions", "project_id", "reviewers_per_row", "seed"]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_PER_ROW_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    instructions: str
    project_id: str
    reviewers_per_row: int
    seed: int
    def __init__(self, project_id: _Optional[str] = ..., reviewers_per_row: _Optional[int] = ..., seed: _Optional[int] = ..., instructions: _Optional[str] = ...) -> None: ...

class SendPreferenceReviewResponse(_message.Message):
    __slots__ = ["review_project_id", "rows_already_queued", "rows_sent", "rows_without_responses"]
    REVIEW_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_ALREADY_QUEUED_FIELD_NUMBER: _ClassVar[int]
    ROWS_SENT_FIELD_NUMBER: _ClassVar[int]
    ROWS_WITHOUT_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    review_project_id: str
    rows_already_queued: int
    rows_sent: int
    rows_without_responses: int
    def __init__(self, review_project_id: _Optional[str] = ..., rows_sent: _Optional[int] = ..., rows_already_queued: _Optional[int] = ..., rows_without_responses: _Optional[int] = ...) -> None: ...

class PreferenceTieRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PreferenceInconsistentRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PreferenceSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PreferenceExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
