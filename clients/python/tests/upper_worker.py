"""A tiny deterministic test model served by a worker process: the upper-cased row text.

--hold-file PATH: on its first batch, write PATH (the batch's row ids) and never answer (so
the test can SIGKILL this worker mid-batch). --mute: with --hold-file, also stop sending
heartbeats while holding that batch, the connection staying open (the server must count the
worker as gone); the worker unmutes once the server ends its call, reconnects and serves on.
--record PATH appends each batch's row ids to PATH. --delay SECONDS per batch. --version
sets the card's version (a fresh one per test avoids the server's prediction cache)."""
from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from typing import Optional, Sequence

from assay import catalog_pb2, run_pb2, worker_pb2
from assay.rpc import AsyncBidiCall
from assay.worker import Model, Worker, main, text_result

MUTED = threading.Event()


class Upper(Model):
    def __init__(self, version: str, hold_file: Optional[str], mute: bool, record: Optional[str],
                 delay: float) -> None:
        self.card = run_pb2.ModelCard(
            id="test-upper", name="Upper-case", version=version, task_kinds=["generation"],
            media_types=[catalog_pb2.TEXT], output_kinds=[catalog_pb2.FREE_TEXT], classes=["text"],
            price=run_pb2.Price(unit="per_row", microdollars=1000))
        self.hold_file = hold_file
        self.mute = mute
        self.record = record
        self.delay = delay
        self.held = False

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        if self.hold_file and not self.held:
            self.held = True
            if self.mute:
                MUTED.set()
            with open(self.hold_file, "w") as f:
                f.write(",".join(r.row_id for r in batch.rows))
            if self.mute:
                threading.Event().wait(60)  # long after the server gave up on this batch
            else:
                threading.Event().wait()  # hold the batch until killed
        if self.record:
            with open(self.record, "a") as f:
                f.write(",".join(r.row_id for r in batch.rows) + "\n")
        time.sleep(self.delay)
        suffix = batch.parameters["suffix"].string if "suffix" in batch.parameters else ""
        return [text_result("text", row.text.upper() + suffix, confidence=1.0,
                            usage=worker_pb2.WorkerUsage(prompt_tokens=len(row.text),
                                                         completion_tokens=len(row.text.split())))
                for row in batch.rows]


class MutingWorker(Worker):
    """Sends no heartbeat while MUTED is set; unmutes when a call ends."""

    async def _heartbeats(self, call: AsyncBidiCall[worker_pb2.WorkerMessage, worker_pb2.ServerMessage],
                          interval: float) -> None:
        while True:
            await asyncio.sleep(interval / 2)
            if not MUTED.is_set():
                await call.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat()))

    async def _serve_once(self) -> None:
        try:
            await super()._serve_once()
        finally:
            MUTED.clear()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", default="1")
    parser.add_argument("--hold-file")
    parser.add_argument("--mute", action="store_true")
    parser.add_argument("--record")
    parser.add_argument("--delay", type=float, default=0.0)
    known, rest = parser.parse_known_args()
    main(rest, models=[Upper(known.version, known.hold_file, known.mute, known.record, known.delay)],
         worker_type=MutingWorker)
    sys.exit(0)
