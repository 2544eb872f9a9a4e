"""The asyncio transport: one TCP connection, many calls (docs/protocol.md, written from it alone).

`AsyncChannel.connect("127.0.0.1:7400", api_key=...)` does the handshake; the generated
`assay.v1.services.AsyncStubs` (or `AsyncChannel.unary` & co. by path) make calls on it.
"""
from __future__ import annotations

import asyncio
import collections
import ssl as ssl_module
import struct
from typing import (
    Any, AsyncIterable, AsyncIterator, Dict, Generic, Iterable, List, Mapping, Optional, Sequence, Tuple,
    Type, TypeVar, Union, cast,
)

from google.protobuf.message import DecodeError, Message

from assay.rpc.errors import RpcError, StatusCode
from assay.v1 import wire_pb2

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
Metadata = Union[Mapping[str, str], Sequence[Tuple[str, str]]]

PREFACE = b"ASSAY\x00\x00\x01"
MAGIC = PREFACE[:6]
VERSION = 1

DATA, HEADERS, TRAILERS, CANCEL, WINDOW_UPDATE, SETTINGS, PING, GOAWAY = range(8)
END_STREAM = 0x01
NO_MESSAGE = 0x02
ACK = 0x01

DEFAULT_MAX_FRAME = 4 * 1024 * 1024
DEFAULT_MAX_STREAMS = 1024
DEFAULT_STREAM_WINDOW = 1024 * 1024
DEFAULT_CONNECTION_WINDOW = 8 * 1024 * 1024

_header = struct.Struct(">IBBI")
# Frames with a body this large are written as header and body, sparing the copy that joining them costs.
_COPY_LIMIT = 64 * 1024


def frame(kind: int, flags: int, stream: int, body: bytes = b"") -> bytes:
    """One frame: length (u32), type, flags, stream id (u32), body."""
    return _header.pack(len(body), kind, flags, stream) + body


def parse_target(target: str) -> Tuple[str, int]:
    """"host:port" (or "[v6]:port") -> (host, port)."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"cannot read the address {target!r}; write HOST:PORT")
    return host.strip("[]"), int(port)


def metadata_pairs(metadata: Optional[Metadata]) -> List[Tuple[str, str]]:
    if metadata is None:
        return []
    items = metadata.items() if isinstance(metadata, Mapping) else metadata
    out = []
    for key, value in items:
        if key != key.lower():
            raise ValueError(f"metadata keys are lower-case ASCII: {key!r}")
        out.append((key, value))
    return out


class _End:
    """The end of a stream as the client saw it: the server's TRAILERS or CANCEL, or a
    connection failure."""

    __slots__ = ("code", "message", "metadata")

    def __init__(self, code: int, message: str, metadata: List[Tuple[str, str]]) -> None:
        self.code = code
        self.message = message
        self.metadata = metadata


class _Stream:
    __slots__ = ("id", "inbox", "send_window", "consumed", "end", "waiter")

    def __init__(self, stream_id: int, send_window: int) -> None:
        self.id = stream_id
        self.inbox: "collections.deque[bytes]" = collections.deque()
        self.send_window = send_window
        self.consumed = 0
        self.end: Optional[_End] = None
        self.waiter: Optional[asyncio.Future[None]] = None

    def wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)


class AsyncChannel:
    """One connection to an Assay server, shared by every call made through it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, api_key: Optional[str],
                 metadata: Optional[Metadata], stream_window: int, connection_window: int, max_frame: int) -> None:
        self._reader = reader
        self._writer = writer
        self._auth = [("authorization", f"Bearer {api_key}")] if api_key else []
        self._default_metadata = metadata_pairs(metadata)
        self._streams: Dict[int, _Stream] = {}
        self._next_id = 1
        # What the server lets us send (its SETTINGS), and what we let it send (ours).
        self.peer_max_frame = DEFAULT_MAX_FRAME
        self.peer_max_streams = DEFAULT_MAX_STREAMS
        self._peer_stream_window = DEFAULT_STREAM_WINDOW
        self._conn_send_window = DEFAULT_CONNECTION_WINDOW
        self._recv_stream_window = stream_window
        self._recv_conn_window = connection_window
        self._max_recv_frame = max_frame
        self._conn_consumed = 0
        self._window_changed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings: Dict[bytes, asyncio.Future[None]] = {}
        self._closed: Optional[_End] = None
        self._goaway_last: Optional[int] = None
        self._reader_task: Optional[asyncio.Task[None]] = None

    # -- connecting ----------------------------------------------------------------------

    @classmethod
    async def connect(cls, target: str, *, api_key: Optional[str] = None, metadata: Optional[Metadata] = None,
                      timeout: float = 10.0, stream_window: int = DEFAULT_STREAM_WINDOW,
                      connection_window: int = DEFAULT_CONNECTION_WINDOW,
                      max_frame: int = DEFAULT_MAX_FRAME,
                      ssl: Optional[ssl_module.SSLContext] = None,
                      server_hostname: Optional[str] = None) -> "AsyncChannel":
        """Opens the connection and completes the handshake (preface and SETTINGS both ways).
        With `ssl`, the connection speaks TLS first (the same frames inside; docs/protocol.md);
        the server's certificate must name `server_hostname`, by default the target's host.
        Raises `Unavailable` when the server cannot be reached, its certificate is refused, or it
        refuses the handshake (a server requiring client certificates refuses a client without one)."""
        host, port = parse_target(target)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=2 ** 22, ssl=ssl,
                                        server_hostname=(server_hostname or host) if ssl is not None else None),
                timeout)
        except ssl_module.SSLError as e:
            raise RpcError.of(StatusCode.UNAVAILABLE, f"TLS with {target} failed: {e.reason or e}") from None
        except (OSError, asyncio.TimeoutError) as e:
            raise RpcError.of(StatusCode.UNAVAILABLE, f"cannot connect to {target}: {e or 'timed out'}") from None
        channel = cls(reader, writer, api_key, metadata, stream_window, connection_window, max_frame)
        try:
            await asyncio.wait_for(channel._handshake(), timeout)
        except asyncio.TimeoutError:
            writer.close()
            raise RpcError.of(StatusCode.UNAVAILABLE, f"{target} did not complete the handshake within {timeout} s") from None
        except ssl_module.SSLError as e:
            # TLS 1.3: a server that refuses our certificate (or its absence) says so after
            # our side of the TLS handshake finished, so the refusal arrives here.
            writer.close()
            raise RpcError.of(StatusCode.UNAVAILABLE, f"TLS with {target} failed: {e.reason or e}") from None
        except ConnectionError as e:
            writer.close()
            raise RpcError.of(StatusCode.UNAVAILABLE, f"{target} closed the connection during the handshake: {e}") from None
        except BaseException:
            writer.close()
            raise
        channel._reader_task = asyncio.get_running_loop().create_task(channel._read_loop())
        return channel

    async def _handshake(self) -> None:
        ours = wire_pb2.Settings(max_frame_size=self._max_recv_frame, max_concurrent_streams=DEFAULT_MAX_STREAMS,
                                 initial_stream_window=self._recv_stream_window,
                                 initial_connection_window=self._recv_conn_window)
        self._writer.write(PREFACE + frame(SETTINGS, 0, 0, ours.SerializeToString()))
        await self._writer.drain()
        try:
            preface = await self._reader.readexactly(8)
        except asyncio.IncompleteReadError:
            raise RpcError.of(StatusCode.UNAVAILABLE, "the server closed the connection during the handshake") from None
        if preface[:6] != MAGIC:
            raise RpcError.of(StatusCode.UNAVAILABLE, "bad preface: the peer does not speak the Assay protocol")
        version = struct.unpack(">H", preface[6:])[0]
        if version != VERSION:
            raise RpcError.of(StatusCode.UNAVAILABLE, f"unsupported protocol version {version}; this client speaks version {VERSION}")
        length, kind, _, stream = _header.unpack(await self._reader.readexactly(10))
        if kind == GOAWAY:
            body = await self._reader.readexactly(length)
            away = wire_pb2.GoAway.FromString(body)
            raise RpcError.of(away.code or StatusCode.UNAVAILABLE, away.message)
        if kind != SETTINGS or stream != 0 or length > DEFAULT_MAX_FRAME:
            raise RpcError.of(StatusCode.UNAVAILABLE, f"the first frame after the preface was type {kind}, not SETTINGS")
        self._apply_settings(wire_pb2.Settings.FromString(await self._reader.readexactly(length)))

    def _apply_settings(self, s: wire_pb2.Settings) -> None:
        self.peer_max_frame = s.max_frame_size or DEFAULT_MAX_FRAME
        self.peer_max_streams = s.max_concurrent_streams or DEFAULT_MAX_STREAMS
        self._peer_stream_window = s.initial_stream_window or DEFAULT_STREAM_WINDOW
        self._conn_send_window = s.initial_connection_window or DEFAULT_CONNECTION_WINDOW

    # -- the reader -------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reader = self._reader
        reason = "the server closed the connection"
        try:
            while True:
                length, kind, flags, sid = _header.unpack(await reader.readexactly(10))
                if length > self._max_recv_frame:
                    if sid == 0:
                        reason = f"the server sent a {length}-byte frame on stream 0, over the limit"
                        break
                    remaining = length
                    while remaining:
                        remaining -= len(await reader.read(min(remaining, 1 << 16)))
                    self._fail_stream(sid, StatusCode.RESOURCE_EXHAUSTED,
                                      f"the server sent a {length}-byte frame; this client accepts {self._max_recv_frame}",
                                      tell_server=True)
                    self._credit_connection(length)
                    continue
                body = await reader.readexactly(length) if length else b""
                if kind == DATA:
                    stream = self._streams.get(sid)
                    if stream is None or flags & NO_MESSAGE:
                        self._credit_connection(length)
                        continue
                    stream.inbox.append(body)
                    stream.wake()
                elif kind == TRAILERS:
                    end = wire_pb2.CallEnd.FromString(body)
                    self._finish(sid, _End(end.code, end.message, [(m.key, m.value) for m in end.metadata]))
                elif kind == CANCEL:
                    c = wire_pb2.Cancel.FromString(body)
                    self._finish(sid, _End(c.code or StatusCode.CANCELLED, c.message or "cancelled by the server", []))
                elif kind == WINDOW_UPDATE:
                    (increment,) = struct.unpack(">I", body[:4])
                    if sid == 0:
                        self._conn_send_window += increment
                    else:
                        s = self._streams.get(sid)
                        if s is not None:
                            s.send_window += increment
                    self._window_moved()
                elif kind == PING:
                    if flags & ACK:
                        fut = self._pings.pop(body, None)
                        if fut is not None and not fut.done():
                            fut.set_result(None)
                    else:
                        self._writer.write(frame(PING, ACK, 0, body))
                elif kind == GOAWAY:
                    away = wire_pb2.GoAway.FromString(body)
                    self._goaway_last = away.last_stream_id
                    for s in list(self._streams.values()):
                        if s.id > away.last_stream_id:
                            self._finish(s.id, _End(StatusCode.UNAVAILABLE, away.message or "the server is going away", []))
                    if away.code != StatusCode.OK and away.code != StatusCode.UNAVAILABLE:
                        reason = f"the server closed the connection: {away.message}"
                elif kind == SETTINGS:
                    self._apply_settings(wire_pb2.Settings.FromString(body))
                # Unknown frame types are skipped (docs/protocol.md section 2).
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            reason = "the channel was closed"
        except DecodeError as e:
            reason = f"the server sent a frame this client cannot read: {e}"
        self._close_all(_End(StatusCode.UNAVAILABLE, reason, []))

    def _close_all(self, end: _End) -> None:
        if self._closed is None:
            self._closed = end
        for sid in list(self._streams):
            self._finish(sid, end)
        self._window_moved()
        for fut in self._pings.values():
            if not fut.done():
                fut.set_exception(RpcError.of(end.code, end.message))
        self._pings.clear()

    def _finish(self, sid: int, end: _End) -> None:
        stream = self._streams.pop(sid, None)
        if stream is not None and stream.end is None:
            stream.end = end
            stream.wake()
            self._window_moved()

    def _fail_stream(self, sid: int, code: int, message: str, tell_server: bool) -> None:
        if sid in self._streams and tell_server:
            self._send_cancel(sid, code, message)
        self._finish(sid, _End(code, message, []))

    def _window_moved(self) -> None:
        fut = self._window_changed
        self._window_changed = asyncio.get_running_loop().create_future()
        if not fut.done():
            fut.set_result(None)

    def _credit_connection(self, n: int) -> None:
        self._conn_consumed += n
        if self._conn_consumed >= self._recv_conn_window // 4:
            self._write(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", self._conn_consumed)))
            self._conn_consumed = 0

    def _write(self, data: bytes) -> None:
        if self._closed is None and not self._writer.is_closing():
            self._writer.write(data)

    def _send_cancel(self, sid: int, code: int, message: str) -> None:
        self._write(frame(CANCEL, 0, sid, wire_pb2.Cancel(code=code, message=message).SerializeToString()))

    # -- streams as the calls use them -----------------------------------------------------

    def _open(self, method: str, timeout: Optional[float], metadata: Optional[Metadata],
              request: Optional[bytes]) -> _Stream:
        """Sends HEADERS (and, for one-request calls, the request with END_STREAM) on a new stream."""
        if self._closed is not None:
            raise RpcError.of(self._closed.code, self._closed.message)
        if self._goaway_last is not None:
            raise RpcError.of(StatusCode.UNAVAILABLE, "the server is going away; open a new channel")
        sid = self._next_id
        self._next_id += 2
        start = wire_pb2.CallStart(method=method)
        if timeout is not None:
            if timeout <= 0:
                raise RpcError.of(StatusCode.DEADLINE_EXCEEDED, "the deadline passed before the call started")
            start.timeout_micros = max(1, int(timeout * 1_000_000))
        for key, value in self._auth + self._default_metadata + metadata_pairs(metadata):
            start.metadata.add(key=key, value=value)
        stream = _Stream(sid, self._peer_stream_window)
        self._streams[sid] = stream
        out = frame(HEADERS, 0, sid, start.SerializeToString())
        if request is not None:
            if len(request) > self.peer_max_frame:
                self._streams.pop(sid, None)
                raise RpcError.of(StatusCode.RESOURCE_EXHAUSTED,
                                  f"the request is {len(request)} bytes; the server accepts at most {self.peer_max_frame}")
            # The first message never waits: a fresh stream's window is positive.
            stream.send_window -= len(request)
            self._conn_send_window -= len(request)
            out += frame(DATA, END_STREAM, sid, request)
        self._writer.write(out)
        return stream

    async def _send(self, stream: _Stream, message: bytes, end: bool = False) -> None:
        n = len(message)
        if n > self.peer_max_frame:
            raise RpcError.of(StatusCode.RESOURCE_EXHAUSTED,
                              f"the message is {n} bytes; the server accepts at most {self.peer_max_frame}")
        while stream.end is None and (stream.send_window <= 0 or self._conn_send_window <= 0):
            await asyncio.shield(self._window_changed)
        if stream.end is not None:
            return  # the call already ended; its status is what the caller will read
        stream.send_window -= n
        self._conn_send_window -= n
        header = _header.pack(n, DATA, END_STREAM if end else 0, stream.id)
        if n < _COPY_LIMIT:
            self._writer.write(header + message)  # one syscall for a small frame
        else:
            # A big message (an ingest batch) is handed to the socket as it is, not copied
            # behind its 10-byte header first.
            self._writer.write(header)
            self._writer.write(message)
        transport = self._writer.transport
        if transport.get_write_buffer_size() > 1 << 20:
            await self._writer.drain()

    def _close_send(self, stream: _Stream) -> None:
        if stream.end is None:
            self._writer.write(frame(DATA, END_STREAM | NO_MESSAGE, stream.id))

    async def _next(self, stream: _Stream, deadline: Optional[float]) -> Union[bytes, _End]:
        """The next message of the stream, or its end."""
        while not stream.inbox:
            if stream.end is not None:
                return stream.end
            loop = asyncio.get_running_loop()
            stream.waiter = loop.create_future()
            if deadline is None:
                await stream.waiter
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise self._expire(stream)
                done, _ = await asyncio.wait([stream.waiter], timeout=remaining)
                if not done and not stream.inbox and stream.end is None:
                    raise self._expire(stream)
            stream.waiter = None
        item = stream.inbox.popleft()
        n = len(item)
        stream.consumed += n
        if stream.end is None and stream.consumed >= self._recv_stream_window // 2:
            self._write(frame(WINDOW_UPDATE, 0, stream.id, struct.pack(">I", stream.consumed)))
            stream.consumed = 0
        self._credit_connection(n)
        return item

    def _expire(self, stream: _Stream) -> RpcError:
        self._fail_stream(stream.id, StatusCode.DEADLINE_EXCEEDED, "deadline exceeded", tell_server=True)
        return RpcError.of(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")

    def _abandon(self, stream: _Stream, message: str = "cancelled by the client") -> None:
        """Cancels a stream the caller gave up on (asyncio cancellation, `cancel()`, an error)."""
        if stream.end is None:
            self._fail_stream(stream.id, StatusCode.CANCELLED, message, tell_server=True)

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        return None if timeout is None else asyncio.get_running_loop().time() + timeout

    # -- the four kinds of call ------------------------------------------------------------

    async def unary(self, method: str, request: Message, response_type: Type[Resp], *,
                    timeout: Optional[float] = None, metadata: Optional[Metadata] = None) -> Resp:
        """One request, one response; a non-OK status raises its `RpcError` subclass."""
        deadline = self._deadline(timeout)
        stream = self._open(method, timeout, metadata, request.SerializeToString())
        try:
            return await self._single_response(stream, response_type, deadline)
        except BaseException:
            self._abandon(stream)
            raise

    async def _single_response(self, stream: _Stream, response_type: Type[Resp], deadline: Optional[float]) -> Resp:
        response: Optional[Resp] = None
        while True:
            item = await self._next(stream, deadline)
            if isinstance(item, _End):
                if item.code != StatusCode.OK:
                    raise RpcError.of(item.code, item.message, item.metadata)
                if response is None:
                    raise RpcError.of(StatusCode.INTERNAL, "the server ended the call without a response")
                return response
            if response is not None:
                raise RpcError.of(StatusCode.INTERNAL, "the server sent more than one response")
            response = _decode(response_type, item)

    def server_stream(self, method: str, request: Message, response_type: Type[Resp], *,
                      timeout: Optional[float] = None, metadata: Optional[Metadata] = None) -> "AsyncServerStream[Resp]":
        """One request, a stream of responses: `async for response in channel.server_stream(...)`."""
        return AsyncServerStream(self, method, request, response_type, timeout, metadata)

    async def client_stream(self, method: str, requests: Union[Iterable[Req], AsyncIterable[Req]],
                            response_type: Type[Resp], *, timeout: Optional[float] = None,
                            metadata: Optional[Metadata] = None) -> Resp:
        """Sends every request, then reads the one response."""
        deadline = self._deadline(timeout)
        stream = self._open(method, timeout, metadata, None)
        try:
            if hasattr(requests, "__aiter__"):
                async for r in cast(AsyncIterable[Req], requests):
                    if stream.end is not None:
                        break
                    await self._send_before(stream, r.SerializeToString(), deadline)
            else:
                for r in requests:
                    if stream.end is not None:
                        break
                    await self._send_before(stream, r.SerializeToString(), deadline)
            self._close_send(stream)
            return await self._single_response(stream, response_type, deadline)
        except BaseException:
            self._abandon(stream)
            raise

    async def _send_before(self, stream: _Stream, message: bytes, deadline: Optional[float]) -> None:
        if deadline is None:
            await self._send(stream, message)
            return
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise self._expire(stream)
        try:
            await asyncio.wait_for(self._send(stream, message), remaining)
        except asyncio.TimeoutError:
            raise self._expire(stream) from None

    def bidi(self, method: str, response_type: Type[Resp], *, timeout: Optional[float] = None,
             metadata: Optional[Metadata] = None) -> "AsyncBidiCall[Any, Resp]":
        """A call with streams both ways: `send`, `done_writing`, and `async for` the responses."""
        return AsyncBidiCall(self, method, response_type, timeout, metadata)

    # -- the connection --------------------------------------------------------------------

    async def ping(self, timeout: float = 10.0) -> float:
        """Round-trip time in seconds of a PING frame."""
        loop = asyncio.get_running_loop()
        payload = struct.pack(">d", loop.time())
        fut: asyncio.Future[None] = loop.create_future()
        self._pings[payload] = fut
        started = loop.time()
        self._write(frame(PING, 0, 0, payload))
        await asyncio.wait_for(fut, timeout)
        return loop.time() - started

    @property
    def is_closed(self) -> bool:
        return self._closed is not None

    async def close(self) -> None:
        """Closes the connection; calls still open fail with UNAVAILABLE."""
        if self._reader_task is not None:
            self._reader_task.cancel()
            try:
                await self._reader_task
            except asyncio.CancelledError:
                pass
        self._close_all(_End(StatusCode.UNAVAILABLE, "the channel was closed", []))
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def __aenter__(self) -> "AsyncChannel":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _decode(response_type: Type[Resp], body: bytes) -> Resp:
    try:
        return response_type.FromString(body)
    except DecodeError as e:
        raise RpcError.of(StatusCode.INTERNAL, f"cannot decode the server's {response_type.__name__}: {e}") from None


class _CallBase:
    def __init__(self, channel: AsyncChannel, timeout: Optional[float]) -> None:
        self._channel = channel
        self._timeout = timeout
        self._stream: Optional[_Stream] = None
        self._deadline: Optional[float] = None
        self.trailing_metadata: List[Tuple[str, str]] = []
        self.code: Optional[StatusCode] = None

    def cancel(self) -> None:
        """Abandons the call: the server stops its work; reading raises `Cancelled`."""
        if self._stream is not None:
            self._channel._abandon(self._stream)

    def _ended(self, end: _End) -> None:
        self.trailing_metadata = end.metadata
        self.code = StatusCode(end.code) if end.code in StatusCode._value2member_map_ else StatusCode.UNKNOWN
        if end.code != StatusCode.OK:
            raise RpcError.of(end.code, end.message, end.metadata)


class AsyncServerStream(_CallBase, Generic[Resp]):
    """The responses of a server-streaming call, read with `async for`. The call starts at
    the first read; `cancel()` abandons it."""

    def __init__(self, channel: AsyncChannel, method: str, request: Message, response_type: Type[Resp],
                 timeout: Optional[float], metadata: Optional[Metadata]) -> None:
        super().__init__(channel, timeout)
        self._method = method
        self._request = request
        self._response_type = response_type
        self._metadata = metadata

    def _start(self) -> _Stream:
        if self._stream is None:
            self._deadline = self._channel._deadline(self._timeout)
            self._stream = self._channel._open(self._method, self._timeout, self._metadata,
                                               self._request.SerializeToString())
        return self._stream

    def __aiter__(self) -> AsyncIterator[Resp]:
        return self

    async def __anext__(self) -> Resp:
        stream = self._start()
        try:
            item = await self._channel._next(stream, self._deadline)
        except BaseException:
            self._channel._abandon(stream)
            raise
        if isinstance(item, _End):
            self._ended(item)
            raise StopAsyncIteration
        return _decode(self._response_type, item)

    async def collect(self) -> List[Resp]:
        """Every response, in order."""
        return [r async for r in self]


class AsyncBidiCall(_CallBase, Generic[Req, Resp]):
    """A bidirectional call: `await send(m)`, `done_writing()`, then `async for` the
    responses (or `await read()`, None at the end). The call starts at the first use."""

    def __init__(self, channel: AsyncChannel, method: str, response_type: Type[Resp], timeout: Optional[float],
                 metadata: Optional[Metadata]) -> None:
        super().__init__(channel, timeout)
        self._method = method
        self._response_type = response_type
        self._metadata = metadata
        self._done_writing = False

    def _start(self) -> _Stream:
        if self._stream is None:
            self._deadline = self._channel._deadline(self._timeout)
            self._stream = self._channel._open(self._method, self._timeout, self._metadata, None)
        return self._stream

    async def send(self, message: Req) -> None:
        """Sends one message; waits while flow control says the server is behind. Sending on a
        call that already ended does nothing (reading gives its status)."""
        if self._done_writing:
            raise RuntimeError("send after done_writing")
        stream = self._start()
        try:
            await self._channel._send_before(stream, message.SerializeToString(), self._deadline)
        except BaseException:
            self._channel._abandon(stream)
            raise

    async def send_encoded(self, data: bytes) -> None:
        """`send` for a message already encoded (its `SerializeToString()`)."""
        if self._done_writing:
            raise RuntimeError("send after done_writing")
        stream = self._start()
        try:
            await self._channel._send_before(stream, data, self._deadline)
        except BaseException:
            self._channel._abandon(stream)
            raise

    def done_writing(self) -> None:
        """Ends the client's side of the call."""
        if not self._done_writing:
            self._done_writing = True
            self._channel._close_send(self._start())

    async def read(self) -> Optional[Resp]:
        """The next response, or None once the call ended with OK."""
        stream = self._start()
        try:
            item = await self._channel._next(stream, self._deadline)
        except BaseException:
            self._channel._abandon(stream)
            raise
        if isinstance(item, _End):
            self._ended(item)
            return None
        return _decode(self._response_type, item)

    def ready(self) -> List[Resp]:
        """The responses that already arrived, without waiting (the call's status is raised
        if it ended with one)."""
        stream = self._start()
        out: List[Resp] = []
        while stream.inbox:
            item = stream.inbox.popleft()
            stream.consumed += len(item)
            self._channel._credit_connection(len(item))
            out.append(_decode(self._response_type, item))
        if stream.end is None and stream.consumed >= self._channel._recv_stream_window // 2:
            self._channel._write(frame(WINDOW_UPDATE, 0, stream.id, struct.pack(">I", stream.consumed)))
            stream.consumed = 0
        if stream.end is not None and stream.end.code != StatusCode.OK:
            self._ended(stream.end)
        return out

    def __aiter__(self) -> AsyncIterator[Resp]:
        return self

    async def __anext__(self) -> Resp:
        r = await self.read()
        if r is None:
            raise StopAsyncIteration
        return r
