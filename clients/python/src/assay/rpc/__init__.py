"""Assay's wire protocol (docs/protocol.md) in Python: channels, calls and status errors."""
from assay.rpc.aio import AsyncBidiCall, AsyncChannel, AsyncServerStream, Metadata
from assay.rpc.errors import (
    Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition, Internal, InvalidArgument,
    NotFound, OutOfRange, PermissionDenied, ResourceExhausted, RpcError, StatusCode, Unauthenticated, Unavailable,
    Unimplemented, Unknown,
)
from assay.rpc.sync import BidiCall, Channel, ServerStream

__all__ = [
    "Aborted", "AlreadyExists", "AsyncBidiCall", "AsyncChannel", "AsyncServerStream", "BidiCall", "Cancelled",
    "Channel", "DataLoss", "DeadlineExceeded", "FailedPrecondition", "Internal", "InvalidArgument", "Metadata",
    "NotFound", "OutOfRange", "PermissionDenied", "ResourceExhausted", "RpcError", "ServerStream", "StatusCode",
    "Unauthenticated", "Unavailable", "Unimplemented", "Unknown",
]
