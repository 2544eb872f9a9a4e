"""`Client` and `AsyncClient`: a channel, one stub per service, and the ingest helpers."""
from __future__ import annotations

import ssl as ssl_module
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, AsyncIterator, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from assay.rpc import AsyncChannel, Channel, Metadata
from assay.v1 import catalog_pb2
from assay.v1.services import AsyncStubs, Stubs

RowLike = Union[catalog_pb2.DataRow, Mapping[str, Any]]

DEFAULT_BATCH_ROWS = 2000


@dataclass
class IngestSummary:
    """What an ingest stored: every row it counts is durable (acknowledged per batch)."""

    rows: int = 0
    batches: int = 0
    created: int = 0
    updated: int = 0
    errors: List[catalog_pb2.RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def add(self, ack: catalog_pb2.IngestAck) -> None:
        self.created += ack.created
        self.updated += ack.updated
        self.errors.extend(ack.errors)


def _batches(dataset_id: str, rows: Iterable[RowLike], batch_rows: int) -> Iterator[catalog_pb2.IngestBatch]:
    """Groups rows into IngestBatch messages of at most `batch_rows` rows (one message per
    batch, not per row: the per-message cost is paid once per batch). Rows keep their order,
    so a `RowError.index` is the row's position in its batch whatever mix of dicts and
    DataRow messages the caller passes."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    batch = catalog_pb2.IngestBatch(dataset_id=dataset_id)
    add, append = batch.rows.add, batch.rows.append
    n = 0
    message_type = catalog_pb2.DataRow
    for row in rows:
        if type(row) is dict:
            add(**row)  # the common case first: upb builds the row from the dict in C
        elif isinstance(row, message_type):
            append(row)  # a copy, in place
        else:
            add(**row)
        n += 1
        if n == batch_rows:
            yield batch
            batch = catalog_pb2.IngestBatch()
            add, append = batch.rows.add, batch.rows.append
            n = 0
    if n:
        yield batch


def _fit(batch: catalog_pb2.IngestBatch, limit: int) -> Iterator[Tuple[bytes, int]]:
    """The batch encoded, as (bytes, rows) messages of at most `limit` bytes (the server's frame
    limit): halves until they fit, so large rows (inline images) need no `batch_rows` tuning.
    A single row over the limit is left as it is; sending it fails with RESOURCE_EXHAUSTED."""
    data = batch.SerializeToString()
    n = len(batch.rows)
    if len(data) <= limit or n < 2:
        yield data, n
        return
    half = n // 2
    yield from _fit(catalog_pb2.IngestBatch(dataset_id=batch.dataset_id, rows=batch.rows[:half]), limit)
    yield from _fit(catalog_pb2.IngestBatch(rows=batch.rows[half:]), limit)


async def _async_batches(dataset_id: str, rows: Union[Iterable[RowLike], AsyncIterable[RowLike]],
                         batch_rows: int) -> AsyncIterator[catalog_pb2.IngestBatch]:
    if isinstance(rows, AsyncIterable):
        chunk: List[RowLike] = []
        first = True
        async for row in rows:
            chunk.append(row)
            if len(chunk) == batch_rows:
                for b in _batches(dataset_id if first else "", chunk, batch_rows):
                    yield b
                chunk, first = [], False
        for b in _batches(dataset_id if first else "", chunk, batch_rows):
            yield b
    else:
        for b in _batches(dataset_id, rows, batch_rows):
            yield b


class Client(Stubs):
    """A blocking client: `Client("127.0.0.1:7400", api_key=key)`; use as a context manager
    or call `close()`. The stubs (`client.catalog.get_dataset(...)`) are generated from Protos/."""

    def __init__(self, target: str, *, api_key: Optional[str] = None, metadata: Optional[Metadata] = None,
                 timeout: float = 10.0, ssl: Optional[ssl_module.SSLContext] = None,
                 server_hostname: Optional[str] = None) -> None:
        """With `ssl` (an `ssl.SSLContext` trusting the server's CA, with a client certificate
        loaded for servers that require one), the connection speaks TLS."""
        self.channel = Channel(target, api_key=api_key, metadata=metadata, timeout=timeout, ssl=ssl,
                               server_hostname=server_hostname)
        super().__init__(self.channel)

    def ingest(self, dataset_id: str, rows: Iterable[RowLike], *, batch_rows: int = DEFAULT_BATCH_ROWS,
               timeout: Optional[float] = None) -> IngestSummary:
        """Upserts `rows` (DataRow messages or dicts of DataRow fields) into the dataset over
        one Catalog.Ingest call, `batch_rows` rows per message (fewer when that many would
        pass the server's frame limit). Returns once every batch is acknowledged (durable).
        Rows the server refused are in `errors`, the others are stored."""
        summary = IngestSummary()
        started = time.perf_counter()
        call = self.catalog.ingest(timeout=timeout)
        limit = self.channel.aio.peer_max_frame
        try:
            for batch in _batches(dataset_id, rows, batch_rows):
                for data, n in _fit(batch, limit):
                    call.send_encoded(data)
                    summary.rows += n
                    summary.batches += 1
                    if summary.batches % 16 == 0:
                        for ack in call.ready():
                            summary.add(ack)
            call.done_writing()
            for ack in call:
                summary.add(ack)
        except BaseException:
            call.cancel()
            raise
        summary.seconds = time.perf_counter() - started
        return summary

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(AsyncStubs):
    """The asyncio client: `client = await AsyncClient.connect("127.0.0.1:7400", api_key=key)`."""

    def __init__(self, channel: AsyncChannel) -> None:
        self.channel = channel
        super().__init__(channel)

    @classmethod
    async def connect(cls, target: str, *, api_key: Optional[str] = None, metadata: Optional[Metadata] = None,
                      timeout: float = 10.0, ssl: Optional[ssl_module.SSLContext] = None,
                      server_hostname: Optional[str] = None) -> "AsyncClient":
        return cls(await AsyncChannel.connect(target, api_key=api_key, metadata=metadata, timeout=timeout, ssl=ssl,
                                              server_hostname=server_hostname))

    async def ingest(self, dataset_id: str, rows: Union[Iterable[RowLike], AsyncIterable[RowLike]], *,
                     batch_rows: int = DEFAULT_BATCH_ROWS, timeout: Optional[float] = None) -> IngestSummary:
        """`Client.ingest` for asyncio; `rows` may be an async iterable."""
        summary = IngestSummary()
        started = time.perf_counter()
        call = self.catalog.ingest(timeout=timeout)
        limit = self.channel.peer_max_frame
        try:
            async for batch in _async_batches(dataset_id, rows, batch_rows):
                for data, n in _fit(batch, limit):
                    await call.send_encoded(data)
                    summary.rows += n
                    summary.batches += 1
                    for ack in call.ready():
                        summary.add(ack)
            call.done_writing()
            async for ack in call:
                summary.add(ack)
        except BaseException:
            call.cancel()
            raise
        summary.seconds = time.perf_counter() - started
        return summary

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
