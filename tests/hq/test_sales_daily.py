"""The sales_daily rollup (migration 0009) the console's dashboard reads stays equal to the sales it sums: after
real terminals' ingest, after a mint is changed on a booked sale, per node and UTC day."""

from __future__ import annotations

from collections.abc import Callable

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
