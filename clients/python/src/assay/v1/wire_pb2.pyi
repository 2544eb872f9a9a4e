from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ABORTED: StatusCode
ALREADY_EXISTS: StatusCode
CANCELLED: StatusCode
DATA_LOSS: StatusCode
DEADLINE_EXCEEDED: StatusCode
DESCRIPTOR: _descriptor.FileDescriptor
FAILED_PRECONDITION: StatusCode
INTERNAL: StatusCode
INVALID_ARGUMENT: StatusCode
NOT_FOUND: StatusCode
OK: StatusCode
OUT_OF_RANGE: StatusCode
PERMISSION_DENIED: StatusCode
RESOURCE_EXHAUSTED: StatusCode
UNAUTHENTICATED: StatusCode
UNAVAILABLE: StatusCode
UNIMPLEMENTED: StatusCode
UNKNOWN: StatusCode

class CallEnd(_message.Message):
    __slots__ = ["code", "message", "metadata"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class CallStart(_message.Message):
    __slots__ = ["metadata", "method", "timeout_micros"]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MICROS_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    method: str
    timeout_micros: int
    def __init__(self, method: _Optional[str] = ..., timeout_micros: _Optional[int] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ["code", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ["code", "last_stream_id", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    last_stream_id: int
    message: str
    def __init__(self, last_stream_id: _Optional[int] = ..., code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class MetadataEntry(_message.Message):
    __slots__ = ["key", "value"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Settings(_message.Message):
    __slots__ = ["initial_connection_window", "initial_stream_window", "max_concurrent_streams", "max_frame_size"]
    INITIAL_CONNECTION_WINDOW_FIELD_NUMBER: _ClassVar[int]
    INITIAL_STREAM_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_SIZE_FIELD_NUMBER: _ClassVar[int]
    initial_connection_window: int
    initial_stream_window: int
    max_concurrent_streams: int
    max_frame_size: int
    def __init__(self, max_frame_size: _Optional[int] = ..., max_concurrent_streams: _Optional[int] = ..., initial_stream_window: _Optional[int] = ..., initial_connection_window: _Optional[int] = ...) -> None: ...

class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
