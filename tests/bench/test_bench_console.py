"""Benchmark of the console's dashboard (issue 16): first paint <= 300 ms of server time with 1 million sales in the
database. The sales are generated and loaded with COPY (10 franchises, 20 nodes, 100 terminals, 10,000 sales a day
over 100 days: the seed's busy chain), then `hotpot-hq serve` renders /console/ for an HQ admin (every franchise)
and for a franchise manager (one franchise), each 20 times after a warm-up; the figures are the server's time per
page (measured from the client on 127.0.0.1, so it includes the local round trip). The dashboard reads the
sales_daily rollup (migration 0009, kept by triggers); the same query over the sales is timed for comparison.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_console.py -s)
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from tests.bench.test_bench_gui import pct
from tests.hqkit import prepare_hq_database, running_hq
from tests.pg import PgServer
from tests.web.consolekit import Client, make_user

SALES = int(os.environ.get("BENCH_CONSOLE_SALES", "1000000"))
DAYS = 100


def _load(db: str) -> None:
    rng = random.Random(16)
    now = datetime.now(UTC)
    with psycopg.connect(db) as conn:
        nodes = []
        for f in range(10):
            [(fid,)] = conn.execute("INSERT INTO franchises (name) VALUES (%s) RETURNING id", (f"Bench {f}",))
            for n in range(2):
                [(nid,)] = conn.execute("INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                                        "RETURNING id", (fid, f"Node {n}", "franchise" if n else "own"))
                nodes.append((nid, "franchise" if n else "own"))
        terminals = []
        for i in range(100):
            tid, (node_id, node_type) = f"BENCH{i:04d}", nodes[i % len(nodes)]
            conn.execute("INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) VALUES "
                         "(%s, %s, %s, 'xpub', %s)", (tid, node_id, f"Counter {i}", b"\x02" + bytes(32)))
            conn.execute("INSERT INTO blocks (terminal_id, height, hash, prev_hash, header, signature, first_seq, "
                         "record_count, created_at_ms, received_at) VALUES (%s, 0, %s, %s, '', '', 1, 1, 0, %s)",
                         (tid, os.urandom(32), bytes(32), now - timedelta(minutes=rng.choice([1, 5, 60]))))
            terminals.append((tid, node_id, node_type))
        began = time.perf_counter()
        with conn.cursor().copy("COPY sales (sale_id, terminal_id, node_id, shift_id, check_id, cashier, created_at, "
                                "subtotal, discount, total, cash_amount, card_amount, change_given, status, "
                                "node_type, policy_version, minted, record_seq) FROM STDIN") as copy:
            shift = uuid.uuid4()
            span = DAYS * 86400
            for i in range(SALES):
                tid, node_id, node_type = terminals[i % 100]
                total = rng.randrange(500, 12000)
                at = now - timedelta(seconds=span * (SALES - i) / SALES)
                copy.write_row((uuid.UUID(int=i + 1), tid, node_id, shift, f"{tid}-{i}", "Giorgi", at, total, 0,
                                total, total, 0, 0, "completed", node_type, 1, total, i + 1))
        conn.commit()
        print(f"\n[bench console] loaded {SALES:,} sales with COPY in {time.perf_counter() - began:.1f} s")
        conn.execute("ANALYZE")


def test_bench_dashboard_with_a_million_sales(tmp_path: Path, pg_server: PgServer) -> None:
    name = f"bench_console_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    try:
        prepare_hq_database(db)
        _load(db)
        with running_hq(db, tmp_path / "hq", extra_env={"HOTPOT_HQ_PUBLIC_RATE": "1000"}) as hq:
            make_user(hq, "bench.admin", "hq_admin")
            make_user(hq, "bench.manager", "franchise_manager", "Bench 3")
            for who in ("bench.admin", "bench.manager"):
                client = Client(hq, who)
                assert client.signed_in
                for _ in range(3):  # warm-up: the pool's connections, the templates, PostgreSQL's cache
                    assert client.get("/console/").status_code == 200
                times = []
                for _ in range(20):
                    began = time.perf_counter()
                    page = client.get("/console/")
                    times.append((time.perf_counter() - began) * 1000)
                    assert page.status_code == 200 and "Bench 3" in page.text
                print(f"[bench console] dashboard for {who} over {SALES:,} sales: p50 {pct(times, 50):.0f} ms, "
                      f"p95 {pct(times, 95):.0f} ms, max {max(times):.0f} ms (target <= 300 ms)")
            with psycopg.connect(db) as conn:
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT f.id, date_trunc('day', s.created_at, 'UTC'), "
                                    "count(*), sum(s.total), sum(s.minted) FROM sales s JOIN nodes n ON n.id = "
                                    "s.node_id JOIN franchises f ON f.id = n.franchise_id WHERE s.created_at >= "
                                    "now() - interval '30 days' GROUP BY 1, 2").fetchall()
            print(f"[bench console] for comparison, the same 30 days aggregated from the sales themselves (what the "
                  f"dashboard did before the sales_daily rollup): {plan[-1][0]}")
    finally:
        pg_server.drop_database(name)
