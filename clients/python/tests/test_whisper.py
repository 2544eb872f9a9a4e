"""The example whisper worker transcribes speech made by espeak-ng, through a real run."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import assay
from assay import catalog_pb2, run_pb2
from conftest import Server, wait_for
from test_workers import run_to_end, wait_registered

WORKER = Path(__file__).resolve().parents[1] / "src/assay/whisper_worker.py"
SENTENCE = "The weather today is sunny and warm. Please call me tomorrow morning."


def speak(text: str, path: Path) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: `make test-deps` installs it")
    subprocess.run(["espeak-ng", "-s", "110", "-w", str(path), text], check=True)
    return path.read_bytes()


def test_whisper_worker_transcribes_audio_rows(server: Server, client: assay.Client, tmp_path: Path) -> None:
    wav = speak(SENTENCE, tmp_path / "fox.wav")
    assert wav[:4] == b"RIFF"
    log = tmp_path / "whisper.log"
    proc = server.start_worker(WORKER, log=log)
    wait_registered(log, proc)
    ds = client.catalog.create_dataset(catalog_pb2.CreateDatasetRequest(name="speech"))
    summary = client.ingest(ds.id, [
        {"global_key": "speech-fox", "media_type": catalog_pb2.AUDIO, "content": wav},
        {"global_key": "speech-file", "media_type": catalog_pb2.AUDIO, "uri": str(tmp_path / "fox.wav")},
        {"global_key": "speech-noise", "media_type": catalog_pb2.AUDIO, "content": b"not audio at all"},
    ])
    assert summary.created == 3
    onto = client.catalog.create_ontology(catalog_pb2.CreateOntologyRequest(name="speech", features=[
        catalog_pb2.Feature(name="transcript", kind=catalog_pb2.FREE_TEXT)]))
    run = client.run.create(run_pb2.CreateRunRequest(
        name="whisper", model_id="whisper-tiny-en", ontology_id=onto.id,
        mapping=[run_pb2.ClassMapping(model_class="transcript", feature_id=onto.features[0].id)],
        rows=run_pb2.RowSelection(dataset_id=ds.id)))
    done = run_to_end(client, run.id)
    assert done.state == run_pb2.RUN_STATE_COMPLETED, done.error
    rows = {r.global_key: r for r in client.run.list_rows(run_pb2.ListRunRowsRequest(id=run.id)).rows}
    for key in ("speech-fox", "speech-file"):
        text = rows[key].predictions[0].value.free_text.lower()
        for word in ("weather", "sunny", "warm", "call", "tomorrow", "morning"):
            assert word in text, f"{key}: {word!r} not in {text!r}"
    assert rows["speech-noise"].error.startswith("cannot transcribe the audio")
    assert done.progress.failed == 1
    proc.kill()
    proc.wait()
    wait_for(lambda: proc.poll() is not None, 5, "the worker to exit")
