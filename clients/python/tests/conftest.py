"""A real `assay serve` for the whole session (ASSAY_BIN, default the debug build), and clients."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import pytest

import assay

ROOT = Path(__file__).resolve().parents[3]
ASSAY_BIN = os.environ.get("ASSAY_BIN", str(ROOT / ".build/debug/assay"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tmp: Path, *options: str) -> None:
        self.data = tmp / "data"
        self.addr = f"127.0.0.1:{free_port()}"
        self.log_path = tmp / "server.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([ASSAY_BIN, "serve", "--addr", self.addr, "--data", str(self.data), *options],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"assay serve exited with {self.proc.returncode}: {(tmp / 'server.log').read_text()}")
            try:
                key_file = self.data / "admin.key"
                if key_file.exists() and key_file.read_text().strip():
                    with socket.create_connection(self._hostport(), timeout=1):
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("assay serve did not start within 60 s")
            time.sleep(0.1)
        self.key = (self.data / "admin.key").read_text().strip()
        self.workers: List[subprocess.Popen[bytes]] = []
        self.session_workers: List[subprocess.Popen[bytes]] = []  # kept between tests

    def _hostport(self) -> tuple[str, int]:
        host, port = self.addr.rsplit(":", 1)
        return host, int(port)

    def stop(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def start_worker(self, script: Path, *args: str, log: Path) -> "subprocess.Popen[bytes]":
        env = dict(os.environ, PYTHONPATH=str(ROOT / "clients/python/src"))
        out = open(log, "wb")
        proc = subprocess.Popen([sys.executable, str(script), "--addr", self.addr, "--key", self.key, *args],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
        self.workers.append(proc)
        return proc


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("assay"))
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def no_stray_workers(server: Server) -> Iterator[None]:
    """Kills the workers a test started, even when it failed before stopping them (a worker
    left connected would take the next test's batches)."""
    yield
    for w in server.workers:
        if w not in server.session_workers and w.poll() is None:
            w.kill()
            w.wait()


@pytest.fixture()
def client(server: Server) -> Iterator[assay.Client]:
    with assay.Client(server.addr, api_key=server.key) as c:
        yield c


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


HERE = Path(__file__).resolve().parent


def wait_registered(log: Path, proc: "subprocess.Popen[bytes]", times: int = 1) -> None:
    """Until the worker's log says it registered (`times` times: after reconnecting)."""
    def ready() -> bool:
        assert proc.poll() is None, f"the worker exited: {log.read_text()}"
        return log.read_text().count("registered as") >= times
    wait_for(ready, 60, "the worker to register")


@pytest.fixture(scope="session")
def models_worker(server: Server, tmp_path_factory: pytest.TempPathFactory) -> "subprocess.Popen[bytes]":
    """tests/models_worker.py (test-parity, test-writer, test-judge), one process for the session."""
    tmp = tmp_path_factory.mktemp("models-worker")
    log = tmp / "worker.log"
    proc = server.start_worker(HERE / "models_worker.py", "--version", str(os.getpid()), "--batch", "8",
                               "--concurrency", "2", log=log)
    wait_registered(log, proc)
    server.session_workers.append(proc)
    return proc


def run_to_end(client: assay.Client, run_id: str) -> "assay.run_pb2.ModelRun":
    """Watches a run until it ends; its last state."""
    last = None
    for last in client.run.watch(assay.run_pb2.WatchRunRequest(id=run_id), timeout=120):
        pass
    assert last is not None
    return last
