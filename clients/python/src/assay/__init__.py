"""Assay's typed Python client.

    import assay
    with assay.Client("127.0.0.1:7400", api_key=key) as client:
        dataset = client.catalog.create_dataset(assay.catalog_pb2.CreateDatasetRequest(name="scans"))

`Client` is blocking (any thread); `AsyncClient` is its asyncio twin. Both carry one stub per
service (`catalog`, `run`, `compare`, `review`, `preference`, `billing`, `keys`, `health`,
`reflection`, `echo`, `worker`) and the ingest helpers. Errors are `assay.rpc.RpcError` subclasses with the status code and message.
"""
from assay.client import AsyncClient, Client, IngestSummary
from assay.rpc import RpcError, StatusCode
from assay.v1 import (
    billing_pb2, catalog_pb2, compare_pb2, echo_pb2, health_pb2, keys_pb2, preference_pb2, reflection_pb2, review_pb2,
    run_pb2, worker_pb2,
)

__all__ = [
    "AsyncClient", "Client", "IngestSummary", "RpcError", "StatusCode", "billing_pb2", "catalog_pb2", "compare_pb2",
    "echo_pb2", "health_pb2", "keys_pb2", "preference_pb2", "reflection_pb2", "review_pb2", "run_pb2", "worker_pb2",
]
