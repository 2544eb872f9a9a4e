"""Model workers: serve models to an Assay server's runs from this process (docs/workers.md).

    class Upper(assay.worker.Model):
        card = run_pb2.ModelCard(id="upper", version="1", ...)
        def predict(self, batch):
            return [assay.worker.text_result("text", row.text.upper()) for row in batch.rows]

    assay.worker.Worker("127.0.0.1:7400", api_key=key, models=[Upper()]).serve()

The worker keeps one `Worker/Serve` call open: it registers its cards, sends heartbeats, and
answers each `PredictBatch` with a `BatchResult` (one `WorkerRowResult` per row, in order).
`predict` runs on a thread of its own, so a blocking model (a C library, PyTorch) is fine.
"""
from __future__ import annotations

import abc
import argparse
import asyncio
import logging
import socket
import ssl as ssl_module
from typing import Dict, List, Optional, Sequence, Type

from assay.rpc import AsyncBidiCall, AsyncChannel, RpcError
from assay.v1 import catalog_pb2, run_pb2, worker_pb2
from assay.v1.services import AsyncWorkerStub

log = logging.getLogger("assay.worker")


class ModelUnavailable(Exception):
    """Raise from `predict` when the batch may succeed elsewhere or later (out of memory, a
    device busy): the server hands the batch to another worker or retries it."""


class Model(abc.ABC):
    """One model a worker serves: its card and its predict function."""

    card: run_pb2.ModelCard

    @abc.abstractmethod
    def predict(self, batch: worker_pb2.PredictBatch) -> Sequence[worker_pb2.WorkerRowResult]:
        """One result per row of `batch.rows`, in order. A row the model cannot handle is a
        result with `error` set; raising fails the whole batch."""


def text_result(model_class: str, text: str, *, confidence: Optional[float] = None,
                usage: Optional[worker_pb2.WorkerUsage] = None) -> worker_pb2.WorkerRowResult:
    """A row result with one free-text prediction (confidence 0…1)."""
    p = worker_pb2.WorkerPrediction(model_class=model_class, text=text)
    _confidence(p, confidence)
    return worker_pb2.WorkerRowResult(predictions=[p], usage=usage)


def options_result(model_class: str, names: Sequence[str], *, confidence: Optional[float] = None,
                   usage: Optional[worker_pb2.WorkerUsage] = None) -> worker_pb2.WorkerRowResult:
    """A row result choosing option names (one for a radio feature)."""
    p = worker_pb2.WorkerPrediction(model_class=model_class, options=worker_pb2.ChosenOptions(names=list(names)))
    _confidence(p, confidence)
    return worker_pb2.WorkerRowResult(predictions=[p], usage=usage)


def box(model_class: str, left: float, top: float, width: float, height: float, *,
        confidence: Optional[float] = None) -> worker_pb2.WorkerPrediction:
    """One bounding-box prediction (pixels from the top left); put several in a row result."""
    p = worker_pb2.WorkerPrediction(model_class=model_class, box=catalog_pb2.BoundingBox(
        left=left, top=top, width=width, height=height))
    _confidence(p, confidence)
    return p


def error_result(message: str) -> worker_pb2.WorkerRowResult:
    """A row the model cannot predict; the message is recorded on the row."""
    return worker_pb2.WorkerRowResult(error=message)


def _confidence(p: worker_pb2.WorkerPrediction, confidence: Optional[float]) -> None:
    if confidence is not None:
        p.has_confidence = True
        p.confidence_ppm = max(0, min(1_000_000, round(confidence * 1_000_000)))


class Worker:
    """Connects to a server and serves `models` until stopped (or the server goes away and
    `reconnect` is off)."""

    def __init__(self, target: str, *, api_key: str, models: Sequence[Model], name: Optional[str] = None,
                 concurrency: int = 1, max_batch_size: int = 16, reconnect: bool = True,
                 ssl: Optional[ssl_module.SSLContext] = None) -> None:
        if not models:
            raise ValueError("a worker serves at least one model")
        self.target = target
        self.api_key = api_key
        self.models: Dict[str, Model] = {m.card.id: m for m in models}
        self.name = name or f"{'+'.join(self.models)}@{socket.gethostname()}"
        self.concurrency = max(1, concurrency)
        self.max_batch_size = max(1, max_batch_size)
        self.reconnect = reconnect
        # TLS to the server; with a client certificate loaded, for servers that require one
        # (`assay serve --tls-client-ca`, docs/operations.md).
        self.ssl = ssl
        self.batches_done = 0
        self.worker_id = ""

    def serve(self) -> None:
        """Blocks, serving batches."""
        asyncio.run(self.serve_async())

    async def serve_async(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._serve_once()
                if not self.reconnect:
                    return
                delay = 0.5
            except RpcError as e:
                if not self.reconnect or e.code in (e.code.UNAUTHENTICATED, e.code.PERMISSION_DENIED,
                                                    e.code.INVALID_ARGUMENT):
                    raise
                log.warning("worker call ended: %s; reconnecting in %.1f s", e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _serve_once(self) -> None:
        channel = await AsyncChannel.connect(self.target, api_key=self.api_key, ssl=self.ssl)
        try:
            call = AsyncWorkerStub(channel).serve()
            await call.send(worker_pb2.WorkerMessage(register=worker_pb2.WorkerRegister(
                name=self.name, cards=[m.card for m in self.models.values()], max_batch_size=self.max_batch_size,
                concurrency=self.concurrency)))
            first = await call.read()
            if first is None or first.WhichOneof("kind") != "registered":
                raise RpcError(13, "the server did not acknowledge the registration")
            self.worker_id = first.registered.worker_id
            interval = max(0.05, first.registered.heartbeat_interval_millis / 1000.0)
            log.info("registered as %s serving %s", self.worker_id, ", ".join(self.models))
            slots = asyncio.Semaphore(self.concurrency)
            tasks: set[asyncio.Task[None]] = set()
            beat = asyncio.create_task(self._heartbeats(call, interval))
            try:
                while True:
                    message = await call.read()
                    if message is None:
                        return
                    if message.WhichOneof("kind") == "batch":
                        # The batch waits for a slot in its task, not here: the server may send
                        # more batches than `concurrency`, and this loop must keep reading to
                        # see the call end (then the batches it holds are handed over).
                        task = asyncio.create_task(self._answer(call, message.batch, slots))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            finally:
                beat.cancel()
                for t in tasks:
                    t.cancel()
        finally:
            await channel.close()

    async def _heartbeats(self, call: AsyncBidiCall[worker_pb2.WorkerMessage, worker_pb2.ServerMessage],
                          interval: float) -> None:
        while True:
            await asyncio.sleep(interval / 2)
            await call.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.WorkerHeartbeat()))

    async def _answer(self, call: AsyncBidiCall[worker_pb2.WorkerMessage, worker_pb2.ServerMessage],
                      batch: worker_pb2.PredictBatch, slots: asyncio.Semaphore) -> None:
        async with slots:
            result = worker_pb2.BatchResult(batch_id=batch.batch_id)
            model = self.models.get(batch.model_id)
            if model is None:
                result.error = f"this worker does not serve model {batch.model_id}"
            else:
                try:
                    rows = await asyncio.to_thread(model.predict, batch)
                    if len(rows) != len(batch.rows):
                        result.error = f"model {batch.model_id} returned {len(rows)} results for {len(batch.rows)} rows"
                    else:
                        result.rows.extend(rows)
                except ModelUnavailable as e:
                    result.error, result.retryable = str(e) or "the model is unavailable", True
                except Exception as e:  # the model's failure is the batch's, reported to the run
                    log.exception("model %s failed a batch", batch.model_id)
                    result.error = f"model {batch.model_id} failed: {type(e).__name__}: {e}"
            await call.send(worker_pb2.WorkerMessage(result=result))
            self.batches_done += 1


def main(argv: Optional[List[str]] = None, models: Optional[Sequence[Model]] = None,
         worker_type: Type[Worker] = Worker) -> None:
    """The command line of a worker script: `--addr HOST:PORT --key-file PATH` (or `--key`);
    `worker_type` is a `Worker` subclass to serve with instead."""
    parser = argparse.ArgumentParser(description="Serve models to an Assay server")
    parser.add_argument("--addr", default="127.0.0.1:7400")
    parser.add_argument("--key", help="an admin API key of the server operator's organisation")
    parser.add_argument("--key-file", help="a file holding the key (such as DATA/admin.key)")
    parser.add_argument("--name")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16, help="most rows per batch")
    parser.add_argument("--tls-ca", help="TLS: the CA file that signed the server's certificate")
    parser.add_argument("--tls-cert", help="mutual TLS: this worker's certificate")
    parser.add_argument("--tls-key", help="mutual TLS: its private key")
    args = parser.parse_args(argv)
    key = args.key or (open(args.key_file).read().strip() if args.key_file else None)
    if not key:
        parser.error("give --key or --key-file")
    context: Optional[ssl_module.SSLContext] = None
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_ca or args.tls_cert:
        if not args.tls_ca:
            parser.error("--tls-cert needs --tls-ca (the CA of the server's certificate)")
        context = ssl_module.create_default_context(cafile=args.tls_ca)
        if args.tls_cert:
            context.load_cert_chain(args.tls_cert, args.tls_key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    worker_type(args.addr, api_key=key, models=list(models or []), name=args.name, concurrency=args.concurrency,
                max_batch_size=args.batch, ssl=context).serve()
