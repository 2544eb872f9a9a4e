"""`make bench`: Python ingest throughput into a fresh `assay serve`, the 1,000,000-row shape of
Sources/assay-bench (`catalogRow`: global key, image media type, s3 URI, 3 metadata pairs, 70
payload bytes), through `Client.ingest` (batches of 2,000 rows per message), and the same
rows one message per row for comparison (on a slice, extrapolated)."""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, Union

import assay
from assay import catalog_pb2, echo_pb2

Row = Dict[str, Union[str, int, bytes, Dict[str, str]]]


def rows(n: int, start: int = 0) -> Iterator[Row]:
    for i in range(start, start + n):
        yield {
            "global_key": f"row-{i:010d}",
            "media_type": catalog_pb2.IMAGE,
            "uri": f"s3://bench-bucket/ingest/part-{i:010d}.parquet",
            "metadata": {"source": "bench", "shard": f"{i % 16:02d}", "ct": "application/octet-stream"},
            "content": bytes((i + k) & 0xFF for k in range(70)),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=".build/release/assay")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--single-rows", type=int, default=20_000, help="rows sent one message per row")
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
            ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="pybench"))
            # The rows are made before timing (as the Swift bench does), so the number is the
            # client's encoding + the transport + the server's durable ingest.
            prepared = [catalog_pb2.DataRow(**r) for r in rows(args.rows)]  # type: ignore[arg-type]
            summary = client.ingest(ds.id, prepared, batch_rows=args.batch)
            assert summary.created == args.rows and not summary.errors, summary
            print(f"python ingest, batched ({args.rows} rows, {args.batch} per message, durable): "
                  f"{summary.rows_per_second:,.0f} rows/s")
            ds2 = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="pybench-single"))
            single = [catalog_pb2.DataRow(**r) for r in rows(args.single_rows, 10_000_000)]  # type: ignore[arg-type]
            one = client.ingest(ds2.id, single, batch_rows=1)
            print(f"python ingest, one message per row ({args.single_rows} rows, durable): "
                  f"{one.rows_per_second:,.0f} rows/s")
            # The transport alone: the same shape to Echo.Ingest, which decodes every row and stores nothing.
            echo_rows = [echo_pb2.EchoRow(id=str(r["global_key"]), uri=str(r["uri"]), metadata=r["metadata"],  # type: ignore[arg-type]
                                          payload=r["content"]) for r in rows(args.rows)]
            started = time.perf_counter()
            summary_echo = client.echo.ingest(
                echo_pb2.EchoRowBatch(rows=echo_rows[i:i + args.batch]) for i in range(0, len(echo_rows), args.batch))
            assert summary_echo.rows == args.rows
            print(f"python client streaming to Echo.Ingest ({args.rows} rows, {args.batch} per message, decoded, not stored): "
                  f"{args.rows / (time.perf_counter() - started):,.0f} rows/s")
            started = time.perf_counter()
            dicts = client.ingest(ds2.id, rows(100_000, 20_000_000), batch_rows=args.batch)
            print(f"python ingest, batched from dicts built in the loop (100000 rows): "
                  f"{dicts.rows / (time.perf_counter() - started):,.0f} rows/s")
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
