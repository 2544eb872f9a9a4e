"""One worker process registering several deterministic test models, so that the compare,
review and preference tests get real runs with known answers:

- test-parity: a radio classifier of rows "row I of TAG": "even" or "odd" by I, except that
  every row with I % wrong_every == wrong_every - 1 gets the other answer (parameter
  wrong_every, default 4), after sleeping delay_ms per batch (default 0). Usage out: 100
  prompt and 25 completion tokens per row, priced per 1k tokens, so the run's inference fee
  comes from the usage the worker reports.
- test-writer: a chat model for preference projects: the prompt upper-cased ("terse" style)
  or followed by a longer explanation ("verbose").
- test-judge: a judge for preference projects: prefers the longer response, except for
  prompts naming a multiple of 3 ("row 0", "row 3", ...), where it prefers the shorter one;
  the same verdict in both orders (no position bias).

--record PATH appends "model_id row_id,row_id,..." per batch (which batches this worker served).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from typing import List, Optional, Sequence

from assay import catalog_pb2, run_pb2, worker_pb2
from assay.worker import Model, main, options_result, text_result

NUMBER = re.compile(r"row (\d+)")


def row_number(text: str) -> int:
    m = NUMBER.search(text)
    if m is None:
        raise ValueError(f"no row number in {text!r}")
    return int(m.group(1))


class Recording(Model):
    record: Optional[str] = None

    def note(self, batch: worker_pb2.PredictBatch) -> None:
        if self.record:
            with open(self.record, "a") as f:
                f.write(f"{batch.model_id} {','.join(r.row_id for r in batch.rows)}\n")


class Parity(Recording):
    def __init__(self, version: str) -> None:
        self.card = run_pb2.ModelCard(
            id="test-parity", name="Parity", version=version, task_kinds=["classification"],
            media_types=[catalog_pb2.TEXT], output_kinds=[catalog_pb2.RADIO], classes=["parity"],
            parameters=[run_pb2.ParameterSpec(name="wrong_every", kind="integer", has_minimum=True, minimum=1,
                                              default_value=run_pb2.ParameterValue(integer=4)),
                        run_pb2.ParameterSpec(name="delay_ms", kind="integer", has_minimum=True, minimum=0,
                                              default_value=run_pb2.ParameterValue(integer=0))],
            price=run_pb2.Price(unit="per_1k_tokens", microdollars=2000))

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        self.note(batch)
        every = batch.parameters["wrong_every"].integer
        time.sleep(batch.parameters["delay_ms"].integer / 1000)
        out = []
        for row in batch.rows:
            i = row_number(row.text)
            even = (i % 2 == 0) != (i % every == every - 1)
            out.append(options_result("parity", ["even" if even else "odd"], confidence=0.9,
                                      usage=worker_pb2.WorkerUsage(prompt_tokens=100, completion_tokens=25)))
        return out


class Writer(Recording):
    def __init__(self, version: str) -> None:
        self.card = run_pb2.ModelCard(
            id="test-writer", name="Writer", version=version, task_kinds=["generation"],
            media_types=[catalog_pb2.TEXT], output_kinds=[catalog_pb2.FREE_TEXT],
            parameters=[run_pb2.ParameterSpec(name="style", kind="choice", choices=["terse", "verbose"],
                                              default_value=run_pb2.ParameterValue(string="terse"))])

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        self.note(batch)
        target = batch.targets[0].model_class
        verbose = batch.parameters["style"].string == "verbose"
        return [text_result(target, row.text.upper() + (" BECAUSE IT IS WHAT WAS ASKED." if verbose else ""))
                for row in batch.rows]


class Judge(Recording):
    def __init__(self, version: str) -> None:
        self.card = run_pb2.ModelCard(
            id="test-judge", name="Judge", version=version, task_kinds=["classification"],
            media_types=[catalog_pb2.TEXT], output_kinds=[catalog_pb2.RADIO])

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        self.note(batch)
        target = batch.targets[0].model_class
        out = []
        for row in batch.rows:
            prompt = row.text.split("[Prompt]\n", 1)[1].split("\n\n[Response A]", 1)[0]
            a = row.text.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
            b = row.text.split("[Response B]\n", 1)[1].split("\n\nWhich response", 1)[0]
            prefer_short = row_number(prompt) % 3 == 0
            if len(a) == len(b):
                verdict = "tie"
            else:
                verdict = "A" if (len(a) < len(b)) == prefer_short else "B"
            out.append(options_result(target, [verdict]))
        return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", default="1")
    parser.add_argument("--record")
    known, rest = parser.parse_known_args()
    models: List[Recording] = [Parity(known.version), Writer(known.version), Judge(known.version)]
    for m in models:
        m.record = known.record
    main(rest, models=models)
    sys.exit(0)
