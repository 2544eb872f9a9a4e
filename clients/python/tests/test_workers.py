"""Model workers serving runs: a Python worker process registers a card and answers batches;
a second worker SIGKILLed mid-batch has its batch handed to the first, each row predicted once."""
from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import assay
from assay import catalog_pb2, run_pb2
from conftest import Server, wait_for

HERE = Path(__file__).resolve().parent


def setup_rows(client: assay.Client, n: int, tag: str) -> tuple[str, catalog_pb2.Ontology]:
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=f"worker-{tag}"))
    client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}"}
                          for i in range(n)))
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=f"onto-{tag}", features=[
        catalog_pb2.Feature(name="shout", kind=catalog_pb2.FREE_TEXT)]))
    return ds.id, onto


def wait_registered(log: Path, proc) -> None:  # type: ignore[no-untyped-def]
    def ready() -> bool:
        assert proc.poll() is None, f"the worker exited: {log.read_text()}"
        return "registered as" in log.read_text()
    wait_for(ready, 60, "the worker to register")


def run_to_end(client: assay.Client, run_id: str) -> run_pb2.ModelRun:
    last = None
    for last in client.run.watch(run_pb2.WatchRunRequest(id=run_id), timeout=120):
        pass
    assert last is not None
    return last


def all_rows(client: assay.Client, run_id: str) -> list[run_pb2.RowPredictions]:
    rows, cursor = [], ""
    while True:
        page = client.run.list_rows(run_pb2.ListRunRowsRequest(id=run_id, page_size=1000, cursor=cursor))
        rows.extend(page.rows)
        cursor = page.next_cursor
        if not cursor:
            return rows


def test_a_worker_serves_a_run(server: Server, client: assay.Client, tmp_path: Path) -> None:
    version = uuid.uuid4().hex[:8]
    log = tmp_path / "worker.log"
    proc = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "8", log=log)
    wait_registered(log, proc)
    card = next(c for c in client.run.list_models(run_pb2.ListModelsRequest()).models if c.id == "test-upper")
    assert card.provider == "worker" and card.version == version
    ds, onto = setup_rows(client, 50, f"one-{version}")
    run = client.run.create(run_pb2.CreateRunRequest(
        name="py worker", model_id="test-upper", ontology_id=onto.id,
        mapping=[run_pb2.ClassMapping(model_class="text", feature_id=onto.features[0].id)],
        rows=run_pb2.RowSelection(dataset_id=ds)))
    done = run_to_end(client, run.id)
    assert done.state == run_pb2.RUN_STATE_COMPLETED, done.error
    assert (done.progress.total, done.progress.done, done.progress.failed) == (50, 50, 0)
    rows = all_rows(client, run.id)
    assert len(rows) == 50
    for r in rows:
        i = int(r.global_key.rsplit("-", 1)[1])
        assert [p.value.free_text for p in r.predictions] == [f"ROW {i} OF ONE-{version}".upper()]
        assert r.predictions[0].confidence_ppm == 1_000_000
    # A preview goes through the worker too, with parameters the card does not know refused.
    preview = client.run.preview(run_pb2.PreviewRunRequest(
        model_id="test-upper", ontology_id=onto.id,
        mapping=[run_pb2.ClassMapping(model_class="text", feature_id=onto.features[0].id)],
        rows=run_pb2.RowSelection(global_keys=[f"one-{version}-3"])))
    assert preview.rows[0].predictions[0].value.free_text == f"ROW 3 OF ONE-{version}".upper()
    proc.kill()
    proc.wait()
    # Once its worker is gone, the card is no longer served.
    wait_for(lambda: all(c.id != "test-upper" for c in client.run.list_models(run_pb2.ListModelsRequest()).models),
             20, "the card to leave")


def test_a_worker_killed_mid_batch_hands_its_batch_over(server: Server, client: assay.Client, tmp_path: Path) -> None:
    version = uuid.uuid4().hex[:8]
    hold = tmp_path / "held.txt"
    steady_log, doomed_log = tmp_path / "steady.log", tmp_path / "doomed.log"
    steady = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4", log=steady_log)
    wait_registered(steady_log, steady)
    doomed = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4",
                                 "--hold-file", str(hold), log=doomed_log)
    wait_registered(doomed_log, doomed)
    ds, onto = setup_rows(client, 40, f"kill-{version}")
    run = client.run.create(run_pb2.CreateRunRequest(
        name="py worker kill", model_id="test-upper", ontology_id=onto.id,
        mapping=[run_pb2.ClassMapping(model_class="text", feature_id=onto.features[0].id)],
        rows=run_pb2.RowSelection(dataset_id=ds)))
    wait_for(hold.exists, 60, "the doomed worker to take a batch")
    held = hold.read_text().split(",")
    assert held and held[0]
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    done = run_to_end(client, run.id)
    assert done.state == run_pb2.RUN_STATE_COMPLETED, done.error
    assert (done.progress.total, done.progress.done, done.progress.failed) == (40, 40, 0)
    rows = all_rows(client, run.id)
    assert len(rows) == 40 and len({r.data_row_id for r in rows}) == 40
    for r in rows:
        assert len(r.predictions) == 1, f"row {r.global_key} has {len(r.predictions)} predictions"
        assert r.predictions[0].value.free_text == f"row {r.global_key.rsplit('-', 1)[1]} of kill-{version}".upper()
    # The rows the killed worker held were predicted (by the other worker), once each.
    by_id = {r.data_row_id: r for r in rows}
    assert all(len(by_id[row_id].predictions) == 1 for row_id in held)
    steady.kill()
    steady.wait()
