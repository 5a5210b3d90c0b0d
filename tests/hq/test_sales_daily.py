"""The sales_daily rollup (migration 0009) the console's dashboard reads stays equal to the sales it sums: after
real terminals' ingest, after a mint is changed on a booked sale, per node and UTC day."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from sync.hq import console
from terminal.syncing import SyncService
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer

BY_DAY = ("SELECT node_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(total), sum(minted) FROM sales "
          "GROUP BY 1, 2 ORDER BY 1, 2")
ROLLUP = "SELECT node_id, day, sales, total, minted FROM sales_daily ORDER BY 1, 2"


def test_the_rollup_follows_the_sales(make_till: Callable[..., Till], hq: HQServer) -> None:
    tills = [make_till("Vake"), make_till("Vake", "Second"), make_till("Rustaveli")]
    for n, till in enumerate(tills):
        till.sell(3 + n)
        service = SyncService(till.term.data_dir, till.wallet)
        try:
            assert service.run_once().ok
        finally:
            service.stop()
    rollup = sql(hq.database_url, ROLLUP)
    assert rollup == sql(hq.database_url, BY_DAY) and len(rollup) == 3
    assert sum(r[2] for r in rollup) == 12
    sql(hq.database_url, "UPDATE sales SET minted = minted + 7 WHERE check_id = (SELECT min(check_id) FROM sales)")
    sql(hq.database_url, "UPDATE sales SET status = 'completed'")  # touches no figure: the rollup is left alone
    assert sql(hq.database_url, ROLLUP) == sql(hq.database_url, BY_DAY)


def test_the_consoles_reports_by_franchise_node_day_and_item_read_the_rollups_and_agree_with_the_sales(
        hq: HQServer) -> None:
    """(runs after the test above, on its sales) The console answers these groups from sales_daily; the figures are
    the ones the sales themselves give, for HQ and for a franchise manager's scope."""
    today = datetime.now(UTC).date()
    [(vake,)] = sql(hq.database_url, "SELECT id FROM franchises WHERE name = 'Vake'")
    keys = {"franchise": "f.name", "node": "f.name || ' / ' || n.name",
            "day": "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}

    async def report(group: str, franchise: int | None) -> list[dict[str, Any]]:
        async with await AsyncConnection.connect(hq.database_url) as conn:
            return await console.sales_report(conn, franchise, group, today - timedelta(days=1), today)

    for group, key in keys.items():
        for franchise in (None, vake):
            direct = sql(hq.database_url, f"""
                SELECT {key}, count(*), sum(s.total), sum(s.minted) FROM sales s JOIN nodes n ON n.id = s.node_id
                JOIN franchises f ON f.id = n.franchise_id WHERE (%s::bigint IS NULL OR f.id = %s::bigint)
                GROUP BY 1 ORDER BY 1""", (franchise, franchise))
            found = asyncio.run(report(group, franchise))
            assert [(r["group"], r["sales"], r["total"], r["minted"]) for r in found] == direct, (group, franchise)
            assert direct
    for franchise in (None, vake):  # by item, from the items rollup (migration 0014)
        direct = sql(hq.database_url, """
            SELECT i.item_id || ' — ' || min(i.name), count(DISTINCT i.sale_id), sum(i.quantity),
                   sum(i.quantity * i.unit_price) FROM sale_items i JOIN sales s USING (terminal_id, sale_id)
            JOIN nodes n ON n.id = s.node_id WHERE (%s::bigint IS NULL OR n.franchise_id = %s::bigint)
            GROUP BY i.item_id ORDER BY 4 DESC, 1""", (franchise, franchise))
        found = asyncio.run(report("item", franchise))
        assert [(r["group"], r["sales"], r["quantity"], r["total"]) for r in found] == direct, franchise
        assert direct
