from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CategoryAP(_message.Message):
    __slots__ = ["average_precision", "feature_id", "label"]
    AVERAGE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    average_precision: float
    feature_id: str
    label: str
    def __init__(self, label: _Optional[str] = ..., feature_id: _Optional[str] = ..., average_precision: _Optional[float] = ...) -> None: ...

class CellRowsRequest(_message.Message):
    __slots__ = ["cursor", "feature_id", "page_size", "predicted", "run_id", "thresholds", "truth"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    TRUTH_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    feature_id: str
    page_size: int
    predicted: str
    run_id: str
    thresholds: Thresholds
    truth: str
    def __init__(self, run_id: _Optional[str] = ..., feature_id: _Optional[str] = ..., truth: _Optional[str] = ..., predicted: _Optional[str] = ..., thresholds: _Optional[_Union[Thresholds, _Mapping]] = ..., page_size: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ClassScores(_message.Message):
    __slots__ = ["label", "scores"]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    label: str
    scores: Scores
    def __init__(self, label: _Optional[str] = ..., scores: _Optional[_Union[Scores, _Mapping]] = ...) -> None: ...

class ClassificationMetrics(_message.Message):
    __slots__ = ["accuracy", "confusion", "macro", "micro", "per_class", "weighted"]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_FIELD_NUMBER: _ClassVar[int]
    MACRO_FIELD_NUMBER: _ClassVar[int]
    MICRO_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    accuracy: float
    confusion: Confusion
    macro: Scores
    micro: Scores
    per_class: _containers.RepeatedCompositeFieldContainer[ClassScores]
    weighted: Scores
    def __init__(self, accuracy: _Optional[float] = ..., micro: _Optional[_Union[Scores, _Mapping]] = ..., macro: _Optional[_Union[Scores, _Mapping]] = ..., weighted: _Optional[_Union[Scores, _Mapping]] = ..., per_class: _Optional[_Iterable[_Union[ClassScores, _Mapping]]] = ..., confusion: _Optional[_Union[Confusion, _Mapping]] = ...) -> None: ...

class CompareRunsRequest(_message.Message):
    __slots__ = ["feature_id", "first_run_id", "resamples", "second_run_id", "seed", "thresholds"]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    SECOND_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    feature_id: str
    first_run_id: str
    resamples: int
    second_run_id: str
    seed: int
    thresholds: Thresholds
    def __init__(self, first_run_id: _Optional[str] = ..., second_run_id: _Optional[str] = ..., feature_id: _Optional[str] = ..., thresholds: _Optional[_Union[Thresholds, _Mapping]] = ..., seed: _Optional[int] = ..., resamples: _Optional[int] = ...) -> None: ...

class CompareRunsResponse(_message.Message):
    __slots__ = ["confidence_level", "features", "first_run_id", "rows", "second_run_id"]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FIRST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SECOND_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    confidence_level: float
    features: _containers.RepeatedCompositeFieldContainer[FeatureComparison]
    first_run_id: str
    rows: int
    second_run_id: str
    def __init__(self, first_run_id: _Optional[str] = ..., second_run_id: _Optional[str] = ..., rows: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureComparison, _Mapping]]] = ..., confidence_level: _Optional[float] = ...) -> None: ...

class Confusion(_message.Message):
    __slots__ = ["labels", "rows"]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[ConfusionRow]
    def __init__(self, labels: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[ConfusionRow, _Mapping]]] = ...) -> None: ...

class ConfusionRow(_message.Message):
    __slots__ = ["counts"]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, counts: _Optional[_Iterable[int]] = ...) -> None: ...

class DetectionMetrics(_message.Message):
    __slots__ = ["categories", "coco_stats", "confidence", "confusion", "curves", "iou", "macro", "micro", "per_class"]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    COCO_STATS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_FIELD_NUMBER: _ClassVar[int]
    CURVES_FIELD_NUMBER: _ClassVar[int]
    IOU_FIELD_NUMBER: _ClassVar[int]
    MACRO_FIELD_NUMBER: _ClassVar[int]
    MICRO_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[CategoryAP]
    coco_stats: _containers.RepeatedScalarFieldContainer[float]
    confidence: float
    confusion: Confusion
    curves: _containers.RepeatedCompositeFieldContainer[PRCurve]
    iou: float
    macro: Scores
    micro: Scores
    per_class: _containers.RepeatedCompositeFieldContainer[ClassScores]
    def __init__(self, coco_stats: _Optional[_Iterable[float]] = ..., categories: _Optional[_Iterable[_Union[CategoryAP, _Mapping]]] = ..., confidence: _Optional[float] = ..., iou: _Optional[float] = ..., micro: _Optional[_Union[Scores, _Mapping]] = ..., macro: _Optional[_Union[Scores, _Mapping]] = ..., per_class: _Optional[_Iterable[_Union[ClassScores, _Mapping]]] = ..., confusion: _Optional[_Union[Confusion, _Mapping]] = ..., curves: _Optional[_Iterable[_Union[PRCurve, _Mapping]]] = ...) -> None: ...

class DiagnosedRow(_message.Message):
    __slots__ = ["data_row_id", "global_key", "other", "predicted", "truth", "value"]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    TRUTH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    data_row_id: str
    global_key: str
    other: str
    predicted: str
    truth: str
    value: float
    def __init__(self, data_row_id: _Optional[str] = ..., global_key: _Optional[str] = ..., value: _Optional[float] = ..., truth: _Optional[str] = ..., predicted: _Optional[str] = ..., other: _Optional[str] = ...) -> None: ...

class DiagnosedRows(_message.Message):
    __slots__ = ["next_cursor", "rows", "total"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    rows: _containers.RepeatedCompositeFieldContainer[DiagnosedRow]
    total: int
    def __init__(self, rows: _Optional[_Iterable[_Union[DiagnosedRow, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ["feature_id", "run_id", "slice_by", "thresholds"]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SLICE_BY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    feature_id: str
    run_id: str
    slice_by: str
    thresholds: Thresholds
    def __init__(self, run_id: _Optional[str] = ..., feature_id: _Optional[str] = ..., thresholds: _Optional[_Union[Thresholds, _Mapping]] = ..., slice_by: _Optional[str] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ["features", "rows", "rows_not_predicted", "run_id", "slice_by", "slices"]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROWS_NOT_PREDICTED_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SLICES_FIELD_NUMBER: _ClassVar[int]
    SLICE_BY_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[FeatureEvaluation]
    rows: int
    rows_not_predicted: int
    run_id: str
    slice_by: str
    slices: _containers.RepeatedCompositeFieldContainer[SliceEvaluation]
    def __init__(self, run_id: _Optional[str] = ..., rows: _Optional[int] = ..., rows_not_predicted: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureEvaluation, _Mapping]]] = ..., slice_by: _Optional[str] = ..., slices: _Optional[_Iterable[_Union[SliceEvaluation, _Mapping]]] = ...) -> None: ...

class FeatureComparison(_message.Message):
    __slots__ = ["agreement", "deltas", "feature_ids", "has_kappa", "has_mcnemar", "kappa", "kind", "mcnemar", "rows"]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    DELTAS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_IDS_FIELD_NUMBER: _ClassVar[int]
    HAS_KAPPA_FIELD_NUMBER: _ClassVar[int]
    HAS_MCNEMAR_FIELD_NUMBER: _ClassVar[int]
    KAPPA_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MCNEMAR_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    agreement: float
    deltas: _containers.RepeatedCompositeFieldContainer[MetricDelta]
    feature_ids: _containers.RepeatedScalarFieldContainer[str]
    has_kappa: bool
    has_mcnemar: bool
    kappa: float
    kind: str
    mcnemar: McNemarResult
    rows: int
    def __init__(self, feature_ids: _Optional[_Iterable[str]] = ..., kind: _Optional[str] = ..., rows: _Optional[int] = ..., agreement: _Optional[float] = ..., has_kappa: bool = ..., kappa: _Optional[float] = ..., has_mcnemar: bool = ..., mcnemar: _Optional[_Union[McNemarResult, _Mapping]] = ..., deltas: _Optional[_Iterable[_Union[MetricDelta, _Mapping]]] = ...) -> None: ...

class FeatureEvaluation(_message.Message):
    __slots__ = ["classification", "detection", "feature_ids", "kind", "multilabel", "rows", "spans", "text"]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    DETECTION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_IDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MULTILABEL_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    classification: ClassificationMetrics
    detection: DetectionMetrics
    feature_ids: _containers.RepeatedScalarFieldContainer[str]
    kind: str
    multilabel: MultiLabelMetrics
    rows: int
    spans: SpanScores
    text: TextMetrics
    def __init__(self, feature_ids: _Optional[_Iterable[str]] = ..., kind: _Optional[str] = ..., rows: _Optional[int] = ..., detection: _Optional[_Union[DetectionMetrics, _Mapping]] = ..., classification: _Optional[_Union[ClassificationMetrics, _Mapping]] = ..., multilabel: _Optional[_Union[MultiLabelMetrics, _Mapping]] = ..., text: _Optional[_Union[TextMetrics, _Mapping]] = ..., spans: _Optional[_Union[SpanScores, _Mapping]] = ...) -> None: ...

class McNemarResult(_message.Message):
    __slots__ = ["b", "c", "exact", "p_value", "statistic"]
    B_FIELD_NUMBER: _ClassVar[int]
    C_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    b: int
    c: int
    exact: bool
    p_value: float
    statistic: float
    def __init__(self, b: _Optional[int] = ..., c: _Optional[int] = ..., statistic: _Optional[float] = ..., p_value: _Optional[float] = ..., exact: bool = ...) -> None: ...

class MetricDelta(_message.Message):
    __slots__ = ["delta", "first", "has_interval", "high", "low", "metric", "second"]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    HAS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    delta: float
    first: float
    has_interval: bool
    high: float
    low: float
    metric: str
    second: float
    def __init__(self, metric: _Optional[str] = ..., first: _Optional[float] = ..., second: _Optional[float] = ..., delta: _Optional[float] = ..., has_interval: bool = ..., low: _Optional[float] = ..., high: _Optional[float] = ...) -> None: ...

class MultiLabelMetrics(_message.Message):
    __slots__ = ["macro", "micro", "per_class", "samples", "weighted"]
    MACRO_FIELD_NUMBER: _ClassVar[int]
    MICRO_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    macro: Scores
    micro: Scores
    per_class: _containers.RepeatedCompositeFieldContainer[ClassScores]
    samples: Scores
    weighted: Scores
    def __init__(self, micro: _Optional[_Union[Scores, _Mapping]] = ..., macro: _Optional[_Union[Scores, _Mapping]] = ..., weighted: _Optional[_Union[Scores, _Mapping]] = ..., samples: _Optional[_Union[Scores, _Mapping]] = ..., per_class: _Optional[_Iterable[_Union[ClassScores, _Mapping]]] = ...) -> None: ...

class PRCurve(_message.Message):
    __slots__ = ["average_precision", "label", "precision", "recall"]
    AVERAGE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    average_precision: float
    label: str
    precision: _containers.RepeatedScalarFieldContainer[float]
    recall: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, label: _Optional[str] = ..., recall: _Optional[_Iterable[float]] = ..., precision: _Optional[_Iterable[float]] = ..., average_precision: _Optional[float] = ...) -> None: ...

class RankRowsRequest(_message.Message):
    __slots__ = ["by", "cursor", "feature_id", "other_run_id", "page_size", "run_id", "thresholds"]
    BY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    OTHER_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    by: str
    cursor: str
    feature_id: str
    other_run_id: str
    page_size: int
    run_id: str
    thresholds: Thresholds
    def __init__(self, run_id: _Optional[str] = ..., feature_id: _Optional[str] = ..., by: _Optional[str] = ..., other_run_id: _Optional[str] = ..., thresholds: _Optional[_Union[Thresholds, _Mapping]] = ..., page_size: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ReportChunk(_message.Message):
    __slots__ = ["data"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ["feature_id", "resamples", "run_ids", "seed", "thresholds", "title", "worst_rows"]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    WORST_ROWS_FIELD_NUMBER: _ClassVar[int]
    feature_id: str
    resamples: int
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    thresholds: Thresholds
    title: str
    worst_rows: int
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., feature_id: _Optional[str] = ..., thresholds: _Optional[_Union[Thresholds, _Mapping]] = ..., seed: _Optional[int] = ..., resamples: _Optional[int] = ..., worst_rows: _Optional[int] = ..., title: _Optional[str] = ...) -> None: ...

class Scores(_message.Message):
    __slots__ = ["f1", "precision", "recall", "support"]
    F1_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    f1: float
    precision: float
    recall: float
    support: int
    def __init__(self, precision: _Optional[float] = ..., recall: _Optional[float] = ..., f1: _Optional[float] = ..., support: _Optional[int] = ...) -> None: ...

class SliceEvaluation(_message.Message):
    __slots__ = ["features", "rows", "value"]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[FeatureEvaluation]
    rows: int
    value: str
    def __init__(self, value: _Optional[str] = ..., rows: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureEvaluation, _Mapping]]] = ...) -> None: ...

class SpanScores(_message.Message):
    __slots__ = ["macro", "micro", "per_class", "weighted"]
    MACRO_FIELD_NUMBER: _ClassVar[int]
    MICRO_FIELD_NUMBER: _ClassVar[int]
    PER_CLASS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    macro: Scores
    micro: Scores
    per_class: _containers.RepeatedCompositeFieldContainer[ClassScores]
    weighted: Scores
    def __init__(self, micro: _Optional[_Union[Scores, _Mapping]] = ..., macro: _Optional[_Union[Scores, _Mapping]] = ..., weighted: _Optional[_Union[Scores, _Mapping]] = ..., per_class: _Optional[_Iterable[_Union[ClassScores, _Mapping]]] = ...) -> None: ...

class TextMetrics(_message.Message):
    __slots__ = ["cer", "exact_match", "normalized_exact_match", "token_f1", "wer"]
    CER_FIELD_NUMBER: _ClassVar[int]
    EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    NORMALIZED_EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_F1_FIELD_NUMBER: _ClassVar[int]
    WER_FIELD_NUMBER: _ClassVar[int]
    cer: float
    exact_match: float
    normalized_exact_match: float
    token_f1: float
    wer: float
    def __init__(self, exact_match: _Optional[float] = ..., normalized_exact_match: _Optional[float] = ..., token_f1: _Optional[float] = ..., wer: _Optional[float] = ..., cer: _Optional[float] = ...) -> None: ...

class Thresholds(_message.Message):
    __slots__ = ["confidence", "has_confidence", "has_iou", "iou"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    HAS_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    HAS_IOU_FIELD_NUMBER: _ClassVar[int]
    IOU_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    has_confidence: bool
    has_iou: bool
    iou: float
    def __init__(self, has_confidence: bool = ..., confidence: _Optional[float] = ..., has_iou: bool = ..., iou: _Optional[float] = ...) -> None: ...
