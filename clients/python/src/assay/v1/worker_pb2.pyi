from assay.v1 import catalog_pb2 as _catalog_pb2
from assay.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchResult(_message.Message):
    __slots__ = ["batch_id", "error", "retryable", "rows"]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    error: str
    retryable: bool
    rows: _containers.RepeatedCompositeFieldContainer[WorkerRowResult]
    def __init__(self, batch_id: _Optional[int] = ..., rows: _Optional[_Iterable[_Union[WorkerRowResult, _Mapping]]] = ..., error: _Optional[str] = ..., retryable: bool = ...) -> None: ...

class ChosenOptions(_message.Message):
    __slots__ = ["names"]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class PredictBatch(_message.Message):
    __slots__ = ["batch_id", "model_id", "parameters", "rows", "targets"]
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _run_pb2.ParameterValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_run_pb2.ParameterValue, _Mapping]] = ...) -> None: ...
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    model_id: str
    parameters: _containers.MessageMap[str, _run_pb2.ParameterValue]
    rows: _containers.RepeatedCompositeFieldContainer[WorkerRow]
    targets: _containers.RepeatedCompositeFieldContainer[WorkerTarget]
    def __init__(self, batch_id: _Optional[int] = ..., model_id: _Optional[str] = ..., parameters: _Optional[_Mapping[str, _run_pb2.ParameterValue]] = ..., targets: _Optional[_Iterable[_Union[WorkerTarget, _Mapping]]] = ..., rows: _Optional[_Iterable[_Union[WorkerRow, _Mapping]]] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ["batch", "registered"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    batch: PredictBatch
    registered: WorkerRegistered
    def __init__(self, registered: _Optional[_Union[WorkerRegistered, _Mapping]] = ..., batch: _Optional[_Union[PredictBatch, _Mapping]] = ...) -> None: ...

class WorkerHeartbeat(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WorkerMessage(_message.Message):
    __slots__ = ["heartbeat", "register", "result"]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    heartbeat: WorkerHeartbeat
    register: WorkerRegister
    result: BatchResult
    def __init__(self, register: _Optional[_Union[WorkerRegister, _Mapping]] = ..., heartbeat: _Optional[_Union[WorkerHeartbeat, _Mapping]] = ..., result: _Optional[_Union[BatchResult, _Mapping]] = ...) -> None: ...

class WorkerPrediction(_message.Message):
    __slots__ = ["box", "confidence_ppm", "has_confidence", "model_class", "options", "polygon", "span", "text"]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_PPM_FIELD_NUMBER: _ClassVar[int]
    HAS_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_CLASS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    SPAN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    box: _catalog_pb2.BoundingBox
    confidence_ppm: int
    has_confidence: bool
    model_class: str
    options: ChosenOptions
    polygon: _catalog_pb2.Polygon
    span: _catalog_pb2.TextSpan
    text: str
    def __init__(self, model_class: _Optional[str] = ..., box: _Optional[_Union[_catalog_pb2.BoundingBox, _Mapping]] = ..., polygon: _Optional[_Union[_catalog_pb2.Polygon, _Mapping]] = ..., text: _Optional[str] = ..., options: _Optional[_Union[ChosenOptions, _Mapping]] = ..., span: _Optional[_Union[_catalog_pb2.TextSpan, _Mapping]] = ..., has_confidence: bool = ..., confidence_ppm: _Optional[int] = ...) -> None: ...

class WorkerRegister(_message.Message):
    __slots__ = ["cards", "concurrency", "max_batch_size", "name"]
    CARDS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[_run_pb2.ModelCard]
    concurrency: int
    max_batch_size: int
    name: str
    def __init__(self, name: _Optional[str] = ..., cards: _Optional[_Iterable[_Union[_run_pb2.ModelCard, _Mapping]]] = ..., max_batch_size: _Optional[int] = ..., concurrency: _Optional[int] = ...) -> None: ...

class WorkerRegistered(_message.Message):
    __slots__ = ["heartbeat_interval_millis", "worker_id"]
    HEARTBEAT_INTERVAL_MILLIS_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_millis: int
    worker_id: str
    def __init__(self, worker_id: _Optional[str] = ..., heartbeat_interval_millis: _Optional[int] = ...) -> None: ...

class WorkerRow(_message.Message):
    __slots__ = ["content", "media_type", "metadata", "row_id", "text", "uri"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ROW_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    media_type: _catalog_pb2.MediaType
    metadata: _containers.ScalarMap[str, str]
    row_id: str
    text: str
    uri: str
    def __init__(self, row_id: _Optional[str] = ..., media_type: _Optional[_Union[_catalog_pb2.MediaType, str]] = ..., content: _Optional[bytes] = ..., text: _Optional[str] = ..., uri: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class WorkerRowResult(_message.Message):
    __slots__ = ["error", "predictions", "usage"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    error: str
    predictions: _containers.RepeatedCompositeFieldContainer[WorkerPrediction]
    usage: WorkerUsage
    def __init__(self, predictions: _Optional[_Iterable[_Union[WorkerPrediction, _Mapping]]] = ..., error: _Optional[str] = ..., usage: _Optional[_Union[WorkerUsage, _Mapping]] = ...) -> None: ...

class WorkerTarget(_message.Message):
    __slots__ = ["kind", "model_class", "options"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_CLASS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    kind: _catalog_pb2.FeatureKind
    model_class: str
    options: _containers.RepeatedCompositeFieldContainer[WorkerTargetOption]
    def __init__(self, model_class: _Optional[str] = ..., kind: _Optional[_Union[_catalog_pb2.FeatureKind, str]] = ..., options: _Optional[_Iterable[_Union[WorkerTargetOption, _Mapping]]] = ...) -> None: ...

class WorkerTargetOption(_message.Message):
    __slots__ = ["description", "name"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    description: str
    name: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class WorkerUsage(_message.Message):
    __slots__ = ["completion_tokens", "images", "prompt_tokens"]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    completion_tokens: int
    images: int
    prompt_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., images: _Optional[int] = ...) -> None: ...
