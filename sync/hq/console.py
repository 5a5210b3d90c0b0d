"""What the console's pages show, read from HQ's books. Every query takes the viewer's scope: `franchise` is None for
HQ staff (everything) or a franchise manager's franchise id, and then the query itself sees only that franchise's
nodes, terminals, sales and alerts (the page never filters after the fact)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

Conn = AsyncConnection[Any]
SILENT_AFTER = timedelta(minutes=15)  # a terminal with no block for this long is "silent"
PAGE_SIZE = 50


async def rows(conn: Conn, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall())


def _scope(column: str) -> str:
    """A WHERE clause part that keeps a franchise manager inside their franchise (%(franchise)s is None for HQ)."""
    return f"(%(franchise)s::bigint IS NULL OR {column} = %(franchise)s::bigint)"


# --- dashboard ------------------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    today: list[dict[str, Any]]
    month: list[dict[str, Any]]
    days: list[dict[str, Any]]  # per day of the last 30: sales total and minted, for the chart
    terminals: dict[str, int]
    open_alerts: int
    rejections_today: int


async def dashboard(conn: Conn, franchise: int | None, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=29)
    params = {"franchise": franchise, "today": today, "start": start}
    # The rollup kept by triggers (migration 0009): 30 days x nodes rows, not 30 days of sales.
    per_day = await rows(conn, f"""
        SELECT f.id, f.name, d.day, sum(d.sales) AS sales, sum(d.total) AS total, sum(d.minted) AS minted
        FROM sales_daily d JOIN nodes n ON n.id = d.node_id JOIN franchises f ON f.id = n.franchise_id
        WHERE d.day >= %(start)s::date AND {_scope('f.id')}
        GROUP BY 1, 2, 3""", {**params, "start": start.date()})
    franchises = await rows(conn, f"SELECT id, name FROM franchises f WHERE {_scope('f.id')} ORDER BY name",
                            params)

    def totals(since: datetime) -> list[dict[str, Any]]:
        out = []
        for fr in franchises:
            mine = [r for r in per_day if r["id"] == fr["id"] and r["day"] >= since.date()]
            out.append({"franchise": fr["name"], "sales": sum(r["sales"] for r in mine),
                        "total": sum(int(r["total"]) for r in mine), "minted": sum(int(r["minted"]) for r in mine)})
        return out

    days = []
    for i in range(30):
        day = start + timedelta(days=i)
        mine = [r for r in per_day if r["day"] == day.date()]
        days.append({"day": day.date(), "total": sum(int(r["total"]) for r in mine),
                     "minted": sum(int(r["minted"]) for r in mine), "sales": sum(r["sales"] for r in mine)})
    state = await rows(conn, f"""
        SELECT t.status, (SELECT b.received_at FROM blocks b WHERE b.terminal_id = t.id ORDER BY b.height DESC
                          LIMIT 1) AS last_block
        FROM terminals t JOIN nodes n ON n.id = t.node_id WHERE {_scope('n.franchise_id')}""", params)
    counts = {"online": 0, "silent": 0, "revoked": 0}
    for t in state:
        if t["status"] == "revoked":
            counts["revoked"] += 1
        elif t["last_block"] is not None and now - t["last_block"] <= SILENT_AFTER:
            counts["online"] += 1
        else:
            counts["silent"] += 1
    alerts = await rows(conn, f"""
        SELECT count(*) FILTER (WHERE a.acknowledged_at IS NULL) AS open,
               count(*) FILTER (WHERE a.kind IN ('invalid_block', 'fork') AND a.created_at >= %(today)s) AS rejected
        FROM alerts a LEFT JOIN terminals t ON t.id = a.terminal_id LEFT JOIN nodes n ON n.id = t.node_id
        WHERE {_scope('n.franchise_id')}""", params)
    return Dashboard(totals(today), totals(start), days, counts, int(alerts[0]["open"]),
                     int(alerts[0]["rejected"]))


# --- terminals ------------------------------------------------------------------------------------------------------


async def terminals(conn: Conn, franchise: int | None, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(UTC)
    found = await rows(conn, f"""
        SELECT t.id, t.name, t.status, n.name AS node, n.node_type, f.name AS franchise, t.enrolled_at, t.revoked_at,
               t.served_seq, t.software, b.height, b.received_at AS last_block_at,
               (SELECT max(update_seq) FROM menu_items) AS menu_seq,
               (SELECT count(*) FROM token_mints m WHERE m.terminal_id = t.id AND NOT m.confirmed) AS held_mints
        FROM terminals t JOIN nodes n ON n.id = t.node_id JOIN franchises f ON f.id = n.franchise_id
        LEFT JOIN LATERAL (SELECT height, received_at FROM blocks WHERE terminal_id = t.id
                           ORDER BY height DESC LIMIT 1) b ON true
        WHERE {_scope('f.id')} ORDER BY f.name, n.name, t.name""", {"franchise": franchise})
    for t in found:
        if t["status"] == "revoked":
            t["state"] = "revoked"
        elif t["last_block_at"] is not None and now - t["last_block_at"] <= SILENT_AFTER:
            t["state"] = "online"
        else:
            t["state"] = "silent"
        t["menu_current"] = (t["served_seq"] or 0) >= (t["menu_seq"] or 0)
    return found


async def terminal_in_scope(conn: Conn, terminal_id: str, franchise: int | None) -> bool:
    found = await rows(conn, f"""SELECT 1 FROM terminals t JOIN nodes n ON n.id = t.node_id
                                 WHERE t.id = %(id)s AND {_scope('n.franchise_id')}""",
                       {"id": terminal_id, "franchise": franchise})
    return bool(found)


# --- franchises, menu, policies -------------------------------------------------------------------------------------


async def franchises(conn: Conn, franchise: int | None) -> list[dict[str, Any]]:
    found = await rows(conn, f"SELECT id, name, created_at FROM franchises f WHERE {_scope('f.id')} ORDER BY name",
                       {"franchise": franchise})
    nodes = await rows(conn, f"""SELECT n.id, n.franchise_id, n.name, n.node_type,
                                        (SELECT count(*) FROM terminals t WHERE t.node_id = n.id) AS terminals
                                 FROM nodes n WHERE {_scope('n.franchise_id')} ORDER BY n.name""",
                       {"franchise": franchise})
    for f in found:
        f["nodes"] = [n for n in nodes if n["franchise_id"] == f["id"]]
    return found


async def menu(conn: Conn) -> list[dict[str, Any]]:
    found = await rows(conn, "SELECT id, data, active, update_seq FROM menu_items ORDER BY active DESC, "
                             "data ->> 'category', id")
    return found


async def menu_pulls(conn: Conn, franchise: int | None) -> list[dict[str, Any]]:
    """Which menu version each active terminal was last handed (its updates cursor) against the newest."""
    return await rows(conn, f"""
        SELECT t.id, t.name, f.name AS franchise, t.served_seq,
               (SELECT count(*) FROM menu_items m WHERE m.update_seq > t.served_seq) AS changes_behind
        FROM terminals t JOIN nodes n ON n.id = t.node_id JOIN franchises f ON f.id = n.franchise_id
        WHERE t.status = 'active' AND {_scope('f.id')} ORDER BY f.name, t.name""", {"franchise": franchise})


async def policies(conn: Conn) -> list[dict[str, Any]]:
    return await rows(conn, "SELECT version, data, created_at FROM token_policies ORDER BY version DESC")


# --- reports --------------------------------------------------------------------------------------------------------

REPORT_GROUPS = {
    "franchise": ("f.name", "Franchise"),
    "node": ("f.name || ' / ' || n.name", "Node"),
    "day": ("to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "Day"),
    "hour": ("to_char(s.created_at AT TIME ZONE 'UTC', 'HH24') || ':00'", "Hour (UTC)"),
}


# The groups the sales_daily rollup (migration 0009, per node and UTC day) answers without reading the sales.
ROLLUP_GROUPS = {"franchise": "f.name", "node": "f.name || ' / ' || n.name", "day": "to_char(d.day, 'YYYY-MM-DD')"}


async def sales_report(conn: Conn, franchise: int | None, group: str, since: date, until: date) -> list[dict[str, Any]]:
    params = {"franchise": franchise, "since": since, "until": until + timedelta(days=1)}
    if group == "item":  # from the items rollup (migration 0014), per node and UTC day
        return await rows(conn, f"""
            SELECT d.item_id || ' — ' || min(d.name) AS "group", sum(d.sales)::bigint AS sales,
                   sum(d.quantity) AS quantity, sum(d.total) AS total, NULL::bigint AS minted
            FROM sale_items_daily d JOIN nodes n ON n.id = d.node_id JOIN franchises f ON f.id = n.franchise_id
            WHERE d.day >= %(since)s AND d.day < %(until)s AND {_scope('f.id')}
            GROUP BY d.item_id ORDER BY 4 DESC, 1""", params)
    if group in ROLLUP_GROUPS:  # whole UTC days per node: the sales_daily rollup holds them (a few rows a day)
        return await rows(conn, f"""
            SELECT {ROLLUP_GROUPS[group]} AS "group", sum(d.sales)::bigint AS sales, NULL::bigint AS quantity,
                   sum(d.total) AS total, sum(d.minted) AS minted
            FROM sales_daily d JOIN nodes n ON n.id = d.node_id JOIN franchises f ON f.id = n.franchise_id
            WHERE d.day >= %(since)s AND d.day < %(until)s AND {_scope('f.id')}
            GROUP BY 1 ORDER BY 1""", params)
    key = REPORT_GROUPS[group][0]
    return await rows(conn, f"""
        SELECT {key} AS "group", count(*) AS sales, NULL::bigint AS quantity, sum(s.total) AS total,
               sum(s.minted) AS minted
        FROM sales s JOIN nodes n ON n.id = s.node_id JOIN franchises f ON f.id = n.franchise_id
        WHERE s.created_at >= %(since)s AND s.created_at < %(until)s AND {_scope('f.id')}
        GROUP BY 1 ORDER BY 1""", params)


async def tokens_by_party(conn: Conn, franchise: int | None, since: date, until: date) -> dict[str, int]:
    found = await rows(conn, f"""
        SELECT coalesce(sum(m.owner), 0) AS owner, coalesce(sum(m.franchisee), 0) AS franchisee,
               coalesce(sum(m.charity), 0) AS charity, coalesce(sum(m.customer), 0) AS customer
        FROM token_mints m JOIN sales s ON s.terminal_id = m.terminal_id AND s.sale_id = m.sale_id
            AND s.created_at = m.created_at
        JOIN nodes n ON n.id = s.node_id
        WHERE m.confirmed AND s.created_at >= %(since)s AND s.created_at < %(until)s AND m.created_at >= %(since)s
            AND m.created_at < %(until)s AND {_scope('n.franchise_id')}
        """, {"franchise": franchise, "since": since, "until": until + timedelta(days=1)})
    return {k: int(v) for k, v in found[0].items()}


# --- alerts, audit, staff, tokens, KYC ------------------------------------------------------------------------------


async def alerts(conn: Conn, franchise: int | None, show: str, page: int) -> tuple[list[dict[str, Any]], int]:
    where = {"open": "a.acknowledged_at IS NULL", "acknowledged": "a.acknowledged_at IS NOT NULL"}.get(show, "true")
    params = {"franchise": franchise, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    base = (f"FROM alerts a LEFT JOIN terminals t ON t.id = a.terminal_id LEFT JOIN nodes n ON n.id = t.node_id "
            f"WHERE {where} AND {_scope('n.franchise_id')}")
    if franchise is not None:
        base += " AND a.terminal_id IS NOT NULL"
    found = await rows(conn, f"SELECT a.id, a.terminal_id, t.name AS terminal, a.kind, a.detail, a.created_at, "
                             f"a.acknowledged_at, a.acknowledged_by, a.note, (SELECT min(r.id) FROM "
                             f"evidence_requests r WHERE r.alert_id = a.id) AS footage {base} ORDER BY a.id DESC "
                             "LIMIT %(limit)s OFFSET %(offset)s", params)
    total = await rows(conn, f"SELECT count(*) AS n {base}", params)
    return found, int(total[0]["n"])


async def acknowledge(conn: Conn, franchise: int | None, ids: list[int] | None, actor: str, note: str) -> int:
    """Acknowledge alerts (all open ones in scope when `ids` is None); returns how many."""
    params = {"franchise": franchise, "ids": ids, "actor": actor, "note": note}
    found = await rows(conn, f"""
        UPDATE alerts a SET acknowledged_at = now(), acknowledged_by = %(actor)s, note = %(note)s
        FROM alerts x LEFT JOIN terminals t ON t.id = x.terminal_id LEFT JOIN nodes n ON n.id = t.node_id
        WHERE a.id = x.id AND a.acknowledged_at IS NULL AND (%(ids)s::bigint[] IS NULL OR a.id = ANY(%(ids)s))
          AND {_scope('n.franchise_id')} AND (%(franchise)s::bigint IS NULL OR a.terminal_id IS NOT NULL)
        RETURNING a.id""", params)
    return len(found)


async def audit(conn: Conn, actor: str, action: str, page: int) -> tuple[list[dict[str, Any]], int, list[str]]:
    params = {"actor": actor or None, "action": action or None, "limit": PAGE_SIZE,
              "offset": (page - 1) * PAGE_SIZE}
    where = "(%(actor)s::text IS NULL OR actor = %(actor)s) AND (%(action)s::text IS NULL OR action = %(action)s)"
    found = await rows(conn, f"SELECT id, at, actor, action, target, detail FROM audit_log WHERE {where} "
                             "ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s", params)
    total = await rows(conn, f"SELECT count(*) AS n FROM audit_log WHERE {where}", params)
    actions = await rows(conn, "SELECT DISTINCT action FROM audit_log ORDER BY action")
    return found, int(total[0]["n"]), [a["action"] for a in actions]


async def staff(conn: Conn) -> list[dict[str, Any]]:
    return await rows(conn, """
        SELECT u.username, u.role, u.active, u.language, u.created_at, f.name AS franchise, u.franchise_id,
               (SELECT max(at) FROM audit_log a WHERE a.actor = u.username AND a.action = 'login') AS last_login
        FROM staff_users u LEFT JOIN franchises f ON f.id = u.franchise_id ORDER BY u.active DESC, u.username""")


async def token_summary(conn: Conn) -> dict[str, Any]:
    balances = await rows(conn, "SELECT holder, balance FROM token_balances ORDER BY balance DESC")
    head = await rows(conn, "SELECT seq, minted, reversed FROM token_ledger_head")
    claims = await rows(conn, "SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount, count(DISTINCT account_id) "
                              "AS accounts FROM claims")
    expiries = await rows(conn, "SELECT count(*) AS n FROM token_ledger WHERE kind = 'expiry'")
    runs = await rows(conn, "SELECT year, ledger_seq, paid, kept, at FROM token_redistributions ORDER BY year DESC")
    pending = await rows(conn, "SELECT count(*) AS n, coalesce(sum(minted), 0) AS st FROM token_mints WHERE "
                               "ledger_seq IS NULL AND confirmed")
    recent = await rows(conn, "SELECT c.check_id, c.account_id, c.amount, c.at FROM claims c ORDER BY c.at DESC "
                              "LIMIT 20")
    parties = {"owner": 0, "franchisees": 0, "charity": 0, "customers": 0, "unclaimed": 0, "redistribution": 0,
               "reversed": 0}
    for b in balances:
        holder = b["holder"]
        key = ("franchisees" if holder.startswith("franchisee:") else "customers" if holder.startswith("HC")
               else holder)
        parties[key] = parties.get(key, 0) + int(b["balance"])
    return {"parties": parties, "entries": int(head[0]["seq"]) if head else 0,
            "minted": int(head[0]["minted"]) if head else 0, "reversed": int(head[0]["reversed"]) if head else 0,
            "claims": claims[0], "expiries": int(expiries[0]["n"]), "runs": runs, "recent": recent,
            "pending": {"n": int(pending[0]["n"]), "st": int(pending[0]["st"])}}


async def kyc_queue(conn: Conn, franchise: int | None) -> list[dict[str, Any]]:
    """Cases as HQ holds them (sealed: nothing personal is read here)."""
    return await rows(conn, f"""
        SELECT k.case_id, k.terminal_id, t.name AS terminal, f.name AS franchise, k.level, k.status, k.size,
               k.received_at, k.risk_score, k.risk_level, k.first_approver,
               (SELECT count(*) FROM kyc_hits h WHERE h.case_id = k.case_id AND h.dismissed_at IS NULL) AS hits
        FROM kyc_cases k JOIN terminals t ON t.id = k.terminal_id JOIN nodes n ON n.id = t.node_id
        JOIN franchises f ON f.id = n.franchise_id WHERE {_scope('f.id')}
        ORDER BY k.status <> 'submitted', k.risk_score DESC NULLS FIRST, k.received_at LIMIT 200""",
                      {"franchise": franchise})


async def terminal_detail(conn: Conn, terminal_id: str) -> dict[str, Any]:
    """One terminal: who and where, its last blocks, its sales today and in 30 days, its alerts."""
    [info] = await rows(conn, """
        SELECT t.id, t.name, t.status, t.enrolled_at, t.revoked_at, t.served_seq, n.name AS node, n.node_type,
               f.name AS franchise FROM terminals t JOIN nodes n ON n.id = t.node_id
        JOIN franchises f ON f.id = n.franchise_id WHERE t.id = %s""", (terminal_id,))
    info["blocks"] = await rows(conn, "SELECT height, encode(hash, 'hex') AS hash, record_count, received_at FROM "
                                      "blocks WHERE terminal_id = %s ORDER BY height DESC LIMIT 10", (terminal_id,))
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    [sold] = await rows(conn, """
        SELECT count(*) FILTER (WHERE created_at >= %(today)s) AS today_sales,
               coalesce(sum(total) FILTER (WHERE created_at >= %(today)s), 0) AS today_total,
               count(*) AS month_sales, coalesce(sum(total), 0) AS month_total
        FROM sales WHERE terminal_id = %(id)s AND created_at >= %(start)s""",
                        {"id": terminal_id, "today": today, "start": today - timedelta(days=29)})
    info.update(sold)
    [held] = await rows(conn, "SELECT count(*) AS n, coalesce(sum(minted), 0) AS st FROM token_mints WHERE "
                              "terminal_id = %s AND NOT confirmed", (terminal_id,))
    info["held"] = held
    info["alerts"] = await rows(conn, "SELECT id, kind, detail, created_at, acknowledged_at FROM alerts WHERE "
                                      "terminal_id = %s ORDER BY id DESC LIMIT 20", (terminal_id,))
    return info
