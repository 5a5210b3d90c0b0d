"""The growing books are partitioned by month (migration 0013): a real terminal's sales land in their month's
partition with their items, payments and mint; a row outside the months created waits in the default partition and
moves into its month when that month is created, without counting twice in the daily rollup; a month's report
reads only that month's partitions; HQ creates the months ahead."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sync.hq.db import migrate
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer

TABLES = ("records", "sales", "sale_items", "payments", "token_mints")


def _month(at: datetime) -> str:
    return at.strftime("%Y_%m")


def test_a_terminals_sales_land_in_their_months_partition(hq: HQServer, make_till: Callable[..., Till]) -> None:
    till = make_till()
    till.sell(3)
    till.seal()
    response = till.push([json.loads(line) for line in till.term.export_blocks(0)])
    assert response.status_code == 200, response.text
    assert all(b["status"] == "accepted" for b in response.json()["results"]), response.text
    month = _month(datetime.now(UTC))
    for table in TABLES:
        where = sql(hq.database_url, f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE terminal_id = %s",
                    (till.id,))
        assert where == [(f"{table}_{month}",)], (table, where)
    # Every child row carries its sale's time exactly (what the joins and the pruning rely on).
    mismatched = sql(hq.database_url, """
        SELECT count(*) FROM sales s JOIN sale_items i USING (terminal_id, sale_id) JOIN payments p
        USING (terminal_id, sale_id) JOIN token_mints m USING (terminal_id, sale_id) WHERE s.terminal_id = %s AND
        (i.created_at <> s.created_at OR p.created_at <> s.created_at OR m.created_at <> s.created_at)""", (till.id,))
    assert mismatched == [(0,)]
    assert sql(hq.database_url, "SELECT count(*) FROM sales WHERE terminal_id = %s", (till.id,)) == [(3,)]


def test_months_ahead_exist_and_migrate_is_safe_to_run_again(hq: HQServer) -> None:
    assert migrate(hq.database_url) == []
    now = datetime.now(UTC)
    months = [now.replace(day=1)]
    for _ in range(2):
        last = months[-1]
        months.append(last.replace(year=last.year + (last.month == 12), month=last.month % 12 + 1))
    for table in TABLES:
        names = {r[0] for r in sql(hq.database_url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON "
                                                    "c.oid = i.inhrelid WHERE i.inhparent = %s::regclass", (table,))}
        assert {f"{table}_{_month(m)}" for m in months} <= names, (table, names)
        assert f"{table}_default" in names
    # The token ledger goes by ranges of 5 million entries of its seq, created two ranges ahead of its head.
    for table in ("token_ledger", "token_ledger_holders"):
        names = {r[0] for r in sql(hq.database_url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON "
                                                    "c.oid = i.inhrelid WHERE i.inhparent = %s::regclass", (table,))}
        assert {f"{table}_0000", f"{table}_0001", f"{table}_0002"} <= names, (table, names)


def test_a_sale_outside_the_months_created_waits_in_default_and_moves_to_its_month(hq: HQServer) -> None:
    url = hq.database_url
    [(node_id,)] = sql(url, "SELECT id FROM nodes LIMIT 1")
    sale = str(uuid.uuid4())
    at = datetime(2031, 7, 14, 12, 30, tzinfo=UTC)  # no partition for July 2031 yet
    assert sql(url, "SELECT to_regclass('sales_2031_07')") == [(None,)]
    sql(url, """INSERT INTO sales (sale_id, terminal_id, node_id, shift_id, check_id, cashier, created_at, subtotal,
             discount, total, cash_amount, card_amount, change_given, status, node_type, policy_version, minted,
             record_seq) VALUES (%s, 'FARFUTURE', %s, %s, 'FARFUTURE-1', 'G', %s, 700, 0, 700, 700, 0, 0,
             'completed', 'own', 1, 700, 1)""", (sale, node_id, str(uuid.uuid4()), at))
    sql(url, "INSERT INTO sale_items (terminal_id, sale_id, line_no, item_id, name, quantity, unit_price, created_at) "
             "VALUES ('FARFUTURE', %s, 1, 'udon', 'Udon', 1, 700, %s)", (sale, at))
    assert sql(url, "SELECT tableoid::regclass::text FROM sales WHERE sale_id = %s", (sale,)) == [("sales_default",)]
    daily = sql(url, "SELECT sales, total FROM sales_daily WHERE day = '2031-07-14' AND node_id = %s", (node_id,))
    assert daily == [(1, 700)]

    [(created,)] = sql(url, "SELECT hq_ensure_partitions('2031-07-01', '2031-07-31')")
    assert created == len(TABLES)
    assert sql(url, "SELECT tableoid::regclass::text FROM sales WHERE sale_id = %s", (sale,)) == [("sales_2031_07",)]
    assert sql(url, "SELECT tableoid::regclass::text FROM sale_items WHERE sale_id = %s", (sale,)) == [
        ("sale_items_2031_07",)]
    assert sql(url, "SELECT count(*) FROM sales_default") == [(0,)]
    # The rollup counted the sale once, when it was booked; the move does not count it again.
    assert sql(url, "SELECT sales, total FROM sales_daily WHERE day = '2031-07-14' AND node_id = %s",
               (node_id,)) == daily
    assert sql(url, "SELECT hq_ensure_partitions('2031-07-01', '2031-07-31')") == [(0,)]  # already there


def test_a_months_report_reads_only_that_months_partitions(hq: HQServer) -> None:
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    plan = "\n".join(r[0] for r in sql(hq.database_url, """
        EXPLAIN SELECT i.item_id, sum(i.quantity * i.unit_price) FROM sale_items i JOIN sales s
        ON s.terminal_id = i.terminal_id AND s.sale_id = i.sale_id AND s.created_at = i.created_at
        WHERE s.created_at >= %(since)s AND s.created_at < %(since)s + interval '1 month'
        AND i.created_at >= %(since)s AND i.created_at < %(since)s + interval '1 month' GROUP BY 1""",
                                       {"since": month}))  # type: ignore[arg-type]
    scanned = {m.group(0) for m in re.finditer(r"\b(sales|sale_items)_(\d{4}_\d{2}|default)\b", plan)}
    assert scanned == {f"sales_{_month(month)}", f"sale_items_{_month(month)}"}, plan
