"""Wire compatibility: the Python client sends exactly the bytes the Swift client sends for the
same call, pinned by the golden file the Swift tests read (Tests/AssayRPCTests/Fixtures)."""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from assay.rpc import Channel
from assay.v1 import echo_pb2
from assay.v1.services import EchoStub

GOLDEN = Path(__file__).resolve().parents[3] / "Tests/AssayRPCTests/Fixtures/golden-calls.txt"


def load() -> Dict[str, bytes]:
    out = {}
    for line in GOLDEN.read_text().splitlines():
        if line and not line.startswith("#"):
            *name, hexa = line.split(" ")
            out[" ".join(name)] = bytes.fromhex(hexa)
    return out


FIXTURE = load()


def read_exactly(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


CALLS: Dict[str, Callable[[EchoStub], List[echo_pb2.EchoResponse]]] = {
    "unary": lambda s: [s.unary(echo_pb2.EchoRequest(text="hi"))],
    "server-streaming": lambda s: list(s.server_stream(echo_pb2.EchoRequest(text="hi", repeat=2))),
    "client-streaming": lambda s: [s.client_stream(iter([echo_pb2.EchoRequest(text="a"), echo_pb2.EchoRequest(text="b")]))],
    "bidirectional": lambda s: _bidi(s),
}


def _bidi(stub: EchoStub) -> List[echo_pb2.EchoResponse]:
    call = stub.bidirectional()
    call.send(echo_pb2.EchoRequest(text="x"))
    call.done_writing()
    return list(call)


EXPECTED = {
    "unary": [echo_pb2.EchoResponse(text="hi")],
    "server-streaming": [echo_pb2.EchoResponse(text="hi"), echo_pb2.EchoResponse(text="hi", index=1)],
    "client-streaming": [echo_pb2.EchoResponse(text="ab", index=2)],
    "bidirectional": [echo_pb2.EchoResponse(text="x")],
}


@pytest.mark.parametrize("kind", list(CALLS))
def test_client_sends_the_golden_bytes(kind: str) -> None:
    handshake, client_bytes, server_bytes = FIXTURE["handshake"], FIXTURE[f"{kind} client"], FIXTURE[f"{kind} server"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    got: Dict[str, bytes] = {}

    def peer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(handshake)
            got["bytes"] = read_exactly(conn, len(handshake) + len(client_bytes))
            conn.sendall(server_bytes)
            conn.settimeout(5)
            try:
                while conn.recv(1024):
                    pass
            except OSError:
                pass

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    with Channel(f"127.0.0.1:{port}") as channel:
        responses = CALLS[kind](EchoStub(channel))
    thread.join(10)
    listener.close()
    assert got["bytes"] == handshake + client_bytes
    assert responses == EXPECTED[kind]
