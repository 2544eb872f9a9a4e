"""`make bench`: Python ingest throughput into a fresh `assay serve`, the 1,000,000-row shape of
Sources/assay-bench (`catalogRow`: global key, image media type, s3 URI, 3 metadata pairs, 70
payload bytes). Every number times the rows being built in the Python loop, as a user's script
builds them (dicts from a generator), not rows made before the clock starts:

- durable: `Client.ingest` (batches of 2,000 rows per message, every batch acknowledged after
  its SQLite commit);
- transport: the same rows to Echo.Ingest, which decodes every row and stores nothing (the
  client and the wire without the database);
- client only: building and encoding the batches without sending them (this process's limit);
- one message per row, on a slice, for comparison.

Each line also gives the CPU time per row of this process (both its threads) and of the
server, which a machine shared with other work changes far less than the rates.

--profile FILE writes a cProfile of the durable run (both the caller's thread and the
channel's event-loop thread) to FILE (read it with `python -m pstats FILE`)."""
from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar, Union

import assay
from assay import catalog_pb2, echo_pb2
from assay.client import _batches

Row = Dict[str, Union[str, int, bytes, Dict[str, str]]]
T = TypeVar("T")

# (i + k) & 0xFF for k < 70 is PATTERN[i & 0xFF:(i & 0xFF) + 70]: the Swift bench's payload.
PATTERN = bytes(range(256)) * 2


def rows(n: int, start: int = 0) -> Iterator[Row]:
    image = catalog_pb2.IMAGE
    for i in range(start, start + n):
        j = i & 0xFF
        yield {
            "global_key": f"row-{i:010d}",
            "media_type": image,
            "uri": f"s3://bench-bucket/ingest/part-{i:010d}.parquet",
            "metadata": {"source": "bench", "shard": f"{i % 16:02d}", "ct": "application/octet-stream"},
            "content": PATTERN[j:j + 70],
        }


def echo_batches(n: int, batch: int) -> Iterator[echo_pb2.EchoRowBatch]:
    """The same rows as EchoRow messages, built in the loop the way `Client.ingest` builds DataRows."""
    for first in range(0, n, batch):
        b = echo_pb2.EchoRowBatch()
        add = b.rows.add
        for r in rows(min(batch, n - first), first):
            add(id=r["global_key"], uri=r["uri"], metadata=r["metadata"], payload=r["content"])
        yield b


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, this process's CPU time (every thread) and the server's, over a block."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid

    def __enter__(self) -> "Clock":
        self.wall, self.cpu, self.server = time.perf_counter(), time.process_time(), server_cpu(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.server = server_cpu(self.pid) - self.server

    def line(self, what: str, n: int) -> str:
        return (f"  {what:<50} {n / self.wall:>9,.0f} rows/s   (CPU per row: client {self.cpu / n * 1e6:.1f} us, "
                f"server {self.server / n * 1e6:.1f} us)")


def profiled(path: Optional[str], loop: Any, fn: Callable[[], T]) -> T:
    """Runs fn under cProfile in this thread and in the channel's event-loop thread."""
    if not path:
        return fn()
    here, there = cProfile.Profile(), cProfile.Profile()
    started = threading.Event()

    def start() -> None:
        there.enable()
        started.set()
    loop.call_soon_threadsafe(start)
    started.wait()
    here.enable()
    try:
        return fn()
    finally:
        here.disable()
        done = threading.Event()

        def stop() -> None:
            there.disable()
            done.set()
        loop.call_soon_threadsafe(stop)
        done.wait()
        here.create_stats()
        there.create_stats()
        import pstats
        stats = pstats.Stats(here)
        stats.add(there)
        stats.dump_stats(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=".build/release/assay")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--single-rows", type=int, default=20_000, help="rows sent one message per row")
    parser.add_argument("--profile", help="write a cProfile of the durable ingest here")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="assay-pybench-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"127.0.0.1:{port}"
    proc = subprocess.Popen([args.server, "serve", "--addr", addr, "--data", str(data / "d"), "--log-level", "warning"])
    try:
        key_file = data / "d/admin.key"
        for _ in range(600):
            if key_file.exists() and key_file.read_text().strip():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.1)
        with assay.Client(addr, api_key=key_file.read_text().strip()) as client:
            print(f"python ingest bench: {args.rows} rows of the assay-bench shape, {args.batch} per message, "
                  f"rows built in the timed loop; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            with Clock(proc.pid) as c:
                n = sum(len(b.SerializeToString()) and len(b.rows) for b in _batches("x", rows(args.rows), args.batch))
            print(c.line("client only (build + encode, not sent):", n))

            with Clock(proc.pid) as c:
                summary_echo = client.echo.ingest(echo_batches(args.rows, args.batch))
            assert summary_echo.rows == args.rows
            print(c.line("transport: Echo.Ingest (decoded, not stored):", args.rows))

            ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="pybench"))
            with Clock(proc.pid) as c:
                summary = profiled(args.profile, client.channel.loop,
                                   lambda: client.ingest(ds.id, rows(args.rows), batch_rows=args.batch))
            assert summary.created == args.rows and not summary.errors, summary
            print(c.line("durable: Client.ingest into SQLite (acknowledged):", args.rows))
            durable_rate = args.rows / c.wall
            print(f"  {'PASS' if durable_rate > 100_000 else 'MISS'} durable Python ingest over 100,000 rows/s "
                  f"through batching: {durable_rate:,.0f} rows/s")

            ds2 = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="pybench-single"))
            with Clock(proc.pid) as c:
                one = client.ingest(ds2.id, rows(args.single_rows, 10_000_000), batch_rows=1)
            assert one.created == args.single_rows
            print(c.line(f"durable, one message per row ({args.single_rows} rows):", args.single_rows))
            print(f"  load average after: {os.getloadavg()[0]:.1f}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
