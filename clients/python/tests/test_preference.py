"""The preference service end to end on worker models (tests/models_worker.py): two candidates
of test-writer answer 6 prompts ("terse" and the longer "verbose"); test-judge prefers the
longer response except on prompts 0 and 3, in both orders. So verbose wins 4 of 6 pairs:
Bradley-Terry gives P(verbose beats terse) = 2/3, a gap of 400·log10(2) Elo points around 1000."""
from __future__ import annotations

import json
import math
import uuid

import pytest

import assay
from assay.rpc import FailedPrecondition, InvalidArgument, NotFound
from assay.v1 import catalog_pb2, preference_pb2, review_pb2, run_pb2
from conftest import run_to_end

PROMPTS = 6
TERSE_WINS = {0, 3}


def writer(name: str, style: str) -> preference_pb2.PreferenceCandidate:
    return preference_pb2.PreferenceCandidate(name=name, model_id="test-writer",
                                              parameters={"style": run_pb2.ParameterValue(string=style)})


def test_preference_project_end_to_end(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    tag = f"pref{uuid.uuid4().hex[:6]}"
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=tag))
    client.ingest(ds.id, ({"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}"}
                          for i in range(PROMPTS)))
    project = client.preference.create_project(preference_pb2.CreatePreferenceProjectRequest(
        name=tag, prompts=run_pb2.RowSelection(dataset_id=ds.id),
        candidates=[writer("terse", "terse"), writer("verbose", "verbose")],
        judge=preference_pb2.PreferenceJudgeConfig(model_id="test-judge")))
    assert len(project.prompt_row_ids) == PROMPTS and [c.name for c in project.candidates] == ["terse", "verbose"]
    assert client.preference.get_project(preference_pb2.GetPreferenceProjectRequest(id=project.id)) == project
    listed = client.preference.list_projects(preference_pb2.ListPreferenceProjectsRequest()).projects
    assert project.id in {p.id for p in listed}
    with pytest.raises(FailedPrecondition) as early:
        client.preference.judge(preference_pb2.JudgePreferenceRequest(project_id=project.id))
    assert "Generate" in early.value.message

    generated = client.preference.generate(preference_pb2.GeneratePreferenceRequest(project_id=project.id))
    run_ids = [c.run_id for c in generated.candidates]
    assert all(run_ids) and len(set(run_ids)) == 2
    # Idempotent: the same runs again.
    again = client.preference.generate(preference_pb2.GeneratePreferenceRequest(project_id=project.id))
    assert [c.run_id for c in again.candidates] == run_ids
    for run_id in run_ids:
        assert run_to_end(client, run_id).state == run_pb2.RUN_STATE_COMPLETED
    judged = client.preference.judge(preference_pb2.JudgePreferenceRequest(project_id=project.id))
    assert judged.judge_run_id and judged.judge_dataset_id
    judge_run = run_to_end(client, judged.judge_run_id)
    assert judge_run.state == run_pb2.RUN_STATE_COMPLETED and judge_run.progress.done == 2 * PROMPTS  # both orders

    pairs = client.preference.list_pairs(preference_pb2.ListPreferencePairsRequest(project_id=project.id)).pairs
    assert len(pairs) == PROMPTS
    prompt_index = {row_id: i for i, row_id in enumerate(project.prompt_row_ids)}
    texts = {r.id: r.text for r in client.catalog.list_data_rows(
        catalog_pb2.ListDataRowsRequest(dataset_id=ds.id, page_size=100)).rows}
    for p in pairs:
        i = int(texts[p.prompt_row_id].split()[1])
        assert (p.chosen, p.rejected) == (("terse", "verbose") if i in TERSE_WINS else ("verbose", "terse"))
        assert not p.tie and p.agreement == 1.0 and p.margin == 1
        (vote,) = p.votes
        assert vote.source == "judge" and vote.annotator == "test-judge" and vote.consistent
    assert prompt_index  # every pair names one of the project's prompts
    assert {p.prompt_row_id for p in pairs} == set(project.prompt_row_ids)

    trl = b"".join(c.data for c in client.preference.export(preference_pb2.ExportPreferenceRequest(
        project_id=project.id, format=preference_pb2.PREFERENCE_EXPORT_FORMAT_TRL))).decode()
    lines = [json.loads(line) for line in trl.splitlines()]
    assert len(lines) == PROMPTS and all(set(x) == {"prompt", "chosen", "rejected"} for x in lines)
    for x in lines:
        i = int(x["prompt"].split()[1])
        longer, shorter = x["prompt"].upper() + " BECAUSE IT IS WHAT WAS ASKED.", x["prompt"].upper()
        assert (x["chosen"], x["rejected"]) == ((shorter, longer) if i in TERSE_WINS else (longer, shorter))
    kto = b"".join(c.data for c in client.preference.export(preference_pb2.ExportPreferenceRequest(
        project_id=project.id, format=preference_pb2.PREFERENCE_EXPORT_FORMAT_KTO))).decode()
    kto_lines = [json.loads(line) for line in kto.splitlines()]
    assert len(kto_lines) == 2 * PROMPTS and sum(x["label"] for x in kto_lines) == PROMPTS

    board = client.preference.leaderboard(preference_pb2.PreferenceLeaderboardRequest(
        project_id=project.id, seed=3, resamples=200))
    assert [r.candidate for r in board.ratings] == ["verbose", "terse"] and board.battles == PROMPTS
    verbose, terse = board.ratings
    gap = 400 * math.log10(2)
    assert verbose.rating == pytest.approx(1000 + gap / 2, abs=1e-6)
    assert terse.rating == pytest.approx(1000 - gap / 2, abs=1e-6)
    assert (verbose.wins, verbose.losses, terse.wins, terse.losses) == (4, 2, 2, 4)
    bias = board.position_bias
    assert (bias.judged_pairs, bias.consistent, bias.first_shown_wins, bias.second_shown_wins) == (6, 6, 6, 6)
    assert bias.consistency == 1.0 and bias.first_shown_rate == 0.5
    anchored = client.preference.leaderboard(preference_pb2.PreferenceLeaderboardRequest(
        project_id=project.id, anchor="terse", resamples=50))
    assert {r.candidate: r.rating for r in anchored.ratings}["verbose"] == pytest.approx(1000 + gap, abs=1e-6)

    # Human rankings through the review queue: one reviewer ranks prompt 0's responses.
    sent = client.preference.send_to_review(preference_pb2.SendPreferenceReviewRequest(project_id=project.id, seed=9))
    assert sent.review_project_id and sent.rows_sent == PROMPTS and sent.rows_without_responses == 0
    task = client.review.next(review_pb2.NextReviewTaskRequest(project_id=sent.review_project_id)).task
    shown = {lb.feature_id: lb.value.free_text for lb in task.pre_labels}
    assert set(shown) == {"shown_a", "shown_b"}
    best = "A" if len(shown["shown_a"]) > len(shown["shown_b"]) else "B"  # the reviewer likes verbose
    client.review.submit(review_pb2.SubmitReviewRequest(task_id=task.id, accept_undecided=True, decisions=[
        review_pb2.ReviewDecision(action=review_pb2.REVIEW_ACTION_ADD, label=catalog_pb2.Label(
            feature_id="ranking", value=catalog_pb2.LabelValue(free_text=f"{best} > {'B' if best == 'A' else 'A'}")))]))
    human = client.preference.list_pairs(preference_pb2.ListPreferencePairsRequest(
        project_id=project.id, source=preference_pb2.PREFERENCE_SOURCE_HUMAN)).pairs
    assert [(p.prompt_row_id, p.chosen, p.rejected) for p in human] == [(task.data_row_id, "verbose", "terse")]
    assert human[0].votes[0].source == "human" and human[0].votes[0].task_id == task.id


def test_preference_errors_are_statuses(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    prompts = run_pb2.RowSelection(global_keys=["no-such-prompt"])
    with pytest.raises(InvalidArgument) as one:
        client.preference.create_project(preference_pb2.CreatePreferenceProjectRequest(
            name="one", prompts=prompts, candidates=[writer("a", "terse")]))
    assert "at least two candidates" in one.value.message
    with pytest.raises(InvalidArgument) as text:
        client.preference.create_project(preference_pb2.CreatePreferenceProjectRequest(
            name="parity", prompts=prompts, candidates=[
                writer("a", "terse"), preference_pb2.PreferenceCandidate(name="b", model_id="test-parity")]))
    assert "free text" in text.value.message
    with pytest.raises(InvalidArgument):
        client.preference.create_project(preference_pb2.CreatePreferenceProjectRequest(
            name="twins", prompts=prompts, candidates=[writer("a", "terse"), writer("a", "verbose")]))
    with pytest.raises(NotFound):
        client.preference.get_project(preference_pb2.GetPreferenceProjectRequest(id="pref_missing"))
    with pytest.raises(NotFound):
        client.preference.leaderboard(preference_pb2.PreferenceLeaderboardRequest(project_id="pref_missing"))


def test_evaluate_scores_each_candidate_against_the_reference(client: assay.Client, models_worker) -> None:  # type: ignore[no-untyped-def]
    """Preference.Evaluate: exact match and SQuAD token F1 of each candidate's responses against
    the rows' reference answers. terse answers the upper-cased prompt, which is the reference;
    verbose adds six words, so its token F1 is 2 * (4/10 * 4/4) / (4/10 + 4/4) = 4/7."""
    tag = f"eval{uuid.uuid4().hex[:6]}"
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name=tag))
    rows = [{"global_key": f"{tag}-{i}", "media_type": catalog_pb2.TEXT, "text": f"row {i} of {tag}",
             "metadata": {"reference": f"ROW {i} OF {tag.upper()}"}} for i in range(3)]
    rows.append({"global_key": f"{tag}-none", "media_type": catalog_pb2.TEXT, "text": f"row 9 of {tag}"})
    client.ingest(ds.id, rows)
    project = client.preference.create_project(preference_pb2.CreatePreferenceProjectRequest(
        name=tag, prompts=run_pb2.RowSelection(dataset_id=ds.id),
        candidates=[writer("terse", "terse"), writer("verbose", "verbose")]))
    with pytest.raises(FailedPrecondition):
        client.preference.evaluate(preference_pb2.EvaluatePreferenceRequest(project_id=project.id))
    generated = client.preference.generate(preference_pb2.GeneratePreferenceRequest(project_id=project.id))
    for c in generated.candidates:
        assert run_to_end(client, c.run_id).state == run_pb2.RUN_STATE_COMPLETED

    result = client.preference.evaluate(preference_pb2.EvaluatePreferenceRequest(
        project_id=project.id, include_rows=True))
    assert result.reference_key == "reference" and not result.rubric_run_id
    assert (result.rows_with_reference, result.rows_without_reference) == (3, 1)
    scores = {c.candidate: c for c in result.candidates}
    assert set(scores) == {"terse", "verbose"}
    assert (scores["terse"].rows, scores["terse"].missing) == (3, 0)
    assert scores["terse"].exact_match == 1.0 and scores["terse"].token_f1 == 1.0
    assert scores["verbose"].exact_match == 0.0
    assert scores["verbose"].token_f1 == pytest.approx(4 / 7, abs=1e-12)
    assert len(result.rows) == 6
    for r in result.rows:
        assert r.reference.startswith("ROW ") and r.response.startswith(r.reference)
        assert r.exact_match == (r.candidate == "terse")
    with pytest.raises(NotFound):
        client.preference.evaluate(preference_pb2.EvaluatePreferenceRequest(project_id="nope"))
