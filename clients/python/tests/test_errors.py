"""Status codes as exceptions, deadlines, cancellation and multiplexing, sync and asyncio."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

import assay
from assay import catalog_pb2, echo_pb2, keys_pb2, reflection_pb2
from assay.rpc import (
    AsyncChannel, Cancelled, Channel, DeadlineExceeded, InvalidArgument, NotFound, PermissionDenied, RpcError,
    StatusCode, Unauthenticated, Unavailable, Unimplemented,
)


def codes(client: assay.Client, path: str) -> dict[str, int]:
    stats = client.reflection.method_stats(reflection_pb2.MethodStatsRequest())
    return dict(next((m.codes for m in stats.methods if m.path == path), {}))


def test_status_codes_are_exceptions_with_code_and_message(client: assay.Client, server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as nf:
        client.catalog.get_dataset(catalog_pb2.GetDatasetRequest(id="ds_nope"))
    assert nf.value.code == StatusCode.NOT_FOUND and nf.value.message and isinstance(nf.value, RpcError)
    with pytest.raises(Unimplemented) as un:
        client.channel.unary("/assay.v1.Nope/Nothing", echo_pb2.EchoRequest(), echo_pb2.EchoResponse)
    assert un.value.message == "unknown method /assay.v1.Nope/Nothing"
    with pytest.raises(InvalidArgument):
        client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=""))
    with Channel(server.addr) as anonymous:
        with pytest.raises(Unauthenticated):
            anonymous.unary("/assay.v1.Keys/WhoAmI", keys_pb2.WhoAmIRequest(), keys_pb2.WhoAmIResponse)
    with Channel(server.addr, api_key="not-a-key") as wrong:
        with pytest.raises(Unauthenticated):
            wrong.unary("/assay.v1.Keys/WhoAmI", keys_pb2.WhoAmIRequest(), keys_pb2.WhoAmIResponse)
    reviewer = client.keys.create(keys_pb2.CreateKeyRequest(name="py-reviewer", role=keys_pb2.REVIEWER))
    with assay.Client(server.addr, api_key=reviewer.key) as c:
        with pytest.raises(PermissionDenied) as pd:
            c.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="nope"))
        assert "reviewer" in pd.value.message
        # Workers are the operator's admins' business only.
        call = c.worker.serve()
        call.done_writing()
        with pytest.raises(PermissionDenied):
            call.read()


def test_unreachable_server_is_unavailable() -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(Unavailable):
        Channel(f"127.0.0.1:{port}", timeout=2)


def test_deadline_exceeded(client: assay.Client) -> None:
    started = time.perf_counter()
    with pytest.raises(DeadlineExceeded):
        client.echo.unary(echo_pb2.EchoRequest(text="slow", delay_micros=5_000_000), timeout=0.2)
    assert time.perf_counter() - started < 2
    with pytest.raises(DeadlineExceeded):
        list(client.echo.server_stream(echo_pb2.EchoRequest(repeat=1, delay_micros=5_000_000), timeout=0.2))
    # The connection is still fine afterwards.
    assert client.echo.unary(echo_pb2.EchoRequest(text="ok"), timeout=5).text == "ok"


def test_server_enforces_the_deadline_it_is_sent(client: assay.Client) -> None:
    # Bypass the client's own timer: the server must end the call with DEADLINE_EXCEEDED.
    before = codes(client, "/assay.v1.Echo/Unary").get("DEADLINE_EXCEEDED", 0)

    async def call() -> None:
        ch = client.channel.aio
        stream = ch._open("/assay.v1.Echo/Unary", 0.1, None,
                          echo_pb2.EchoRequest(delay_micros=3_000_000).SerializeToString())
        await ch._single_response(stream, echo_pb2.EchoResponse, None)

    with pytest.raises(DeadlineExceeded):
        client.channel._run(call())
    after = codes(client, "/assay.v1.Echo/Unary").get("DEADLINE_EXCEEDED", 0)
    assert after == before + 1


def test_cancelling_a_stream_stops_the_server(client: assay.Client) -> None:
    before = codes(client, "/assay.v1.Echo/ServerStream").get("CANCELLED", 0)
    stream = client.echo.server_stream(echo_pb2.EchoRequest(text="x", repeat=1_000_000))
    assert next(stream).index == 0
    stream.cancel()
    with pytest.raises(Cancelled):
        for _ in stream:
            pass
    # The server saw the cancellation and ended the handler (it counts the call as CANCELLED).
    deadline = time.time() + 10
    while codes(client, "/assay.v1.Echo/ServerStream").get("CANCELLED", 0) == before:
        assert time.time() < deadline, "the server never ended the cancelled call"
        time.sleep(0.05)


def test_asyncio_cancellation_sends_cancel(server) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with await assay.AsyncClient.connect(server.addr, api_key=server.key) as c:
            before = (await c.reflection.method_stats(reflection_pb2.MethodStatsRequest()))
            base = next((m.codes.get("CANCELLED", 0) for m in before.methods if m.path == "/assay.v1.Echo/Unary"), 0)
            task = asyncio.create_task(c.echo.unary(echo_pb2.EchoRequest(delay_micros=10_000_000)))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(100):
                stats = await c.reflection.method_stats(reflection_pb2.MethodStatsRequest())
                now = next((m.codes.get("CANCELLED", 0) for m in stats.methods if m.path == "/assay.v1.Echo/Unary"), 0)
                if now > base:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("the server never saw the cancellation")
    asyncio.run(main())


def test_many_concurrent_calls_share_one_connection(server) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        channel = await AsyncChannel.connect(server.addr, api_key=server.key)
        c = assay.AsyncClient(channel)
        started = time.perf_counter()
        # 200 calls that each sleep 200 ms on the server: concurrent, so far less than 40 s.
        results = await asyncio.gather(*[
            c.echo.unary(echo_pb2.EchoRequest(text=str(i), delay_micros=200_000)) for i in range(200)])
        assert [r.text for r in results] == [str(i) for i in range(200)]
        assert time.perf_counter() - started < 10
        streams = [c.echo.server_stream(echo_pb2.EchoRequest(text=str(i), repeat=20)) for i in range(20)]
        collected = await asyncio.gather(*[s.collect() for s in streams])
        assert all([r.index for r in got] == list(range(20)) for got in collected)
        assert await channel.ping() < 5
        await c.close()
    asyncio.run(main())


def test_blocking_channel_is_thread_safe(client: assay.Client) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                assert client.echo.unary(echo_pb2.EchoRequest(text=f"{n}-{i}")).text == f"{n}-{i}"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_metadata_travels(server) -> None:  # type: ignore[no-untyped-def]
    # The key can ride in per-call metadata instead of the channel.
    with Channel(server.addr) as ch:
        me = ch.unary("/assay.v1.Keys/WhoAmI", keys_pb2.WhoAmIRequest(), keys_pb2.WhoAmIResponse,
                      metadata={"authorization": f"Bearer {server.key}"})
        assert me.role == keys_pb2.ADMIN
        with pytest.raises(ValueError):
            ch.unary("/assay.v1.Keys/WhoAmI", keys_pb2.WhoAmIRequest(), keys_pb2.WhoAmIResponse,
                     metadata={"Authorization": "x"})
