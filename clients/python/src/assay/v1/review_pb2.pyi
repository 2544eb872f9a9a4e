from assay.v1 import catalog_pb2 as _catalog_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
REVIEW_ACTION_ACCEPT: ReviewAction
REVIEW_ACTION_ADD: ReviewAction
REVIEW_ACTION_EDIT: ReviewAction
REVIEW_ACTION_REJECT: ReviewAction
REVIEW_ACTION_UNSPECIFIED: ReviewAction
REVIEW_CONFLICT_RULE_KEEP_BOTH: ReviewConflictRule
REVIEW_CONFLICT_RULE_KEEP_EXISTING: ReviewConflictRule
REVIEW_CONFLICT_RULE_OVERRIDE: ReviewConflictRule
REVIEW_CONFLICT_RULE_UNSPECIFIED: ReviewConflictRule
REVIEW_CONSENSUS_RULE_MAJORITY: ReviewConsensusRule
REVIEW_CONSENSUS_RULE_TIE_BREAKER: ReviewConsensusRule
REVIEW_CONSENSUS_RULE_UNSPECIFIED: ReviewConsensusRule

class CreateReviewProjectRequest(_message.Message):
    __slots__ = ["consensus", "instructions", "name", "ontology_id", "reviewers_per_row", "tie_breaker_key_id"]
    CONSENSUS_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_PER_ROW_FIELD_NUMBER: _ClassVar[int]
    TIE_BREAKER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    consensus: ReviewConsensusRule
    instructions: str
    name: str
    ontology_id: str
    reviewers_per_row: int
    tie_breaker_key_id: str
    def __init__(self, name: _Optional[str] = ..., ontology_id: _Optional[str] = ..., reviewers_per_row: _Optional[int] = ..., instructions: _Optional[str] = ..., consensus: _Optional[_Union[ReviewConsensusRule, str]] = ..., tie_breaker_key_id: _Optional[str] = ...) -> None: ...

class ExportReviewRequest(_message.Message):
    __slots__ = ["include_decisions", "project_id"]
    INCLUDE_DECISIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    include_decisions: bool
    project_id: str
    def __init__(self, project_id: _Optional[str] = ..., include_decisions: bool = ...) -> None: ...

class GetReviewProjectRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListReviewProjectsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListReviewProjectsResponse(_message.Message):
    __slots__ = ["projects"]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[ReviewProject]
    def __init__(self, projects: _Optional[_Iterable[_Union[ReviewProject, _Mapping]]] = ...) -> None: ...

class NextReviewTaskRequest(_message.Message):
    __slots__ = ["lease_seconds", "project_id"]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    lease_seconds: int
    project_id: str
    def __init__(self, project_id: _Optional[str] = ..., lease_seconds: _Optional[int] = ...) -> None: ...

class NextReviewTaskResponse(_message.Message):
    __slots__ = ["task"]
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: ReviewTask
    def __init__(self, task: _Optional[_Union[ReviewTask, _Mapping]] = ...) -> None: ...

class RecordedDecision(_message.Message):
    __slots__ = ["action", "decided_at_micros", "label", "pre_label_id", "reviewer_key_id", "skip_reason", "task_id"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRE_LABEL_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    action: ReviewAction
    decided_at_micros: int
    label: _catalog_pb2.Label
    pre_label_id: str
    reviewer_key_id: str
    skip_reason: str
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., reviewer_key_id: _Optional[str] = ..., action: _Optional[_Union[ReviewAction, str]] = ..., pre_label_id: _Optional[str] = ..., label: _Optional[_Union[_catalog_pb2.Label, _Mapping]] = ..., skip_reason: _Optional[str] = ..., decided_at_micros: _Optional[int] = ...) -> None: ...

class ReviewDecision(_message.Message):
    __slots__ = ["action", "label", "pre_label_id"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRE_LABEL_ID_FIELD_NUMBER: _ClassVar[int]
    action: ReviewAction
    label: _catalog_pb2.Label
    pre_label_id: str
    def __init__(self, pre_label_id: _Optional[str] = ..., action: _Optional[_Union[ReviewAction, str]] = ..., label: _Optional[_Union[_catalog_pb2.Label, _Mapping]] = ...) -> None: ...

class ReviewFeatureMapping(_message.Message):
    __slots__ = ["project_feature_id", "source_feature_id"]
    PROJECT_FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    project_feature_id: str
    source_feature_id: str
    def __init__(self, source_feature_id: _Optional[str] = ..., project_feature_id: _Optional[str] = ...) -> None: ...

class ReviewProject(_message.Message):
    __slots__ = ["consensus", "created_at_micros", "id", "instructions", "name", "ontology_id", "reviewers_per_row", "tie_breaker_key_id"]
    CONSENSUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_PER_ROW_FIELD_NUMBER: _ClassVar[int]
    TIE_BREAKER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    consensus: ReviewConsensusRule
    created_at_micros: int
    id: str
    instructions: str
    name: str
    ontology_id: str
    reviewers_per_row: int
    tie_breaker_key_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., ontology_id: _Optional[str] = ..., reviewers_per_row: _Optional[int] = ..., instructions: _Optional[str] = ..., consensus: _Optional[_Union[ReviewConsensusRule, str]] = ..., tie_breaker_key_id: _Optional[str] = ..., created_at_micros: _Optional[int] = ...) -> None: ...

class ReviewRouting(_message.Message):
    __slots__ = ["confidence_threshold_ppm", "iou_threshold", "max_rows", "max_units", "other_run_id", "run_id"]
    CONFIDENCE_THRESHOLD_PPM_FIELD_NUMBER: _ClassVar[int]
    IOU_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_UNITS_FIELD_NUMBER: _ClassVar[int]
    OTHER_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    confidence_threshold_ppm: int
    iou_threshold: float
    max_rows: int
    max_units: int
    other_run_id: str
    run_id: str
    def __init__(self, run_id: _Optional[str] = ..., other_run_id: _Optional[str] = ..., iou_threshold: _Optional[float] = ..., confidence_threshold_ppm: _Optional[int] = ..., max_rows: _Optional[int] = ..., max_units: _Optional[int] = ...) -> None: ...

class ReviewStatus(_message.Message):
    __slots__ = ["leases_held", "mean_agreement", "project", "reviews_submitted", "rows", "rows_finalized", "rows_in_review", "skips"]
    LEASES_HELD_FIELD_NUMBER: _ClassVar[int]
    MEAN_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REVIEWS_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FINALIZED_FIELD_NUMBER: _ClassVar[int]
    ROWS_IN_REVIEW_FIELD_NUMBER: _ClassVar[int]
    SKIPS_FIELD_NUMBER: _ClassVar[int]
    leases_held: int
    mean_agreement: float
    project: ReviewProject
    reviews_submitted: int
    rows: int
    rows_finalized: int
    rows_in_review: int
    skips: int
    def __init__(self, project: _Optional[_Union[ReviewProject, _Mapping]] = ..., rows: _Optional[int] = ..., rows_finalized: _Optional[int] = ..., rows_in_review: _Optional[int] = ..., leases_held: _Optional[int] = ..., reviews_submitted: _Optional[int] = ..., skips: _Optional[int] = ..., mean_agreement: _Optional[float] = ...) -> None: ...

class ReviewStatusRequest(_message.Message):
    __slots__ = ["project_id"]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ReviewTask(_message.Message):
    __slots__ = ["data_row_id", "existing_labels", "global_key", "id", "instructions", "lease_expires_at_micros", "pre_labels", "priority", "project_id", "row"]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    EXISTING_LABELS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    PRE_LABELS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    data_row_id: str
    existing_labels: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Label]
    global_key: str
    id: str
    instructions: str
    lease_expires_at_micros: int
    pre_labels: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Label]
    priority: int
    project_id: str
    row: _catalog_pb2.DataRow
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., data_row_id: _Optional[str] = ..., global_key: _Optional[str] = ..., priority: _Optional[int] = ..., pre_labels: _Optional[_Iterable[_Union[_catalog_pb2.Label, _Mapping]]] = ..., existing_labels: _Optional[_Iterable[_Union[_catalog_pb2.Label, _Mapping]]] = ..., instructions: _Optional[str] = ..., lease_expires_at_micros: _Optional[int] = ..., row: _Optional[_Union[_catalog_pb2.DataRow, _Mapping]] = ...) -> None: ...

class ReviewedRow(_message.Message):
    __slots__ = ["agreement", "data_row_id", "decisions", "final_labels", "finalized", "global_key"]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    FINALIZED_FIELD_NUMBER: _ClassVar[int]
    FINAL_LABELS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    agreement: float
    data_row_id: str
    decisions: _containers.RepeatedCompositeFieldContainer[RecordedDecision]
    final_labels: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Label]
    finalized: bool
    global_key: str
    def __init__(self, data_row_id: _Optional[str] = ..., global_key: _Optional[str] = ..., finalized: bool = ..., agreement: _Optional[float] = ..., final_labels: _Optional[_Iterable[_Union[_catalog_pb2.Label, _Mapping]]] = ..., decisions: _Optional[_Iterable[_Union[RecordedDecision, _Mapping]]] = ...) -> None: ...

class RoutedRow(_message.Message):
    __slots__ = ["data_row_id", "disagreement", "min_confidence_ppm", "score"]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    DISAGREEMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_PPM_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    data_row_id: str
    disagreement: bool
    min_confidence_ppm: int
    score: float
    def __init__(self, data_row_id: _Optional[str] = ..., score: _Optional[float] = ..., disagreement: bool = ..., min_confidence_ppm: _Optional[int] = ...) -> None: ...

class SendToReviewRequest(_message.Message):
    __slots__ = ["conflict", "dataset_id", "feature_mapping", "priority", "project_id", "request_id", "routing", "run_id"]
    CONFLICT_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_MAPPING_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    conflict: ReviewConflictRule
    dataset_id: str
    feature_mapping: _containers.RepeatedCompositeFieldContainer[ReviewFeatureMapping]
    priority: int
    project_id: str
    request_id: str
    routing: ReviewRouting
    run_id: str
    def __init__(self, project_id: _Optional[str] = ..., run_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., routing: _Optional[_Union[ReviewRouting, _Mapping]] = ..., feature_mapping: _Optional[_Iterable[_Union[ReviewFeatureMapping, _Mapping]]] = ..., conflict: _Optional[_Union[ReviewConflictRule, str]] = ..., priority: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class SendToReviewResponse(_message.Message):
    __slots__ = ["candidates", "routed", "rows_already_queued", "rows_kept_existing", "rows_sent", "units", "unmapped_predictions"]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    ROUTED_FIELD_NUMBER: _ClassVar[int]
    ROWS_ALREADY_QUEUED_FIELD_NUMBER: _ClassVar[int]
    ROWS_KEPT_EXISTING_FIELD_NUMBER: _ClassVar[int]
    ROWS_SENT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNMAPPED_PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    candidates: int
    routed: _containers.RepeatedCompositeFieldContainer[RoutedRow]
    rows_already_queued: int
    rows_kept_existing: int
    rows_sent: int
    units: int
    unmapped_predictions: int
    def __init__(self, rows_sent: _Optional[int] = ..., rows_already_queued: _Optional[int] = ..., rows_kept_existing: _Optional[int] = ..., units: _Optional[int] = ..., routed: _Optional[_Iterable[_Union[RoutedRow, _Mapping]]] = ..., candidates: _Optional[int] = ..., unmapped_predictions: _Optional[int] = ...) -> None: ...

class SubmitReviewRequest(_message.Message):
    __slots__ = ["accept_undecided", "decisions", "skip", "skip_reason", "task_id"]
    ACCEPT_UNDECIDED_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    accept_undecided: bool
    decisions: _containers.RepeatedCompositeFieldContainer[ReviewDecision]
    skip: bool
    skip_reason: str
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., decisions: _Optional[_Iterable[_Union[ReviewDecision, _Mapping]]] = ..., skip: bool = ..., skip_reason: _Optional[str] = ..., accept_undecided: bool = ...) -> None: ...

class SubmitReviewResponse(_message.Message):
    __slots__ = ["agreement", "final_labels", "row_finalized"]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    FINAL_LABELS_FIELD_NUMBER: _ClassVar[int]
    ROW_FINALIZED_FIELD_NUMBER: _ClassVar[int]
    agreement: float
    final_labels: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Label]
    row_finalized: bool
    def __init__(self, row_finalized: bool = ..., agreement: _Optional[float] = ..., final_labels: _Optional[_Iterable[_Union[_catalog_pb2.Label, _Mapping]]] = ...) -> None: ...

class ReviewConsensusRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ReviewConflictRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ReviewAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
