"""The TLS edge: the packaged nginx site (packaging/nginx-hotpot-hq.conf) with a self-signed pair made here, run by
Debian's nginx in a prefix of its own in front of `hotpot-hq serve`. `nginx -t` accepts it; a terminal enrolls and
syncs over https through it; plain http redirects; HSTS is sent; a body over the limit stops at nginx; /metrics is
not served outside; and the client address HQ rate-limits by is the one nginx saw, whatever X-Forwarded-For a
client sends. The terminal refuses a plain-http HQ that is not on this machine unless told --insecure."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.hq.cli import enroll_code
from terminal.cli import main as terminal_cli
from terminal.core.errors import InvalidInput
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import SyncService, check_hq_url, enroll
from tests.conftest import TEST_PASSPHRASE
from tests.hq.conftest import Till
from tests.hq.test_claims import _sell
from tests.hqkit import HQServer, free_port, running_hq

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PUBLIC_RATE = 4


@pytest.fixture(scope="module")
def hq(hq_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    """HQ trusting the proxy on 127.0.0.1 for the client's address, with a small allowance on its public doors."""
    with running_hq(hq_db, tmp_path_factory.mktemp("hq"), extra_env={
            "HOTPOT_HQ_TRUSTED_PROXIES": "127.0.0.1", "HOTPOT_HQ_PUBLIC_RATE": str(PUBLIC_RATE)}) as server:
        yield server


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Edge:
    https: str
    http: str
    cert: Path


def _site(hq_port: int, http_port: int, https_port: int, cert: Path, key: Path, webroot: Path) -> str:
    """The packaged site with this test's ports and files (IPv6 listeners dropped: the machine may have none)."""
    text = (ROOT / "packaging" / "nginx-hotpot-hq.conf").read_text()
    lines = [line for line in text.splitlines() if "listen [::]" not in line]
    text = "\n".join(lines) + "\n"
    for old, new in (("127.0.0.1:8080", f"127.0.0.1:{hq_port}"), ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("/etc/ssl/hotpot-hq/fullchain.pem", str(cert)), ("/etc/ssl/hotpot-hq/privkey.pem", str(key)),
                     ("/var/www/letsencrypt", str(webroot))):
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def edge(hq: HQServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    prefix = tmp_path_factory.mktemp("nginx")
    cert, key = _self_signed(prefix)
    http_port, https_port = free_port(), free_port()
    (prefix / "site.conf").write_text(_site(int(hq.url.rsplit(":", 1)[1]), http_port, https_port, cert, key,
                                            prefix / "webroot"))
    (prefix / "logs").mkdir()
    (prefix / "nginx.conf").write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
""")
    checked = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0 and "syntax is ok" in checked.stderr, checked.stderr
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield Edge(f"https://localhost:{https_port}", f"http://localhost:{http_port}", cert)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_terminal_enrolls_and_syncs_over_tls_through_the_edge(edge: Edge, hq: HQServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(edge.cert))  # the terminal trusts this edge's certificate
    term, _ = create_terminal(tmp_path / "t", franchise="Vake", terminal_name="Counter", demo=True,
                              passphrase=TEST_PASSPHRASE)
    try:
        wallet = term.unlock(TEST_PASSPHRASE)
        code = enroll_code(hq.database_url, "Vake", "Counter", "Main", "franchise")
        enroll(term, wallet, edge.https, code)
        assert term.hq_url == edge.https
        term.store.conn.execute("UPDATE stock SET available = 1000")
        cashier = repos.get_user(term.store, "Giorgi")
        assert cashier is not None
        term.open_shift(cashier, 10_000)
        _sell(Till(term, wallet, hq, {}), 2)
        service = SyncService(term.data_dir, wallet)
        try:
            result = service.run_once()
        finally:
            service.stop()
        assert result.ok and result.acknowledged >= 1, result.errors
    finally:
        term.close()


def test_the_edge_redirects_sends_hsts_limits_bodies_and_hides_metrics(edge: Edge) -> None:
    health = requests.get(f"{edge.https}/api/health", verify=str(edge.cert), timeout=10)
    assert health.status_code == 200
    assert health.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    plain = requests.get(f"{edge.http}/api/health?x=1", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"] == "https://localhost/api/health?x=1"
    big = requests.post(f"{edge.https}/api/v1/terminals/X/blocks", data=b"x" * (33 * 1024 * 1024),
                        verify=str(edge.cert), timeout=60)
    assert big.status_code == 413
    assert requests.get(f"{edge.https}/metrics", verify=str(edge.cert), timeout=10).status_code == 404


def test_hq_counts_the_address_nginx_saw_not_the_one_a_client_claims(edge: Edge) -> None:
    statuses = []
    for n in range(PUBLIC_RATE + 1):  # each claims to come from another address
        answer = requests.post(f"{edge.https}/api/v1/staff/login", json={"username": "nobody", "password": "x"},
                               headers={"X-Forwarded-For": f"203.0.113.{n + 1}"}, verify=str(edge.cert),
                               timeout=10)
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert answer.json()["error"]["code"] == "rate_limited", answer.text  # HQ's answer, not nginx's
            break
    assert statuses[-1] == 429 and all(s in (400, 401, 422) for s in statuses[:-1]), statuses


def test_the_terminal_refuses_plain_http_to_another_machine(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    for local in ("http://127.0.0.1:8080", "http://localhost:8080", "https://hq.example.org"):
        check_hq_url(local)
    with pytest.raises(InvalidInput, match="plain http"):
        check_hq_url("http://hq.example.org")
    check_hq_url("http://hq.example.org", insecure=True)
    with pytest.raises(InvalidInput, match="https://"):
        check_hq_url("ftp://hq.example.org")
    create_terminal(tmp_path / "t", franchise="Vake", terminal_name="Counter", demo=True,
                    passphrase=TEST_PASSPHRASE)[0].close()
    code = terminal_cli(["--data-dir", str(tmp_path / "t"), "enroll", "--hq", "http://hq.example.org", "--code", "X"])
    assert code == 2 and "plain http" in capsys.readouterr().err
