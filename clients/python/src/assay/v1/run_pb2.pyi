from assay.v1 import catalog_pb2 as _catalog_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EXPORT_FORMAT_COCO: ExportFormat
EXPORT_FORMAT_NDJSON: ExportFormat
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
RUN_STATE_CANCELLED: RunState
RUN_STATE_COMPLETED: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_QUEUED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_UNSPECIFIED: RunState

class CancelRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ClassMapping(_message.Message):
    __slots__ = ["feature_id", "model_class"]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_CLASS_FIELD_NUMBER: _ClassVar[int]
    feature_id: str
    model_class: str
    def __init__(self, model_class: _Optional[str] = ..., feature_id: _Optional[str] = ...) -> None: ...

class CreateRunRequest(_message.Message):
    __slots__ = ["estimate_id", "mapping", "model_id", "name", "ontology_id", "parameters", "request_id", "rows"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParameterValue, _Mapping]] = ...) -> None: ...
    ESTIMATE_ID_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    estimate_id: str
    mapping: _containers.RepeatedCompositeFieldContainer[ClassMapping]
    model_id: str
    name: str
    ontology_id: str
    parameters: _containers.MessageMap[str, ParameterValue]
    request_id: str
    rows: RowSelection
    def __init__(self, name: _Optional[str] = ..., model_id: _Optional[str] = ..., ontology_id: _Optional[str] = ..., mapping: _Optional[_Iterable[_Union[ClassMapping, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, ParameterValue]] = ..., rows: _Optional[_Union[RowSelection, _Mapping]] = ..., estimate_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EstimateRunRequest(_message.Message):
    __slots__ = ["model_id", "rows"]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    rows: RowSelection
    def __init__(self, model_id: _Optional[str] = ..., rows: _Optional[_Union[RowSelection, _Mapping]] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ["data"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class ExportRunRequest(_message.Message):
    __slots__ = ["format", "id"]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    id: str
    def __init__(self, id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ["models"]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelCard]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelCard, _Mapping]]] = ...) -> None: ...

class ListRunRowsRequest(_message.Message):
    __slots__ = ["cursor", "failed_only", "id", "page_size"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FAILED_ONLY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    failed_only: bool
    id: str
    page_size: int
    def __init__(self, id: _Optional[str] = ..., failed_only: bool = ..., page_size: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListRunRowsResponse(_message.Message):
    __slots__ = ["next_cursor", "rows"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    rows: _containers.RepeatedCompositeFieldContainer[RowPredictions]
    def __init__(self, rows: _Optional[_Iterable[_Union[RowPredictions, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ["runs"]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[ModelRun]
    def __init__(self, runs: _Optional[_Iterable[_Union[ModelRun, _Mapping]]] = ...) -> None: ...

class ModelCard(_message.Message):
    __slots__ = ["classes", "description", "id", "media_types", "name", "output_kinds", "parameters", "price", "provider", "task_kinds", "version"]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KINDS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TASK_KINDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    classes: _containers.RepeatedScalarFieldContainer[str]
    description: str
    id: str
    media_types: _containers.RepeatedScalarFieldContainer[_catalog_pb2.MediaType]
    name: str
    output_kinds: _containers.RepeatedScalarFieldContainer[_catalog_pb2.FeatureKind]
    parameters: _containers.RepeatedCompositeFieldContainer[ParameterSpec]
    price: Price
    provider: str
    task_kinds: _containers.RepeatedScalarFieldContainer[str]
    version: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., description: _Optional[str] = ..., task_kinds: _Optional[_Iterable[str]] = ..., media_types: _Optional[_Iterable[_Union[_catalog_pb2.MediaType, str]]] = ..., output_kinds: _Optional[_Iterable[_Union[_catalog_pb2.FeatureKind, str]]] = ..., classes: _Optional[_Iterable[str]] = ..., parameters: _Optional[_Iterable[_Union[ParameterSpec, _Mapping]]] = ..., price: _Optional[_Union[Price, _Mapping]] = ..., provider: _Optional[str] = ...) -> None: ...

class ModelRun(_message.Message):
    __slots__ = ["created_at_micros", "dataset_ids", "error", "finished_at_micros", "id", "mapping", "model_id", "model_version", "name", "ontology_id", "parameters", "progress", "started_at_micros", "state"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParameterValue, _Mapping]] = ...) -> None: ...
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    DATASET_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    created_at_micros: int
    dataset_ids: _containers.RepeatedScalarFieldContainer[str]
    error: str
    finished_at_micros: int
    id: str
    mapping: _containers.RepeatedCompositeFieldContainer[ClassMapping]
    model_id: str
    model_version: str
    name: str
    ontology_id: str
    parameters: _containers.MessageMap[str, ParameterValue]
    progress: RunProgress
    started_at_micros: int
    state: RunState
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., ontology_id: _Optional[str] = ..., mapping: _Optional[_Iterable[_Union[ClassMapping, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, ParameterValue]] = ..., dataset_ids: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[RunState, str]] = ..., progress: _Optional[_Union[RunProgress, _Mapping]] = ..., error: _Optional[str] = ..., created_at_micros: _Optional[int] = ..., started_at_micros: _Optional[int] = ..., finished_at_micros: _Optional[int] = ...) -> None: ...

class ParameterSpec(_message.Message):
    __slots__ = ["choices", "default_value", "description", "has_maximum", "has_minimum", "kind", "maximum", "minimum", "name"]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HAS_MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    HAS_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    choices: _containers.RepeatedScalarFieldContainer[str]
    default_value: ParameterValue
    description: str
    has_maximum: bool
    has_minimum: bool
    kind: str
    maximum: float
    minimum: float
    name: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., description: _Optional[str] = ..., default_value: _Optional[_Union[ParameterValue, _Mapping]] = ..., has_minimum: bool = ..., minimum: _Optional[float] = ..., has_maximum: bool = ..., maximum: _Optional[float] = ..., choices: _Optional[_Iterable[str]] = ...) -> None: ...

class ParameterValue(_message.Message):
    __slots__ = ["boolean", "integer", "number", "string"]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STRING_FIELD_NUMBER: _ClassVar[int]
    boolean: bool
    integer: int
    number: float
    string: str
    def __init__(self, integer: _Optional[int] = ..., number: _Optional[float] = ..., string: _Optional[str] = ..., boolean: bool = ...) -> None: ...

class PreviewRunRequest(_message.Message):
    __slots__ = ["mapping", "model_id", "ontology_id", "parameters", "rows"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParameterValue, _Mapping]] = ...) -> None: ...
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    mapping: _containers.RepeatedCompositeFieldContainer[ClassMapping]
    model_id: str
    ontology_id: str
    parameters: _containers.MessageMap[str, ParameterValue]
    rows: RowSelection
    def __init__(self, model_id: _Optional[str] = ..., ontology_id: _Optional[str] = ..., mapping: _Optional[_Iterable[_Union[ClassMapping, _Mapping]]] = ..., parameters: _Optional[_Mapping[str, ParameterValue]] = ..., rows: _Optional[_Union[RowSelection, _Mapping]] = ...) -> None: ...

class PreviewRunResponse(_message.Message):
    __slots__ = ["rows"]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[RowPredictions]
    def __init__(self, rows: _Optional[_Iterable[_Union[RowPredictions, _Mapping]]] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ["microdollars", "unit"]
    MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    microdollars: int
    unit: str
    def __init__(self, unit: _Optional[str] = ..., microdollars: _Optional[int] = ...) -> None: ...

class RowPredictions(_message.Message):
    __slots__ = ["data_row_id", "error", "global_key", "predictions"]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    data_row_id: str
    error: str
    global_key: str
    predictions: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Label]
    def __init__(self, data_row_id: _Optional[str] = ..., global_key: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[_catalog_pb2.Label, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class RowSelection(_message.Message):
    __slots__ = ["dataset_id", "global_keys", "metadata_filter", "row_ids"]
    class MetadataFilterEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEYS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FILTER_FIELD_NUMBER: _ClassVar[int]
    ROW_IDS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    global_keys: _containers.RepeatedScalarFieldContainer[str]
    metadata_filter: _containers.ScalarMap[str, str]
    row_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, row_ids: _Optional[_Iterable[str]] = ..., global_keys: _Optional[_Iterable[str]] = ..., dataset_id: _Optional[str] = ..., metadata_filter: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RunEstimate(_message.Message):
    __slots__ = ["assumptions", "expires_at_micros", "id", "images", "inference_microdollars", "model_units", "rows"]
    ASSUMPTIONS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MICRODOLLARS_FIELD_NUMBER: _ClassVar[int]
    MODEL_UNITS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    assumptions: _containers.RepeatedScalarFieldContainer[str]
    expires_at_micros: int
    id: str
    images: int
    inference_microdollars: int
    model_units: int
    rows: int
    def __init__(self, id: _Optional[str] = ..., rows: _Optional[int] = ..., images: _Optional[int] = ..., model_units: _Optional[int] = ..., inference_microdollars: _Optional[int] = ..., assumptions: _Optional[_Iterable[str]] = ..., expires_at_micros: _Optional[int] = ...) -> None: ...

class RunProgress(_message.Message):
    __slots__ = ["cached", "done", "failed", "images", "tokens", "total", "with_predictions"]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WITH_PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    cached: int
    done: int
    failed: int
    images: int
    tokens: int
    total: int
    with_predictions: int
    def __init__(self, total: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., cached: _Optional[int] = ..., with_predictions: _Optional[int] = ..., images: _Optional[int] = ..., tokens: _Optional[int] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
