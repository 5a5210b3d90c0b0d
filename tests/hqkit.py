"""Test helpers for HQ: run `hotpot-hq serve` on a fresh database, and act as a terminal against it."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from sync.protocol.messages import SIGNATURE_HEADER, SignatureHeader, enrollment_digest, request_digest
from terminal.services import Terminal
from terminal.wallet.hd import Wallet

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hq(database_url: str, *args: str, env: dict[str, str] | None = None, check: bool = True,
       ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "sync.hq", "--database-url", database_url, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"hotpot-hq {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
    return proc


@dataclass
class HQServer:
    url: str
    database_url: str
    key_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    kyc_dir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_hq(database_url: str, workdir: Path, workers: int = 1,
               extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[HQServer]:
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    key_dir = Path((extra_env or {}).get("HOTPOT_HQ_KEY_DIR") or workdir / "hq-keys")
    kyc_dir = Path((extra_env or {}).get("HOTPOT_HQ_KYC_DIR") or workdir / "hq-kyc")
    log = workdir / f"hq-{port}.log"
    env = {**os.environ, "HOTPOT_DATABASE_URL": database_url, "HOTPOT_HQ_KEY_DIR": str(key_dir),
           "HOTPOT_HQ_KYC_DIR": str(kyc_dir), **(extra_env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "sync.hq", "serve", "--port", str(port), "--workers",
                                    str(workers)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = HQServer(f"http://127.0.0.1:{port}", database_url, key_dir, process, log, kyc_dir)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(server.url + "/api/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"hotpot-hq serve did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


def prepare_hq_database(database_url: str) -> None:
    """Migrate a test database and give HQ the demo menu (as `hotpot-hq menu load-demo` does), so that the demo
    terminals the tests enroll sell from a menu HQ issued."""
    from sync.hq.cli import main as hq_main
    from sync.hq.db import migrate

    migrate(database_url)
    with psycopg.connect(database_url) as conn:
        has_menu = conn.execute("SELECT count(*) FROM menu_items").fetchone()
    if not has_menu or has_menu[0] == 0:
        assert hq_main(["--database-url", database_url, "menu", "load-demo"]) == 0


def enroll_body(wallet: Wallet, terminal_id: str, code: str) -> dict[str, Any]:
    signing = wallet.signer.public_key.hex()
    digest = enrollment_digest(code, terminal_id, wallet.account_xpub, signing)
    return {"code": code, "terminal_id": terminal_id, "account_xpub": wallet.account_xpub,
            "signing_public_key": signing, "signature": wallet.signer.sign_digest(digest).hex()}


def signed_headers(wallet: Wallet, terminal_id: str, method: str, path: str, body: bytes = b"",
                   timestamp_ms: int | None = None, nonce: str | None = None) -> dict[str, str]:
    ts = timestamp_ms if timestamp_ms is not None else time.time_ns() // 1_000_000
    nonce = nonce or secrets.token_urlsafe(18)
    digest = request_digest(method, path, body, ts, nonce, terminal_id)
    return {SIGNATURE_HEADER: SignatureHeader(ts, nonce, wallet.signer.sign_digest(digest)).encode()}


def blocks_payload(term: Terminal, from_height: int = 0) -> list[dict[str, Any]]:
    return [json.loads(line) for line in term.export_blocks(from_height)]
