from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AUDIO: MediaType
BOUNDING_BOX: FeatureKind
CHECKLIST: FeatureKind
CONVERSATION: MediaType
DESCRIPTOR: _descriptor.FileDescriptor
DOCUMENT: MediaType
FEATURE_KIND_UNSPECIFIED: FeatureKind
FREE_TEXT: FeatureKind
IMAGE: MediaType
MEDIA_TYPE_UNSPECIFIED: MediaType
POLYGON: FeatureKind
RADIO: FeatureKind
TEXT: MediaType
TEXT_SPAN: FeatureKind

class Attachment(_message.Message):
    __slots__ = ["kind", "value"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: str
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class BoundingBox(_message.Message):
    __slots__ = ["height", "left", "top", "width"]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    height: float
    left: float
    top: float
    width: float
    def __init__(self, left: _Optional[float] = ..., top: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ...) -> None: ...

class Checklist(_message.Message):
    __slots__ = ["option_ids"]
    OPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    option_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, option_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateDatasetRequest(_message.Message):
    __slots__ = ["description", "name"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    description: str
    name: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateOntologyRequest(_message.Message):
    __slots__ = ["features", "name"]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[Feature]
    name: str
    def __init__(self, name: _Optional[str] = ..., features: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ...) -> None: ...

class DataRow(_message.Message):
    __slots__ = ["attachments", "content", "created_at_micros", "dataset_id", "global_key", "id", "media_type", "metadata", "text", "updated_at_micros", "uri"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    content: bytes
    created_at_micros: int
    dataset_id: str
    global_key: str
    id: str
    media_type: MediaType
    metadata: _containers.ScalarMap[str, str]
    text: str
    updated_at_micros: int
    uri: str
    def __init__(self, id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., global_key: _Optional[str] = ..., media_type: _Optional[_Union[MediaType, str]] = ..., uri: _Optional[str] = ..., content: _Optional[bytes] = ..., text: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., created_at_micros: _Optional[int] = ..., updated_at_micros: _Optional[int] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ["created_at_micros", "description", "id", "name", "row_count"]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    created_at_micros: int
    description: str
    id: str
    name: str
    row_count: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., created_at_micros: _Optional[int] = ..., row_count: _Optional[int] = ...) -> None: ...

class DeleteDataRowsRequest(_message.Message):
    __slots__ = ["ids"]
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDataRowsResponse(_message.Message):
    __slots__ = ["deleted"]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class DeleteDatasetRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteDatasetResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ["dataset_id", "include_content", "include_labels"]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CONTENT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LABELS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    include_content: bool
    include_labels: bool
    def __init__(self, dataset_id: _Optional[str] = ..., include_content: bool = ..., include_labels: bool = ...) -> None: ...

class ExportedRow(_message.Message):
    __slots__ = ["labels", "row"]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedCompositeFieldContainer[Label]
    row: DataRow
    def __init__(self, row: _Optional[_Union[DataRow, _Mapping]] = ..., labels: _Optional[_Iterable[_Union[Label, _Mapping]]] = ...) -> None: ...

class Feature(_message.Message):
    __slots__ = ["children", "id", "kind", "name", "options"]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[Feature]
    id: str
    kind: FeatureKind
    name: str
    options: _containers.RepeatedCompositeFieldContainer[FeatureOption]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[FeatureKind, str]] = ..., options: _Optional[_Iterable[_Union[FeatureOption, _Mapping]]] = ..., children: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ...) -> None: ...

class FeatureOption(_message.Message):
    __slots__ = ["children", "id", "value"]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[Feature]
    id: str
    value: str
    def __init__(self, id: _Optional[str] = ..., value: _Optional[str] = ..., children: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ...) -> None: ...

class GetDataRowRequest(_message.Message):
    __slots__ = ["global_key", "id"]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    global_key: str
    id: str
    def __init__(self, id: _Optional[str] = ..., global_key: _Optional[str] = ...) -> None: ...

class GetDatasetRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOntologyRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class IngestAck(_message.Message):
    __slots__ = ["batch", "created", "errors", "updated"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    batch: int
    created: int
    errors: _containers.RepeatedCompositeFieldContainer[RowError]
    updated: int
    def __init__(self, batch: _Optional[int] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[RowError, _Mapping]]] = ...) -> None: ...

class IngestBatch(_message.Message):
    __slots__ = ["dataset_id", "rows"]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    rows: _containers.RepeatedCompositeFieldContainer[DataRow]
    def __init__(self, dataset_id: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[DataRow, _Mapping]]] = ...) -> None: ...

class Label(_message.Message):
    __slots__ = ["children", "confidence_ppm", "created_at_micros", "data_row_id", "feature_id", "global_key", "id", "model_run_id", "value"]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_PPM_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    DATA_ROW_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[Label]
    confidence_ppm: int
    created_at_micros: int
    data_row_id: str
    feature_id: str
    global_key: str
    id: str
    model_run_id: str
    value: LabelValue
    def __init__(self, id: _Optional[str] = ..., data_row_id: _Optional[str] = ..., global_key: _Optional[str] = ..., feature_id: _Optional[str] = ..., value: _Optional[_Union[LabelValue, _Mapping]] = ..., children: _Optional[_Iterable[_Union[Label, _Mapping]]] = ..., model_run_id: _Optional[str] = ..., confidence_ppm: _Optional[int] = ..., created_at_micros: _Optional[int] = ...) -> None: ...

class LabelAck(_message.Message):
    __slots__ = ["batch", "errors", "imported"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    batch: int
    errors: _containers.RepeatedCompositeFieldContainer[LabelError]
    imported: int
    def __init__(self, batch: _Optional[int] = ..., imported: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[LabelError, _Mapping]]] = ...) -> None: ...

class LabelBatch(_message.Message):
    __slots__ = ["labels", "ontology_id"]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_ID_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedCompositeFieldContainer[Label]
    ontology_id: str
    def __init__(self, ontology_id: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[Label, _Mapping]]] = ...) -> None: ...

class LabelError(_message.Message):
    __slots__ = ["feature_id", "global_key", "index", "message"]
    FEATURE_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    feature_id: str
    global_key: str
    index: int
    message: str
    def __init__(self, index: _Optional[int] = ..., global_key: _Optional[str] = ..., feature_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class LabelValue(_message.Message):
    __slots__ = ["bounding_box", "checklist", "free_text", "polygon", "radio_option_id", "text_span"]
    BOUNDING_BOX_FIELD_NUMBER: _ClassVar[int]
    CHECKLIST_FIELD_NUMBER: _ClassVar[int]
    FREE_TEXT_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    RADIO_OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_SPAN_FIELD_NUMBER: _ClassVar[int]
    bounding_box: BoundingBox
    checklist: Checklist
    free_text: str
    polygon: Polygon
    radio_option_id: str
    text_span: TextSpan
    def __init__(self, radio_option_id: _Optional[str] = ..., checklist: _Optional[_Union[Checklist, _Mapping]] = ..., bounding_box: _Optional[_Union[BoundingBox, _Mapping]] = ..., polygon: _Optional[_Union[Polygon, _Mapping]] = ..., text_span: _Optional[_Union[TextSpan, _Mapping]] = ..., free_text: _Optional[str] = ...) -> None: ...

class ListDataRowsRequest(_message.Message):
    __slots__ = ["cursor", "dataset_id", "metadata_filter", "page_size"]
    class MetadataFilterEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    dataset_id: str
    metadata_filter: _containers.ScalarMap[str, str]
    page_size: int
    def __init__(self, dataset_id: _Optional[str] = ..., page_size: _Optional[int] = ..., cursor: _Optional[str] = ..., metadata_filter: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListDataRowsResponse(_message.Message):
    __slots__ = ["next_cursor", "rows"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    rows: _containers.RepeatedCompositeFieldContainer[DataRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[DataRow, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListDatasetsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListDatasetsResponse(_message.Message):
    __slots__ = ["datasets"]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[Dataset]
    def __init__(self, datasets: _Optional[_Iterable[_Union[Dataset, _Mapping]]] = ...) -> None: ...

class ListOntologiesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListOntologiesResponse(_message.Message):
    __slots__ = ["ontologies"]
    ONTOLOGIES_FIELD_NUMBER: _ClassVar[int]
    ontologies: _containers.RepeatedCompositeFieldContainer[Ontology]
    def __init__(self, ontologies: _Optional[_Iterable[_Union[Ontology, _Mapping]]] = ...) -> None: ...

class Ontology(_message.Message):
    __slots__ = ["created_at_micros", "features", "id", "name"]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    created_at_micros: int
    features: _containers.RepeatedCompositeFieldContainer[Feature]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., features: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ..., created_at_micros: _Optional[int] = ...) -> None: ...

class Polygon(_message.Message):
    __slots__ = ["points"]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[PolygonPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[PolygonPoint, _Mapping]]] = ...) -> None: ...

class PolygonPoint(_message.Message):
    __slots__ = ["x", "y"]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class RowError(_message.Message):
    __slots__ = ["code", "global_key", "index", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_KEY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    global_key: str
    index: int
    message: str
    def __init__(self, index: _Optional[int] = ..., global_key: _Optional[str] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TextSpan(_message.Message):
    __slots__ = ["end", "start"]
    END_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    end: int
    start: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class MediaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class FeatureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
