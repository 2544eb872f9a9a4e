from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ADMIN: KeyRole
DESCRIPTOR: _descriptor.FileDescriptor
KEY_ROLE_UNSPECIFIED: KeyRole
MEMBER: KeyRole
REVIEWER: KeyRole

class ApiKeyInfo(_message.Message):
    __slots__ = ["created_at_micros", "id", "name", "prefix", "revoked_at_micros", "role"]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    created_at_micros: int
    id: str
    name: str
    prefix: str
    revoked_at_micros: int
    role: KeyRole
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., role: _Optional[_Union[KeyRole, str]] = ..., prefix: _Optional[str] = ..., created_at_micros: _Optional[int] = ..., revoked_at_micros: _Optional[int] = ...) -> None: ...

class CreateKeyRequest(_message.Message):
    __slots__ = ["name", "role"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: KeyRole
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[KeyRole, str]] = ...) -> None: ...

class CreateKeyResponse(_message.Message):
    __slots__ = ["info", "key"]
    INFO_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    info: ApiKeyInfo
    key: str
    def __init__(self, info: _Optional[_Union[ApiKeyInfo, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListKeysResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKeyInfo, _Mapping]]] = ...) -> None: ...

class RevokeKeyRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeKeyResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ["key_id", "organization_id", "organization_name", "role"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    organization_id: str
    organization_name: str
    role: KeyRole
    def __init__(self, organization_id: _Optional[str] = ..., organization_name: _Optional[str] = ..., key_id: _Optional[str] = ..., role: _Optional[_Union[KeyRole, str]] = ...) -> None: ...

class KeyRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
