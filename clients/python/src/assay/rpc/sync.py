"""The blocking facade over the asyncio transport: `Channel` runs an event loop on a
background thread and hands each call to it, so plain scripts and notebooks need no asyncio."""
from __future__ import annotations

import asyncio
import ssl as ssl_module
import threading
from concurrent.futures import Future
from typing import Any, Coroutine, Generic, Iterable, Iterator, List, Optional, Tuple, Type, TypeVar

from google.protobuf.message import Message

from assay.rpc.aio import (
    DEFAULT_CONNECTION_WINDOW, DEFAULT_MAX_FRAME, DEFAULT_STREAM_WINDOW, AsyncBidiCall, AsyncChannel,
    AsyncServerStream, Metadata, Req, Resp,
)
from assay.rpc.errors import StatusCode

T = TypeVar("T")


class Channel:
    """A blocking connection to an Assay server: `Channel("127.0.0.1:7400", api_key=key)`.
    Thread-safe: any thread may make calls; they share one connection."""

    def __init__(self, target: str, *, api_key: Optional[str] = None, metadata: Optional[Metadata] = None,
                 timeout: float = 10.0, stream_window: int = DEFAULT_STREAM_WINDOW,
                 connection_window: int = DEFAULT_CONNECTION_WINDOW, max_frame: int = DEFAULT_MAX_FRAME,
                 ssl: Optional[ssl_module.SSLContext] = None, server_hostname: Optional[str] = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"assay-channel-{target}", daemon=True)
        self._thread.start()
        try:
            self._async: AsyncChannel = self._run(AsyncChannel.connect(
                target, api_key=api_key, metadata=metadata, timeout=timeout, stream_window=stream_window,
                connection_window=connection_window, max_frame=max_frame, ssl=ssl, server_hostname=server_hostname))
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            # The caller gave up: cancelling the task sends CANCEL for its call.
            future.cancel()
            raise

    def _call_soon(self, fn: Any, *args: Any) -> None:
        self._loop.call_soon_threadsafe(fn, *args)

    @property
    def aio(self) -> AsyncChannel:
        """The asyncio channel underneath (use it only from `self.loop`)."""
        return self._async

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def unary(self, method: str, request: Message, response_type: Type[Resp], *,
              timeout: Optional[float] = None, metadata: Optional[Metadata] = None) -> Resp:
        return self._run(self._async.unary(method, request, response_type, timeout=timeout, metadata=metadata))

    def server_stream(self, method: str, request: Message, response_type: Type[Resp], *,
                      timeout: Optional[float] = None, metadata: Optional[Metadata] = None) -> "ServerStream[Resp]":
        return ServerStream(self, self._async.server_stream(method, request, response_type, timeout=timeout,
                                                            metadata=metadata))

    def client_stream(self, method: str, requests: Iterable[Req], response_type: Type[Resp], *,
                      timeout: Optional[float] = None, metadata: Optional[Metadata] = None) -> Resp:
        """Iterates `requests` on the calling thread, sending each, then returns the response."""
        call: BidiCall[Req, Resp] = BidiCall(self, self._async.bidi(method, response_type, timeout=timeout,
                                                                    metadata=metadata))
        try:
            for r in requests:
                if call.ended:
                    break
                call.send(r)
            call.done_writing()
            responses = list(call)
        except BaseException:
            call.cancel()
            raise
        if len(responses) != 1:
            from assay.rpc.errors import RpcError
            raise RpcError.of(StatusCode.INTERNAL, f"the server sent {len(responses)} responses to a client-streaming call")
        return responses[0]

    def bidi(self, method: str, response_type: Type[Resp], *, timeout: Optional[float] = None,
             metadata: Optional[Metadata] = None) -> "BidiCall[Any, Resp]":
        return BidiCall(self, self._async.bidi(method, response_type, timeout=timeout, metadata=metadata))

    def ping(self, timeout: float = 10.0) -> float:
        return self._run(self._async.ping(timeout))

    def close(self) -> None:
        if self._loop.is_running():
            try:
                self._run(self._async.close())
            finally:
                self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServerStream(Generic[Resp]):
    """The responses of a server-streaming call: `for response in stream`; `cancel()` abandons it."""

    def __init__(self, channel: Channel, call: AsyncServerStream[Resp]) -> None:
        self._channel = channel
        self._call = call

    def __iter__(self) -> Iterator[Resp]:
        return self

    def __next__(self) -> Resp:
        try:
            return self._channel._run(self._call.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def collect(self) -> List[Resp]:
        return list(self)

    def cancel(self) -> None:
        self._channel._call_soon(self._call.cancel)

    @property
    def trailing_metadata(self) -> List[Tuple[str, str]]:
        return self._call.trailing_metadata


class BidiCall(Generic[Req, Resp]):
    """A bidirectional call, blocking: `send`, `done_writing`, then iterate the responses."""

    def __init__(self, channel: Channel, call: AsyncBidiCall[Req, Resp]) -> None:
        self._channel = channel
        self._call = call

    @property
    def ended(self) -> bool:
        stream = self._call._stream
        return stream is not None and stream.end is not None

    def send(self, message: Req) -> None:
        self._channel._run(self._call.send(message))

    def send_encoded(self, data: bytes) -> None:
        """`send` for a message already encoded (its `SerializeToString()`)."""
        self._channel._run(self._call.send_encoded(data))

    def done_writing(self) -> None:
        self._channel._call_soon(self._call.done_writing)

    def read(self) -> Optional[Resp]:
        return self._channel._run(self._call.read())

    def ready(self) -> List[Resp]:
        """Responses that already arrived, without waiting."""
        return self._channel._run(_now(self._call.ready))

    def __iter__(self) -> Iterator[Resp]:
        while True:
            r = self.read()
            if r is None:
                return
            yield r

    def cancel(self) -> None:
        self._channel._call_soon(self._call.cancel)

    @property
    def trailing_metadata(self) -> List[Tuple[str, str]]:
        return self._call.trailing_metadata


async def _now(fn: Any) -> Any:
    return fn()
