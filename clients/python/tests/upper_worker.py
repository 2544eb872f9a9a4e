"""A tiny deterministic test model served by a worker process: the upper-cased row text.

--hold-file PATH: on its first batch, write PATH and never answer (so the test can SIGKILL
this worker mid-batch). --version sets the card's version (a fresh one per test avoids the
server's prediction cache)."""
from __future__ import annotations

import argparse
import sys
import threading
from typing import Optional, Sequence

from assay import catalog_pb2, run_pb2, worker_pb2
from assay.worker import Model, main, text_result


class Upper(Model):
    def __init__(self, version: str, hold_file: Optional[str]) -> None:
        self.card = run_pb2.ModelCard(
            id="test-upper", name="Upper-case", version=version, task_kinds=["generation"],
            media_types=[catalog_pb2.TEXT], output_kinds=[catalog_pb2.FREE_TEXT], classes=["text"],
            price=run_pb2.Price(unit="per_row", microdollars=1000))
        self.hold_file = hold_file

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        if self.hold_file:
            with open(self.hold_file, "w") as f:
                f.write(",".join(r.row_id for r in batch.rows))
            threading.Event().wait()  # hold the batch until killed
        suffix = batch.parameters["suffix"].string if "suffix" in batch.parameters else ""
        return [text_result("text", row.text.upper() + suffix, confidence=1.0,
                            usage=worker_pb2.WorkerUsage(prompt_tokens=len(row.text)))
                for row in batch.rows]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", default="1")
    parser.add_argument("--hold-file")
    known, rest = parser.parse_known_args()
    main(rest, models=[Upper(known.version, known.hold_file)])
    sys.exit(0)
