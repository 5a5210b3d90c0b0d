from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sync.hq.cli import enroll_code
from tests.conftest import TEST_PASSPHRASE
from tests.hqkit import ROOT, HQServer, prepare_hq_database, running_hq

ENV = {**os.environ, "HOTPOT_PASSPHRASE": TEST_PASSPHRASE, "HOTPOT_KEYSTORE_SCRYPT_N": "4096",
       "PYTHONPATH": str(ROOT)}


def cli(data_dir: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """hotpot-terminal in a process of its own."""
    proc = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data_dir), *args], cwd=ROOT,
                          env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"hotpot-terminal {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_json(data_dir: Path, *args: str) -> Any:
    return json.loads(cli(data_dir, *args, "--json").stdout)


def termproc(data_dir: Path, *args: str, level: str = "INFO") -> subprocess.Popen[str]:
    """A terminal process; its log goes to DATA_DIR/../NAME.log (a file: a full pipe would stall the process)."""
    log = (data_dir.parent / f"{data_dir.name}-{len(list(data_dir.parent.glob(data_dir.name + '-*.log')))}.log")
    return subprocess.Popen([sys.executable, "-m", "tests.e2e.termproc", str(data_dir), *args], cwd=ROOT,
                            env={**ENV, "HOTPOT_LOG_LEVEL": level}, stdout=subprocess.PIPE,
                            stderr=log.open("w"), text=True)


@dataclass
class Books:
    sales: dict[str, tuple[int, int]]  # sale id -> (total, minted)
    mints: dict[str, tuple[int, int, int, int]]


def terminal_books(data_dir: Path) -> Books:
    import sqlite3

    conn = sqlite3.connect(data_dir / "terminal.db")
    try:
        sales = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, total, minted FROM sales")}
        mints = {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(
            "SELECT id, owner_st, franchisee_st, charity_st, customer_st FROM sales")}
    finally:
        conn.close()
    return Books(sales, mints)


def hq_books(database_url: str, terminal_id: str) -> Books:
    with psycopg.connect(database_url) as conn:
        sales = {str(r[0]): (r[1], r[2]) for r in conn.execute(
            "SELECT sale_id, total, minted FROM sales WHERE terminal_id = %s", (terminal_id,))}
        mints = {str(r[0]): (r[1], r[2], r[3], r[4]) for r in conn.execute(
            "SELECT m.sale_id, owner, franchisee, charity, customer FROM token_mints m JOIN sales s USING (sale_id) "
            "WHERE s.terminal_id = %s", (terminal_id,))}
    return Books(sales, mints)


def assert_agree(hq: HQServer, data_dir: Path, terminal_id: str) -> int:
    """HQ and the terminal hold exactly the same sales, totals and token mints; both chains verify."""
    local, remote = terminal_books(data_dir), hq_books(hq.database_url, terminal_id)
    assert set(local.sales) == set(remote.sales), (len(local.sales), len(remote.sales))
    assert local.sales == remote.sales
    assert local.mints == remote.mints
    assert cli(data_dir, "verify").returncode == 0
    from tests.hqkit import hq as hq_cli

    out = hq_cli(hq.database_url, "verify-chain", terminal_id).stdout
    assert "OK" in out
    status = cli_json(data_dir, "status")
    assert status["pending_blocks"] == 0 and status["unsealed_records"] == 0 and not status["quarantined"]
    return len(local.sales)


@pytest.fixture(scope="module")
def hq_db(pg_database: str) -> str:
    prepare_hq_database(pg_database)
    return pg_database


@pytest.fixture
def hq(hq_db: str, tmp_path: Path) -> Iterator[HQServer]:
    with running_hq(hq_db, tmp_path, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "10000"}) as server:
        yield server


@pytest.fixture
def new_terminal(hq: HQServer, tmp_path: Path) -> Callable[..., tuple[Path, str]]:
    count = [0]

    def make(hq_url: str | None = None) -> tuple[Path, str]:
        count[0] += 1
        data_dir = tmp_path / f"term{count[0]}"
        code = enroll_code(hq.database_url, "E2E", f"Counter {count[0]}", "Main", "franchise")
        init = cli_json(data_dir, "init", "--franchise", "E2E", "--terminal", f"Counter {count[0]}", "--demo-menu",
                        "--hq", hq_url or hq.url, "--enroll-code", code)
        assert init["enrolled"], init
        import sqlite3

        conn = sqlite3.connect(data_dir / "terminal.db")
        conn.execute("UPDATE stock SET available = 1000000")
        conn.commit()
        conn.close()
        return data_dir, init["terminal_id"]

    return make
