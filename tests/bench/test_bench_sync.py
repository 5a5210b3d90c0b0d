"""Benchmark: a busy week offline (50,000 sales backlog) drained to HQ, and selling while sync runs.

Targets (sync issue): the backlog drains in <= 20 s (print records/s); sale p99 with sync active <= 1.5x the p99
without, measured in the same run. HQ is `hotpot-hq serve --workers 2` on a real PostgreSQL over loopback HTTP.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_sync.py -s)
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sync.hq.cli import enroll_code
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import SyncService, TerminalOutbox, enroll
from tests.hqkit import prepare_hq_database, running_hq
from tests.pg import PgServer

BACKLOG = int(os.environ.get("BENCH_BACKLOG", "50000"))
PROBE = int(os.environ.get("BENCH_PROBE_SALES", "2000"))
ITEMS = ["udon", "tofu", "greens", "borjomi", "beef-slices", "jasmine-tea", "fish-balls", "glass-noodles"]


def _sell(term: Terminal, n: int) -> list[float]:
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        term.sell(cashier, [(ITEMS[i % 8], 1 + i % 3), (ITEMS[(i + 3) % 8], 1)], [Tender("cash")])
        latencies.append(time.perf_counter() - t0)
    return latencies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.99 * (len(ordered) - 1))] * 1000


def test_bench_backlog_drain_and_selling_during_sync(tmp_path: Path, pg_server: PgServer) -> None:
    name = f"bench_sync_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    try:
        prepare_hq_database(db)
        with running_hq(db, tmp_path / "hq", workers=2, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "1000"}) as hq:
            term, _ = create_terminal(tmp_path / "term", franchise="Bench", terminal_name="C1", demo=True,
                                      passphrase="bench-passphrase")
            wallet = term.unlock("bench-passphrase")
            enroll(term, wallet, hq.url, enroll_code(db, "Bench", "C1", "Main", "franchise"))
            term.store.conn.execute("UPDATE stock SET available = 10000000")  # the most a menu item may hold
            term.open_shift(repos.get_user(term.store, "Giorgi"), 0)  # type: ignore[arg-type]
            _sell(term, BACKLOG)  # a busy week without HQ
            term.seal(wallet, force=True)
            records = term.status()["records"]
            service = SyncService(tmp_path / "term", wallet)
            start = time.perf_counter()
            report = service.syncer.push()
            drain_s = time.perf_counter() - start
            service.stop()
            assert TerminalOutbox(term.store, term.terminal_id).first_unacknowledged() is None
            print(f"\n[bench sync] backlog of {BACKLOG:,} sales ({records:,} records, {report.acknowledged} blocks) "
                  f"drained in {drain_s:.1f} s = {report.records / drain_s:,.0f} records/s (target <= 20 s)")

            quiet = _sell(term, PROBE)
            busy_service = SyncService(tmp_path / "term", wallet, push_every_s=0.5, seal_every_s=0.2)
            # Something to push while selling: another day's backlog, sealed, plus what the probe sells.
            _sell(term, 10_000)
            term.seal(wallet, force=True)
            busy_service.start()
            time.sleep(0.5)
            busy = _sell(term, PROBE)
            pushing_at_end = busy_service.outbox.first_unacknowledged() is not None
            busy_service.stop()
            term.close()
        q, b = _p99(quiet), _p99(busy)
        print(f"[bench sync] sale p99 without sync {q:.2f} ms, with sync pushing {b:.2f} ms: ratio {b / q:.2f} "
              f"(target <= 1.5); sync still had work at the end: {pushing_at_end}")
    finally:
        pg_server.drop_database(name)
