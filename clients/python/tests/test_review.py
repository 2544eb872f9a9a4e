"""The review service: a worker model's predictions on 4 unlabelled rows go to review as
pre-labels; the reviewer accepts the right ones and corrects the wrong one (row 3, which
test-parity calls "even"); the final labels become ground truth and the run is then evaluated
against them. Sending is metered once per request id."""
from __future__ import annotations

import uuid

import pytest

import assay
from assay.rpc import InvalidArgument, NotFound
from assay.v1 import billing_pb2, catalog_pb2, compare_pb2, review_pb2, run_pb2
from conftest import run_to_end


def review_units(client: assay.Client, dataset_id: str) -> int:
    charges = client.billing.list_charges(billing_pb2.ListChargesRequest()).charges
    return sum(c.units for c in charges if c.kind == billing_pb2.CHARGE_KIND_REVIEW and dataset_id in c.dataset_ids)


def test_review_round_trip(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    tag = f"rvw{uuid.uuid4().hex[:6]}"
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=tag))
    client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}"}
                          for i in range(4)))
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name=tag, features=[
        catalog_pb2.Feature(name="parity", kind=catalog_pb2.RADIO, options=[
            catalog_pb2.FeatureOption(id="even", value="even"), catalog_pb2.FeatureOption(id="odd", value="odd")])]))
    feature = onto.features[0].id
    run = client.run.create(run_pb2.CreateRunRequest(
        model_id="test-parity", ontology_id=onto.id, rows=run_pb2.RowSelection(dataset_id=ds.id),
        mapping=[run_pb2.ClassMapping(model_class="parity", feature_id=feature)]))
    assert run_to_end(client, run.id).state == run_pb2.RUN_STATE_COMPLETED

    project = client.review.create_project(review_pb2.CreateReviewProjectRequest(
        name=tag, ontology_id=onto.id, instructions="even or odd?"))
    assert project.reviewers_per_row == 1 and project.ontology_id == onto.id
    assert client.review.get_project(review_pb2.GetReviewProjectRequest(id=project.id)) == project
    assert project.id in {p.id for p in client.review.list_projects(review_pb2.ListReviewProjectsRequest()).projects}

    send = review_pb2.SendToReviewRequest(project_id=project.id, run_id=run.id, request_id=f"{tag}-send")
    sent = client.review.send(send)
    assert (sent.rows_sent, sent.units, sent.unmapped_predictions) == (4, 4, 0)
    again = client.review.send(send)
    assert (again.rows_sent, again.rows_already_queued) == (0, 4)
    assert review_units(client, ds.id) == 4  # 1 unit per row sent, billed once for both sends
    status = client.review.status(review_pb2.ReviewStatusRequest(project_id=project.id))
    assert (status.rows, status.rows_finalized) == (4, 0)

    seen = []
    while True:
        task = client.review.next(review_pb2.NextReviewTaskRequest(project_id=project.id, lease_seconds=60))
        if not task.HasField("task"):
            break
        t = task.task
        i = int(t.global_key.rsplit("-", 1)[1])
        seen.append(i)
        assert t.instructions == "even or odd?" and t.row.text == f"row {i} of {tag}"
        (pre,) = t.pre_labels
        predicted = pre.value.radio_option_id
        assert predicted == ("even" if i in (0, 2, 3) else "odd")
        if i == 3:
            decision = review_pb2.ReviewDecision(pre_label_id=pre.id, action=review_pb2.REVIEW_ACTION_EDIT,
                                                 label=catalog_pb2.Label(feature_id=feature, value=catalog_pb2.LabelValue(
                                                     radio_option_id="odd")))
        else:
            decision = review_pb2.ReviewDecision(pre_label_id=pre.id, action=review_pb2.REVIEW_ACTION_ACCEPT)
        done = client.review.submit(review_pb2.SubmitReviewRequest(task_id=t.id, decisions=[decision]))
        assert done.row_finalized
        assert [lb.value.radio_option_id for lb in done.final_labels] == ["even" if i % 2 == 0 else "odd"]
    assert sorted(seen) == [0, 1, 2, 3]
    status = client.review.status(review_pb2.ReviewStatusRequest(project_id=project.id))
    assert (status.rows_finalized, status.reviews_submitted, status.leases_held) == (4, 4, 0)
    assert status.mean_agreement == pytest.approx(1.0)

    exported = list(client.review.export(review_pb2.ExportReviewRequest(project_id=project.id, include_decisions=True)))
    assert len(exported) == 4 and all(r.finalized for r in exported)
    row3 = next(r for r in exported if r.global_key == f"{tag}-3")
    assert [d.action for d in row3.decisions] == [review_pb2.REVIEW_ACTION_EDIT]
    assert [lb.value.radio_option_id for lb in row3.final_labels] == ["odd"]
    # The reviewed labels are ground truth now: the run is right on 3 of the 4 rows.
    ev = client.compare.evaluate(compare_pb2.EvaluateRequest(run_id=run.id))
    assert ev.features[0].classification.accuracy == pytest.approx(0.75)


def test_review_errors_are_statuses(client: assay.Client) -> None:
    with pytest.raises(InvalidArgument):
        client.review.create_project(review_pb2.CreateReviewProjectRequest(name="too many", reviewers_per_row=11))
    with pytest.raises(NotFound):
        client.review.get_project(review_pb2.GetReviewProjectRequest(id="rvp_missing"))
    with pytest.raises(NotFound):
        client.review.next(review_pb2.NextReviewTaskRequest(project_id="rvp_missing"))
    with pytest.raises(NotFound):
        client.review.submit(review_pb2.SubmitReviewRequest(task_id="rvt_missing", accept_undecided=True))
