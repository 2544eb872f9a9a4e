"""Model workers serving runs: a Python worker process registers a card and answers batches
(usage out); a second worker SIGKILLed mid-batch, or whose heartbeats stop while its connection
stays open, or that hangs on it past the server's batch timeout, has its batch handed to the
first, each row predicted once; several workers share a run's batches; one worker serves
several cards."""
from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import assay
from assay import billing_pb2, catalog_pb2, run_pb2
from conftest import Server, run_to_end, wait_for, wait_registered

HERE = Path(__file__).resolve().parent


def setup_rows(client: assay.Client, n: int, tag: str) -> tuple[str, catalog_pb2.Ontology]:
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=f"worker-{tag}"))
    client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}"}
                          for i in range(n)))
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=f"onto-{tag}", features=[
        catalog_pb2.Feature(name="shout", kind=catalog_pb2.FREE_TEXT)]))
    return ds.id, onto


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
    # Usage out: the worker reports the row's characters as prompt tokens and its words as completion tokens.
    texts = [f"row {i} of one-{version}" for i in range(50)]
    assert done.progress.tokens == sum(len(t) + len(t.split()) for t in texts)
    # Billing settles a run just after it completes: wait for its fee.
    fee = []
    for _ in range(500):
        fee = [c for c in client.billing.list_charges(billing_pb2.ListChargesRequest()).charges
               if c.run_id == run.id and c.kind == billing_pb2.CHARGE_KIND_INFERENCE]
        if fee:
            break
        time.sleep(0.01)
    assert [c.microdollars for c in fee] == [50 * 1000]  # $0.001 per row
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


def predicted_once(client: assay.Client, run_id: str, n: int, tag: str) -> list[run_pb2.RowPredictions]:
    done = run_to_end(client, run_id)
    assert done.state == run_pb2.RUN_STATE_COMPLETED, done.error
    assert (done.progress.total, done.progress.done, done.progress.failed) == (n, n, 0)
    rows = all_rows(client, run_id)
    assert len(rows) == n and len({r.data_row_id for r in rows}) == n
    for r in rows:
        assert [p.value.free_text for p in r.predictions] == [f"row {r.global_key.rsplit('-', 1)[1]} of {tag}".upper()]
    return rows


def upper_run(client: assay.Client, ds: str, onto: catalog_pb2.Ontology, name: str) -> run_pb2.ModelRun:
    return client.run.create(run_pb2.CreateRunRequest(
        name=name, model_id="test-upper", ontology_id=onto.id,
        mapping=[run_pb2.ClassMapping(model_class="text", feature_id=onto.features[0].id)],
        rows=run_pb2.RowSelection(dataset_id=ds)))


def stop(*procs) -> None:  # type: ignore[no-untyped-def]
    for p in procs:
        p.kill()
        p.wait()


def test_a_worker_whose_heartbeats_stop_has_its_batch_handed_over(server: Server, client: assay.Client,
                                                                  tmp_path: Path, models_worker) -> None:  # type: ignore[no-untyped-def]
    # With the session's models worker connected (concurrency 2), the run keeps 4 batches in
    # flight for the 2 slots of these two workers, so the silent one is sent a second batch while
    # it holds the first: it must still see its call end.
    version = uuid.uuid4().hex[:8]
    hold = tmp_path / "held.txt"
    steady_log, silent_log = tmp_path / "steady.log", tmp_path / "silent.log"
    steady = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4", "--delay", "0.3",
                                 log=steady_log)
    wait_registered(steady_log, steady)
    silent = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4",
                                 "--hold-file", str(hold), "--mute", log=silent_log)
    wait_registered(silent_log, silent)
    tag = f"mute-{version}"
    ds, onto = setup_rows(client, 24, tag)
    run = upper_run(client, ds, onto, "py worker mute")
    wait_for(hold.exists, 60, "the silent worker to take a batch")
    held = hold.read_text().split(",")
    rows = predicted_once(client, run.id, 24, tag)
    by_id = {r.data_row_id: r for r in rows}
    assert held[0] and all(row_id in by_id for row_id in held)
    # The server gave up on the worker (its process alive, its connection open) for its silence,
    # and the worker, heard again, registered anew.
    assert silent.poll() is None
    try:
        wait_for(lambda: "no heartbeat from worker" in silent_log.read_text(), 30, "the server's reason in the worker log")
    except AssertionError:
        raise AssertionError(silent_log.read_text()) from None
    wait_registered(silent_log, silent, times=2)
    silent_id = silent_log.read_text().split("registered as ", 1)[1].split()[0]
    left = [line for line in server.log_path.read_text().splitlines() if f"worker={silent_id} " in line and "left" in line]
    assert len(left) == 1 and "no heartbeat" in left[0] and "batches_moved=2" in left[0], left
    stop(steady, silent)


def test_several_workers_share_a_run(server: Server, client: assay.Client, tmp_path: Path) -> None:
    version = uuid.uuid4().hex[:8]
    procs, records = [], []
    for k in range(2):
        log, record = tmp_path / f"w{k}.log", tmp_path / f"w{k}.batches"
        record.touch()
        p = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4", "--delay", "0.1",
                                "--record", str(record), log=log)
        wait_registered(log, p)
        procs.append(p)
        records.append(record)
    tag = f"share-{version}"
    ds, onto = setup_rows(client, 40, tag)
    rows = predicted_once(client, upper_run(client, ds, onto, "py workers share").id, 40, tag)
    served = [[line.split(",") for line in r.read_text().splitlines()] for r in records]
    # 10 batches of 4 between two workers with one slot each: both work, no row twice.
    assert all(len(batches) >= 3 for batches in served), [len(b) for b in served]
    ids = [row_id for batches in served for batch in batches for row_id in batch]
    assert sorted(ids) == sorted(r.data_row_id for r in rows)
    stop(*procs)


def test_one_worker_serves_several_cards(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    cards = {c.id: c for c in client.run.list_models(run_pb2.ListModelsRequest()).models}
    served = [cards[i] for i in ("test-parity", "test-writer", "test-judge")]
    assert {c.provider for c in served} == {"worker"} and len({c.version for c in served}) == 1
    assert [p.name for p in cards["test-parity"].parameters] == ["wrong_every", "delay_ms"]
    assert cards["test-parity"].price.unit == "per_1k_tokens" and list(cards["test-parity"].classes) == ["parity"]
    # Runs of two of its cards, at once, both answered by the one process.
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=f"cards-{uuid.uuid4().hex[:6]}"))
    client.ingest(ds.id, ({"global_key": f"{ds.id}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i}"}
                          for i in range(6)))
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=ds.id, features=[
        catalog_pb2.Feature(name="parity", kind=catalog_pb2.RADIO, options=[
            catalog_pb2.FeatureOption(id="even", value="even"), catalog_pb2.FeatureOption(id="odd", value="odd")]),
        catalog_pb2.Feature(name="answer", kind=catalog_pb2.FREE_TEXT)]))
    parity = client.run.create(run_pb2.CreateRunRequest(
        model_id="test-parity", ontology_id=onto.id, rows=run_pb2.RowSelection(dataset_id=ds.id),
        mapping=[run_pb2.ClassMapping(model_class="parity", feature_id=onto.features[0].id)]))
    writer = client.run.create(run_pb2.CreateRunRequest(
        model_id="test-writer", ontology_id=onto.id, rows=run_pb2.RowSelection(dataset_id=ds.id),
        mapping=[run_pb2.ClassMapping(model_class="answer", feature_id=onto.features[1].id)]))
    for run in (parity, writer):
        assert run_to_end(client, run.id).state == run_pb2.RUN_STATE_COMPLETED
    answers = {r.global_key: r.predictions[0].value for r in all_rows(client, writer.id)}
    assert answers[f"{ds.id}-5"].free_text == "ROW 5"
    parities = {r.global_key: r.predictions[0].value for r in all_rows(client, parity.id)}
    assert [parities[f"{ds.id}-{i}"].radio_option_id for i in range(6)] == ["even", "odd", "even", "even", "even", "odd"]


def test_a_hung_worker_loses_its_batch_after_the_batch_timeout(tmp_path: Path) -> None:
    # Its own server, whose workers get 2 s per batch (the default is 600 s).
    (tmp_path / "server").mkdir()
    server = Server(tmp_path / "server", "--worker-batch-timeout", "2")
    try:
        with assay.Client(server.addr, api_key=server.key) as client:
            version = uuid.uuid4().hex[:8]
            hold = tmp_path / "held.txt"
            steady_log, hung_log = tmp_path / "steady.log", tmp_path / "hung.log"
            steady = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4", log=steady_log)
            wait_registered(steady_log, steady)
            # Holds its first batch for good while its heartbeats go on: only the deadline moves it.
            hung = server.start_worker(HERE / "upper_worker.py", "--version", version, "--batch", "4",
                                       "--hold-file", str(hold), log=hung_log)
            wait_registered(hung_log, hung)
            tag = f"hung-{version}"
            ds, onto = setup_rows(client, 16, tag)
            run = upper_run(client, ds, onto, "py worker hung")
            wait_for(hold.exists, 60, "the hung worker to take a batch")
            rows = predicted_once(client, run.id, 16, tag)
            held = hold.read_text().split(",")
            assert all(row_id in {r.data_row_id for r in rows} for row_id in held)
            assert hung.poll() is None and hung_log.read_text().count("registered as") == 1  # never disconnected
            wait_for(lambda: "did not answer a batch in time" in server.log_path.read_text(), 10, "the server's warning")
    finally:
        server.stop()
