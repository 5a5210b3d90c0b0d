"""Reports for HQ staff: sales, token balances, alerts (caps and terminal alerts), and the audited CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from sync.hq import reports, writes
from sync.hq.api.deps import Overseer, Pool, Reader
from sync.hq.api.errors import ApiError

router = APIRouter(prefix="/api/v1/staff", tags=["reports"])
# A text cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written with a leading apostrophe (OWASP's advice)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


@router.get("/reports/sales")
async def sales_report(_: Reader, pool: Pool, group: str = "day", since: date | None = None,
                       until: date | None = None) -> list[dict[str, Any]]:
    if group not in ("franchise", "node", "day"):
        raise ApiError(422, "invalid_request", "group is franchise, node or day.")
    async with pool.connection() as conn:
        return await reports.sales(conn, group, since, until)


@router.get("/reports/tokens")
async def token_report(_: Overseer, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return await reports.token_balances(conn)


@router.get("/reports/alerts")
async def alert_report(_: Overseer, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return {"caps": await reports.cap_alerts(conn), "alerts": await reports.alerts(conn)}


@router.get("/exports/sales.csv", responses={200: {"content": {"text/csv": {}}, "description": "Sales as CSV"}})
async def sales_csv(who: Reader, pool: Pool, since: date, until: date) -> Response:
    if until < since or until - since > timedelta(days=366):
        raise ApiError(422, "invalid_request", "The range must run forwards and span at most a year.")
    async with pool.connection() as conn:
        rows = await reports.sales_rows(conn, since, until)
        await writes.audit(conn, who.username, "export_sales", f"{since}..{until}", {"rows": len(rows)})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(reports.SALES_CSV_COLUMNS)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    name = f"sales-{since}-{until}.csv"
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{name}"'})
