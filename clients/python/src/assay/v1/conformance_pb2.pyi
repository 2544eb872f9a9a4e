from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AllTypes(_message.Message):
    __slots__ = ["children", "default", "f_bool", "f_bytes", "f_color", "f_double", "f_fixed32", "f_fixed64", "f_float", "f_int32", "f_int64", "f_nested", "f_sfixed32", "f_sfixed64", "f_sint32", "f_sint64", "f_string", "f_uint32", "f_uint64", "m_color", "m_nested", "m_string", "o_int32", "o_nested", "o_string", "p_bool", "p_bytes", "p_color", "p_int32", "p_string", "r_bool", "r_bytes", "r_color", "r_double", "r_fixed32", "r_fixed64", "r_float", "r_int32", "r_int64", "r_nested", "r_sfixed32", "r_sfixed64", "r_sint32", "r_sint64", "r_string", "r_uint32", "r_uint64"]
    class Color(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    class MColorEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AllTypes.Color
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AllTypes.Color, str]] = ...) -> None: ...
    class MNestedEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: AllTypes.Nested
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[AllTypes.Nested, _Mapping]] = ...) -> None: ...
    class MStringEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class Nested(_message.Message):
        __slots__ = ["id", "label"]
        ID_FIELD_NUMBER: _ClassVar[int]
        LABEL_FIELD_NUMBER: _ClassVar[int]
        id: int
        label: str
        def __init__(self, id: _Optional[int] = ..., label: _Optional[str] = ...) -> None: ...
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    COLOR_GREEN: AllTypes.Color
    COLOR_NEGATIVE: AllTypes.Color
    COLOR_RED: AllTypes.Color
    COLOR_UNSPECIFIED: AllTypes.Color
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    F_BOOL_FIELD_NUMBER: _ClassVar[int]
    F_BYTES_FIELD_NUMBER: _ClassVar[int]
    F_COLOR_FIELD_NUMBER: _ClassVar[int]
    F_DOUBLE_FIELD_NUMBER: _ClassVar[int]
    F_FIXED32_FIELD_NUMBER: _ClassVar[int]
    F_FIXED64_FIELD_NUMBER: _ClassVar[int]
    F_FLOAT_FIELD_NUMBER: _ClassVar[int]
    F_INT32_FIELD_NUMBER: _ClassVar[int]
    F_INT64_FIELD_NUMBER: _ClassVar[int]
    F_NESTED_FIELD_NUMBER: _ClassVar[int]
    F_SFIXED32_FIELD_NUMBER: _ClassVar[int]
    F_SFIXED64_FIELD_NUMBER: _ClassVar[int]
    F_SINT32_FIELD_NUMBER: _ClassVar[int]
    F_SINT64_FIELD_NUMBER: _ClassVar[int]
    F_STRING_FIELD_NUMBER: _ClassVar[int]
    F_UINT32_FIELD_NUMBER: _ClassVar[int]
    F_UINT64_FIELD_NUMBER: _ClassVar[int]
    M_COLOR_FIELD_NUMBER: _ClassVar[int]
    M_NESTED_FIELD_NUMBER: _ClassVar[int]
    M_STRING_FIELD_NUMBER: _ClassVar[int]
    O_INT32_FIELD_NUMBER: _ClassVar[int]
    O_NESTED_FIELD_NUMBER: _ClassVar[int]
    O_STRING_FIELD_NUMBER: _ClassVar[int]
    P_BOOL_FIELD_NUMBER: _ClassVar[int]
    P_BYTES_FIELD_NUMBER: _ClassVar[int]
    P_COLOR_FIELD_NUMBER: _ClassVar[int]
    P_INT32_FIELD_NUMBER: _ClassVar[int]
    P_STRING_FIELD_NUMBER: _ClassVar[int]
    R_BOOL_FIELD_NUMBER: _ClassVar[int]
    R_BYTES_FIELD_NUMBER: _ClassVar[int]
    R_COLOR_FIELD_NUMBER: _ClassVar[int]
    R_DOUBLE_FIELD_NUMBER: _ClassVar[int]
    R_FIXED32_FIELD_NUMBER: _ClassVar[int]
    R_FIXED64_FIELD_NUMBER: _ClassVar[int]
    R_FLOAT_FIELD_NUMBER: _ClassVar[int]
    R_INT32_FIELD_NUMBER: _ClassVar[int]
    R_INT64_FIELD_NUMBER: _ClassVar[int]
    R_NESTED_FIELD_NUMBER: _ClassVar[int]
    R_SFIXED32_FIELD_NUMBER: _ClassVar[int]
    R_SFIXED64_FIELD_NUMBER: _ClassVar[int]
    R_SINT32_FIELD_NUMBER: _ClassVar[int]
    R_SINT64_FIELD_NUMBER: _ClassVar[int]
    R_STRING_FIELD_NUMBER: _ClassVar[int]
    R_UINT32_FIELD_NUMBER: _ClassVar[int]
    R_UINT64_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[AllTypes]
    default: str
    f_bool: bool
    f_bytes: bytes
    f_color: AllTypes.Color
    f_double: float
    f_fixed32: int
    f_fixed64: int
    f_float: float
    f_int32: int
    f_int64: int
    f_nested: AllTypes.Nested
    f_sfixed32: int
    f_sfixed64: int
    f_sint32: int
    f_sint64: int
    f_string: str
    f_uint32: int
    f_uint64: int
    m_color: _containers.ScalarMap[str, AllTypes.Color]
    m_nested: _containers.MessageMap[int, AllTypes.Nested]
    m_string: _containers.ScalarMap[str, str]
    o_int32: int
    o_nested: AllTypes.Nested
    o_string: str
    p_bool: bool
    p_bytes: bytes
    p_color: AllTypes.Color
    p_int32: int
    p_string: str
    r_bool: _containers.RepeatedScalarFieldContainer[bool]
    r_bytes: _containers.RepeatedScalarFieldContainer[bytes]
    r_color: _containers.RepeatedScalarFieldContainer[AllTypes.Color]
    r_double: _containers.RepeatedScalarFieldContainer[float]
    r_fixed32: _containers.RepeatedScalarFieldContainer[int]
    r_fixed64: _containers.RepeatedScalarFieldContainer[int]
    r_float: _containers.RepeatedScalarFieldContainer[float]
    r_int32: _containers.RepeatedScalarFieldContainer[int]
    r_int64: _containers.RepeatedScalarFieldContainer[int]
    r_nested: _containers.RepeatedCompositeFieldContainer[AllTypes.Nested]
    r_sfixed32: _containers.RepeatedScalarFieldContainer[int]
    r_sfixed64: _containers.RepeatedScalarFieldContainer[int]
    r_sint32: _containers.RepeatedScalarFieldContainer[int]
    r_sint64: _containers.RepeatedScalarFieldContainer[int]
    r_string: _containers.RepeatedScalarFieldContainer[str]
    r_uint32: _containers.RepeatedScalarFieldContainer[int]
    r_uint64: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, f_double: _Optional[float] = ..., f_float: _Optional[float] = ..., f_int32: _Optional[int] = ..., f_int64: _Optional[int] = ..., f_uint32: _Optional[int] = ..., f_uint64: _Optional[int] = ..., f_sint32: _Optional[int] = ..., f_sint64: _Optional[int] = ..., f_fixed32: _Optional[int] = ..., f_fixed64: _Optional[int] = ..., f_sfixed32: _Optional[int] = ..., f_sfixed64: _Optional[int] = ..., f_bool: bool = ..., f_string: _Optional[str] = ..., f_bytes: _Optional[bytes] = ..., f_color: _Optional[_Union[AllTypes.Color, str]] = ..., f_nested: _Optional[_Union[AllTypes.Nested, _Mapping]] = ..., r_int32: _Optional[_Iterable[int]] = ..., r_int64: _Optional[_Iterable[int]] = ..., r_uint32: _Optional[_Iterable[int]] = ..., r_uint64: _Optional[_Iterable[int]] = ..., r_sint32: _Optional[_Iterable[int]] = ..., r_sint64: _Optional[_Iterable[int]] = ..., r_fixed32: _Optional[_Iterable[int]] = ..., r_fixed64: _Optional[_Iterable[int]] = ..., r_sfixed32: _Optional[_Iterable[int]] = ..., r_sfixed64: _Optional[_Iterable[int]] = ..., r_float: _Optional[_Iterable[float]] = ..., r_double: _Optional[_Iterable[float]] = ..., r_bool: _Optional[_Iterable[bool]] = ..., r_color: _Optional[_Iterable[_Union[AllTypes.Color, str]]] = ..., r_string: _Optional[_Iterable[str]] = ..., r_bytes: _Optional[_Iterable[bytes]] = ..., r_nested: _Optional[_Iterable[_Union[AllTypes.Nested, _Mapping]]] = ..., m_string: _Optional[_Mapping[str, str]] = ..., m_nested: _Optional[_Mapping[int, AllTypes.Nested]] = ..., m_color: _Optional[_Mapping[str, AllTypes.Color]] = ..., o_nested: _Optional[_Union[AllTypes.Nested, _Mapping]] = ..., o_string: _Optional[str] = ..., o_int32: _Optional[int] = ..., p_int32: _Optional[int] = ..., p_string: _Optional[str] = ..., p_bool: bool = ..., p_color: _Optional[_Union[AllTypes.Color, str]] = ..., p_bytes: _Optional[bytes] = ..., children: _Optional[_Iterable[_Union[AllTypes, _Mapping]]] = ..., default: _Optional[str] = ..., **kwargs) -> None: ...

class LinkedNode(_message.Message):
    __slots__ = ["next", "value"]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    next: LinkedNode
    value: int
    def __init__(self, value: _Optional[int] = ..., next: _Optional[_Union[LinkedNode, _Mapping]] = ...) -> None: ...
