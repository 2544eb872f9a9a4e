"""Writes the seed corpus of the fuzz targets (Tests/Fuzz/*/corpus), from docs/protocol.md's
frame layout and the Python client's generated messages, independently of the Swift encoder.

Run from the repository root with the Python client's venv (it needs protobuf):
    PYTHONPATH=clients/python/src python Tests/Fuzz/make-seeds.py
Rerun it when the contract gains or loses a request type: the requests target picks the type
by its index among the request types sorted by name.
"""
import os
import shutil
import struct
import sys

from google.protobuf.descriptor import FieldDescriptor

import assay.v1 as _  # noqa: F401  (the package)
from assay.v1 import (billing_pb2, catalog_pb2, compare_pb2, echo_pb2, health_pb2, keys_pb2,  # noqa: F401
                      preference_pb2, reflection_pb2, review_pb2, run_pb2, wire_pb2, worker_pb2)

ROOT = os.path.dirname(os.path.abspath(__file__))
MODULES = [billing_pb2, catalog_pb2, compare_pb2, echo_pb2, health_pb2, keys_pb2, preference_pb2,
           reflection_pb2, review_pb2, run_pb2, wire_pb2, worker_pb2]

DATA, HEADERS, TRAILERS, CANCEL, WINDOW_UPDATE, SETTINGS, PING, GOAWAY = range(8)
PREFACE = b"ASSAY\x00\x00\x01"


def frame(kind, flags, stream, body=b""):
    return struct.pack(">IBBI", len(body), kind, flags, stream) + body


def settings(max_frame=4 << 20, streams=1024, stream_window=1 << 20, connection_window=8 << 20):
    return wire_pb2.Settings(max_frame_size=max_frame, max_concurrent_streams=streams,
                             initial_stream_window=stream_window,
                             initial_connection_window=connection_window).SerializeToString()


def call_start(method, timeout_micros=0, metadata=()):
    start = wire_pb2.CallStart(method=method, timeout_micros=timeout_micros)
    for key, value in metadata:
        start.metadata.add(key=key, value=value)
    return start.SerializeToString()


def echo(text, repeat=0):
    return echo_pb2.EchoRequest(text=text, repeat=repeat).SerializeToString()


def write(folder, name, data):
    path = os.path.join(ROOT, folder, "corpus")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), "wb") as f:
        f.write(data)


# What a client sends: the handshake, then calls of each kind (stream 1, 3, ...).
HANDSHAKE = PREFACE + frame(SETTINGS, 0, 0, settings())
CLIENT_CALLS = {
    "unary": frame(HEADERS, 0, 1, call_start("/assay.v1.Echo/Unary")) + frame(DATA, 1, 1, echo("hi")),
    "server-stream": frame(HEADERS, 0, 1, call_start("/assay.v1.Echo/ServerStream", 5_000_000))
    + frame(DATA, 1, 1, echo("hi", 2)),
    "client-stream": frame(HEADERS, 0, 1, call_start("/assay.v1.Echo/ClientStream", metadata=[("x-api-key", "k")]))
    + frame(DATA, 0, 1, echo("a")) + frame(DATA, 0, 1, echo("b")) + frame(DATA, 3, 1),
    "bidirectional": frame(HEADERS, 0, 1, call_start("/assay.v1.Echo/Bidirectional"))
    + frame(DATA, 0, 1, echo("x")) + frame(CANCEL, 0, 1, wire_pb2.Cancel(code=1, message="bye").SerializeToString()),
    "two-calls": frame(HEADERS, 1, 1, call_start("/assay.v1.Health/Check")) + frame(HEADERS, 0, 3, call_start("/a/b"))
    + frame(DATA, 0, 3, b"\x0a\x01z") + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1000))
    + frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 10)),
    "control": frame(PING, 0, 0, b"12345678") + frame(PING, 1, 0, b"00000001") + frame(9, 0, 0, b"unknown")
    + frame(GOAWAY, 0, 0, wire_pb2.GoAway(last_stream_id=0, code=0, message="done").SerializeToString()),
}
# What a server answers: stream 1 is the client's unary call, stream 3 its open stream.
SERVER_REPLIES = {
    "ok": frame(DATA, 0, 1, b"\x0a\x02hi") + frame(TRAILERS, 0, 1),
    "error": frame(TRAILERS, 0, 1, wire_pb2.CallEnd(code=3, message="bad").SerializeToString())
    + frame(DATA, 0, 3, b"\x0a\x01x") + frame(CANCEL, 0, 3, wire_pb2.Cancel(code=1).SerializeToString()),
    "goaway": frame(GOAWAY, 0, 0, wire_pb2.GoAway(last_stream_id=1, code=14, message="restart").SerializeToString())
    + frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 5)) + frame(PING, 1, 0, b"\x00" * 7 + b"\x01"),
}


def frame_seeds():
    for name, calls in CLIENT_CALLS.items():
        stream = frame(SETTINGS, 0, 0, settings()) + calls
        write("FrameDecoder", name, bytes([0xFF, 7]) + stream)     # limit 4,080: all fit
        write("FrameDecoder", name + "-small", bytes([0x01, 3]) + stream)  # limit 16: some skipped
    write("FrameDecoder", "partial", bytes([0x10, 1]) + frame(DATA, 0, 1, b"abcdef")[:-2])
    write("FrameDecoder", "oversized-header", bytes([0x00, 9]) + struct.pack(">IBBI", 0xFFFFFFFF, 0, 0, 1) + b"xx")


def connection_seeds():
    for name, calls in CLIENT_CALLS.items():
        # Options 0: server with default limits; 2: server with small limits.
        write("Connection", "server-" + name, bytes([0, 5, 0]) + HANDSHAKE + calls)
        write("Connection", "server-small-" + name, bytes([2, 11, 0]) + HANDSHAKE + calls)
    for name, replies in SERVER_REPLIES.items():
        # Options 1: client; the third byte opens the client's calls after the server's handshake.
        write("Connection", "client-" + name, bytes([1, 5, len(HANDSHAKE)]) + HANDSHAKE + replies)
    write("Connection", "bad-magic", bytes([0, 0, 0]) + b"HTTP/1.1 200 OK\r\n")
    write("Connection", "bad-version", bytes([0, 0, 0]) + b"ASSAY\x00\x00\x09" + frame(SETTINGS, 0, 0))
    write("Connection", "no-settings", bytes([0, 0, 0]) + PREFACE + frame(PING, 0, 0, b"12345678"))
    write("Connection", "bad-settings", bytes([0, 0, 0]) + PREFACE + frame(SETTINGS, 0, 0, b"\xff"))
    write("Connection", "tiny-peer-limits", bytes([0, 0, 0]) + PREFACE + frame(SETTINGS, 0, 0, settings(16, 1, 1, 1))
          + CLIENT_CALLS["unary"])


def sample(field, variant, depth):
    """A non-default value for a singular field (None: leave it unset)."""
    t = field.type
    if t == FieldDescriptor.TYPE_MESSAGE:
        return None
    if t == FieldDescriptor.TYPE_ENUM:
        values = field.enum_type.values
        return values[min(1 + variant, len(values) - 1)].number
    if t == FieldDescriptor.TYPE_STRING:
        return ["x", "héllo", "/assay.v1.Echo/Unary"][variant % 3]
    if t == FieldDescriptor.TYPE_BYTES:
        return b"\x00\xffab"
    if t == FieldDescriptor.TYPE_BOOL:
        return True
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return [1.5, -0.25, 1e30][variant % 3]
    if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT32,
             FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_SFIXED64):
        return [150, -1, 7][variant % 3]
    return [150, 1, 300][variant % 3]


def fill(message, variant, depth):
    """Sets every field (each oneof to its member number `variant`, modulo its size)."""
    descriptor = message.DESCRIPTOR
    chosen = {o.name: o.fields[variant % len(o.fields)].name for o in descriptor.oneofs}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen[oneof.name] != field.name:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            container = getattr(message, field.name)
            key = sample(key_field, variant, depth)
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 3:
                    fill(container[key], variant, depth + 1)
            else:
                container[key] = sample(value_field, variant, depth)
            continue
        if field.label == FieldDescriptor.LABEL_REPEATED:
            container = getattr(message, field.name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 3:
                    for _ in range(2):
                        fill(container.add(), variant, depth + 1)
            else:
                container.extend([sample(field, variant, depth), sample(field, variant + 1, depth)])
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth < 3:
                fill(getattr(message, field.name), variant, depth + 1)
                getattr(message, field.name).SetInParent()
            continue
        setattr(message, field.name, sample(field, variant, depth))


def request_seeds():
    classes = {}
    inputs = set()
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                inputs.add(method.input_type.full_name)
        def collect(descriptor, cls):
            classes[descriptor.full_name] = cls
            for nested in descriptor.nested_types:
                collect(nested, getattr(cls, nested.name))
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
            collect(descriptor, getattr(module, name))
    names = sorted(inputs)
    for index, name in enumerate(names):
        prefix = bytes([index >> 8, index & 0xFF])
        cls = classes[name]
        write("Requests", name + "-empty", prefix)
        oneof_sizes = [len(o.fields) for o in cls.DESCRIPTOR.oneofs] or [1]
        for variant in range(max(max(oneof_sizes), 2)):
            message = cls()
            fill(message, variant, 0)
            write("Requests", "%s-%d" % (name, variant), prefix + message.SerializeToString())
    print("requests: %d request types" % len(names))


for folder in ("FrameDecoder", "Connection", "Requests"):
    shutil.rmtree(os.path.join(ROOT, folder, "corpus"), ignore_errors=True)
frame_seeds()
connection_seeds()
request_seeds()
for folder in ("FrameDecoder", "Connection", "Requests"):
    print(folder, len(os.listdir(os.path.join(ROOT, folder, "corpus"))), "seeds")
sys.exit(0)
