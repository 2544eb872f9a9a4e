"""The Python client over TLS against `assay serve --tls-cert ... --tls-client-ca ...` (mutual TLS,
as model workers inside a cluster use it): certificates made with the `openssl` command."""
from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import assay
from assay import health_pb2, run_pb2
from assay.rpc.errors import RpcError, StatusCode
from conftest import HERE, Server, wait_registered

CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
"""


class PKI:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config = folder / "openssl.cnf"
        self.config.write_text(CONFIG)

    def _run(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def authority(self, name: str) -> Tuple[Path, Path]:
        cert, key = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        self._run("req", "-x509", "-config", str(self.config), "-extensions", "ca_ext", "-newkey", "ec",
                  "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                  "-days", "2", "-subj", f"/CN={name}")
        return cert, key

    def issue(self, name: str, ca: Tuple[Path, Path], extensions: str) -> Tuple[Path, Path]:
        cert, key, csr = self.folder / f"{name}.pem", self.folder / f"{name}.key", self.folder / f"{name}.csr"
        self._run("req", "-new", "-config", str(self.config), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        self._run("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-set_serial", "0x42",
                  "-days", "2", "-extfile", str(self.config), "-extensions", extensions, "-out", str(cert))
        return cert, key


class TLSServer:
    def __init__(self, server: Server, ca: Path, worker: Tuple[Path, Path], stranger: Tuple[Path, Path]) -> None:
        self.server = server
        self.ca = ca
        self.worker = worker
        self.stranger = stranger

    def context(self, identity: "Tuple[Path, Path] | None") -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if identity is not None:
            ctx.load_cert_chain(str(identity[0]), str(identity[1]))
        return ctx


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    folder = tmp_path_factory.mktemp("tls")
    pki = PKI(folder)
    ca = pki.authority("server-ca")
    workers_ca = pki.authority("workers-ca")
    other_ca = pki.authority("other-ca")
    cert, key = pki.issue("server", ca, "server_ext")
    worker = pki.issue("worker", workers_ca, "client_ext")
    stranger = pki.issue("stranger", other_ca, "client_ext")
    server = Server(folder, "--tls-cert", str(cert), "--tls-key", str(key), "--tls-client-ca", str(workers_ca[0]))
    yield TLSServer(server, ca[0], worker, stranger)
    server.stop()


def test_a_client_certificate_from_the_client_ca_is_let_in(tls_server: TLSServer) -> None:
    with assay.Client(tls_server.server.addr, api_key=tls_server.server.key,
                      ssl=tls_server.context(tls_server.worker)) as client:
        status = client.health.check(health_pb2.HealthCheckRequest()).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        assert client.channel.ping() >= 0


def test_no_client_certificate_is_refused(tls_server: TLSServer) -> None:
    with pytest.raises(RpcError) as refused:
        assay.Client(tls_server.server.addr, api_key=tls_server.server.key, ssl=tls_server.context(None))
    assert refused.value.code == StatusCode.UNAVAILABLE
    assert "CERTIFICATE_REQUIRED" in refused.value.message.upper()


def test_a_certificate_from_another_ca_is_refused(tls_server: TLSServer) -> None:
    with pytest.raises(RpcError) as refused:
        assay.Client(tls_server.server.addr, api_key=tls_server.server.key, ssl=tls_server.context(tls_server.stranger))
    assert refused.value.code == StatusCode.UNAVAILABLE
    assert "UNKNOWN_CA" in refused.value.message.upper()


def test_a_plaintext_client_is_refused(tls_server: TLSServer) -> None:
    with pytest.raises(RpcError) as refused:
        assay.Client(tls_server.server.addr, api_key=tls_server.server.key, timeout=5)
    assert refused.value.code == StatusCode.UNAVAILABLE


def test_the_client_refuses_a_server_it_does_not_trust(tls_server: TLSServer, tmp_path: Path) -> None:
    untrusted = ssl.create_default_context(cafile=str(PKI(tmp_path).authority("unrelated")[0]))
    with pytest.raises(RpcError) as refused:
        assay.Client(tls_server.server.addr, api_key=tls_server.server.key, ssl=untrusted)
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.message.upper()


def test_a_worker_registers_over_mutual_tls(tls_server: TLSServer, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = tls_server.server.start_worker(
        HERE / "upper_worker.py", "--version", "tls-1", "--tls-ca", str(tls_server.ca),
        "--tls-cert", str(tls_server.worker[0]), "--tls-key", str(tls_server.worker[1]), log=log)
    wait_registered(log, worker)
    with assay.Client(tls_server.server.addr, api_key=tls_server.server.key,
                      ssl=tls_server.context(tls_server.worker)) as client:
        cards = client.run.list_models(run_pb2.ListModelsRequest()).models
        assert any(c.id == "test-upper" and c.version == "tls-1" for c in cards)
