from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EchoIngestSummary(_message.Message):
    __slots__ = ["batches", "payload_bytes", "rows"]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    batches: int
    payload_bytes: int
    rows: int
    def __init__(self, rows: _Optional[int] = ..., batches: _Optional[int] = ..., payload_bytes: _Optional[int] = ...) -> None: ...

class EchoRequest(_message.Message):
    __slots__ = ["delay_micros", "payload", "repeat", "text"]
    DELAY_MICROS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    delay_micros: int
    payload: bytes
    repeat: int
    text: str
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ..., repeat: _Optional[int] = ..., delay_micros: _Optional[int] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ["index", "payload", "text"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    index: int
    payload: bytes
    text: str
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ..., index: _Optional[int] = ...) -> None: ...

class EchoRow(_message.Message):
    __slots__ = ["id", "metadata", "payload", "uri"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    id: str
    metadata: _containers.ScalarMap[str, str]
    payload: bytes
    uri: str
    def __init__(self, id: _Optional[str] = ..., uri: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ...) -> None: ...

class EchoRowBatch(_message.Message):
    __slots__ = ["rows"]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[EchoRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[EchoRow, _Mapping]]] = ...) -> None: ...
