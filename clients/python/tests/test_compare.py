"""The compare service on real runs of a worker model with known mistakes (tests/models_worker.py):
20 rows "row I", ground truth even/odd by I; run A (wrong_every=4) is wrong on I = 3, 7, 11, 15,
19; run B (wrong_every=2) on every odd I. Every number asserted follows from that by hand."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Iterator

import pytest

import assay
from assay.rpc import InvalidArgument, NotFound
from assay.v1 import catalog_pb2, compare_pb2, run_pb2
from conftest import run_to_end

N = 20
WRONG_A = {3, 7, 11, 15, 19}
DISAGREE = {1, 5, 9, 13, 17}  # odd rows A gets right and B wrong


@dataclass
class Parity:
    tag: str
    feature: str
    run_a: str
    run_b: str


def parity_runs(client: assay.Client, tag: str) -> Parity:
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=f"parity-{tag}"))
    summary = client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT,
                                     "text": f"row {i} of {tag}", "metadata": {"half": "low" if i < 10 else "high"}}
                                    for i in range(N)))
    assert summary.created == N and not summary.errors
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=f"parity-{tag}", features=[
        catalog_pb2.Feature(name="parity", kind=catalog_pb2.RADIO, options=[
            catalog_pb2.FeatureOption(id="even", value="even"), catalog_pb2.FeatureOption(id="odd", value="odd")])]))
    feature = onto.features[0].id
    labels = client.catalog.import_labels()
    labels.send(catalog_pb2.LabelBatch(ontology_id=onto.id, labels=[
        catalog_pb2.Label(global_key=f"{tag}-{i}", feature_id=feature,
                          value=catalog_pb2.LabelValue(radio_option_id="even" if i % 2 == 0 else "odd"))
        for i in range(N)]))
    labels.done_writing()
    assert [a.imported for a in labels] == [N]
    runs = []
    for every in (4, 2):
        run = client.run.create(run_pb2.CreateRunRequest(
            name=f"parity every {every}", model_id="test-parity", ontology_id=onto.id,
            mapping=[run_pb2.ClassMapping(model_class="parity", feature_id=feature)],
            parameters={"wrong_every": run_pb2.ParameterValue(integer=every)},
            rows=run_pb2.RowSelection(dataset_id=ds.id)))
        done = run_to_end(client, run.id)
        assert done.state == run_pb2.RUN_STATE_COMPLETED, done.error
        assert (done.progress.done, done.progress.failed, done.progress.with_predictions) == (N, 0, N)
        runs.append(run.id)
    return Parity(tag, feature, runs[0], runs[1])


@pytest.fixture(scope="module")
def parity(server, models_worker) -> Iterator[Parity]:  # type: ignore[no-untyped-def]
    with assay.Client(server.addr, api_key=server.key) as c:
        yield parity_runs(c, f"cmp{uuid.uuid4().hex[:6]}")


def keys(tag: str, rows: list[compare_pb2.DiagnosedRow]) -> set[int]:
    return {int(r.global_key.rsplit("-", 1)[1]) for r in rows}


def test_evaluate_a_run_against_ground_truth(client: assay.Client, parity: Parity) -> None:
    ev = client.compare.evaluate(compare_pb2.EvaluateRequest(run_id=parity.run_a, slice_by="half"))
    assert (ev.rows, ev.rows_not_predicted) == (N, 0)
    (unit,) = ev.features
    assert unit.kind == "classification" and list(unit.feature_ids) == [parity.feature] and unit.rows == N
    c = unit.classification
    assert c.accuracy == pytest.approx(0.75)
    per_class = {s.label: s.scores for s in c.per_class}
    assert per_class["even"].precision == pytest.approx(10 / 15) and per_class["even"].recall == 1.0
    assert per_class["even"].f1 == pytest.approx(0.8) and per_class["even"].support == 10
    assert per_class["odd"].precision == 1.0 and per_class["odd"].recall == 0.5 and per_class["odd"].support == 10
    assert c.macro.f1 == pytest.approx((0.8 + 2 / 3) / 2)
    labels = list(c.confusion.labels)
    assert labels == ["even", "odd"]  # no "none": every row has a label and a prediction
    counts = [list(r.counts) for r in c.confusion.rows]
    assert counts[labels.index("odd")][labels.index("even")] == 5
    assert counts[labels.index("even")][labels.index("even")] == 10
    assert counts[labels.index("odd")][labels.index("odd")] == 5
    # Per slice: rows 0-9 (wrong on 3, 7) and 10-19 (wrong on 11, 15, 19), sorted by value.
    assert [(s.value, s.rows) for s in ev.slices] == [("high", 10), ("low", 10)]
    assert ev.slices[0].features[0].classification.accuracy == pytest.approx(0.7)
    assert ev.slices[1].features[0].classification.accuracy == pytest.approx(0.8)


def test_compare_two_runs_paired(client: assay.Client, parity: Parity) -> None:
    request = compare_pb2.CompareRunsRequest(first_run_id=parity.run_a, second_run_id=parity.run_b, seed=7,
                                             resamples=500)
    cmp = client.compare.compare_runs(request)
    assert cmp.rows == N and cmp.confidence_level == pytest.approx(0.95)
    (f,) = cmp.features
    assert f.rows == N and f.agreement == pytest.approx(0.75)
    # B answers "even" everywhere: observed and chance agreement are both 0.75, so kappa is 0.
    assert f.has_kappa and f.kappa == pytest.approx(0.0, abs=1e-12)
    assert f.has_mcnemar and (f.mcnemar.b, f.mcnemar.c, f.mcnemar.exact) == (5, 0, True)
    assert f.mcnemar.p_value == pytest.approx(2 * 0.5 ** 5)
    accuracy = next(d for d in f.deltas if d.metric == "accuracy")
    assert (accuracy.first, accuracy.second) == (pytest.approx(0.75), pytest.approx(0.5))
    assert accuracy.delta == pytest.approx(-0.25)
    assert accuracy.has_interval and accuracy.low <= -0.25 <= accuracy.high and accuracy.high < 0
    # The same seed gives the same intervals.
    assert client.compare.compare_runs(request) == cmp


def test_diagnosis_rows(client: assay.Client, parity: Parity) -> None:
    cell = client.compare.cell_rows(compare_pb2.CellRowsRequest(
        run_id=parity.run_a, feature_id=parity.feature, truth="odd", predicted="even"))
    assert cell.total == 5 and keys(parity.tag, list(cell.rows)) == WRONG_A
    assert all((r.truth, r.predicted) == ("odd", "even") for r in cell.rows)
    by_loss = client.compare.rank_rows(compare_pb2.RankRowsRequest(run_id=parity.run_a, page_size=5))
    assert by_loss.total == N and keys(parity.tag, list(by_loss.rows)) == WRONG_A and by_loss.next_cursor
    rest = client.compare.rank_rows(compare_pb2.RankRowsRequest(run_id=parity.run_a, page_size=100,
                                                               cursor=by_loss.next_cursor))
    assert len(rest.rows) == N - 5 and not rest.next_cursor
    assert max(r.value for r in rest.rows) < min(r.value for r in by_loss.rows)
    dis = client.compare.rank_rows(compare_pb2.RankRowsRequest(run_id=parity.run_a, by="disagreement",
                                                              other_run_id=parity.run_b))
    assert keys(parity.tag, list(dis.rows)) == DISAGREE
    assert all((r.predicted, r.other) == ("odd", "even") for r in dis.rows)


def test_report_is_a_self_contained_page(client: assay.Client, parity: Parity) -> None:
    html = b"".join(c.data for c in client.compare.report(compare_pb2.ReportRequest(
        run_ids=[parity.run_a, parity.run_b], title="parity report", seed=1, resamples=200)))
    text = html.decode()
    assert text.lstrip().lower().startswith("<!doctype html") and text.rstrip().endswith("</html>")
    assert "<title>parity report</title>" in text and text.count("<svg") >= 2
    assert "parity every 4" in text and "parity every 2" in text  # both runs, by name
    assert "http://" not in text.replace("http://www.w3.org", "") and "<script src" not in text


def test_compare_errors_are_statuses(client: assay.Client, parity: Parity) -> None:
    with pytest.raises(NotFound):
        client.compare.evaluate(compare_pb2.EvaluateRequest(run_id="run_missing"))
    with pytest.raises(InvalidArgument):
        client.compare.compare_runs(compare_pb2.CompareRunsRequest(
            first_run_id=parity.run_a, second_run_id=parity.run_b, resamples=20_000))
    with pytest.raises(InvalidArgument) as bad:
        client.compare.evaluate(compare_pb2.EvaluateRequest(
            run_id=parity.run_a, thresholds=compare_pb2.Thresholds(has_iou=True, iou=1.5)))
    assert "iou" in bad.value.message.lower()
    with pytest.raises(InvalidArgument) as by:
        client.compare.rank_rows(compare_pb2.RankRowsRequest(run_id=parity.run_a, by="luck"))
    assert "luck" in by.value.message


def test_the_asyncio_client_gives_the_same_answers(server, client: assay.Client, parity: Parity) -> None:  # type: ignore[no-untyped-def]
    request = compare_pb2.CompareRunsRequest(first_run_id=parity.run_a, second_run_id=parity.run_b, seed=7,
                                             resamples=100)

    async def main() -> tuple[compare_pb2.CompareRunsResponse, int]:
        async with await assay.AsyncClient.connect(server.addr, api_key=server.key) as c:
            compared = await c.compare.compare_runs(request)
            report = b"".join([chunk.data async for chunk in c.compare.report(
                compare_pb2.ReportRequest(run_ids=[parity.run_a], resamples=50))])
            with pytest.raises(NotFound):
                await c.compare.cell_rows(compare_pb2.CellRowsRequest(run_id="run_missing", truth="a", predicted="b"))
            return compared, len(report)

    compared, report_bytes = asyncio.run(main())
    assert compared == client.compare.compare_runs(request) and report_bytes > 1000
