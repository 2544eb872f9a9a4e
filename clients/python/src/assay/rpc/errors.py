"""Status codes (gRPC's numbers, docs/protocol.md section 4) and the exceptions that carry them."""
from __future__ import annotations

import enum
from typing import Dict, List, Optional, Tuple, Type


class StatusCode(enum.IntEnum):
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class RpcError(Exception):
    """A call that ended with a non-OK status: `code`, the server's `message`, and the
    trailing metadata. `except assay.rpc.NotFound` catches one code; `except RpcError` all."""

    code: StatusCode = StatusCode.UNKNOWN

    def __init__(self, code: int, message: str, metadata: Optional[List[Tuple[str, str]]] = None) -> None:
        try:
            self.code = StatusCode(code)
        except ValueError:
            self.code = StatusCode.UNKNOWN
        self.raw_code = code
        self.message = message
        self.metadata: List[Tuple[str, str]] = list(metadata or [])
        super().__init__(f"{self.code.name}: {message}")

    @staticmethod
    def of(code: int, message: str, metadata: Optional[List[Tuple[str, str]]] = None) -> "RpcError":
        """The exception class for `code` (`NotFound` for 5, …), or `RpcError` for an unknown code."""
        cls = _BY_CODE.get(code, RpcError)
        return cls(code, message, metadata)


class Cancelled(RpcError):
    code = StatusCode.CANCELLED


class Unknown(RpcError):
    code = StatusCode.UNKNOWN


class InvalidArgument(RpcError):
    code = StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(RpcError):
    code = StatusCode.DEADLINE_EXCEEDED


class NotFound(RpcError):
    code = StatusCode.NOT_FOUND


class AlreadyExists(RpcError):
    code = StatusCode.ALREADY_EXISTS


class PermissionDenied(RpcError):
    code = StatusCode.PERMISSION_DENIED


class ResourceExhausted(RpcError):
    code = StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(RpcError):
    code = StatusCode.FAILED_PRECONDITION


class Aborted(RpcError):
    code = StatusCode.ABORTED


class OutOfRange(RpcError):
    code = StatusCode.OUT_OF_RANGE


class Unimplemented(RpcError):
    code = StatusCode.UNIMPLEMENTED


class Internal(RpcError):
    code = StatusCode.INTERNAL


class Unavailable(RpcError):
    code = StatusCode.UNAVAILABLE


class DataLoss(RpcError):
    code = StatusCode.DATA_LOSS


class Unauthenticated(RpcError):
    code = StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[int, Type[RpcError]] = {
    cls.code.value: cls
    for cls in (
        Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists, PermissionDenied,
        ResourceExhausted, FailedPrecondition, Aborted, OutOfRange, Unimplemented, Internal, Unavailable,
        DataLoss, Unauthenticated,
    )
}
