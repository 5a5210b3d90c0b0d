"""Benchmark of customer claims (issue 15). Target: 200 claims/s sustained (open loop: each claim sent at its
scheduled time, latency counted from then) against `hotpot-hq serve --workers 2` with p95 <= 100 ms; and the token
ledger's verification rate (entries/s) by `verify_ledger`. A real terminal sells, seals and syncs the checks first.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_claims.py -s)
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from sync.hq import tokens
from sync.hq.cli import enroll_code
from sync.hq.keys import load_or_create_keys
from sync.protocol import accounts
from terminal.core.orders import Tender
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import SyncService, enroll
from tests.bench.test_bench_gui import pct
from tests.conftest import TEST_PASSPHRASE
from tests.hqkit import prepare_hq_database, running_hq
from tests.pg import PgServer

RATE = int(os.environ.get("BENCH_CLAIM_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_CLAIM_SECONDS", "10"))


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn's workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(c) for c in children)
    return total


def test_bench_claims_per_second(tmp_path: Path, pg_server: PgServer) -> None:
    name = f"bench_claims_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    total = RATE * SECONDS
    try:
        prepare_hq_database(db)
        env = {"HOTPOT_HQ_CLAIM_RATE": "1000000", "HOTPOT_HQ_PUBLIC_RATE": "1000"}
        with running_hq(db, tmp_path / "hq", workers=2, extra_env=env) as hq:
            term, _ = create_terminal(tmp_path / "term", franchise="Bench", terminal_name="C1", demo=True,
                                      passphrase=TEST_PASSPHRASE)
            wallet = term.unlock(TEST_PASSPHRASE)
            enroll(term, wallet, hq.url, enroll_code(db, "Bench", "C1", "Main", "franchise"))
            term.store.conn.execute("UPDATE stock SET available = 1000000")
            cashier = repos.get_user(term.store, "Giorgi")
            assert cashier is not None
            term.open_shift(cashier, 0)
            sales = [term.sell(cashier, [("udon", 1)], [Tender("cash")]) for _ in range(total)]
            service = SyncService(term.data_dir, wallet)
            try:
                while term.status()["pending_blocks"] or term.status()["unsealed_records"]:
                    assert service.run_once().ok
            finally:
                service.stop()
            term.close()
            # Claims come minutes after the sale, when the server's job has entered the mints into the ledger.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with psycopg.connect(db) as conn:
                    left = conn.execute("SELECT count(*) FROM token_mints WHERE ledger_seq IS NULL").fetchone()
                if left and left[0] == 0:
                    break
                time.sleep(1)

            # Each claim signed beforehand by its own account key (as each customer's phone would).
            url = f"{hq.url}/api/v1/claims"
            bodies = []
            for sale in sales:
                key = ec.generate_private_key(ec.SECP256R1())
                doc = {"check_id": sale.sale.check.id, "token": sale.secret.token, "account": accounts.account_of(key),
                       "nonce": accounts.b64url(os.urandom(16)), "ts": int(time.time() * 1000)}
                doc["signature"] = accounts.sign(key, doc)
                bodies.append(doc)
            local = threading.local()
            latencies: list[float] = []
            statuses: list[int] = []

            def send(body: dict[str, Any], due: float) -> None:
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                answer = session.post(url, json=body, timeout=30)
                latencies.append(time.perf_counter() - due)
                statuses.append(answer.status_code)

            client_cpu = time.process_time()
            server_cpu = _tree_cpu_s(hq.process.pid)
            start = time.perf_counter() + 0.2
            with ThreadPoolExecutor(48) as pool:
                for i, body in enumerate(bodies):
                    due = start + i / RATE
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(send, body, due)
            elapsed = time.perf_counter() - start
            client_cpu = time.process_time() - client_cpu
            server_cpu = _tree_cpu_s(hq.process.pid) - server_cpu
            ok = statuses.count(200)
            ms = [x * 1000 for x in latencies]
            print(f"\n[bench claims] {total} claims offered at {RATE}/s (open loop) to serve --workers 2: "
                  f"{ok} credited, {len(statuses) - ok} refused, all answered in {elapsed:.1f} s "
                  f"({len(statuses) / elapsed:.0f}/s); latency from the scheduled send p50 {pct(ms, 50):.1f} ms, "
                  f"p95 {pct(ms, 95):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms "
                  f"(target >= 200/s sustained with p95 <= 100 ms)")
            print(f"[bench claims] CPU during the run: HQ's processes {server_cpu:.1f} s "
                  f"({server_cpu / len(statuses) * 1000:.1f} ms a claim), the load generator {client_cpu:.1f} s "
                  f"({client_cpu / len(statuses) * 1000:.1f} ms a claim), of {2 * elapsed:.1f} core-seconds")
            assert ok == total, {s: statuses.count(s) for s in set(statuses)}

            public = load_or_create_keys(hq.key_dir).receipt_public

            async def verify() -> tuple[tokens.LedgerReport, float]:
                async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
                    began = time.perf_counter()
                    report = await tokens.verify_ledger(conn, public)
                    return report, time.perf_counter() - began

            report, took = asyncio.run(verify())
            print(f"[bench claims] verify-ledger: {report.entries} entries (mints and claims) re-derived in "
                  f"{took:.2f} s = {report.entries / took:,.0f} entries/s")
    finally:
        pg_server.drop_database(name)
