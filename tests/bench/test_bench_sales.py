"""Benchmark: 5,000 sales of 3 items paid in cash through core + store with synchronous=FULL.

Targets (issue 2): p99 <= 2 ms per sale and >= 1,500 sales/s sequential. Also prints the ratio of sales/s to raw
sqlite3 single-row insert+commit/s measured in the same run, on the same disk, with the same pragmas.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_sales.py -s)
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from pathlib import Path

from terminal.core.orders import Tender
from terminal.setup import create_terminal
from terminal.store import repos

SALES = int(os.environ.get("BENCH_SALES", "5000"))
ITEMS = ["udon", "tofu", "greens", "borjomi", "beef-slices", "jasmine-tea", "fish-balls", "glass-noodles"]


def _raw_sqlite_commits_per_s(path: Path, n: int) -> float:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", ("row", i))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def test_bench_sales(tmp_path: Path) -> None:
    term, _ = create_terminal(tmp_path / "term", franchise="Bench", terminal_name="C1", demo=True,
                              passphrase="bench-passphrase")
    term.store.conn.execute("UPDATE stock SET available = 1000000")
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    term.open_shift(cashier, 10_000)
    for i in range(50):  # warm-up: caches, page cache, statement cache
        term.sell(cashier, [(ITEMS[i % 8], 1), (ITEMS[(i + 1) % 8], 2), (ITEMS[(i + 3) % 8], 1)], [Tender("cash")])

    raw_rate = _raw_sqlite_commits_per_s(tmp_path / "raw.db", 5000)
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(SALES):
        wanted = [(ITEMS[i % 8], 1 + i % 3), (ITEMS[(i + 1) % 8], 1), (ITEMS[(i + 3) % 8], 2)]
        t0 = time.perf_counter()
        term.sell(cashier, wanted, [Tender("cash", 50_000)])
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    raw_rate_after = _raw_sqlite_commits_per_s(tmp_path / "raw2.db", 5000)
    term.close()

    rate = SALES / elapsed
    raw = (raw_rate + raw_rate_after) / 2
    p50, p99 = _percentile(latencies, 50) * 1000, _percentile(latencies, 99) * 1000
    print(f"\n[bench sales] {SALES} sales x 3 items, cash, synchronous=FULL")
    print(f"[bench sales] throughput {rate:,.0f} sales/s (target >= 1,500)")
    print(f"[bench sales] latency p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {max(latencies) * 1000:.3f} ms "
          f"mean {statistics.mean(latencies) * 1000:.3f} ms (target p99 <= 2 ms)")
    print(f"[bench sales] raw sqlite3 insert+commit {raw:,.0f}/s (before {raw_rate:,.0f}, after {raw_rate_after:,.0f})")
    print(f"[bench sales] ratio sales/s : raw commits/s = {rate / raw:.3f}")
    assert rate > 0 and p99 > 0
