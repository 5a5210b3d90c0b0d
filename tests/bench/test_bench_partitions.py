"""Benchmark of the monthly partitions (migration 0013): the console's reports over one month, at 1 million and at
10 million sales in the database. The sales are generated inside PostgreSQL (10,000 a day, the seed's busy chain:
1 million is the last 100 days, 10 million the last 1,000), each with two items and its token mint, through the
partitioned tables and the rollups' triggers as ingest books them. The reports are HQ's own functions (the console's
`sync.hq.console`, the staff API's `sync.hq.reports`) on one connection, each run 7 times after a warm-up; the figure
is the median. A month's report should cost the same at 10 million as at 1 million: the console's groups by day,
node, franchise and item read the daily rollups, the others one month's partitions. The staff API's report over all
time reads every partition and is timed for contrast: the cost partitioning does not remove.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_partitions.py -s); BENCH_PARTITION_SALES=1000000,10000000
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from sync.hq import console, reports
from tests.hqkit import prepare_hq_database
from tests.pg import PgServer

STEPS = [int(n) for n in os.environ.get("BENCH_PARTITION_SALES", "1000000,10000000").split(",")]
PER_DAY = 10_000
CHUNK = 1_000_000
TERMINALS, NODES = 100, 20


def _setup(conn: psycopg.Connection[Any]) -> list[int]:
    nodes = []
    for f in range(NODES // 2):
        [(fid,)] = conn.execute("INSERT INTO franchises (name) VALUES (%s) RETURNING id", (f"Bench {f}",))
        for n in range(2):
            [(nid,)] = conn.execute("INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                                    "RETURNING id", (fid, f"Node {n}", "franchise" if n else "own"))
            nodes.append(nid)
    for i in range(TERMINALS):
        conn.execute("INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) VALUES "
                     "(%s, %s, %s, 'xpub', %s)", (f"BENCH{i:04d}", nodes[i % NODES], f"Counter {i}",
                                                  b"\x02" + bytes(32)))
    conn.commit()
    return nodes


# Sale i (0 = the newest) is made 86400/PER_DAY seconds before sale i-1, counting back from `anchor`.
_AT = "(%(anchor)s::timestamptz - (i * 86400.0 / %(per_day)s) * interval '1 second')"
_SALES = f"""
INSERT INTO sales (sale_id, terminal_id, node_id, shift_id, check_id, cashier, created_at, subtotal, discount, total,
                   cash_amount, card_amount, change_given, status, node_type, policy_version, minted, record_seq)
SELECT md5(i::text)::uuid, 'BENCH' || lpad((i %% {TERMINALS})::text, 4, '0'), (%(nodes)s::bigint[])[i %% {NODES} + 1],
       %(shift)s, 'BENCH-' || i, 'Giorgi', {_AT}, t.total, 0, t.total, t.total, 0, 0, 'completed',
       CASE WHEN i %% 2 = 0 THEN 'own' ELSE 'franchise' END, 1, t.total, i + 1
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i, LATERAL (SELECT 600 + (hashint8(i) & 8191) AS total) t
"""
_ITEMS = f"""
INSERT INTO sale_items (terminal_id, sale_id, line_no, item_id, name, quantity, unit_price, created_at)
SELECT 'BENCH' || lpad((i %% {TERMINALS})::text, 4, '0'), md5(i::text)::uuid, l.n, l.item, l.name, 1,
       CASE l.n WHEN 1 THEN 600 + (hashint8(i) & 8191) - 300 ELSE 300 END, {_AT}
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i,
     (VALUES (1, 'udon', 'Udon'), (2, 'tofu', 'Tofu')) AS l (n, item, name)
"""
_MINTS = f"""
INSERT INTO token_mints (terminal_id, sale_id, policy_version, minted, owner, franchisee, charity, customer,
                         customer_address, confirmed, customer_held, created_at)
SELECT 'BENCH' || lpad((i %% {TERMINALS})::text, 4, '0'), md5(i::text)::uuid, 1, t.total, t.total * 48 / 100,
       t.total * 24 / 100, t.total * 3 / 100, t.total - t.total * 48 / 100 - t.total * 24 / 100 - t.total * 3 / 100,
       NULL, true, 0, {_AT}
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i, LATERAL (SELECT 600 + (hashint8(i) & 8191) AS total) t
"""


def _load(conn: psycopg.Connection[Any], nodes: list[int], anchor: datetime, lo: int, hi: int) -> float:
    began = time.perf_counter()
    for start in range(lo, hi, CHUNK):
        params = {"anchor": anchor, "per_day": PER_DAY, "nodes": nodes, "shift": uuid.UUID(int=1),
                  "lo": start, "hi": min(hi, start + CHUNK)}
        for statement in (_SALES, _ITEMS, _MINTS):
            conn.execute(statement, params)
        conn.commit()
        print(f"[bench partitions]   loaded sales {start:,}..{params['hi']:,} "
              f"({time.perf_counter() - began:.0f} s)", flush=True)
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE sales, sale_items, token_mints")
    conn.autocommit = False
    return time.perf_counter() - began


Report = Callable[[AsyncConnection[Any]], Awaitable[Any]]


def _reports(month: date, month_end: date, day: date) -> dict[str, Report]:
    return {
        "console: month by day (rollup)": lambda c: console.sales_report(c, None, "day", month, month_end),
        "console: month by item (rollup)": lambda c: console.sales_report(c, None, "item", month, month_end),
        "console: month by hour (sales)": lambda c: console.sales_report(c, None, "hour", month, month_end),
        "console: month tokens by party": lambda c: console.tokens_by_party(c, None, month, month_end),
        "console: franchise's month by node": lambda c: console.sales_report(c, 3, "node", month, month_end),
        "staff API: month by day (sales)": lambda c: reports.sales(c, "day", month, month_end),
        "staff API: one day's sales (CSV)": lambda c: reports.sales_rows(c, day, day),
        "staff API: all time by franchise": lambda c: reports.sales(c, "franchise", None, None),
    }


async def _time_reports(url: str, reports_: dict[str, Report]) -> dict[str, float]:
    out = {}
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        for name, run in reports_.items():
            await run(conn)  # warm-up: the plan, the cache
            times = []
            for _ in range(7):
                began = time.perf_counter()
                result = await run(conn)
                times.append((time.perf_counter() - began) * 1000)
                assert result
            out[name] = statistics.median(times)
    return out


def _partitions_read(conn: psycopg.Connection[Any], month: date, month_end: date) -> list[str]:
    plan = "\n".join(r[0] for r in conn.execute("""
        EXPLAIN SELECT i.item_id, sum(i.quantity * i.unit_price) FROM sale_items i JOIN sales s
        ON s.terminal_id = i.terminal_id AND s.sale_id = i.sale_id AND s.created_at = i.created_at
        WHERE s.created_at >= %(since)s AND s.created_at < %(until)s AND i.created_at >= %(since)s
        AND i.created_at < %(until)s GROUP BY 1""", {"since": month, "until": month_end + timedelta(days=1)}))
    return sorted({m.group(0) for m in re.finditer(r"\b(sales|sale_items)_(\d{4}_\d{2}|default)\b", plan)})


@pytest.mark.timeout(3600)  # loading 10 million sales takes about 8 minutes here
def test_bench_reports_at_one_and_ten_million_sales(pg_server: PgServer) -> None:
    name = f"bench_partitions_{uuid.uuid4().hex[:6]}"
    db = pg_server.create_database(name)
    try:
        prepare_hq_database(db)
        anchor = datetime.now(UTC).replace(microsecond=0)
        this_month = anchor.date().replace(day=1)
        month_end = this_month - timedelta(days=1)
        month = month_end.replace(day=1)  # the last whole month
        day = anchor.date() - timedelta(days=2)
        figures: dict[int, dict[str, float]] = {}
        with psycopg.connect(db) as conn:
            nodes = _setup(conn)
            oldest = anchor - timedelta(days=max(STEPS) / PER_DAY + 31)
            [(made,)] = conn.execute("SELECT hq_ensure_partitions(%s, %s)", (oldest.date(), anchor.date()))
            conn.commit()
            print(f"\n[bench partitions] {made} monthly partitions created back to {oldest:%Y-%m}")
            loaded = 0
            for step in STEPS:
                seconds = _load(conn, nodes, anchor, loaded, step)
                size = conn.execute(
                    "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i JOIN pg_class c "
                    "ON c.oid = i.inhrelid WHERE i.inhparent = ANY(ARRAY['sales', 'sale_items', "
                    "'token_mints']::regclass[])").fetchone()
                print(f"[bench partitions] {step:,} sales in the database ({step - loaded:,} loaded with two items "
                      f"and a mint each in {seconds:.0f} s); sales, items and mints take {size[0] if size else '?'}",
                      flush=True)
                loaded = step
                assert conn.execute("SELECT count(*) FROM sales_default").fetchone() == (0,)
                figures[step] = asyncio.run(_time_reports(db, _reports(month, month_end, day)))
                print(f"[bench partitions]   a month's item report reads {_partitions_read(conn, month, month_end)}")
        first, last = STEPS[0], STEPS[-1]
        print(f"[bench partitions] report (median of 7, ms)        {first:>12,} {last:>12,}   ratio")
        for report in figures[first]:
            a, b = figures[first][report], figures[last][report]
            print(f"[bench partitions] {report:<36} {a:12.1f} {b:12.1f}   {b / a:5.2f}")
    finally:
        pg_server.drop_database(name)
