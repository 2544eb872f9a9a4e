from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListServicesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ["services"]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[ServiceInfo]
    def __init__(self, services: _Optional[_Iterable[_Union[ServiceInfo, _Mapping]]] = ...) -> None: ...

class MethodInfo(_message.Message):
    __slots__ = ["input_type", "kind", "name", "output_type", "path"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    BIDIRECTIONAL: MethodInfo.Kind
    CLIENT_STREAMING: MethodInfo.Kind
    INPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SERVER_STREAMING: MethodInfo.Kind
    UNARY: MethodInfo.Kind
    input_type: str
    kind: MethodInfo.Kind
    name: str
    output_type: str
    path: str
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., kind: _Optional[_Union[MethodInfo.Kind, str]] = ..., input_type: _Optional[str] = ..., output_type: _Optional[str] = ...) -> None: ...

class MethodStats(_message.Message):
    __slots__ = ["calls", "codes", "in_flight", "latency_p50_micros", "latency_p99_micros", "path"]
    class CodesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CALLS_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MICROS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MICROS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    calls: int
    codes: _containers.ScalarMap[str, int]
    in_flight: int
    latency_p50_micros: int
    latency_p99_micros: int
    path: str
    def __init__(self, path: _Optional[str] = ..., calls: _Optional[int] = ..., codes: _Optional[_Mapping[str, int]] = ..., in_flight: _Optional[int] = ..., latency_p50_micros: _Optional[int] = ..., latency_p99_micros: _Optional[int] = ...) -> None: ...

class MethodStatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class MethodStatsResponse(_message.Message):
    __slots__ = ["methods"]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    methods: _containers.RepeatedCompositeFieldContainer[MethodStats]
    def __init__(self, methods: _Optional[_Iterable[_Union[MethodStats, _Mapping]]] = ...) -> None: ...

class ServiceInfo(_message.Message):
    __slots__ = ["methods", "name"]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    methods: _containers.RepeatedCompositeFieldContainer[MethodInfo]
    name: str
    def __init__(self, name: _Optional[str] = ..., methods: _Optional[_Iterable[_Union[MethodInfo, _Mapping]]] = ...) -> None: ...
