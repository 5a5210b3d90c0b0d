"""HQ's read side: updates for terminals, staff lists, sales and token reports, concentration-cap alerts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg import AsyncConnection

from sync.protocol.vocabulary import PARTIES

# DOMAIN.md caps, in basis points of all ST; charity below 80 % of its expected 3 % is an alert too.
OWNER_CAP_BP, FRANCHISEES_CAP_BP, CUSTOMER_CAP_BP = 4800, 2400, 4900
CHARITY_EXPECTED_BP, CHARITY_FLOOR_PCT = 300, 80
SALES_CSV_COLUMNS = ("sale_id", "check_id", "terminal_id", "franchise", "node", "created_at", "cashier", "subtotal",
                     "discount", "total", "cash_amount", "card_amount", "status", "minted")


async def _rows(conn: AsyncConnection[Any], sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = await conn.execute(sql, params)
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def updates_since(conn: AsyncConnection[Any], cursor: int) -> dict[str, Any]:
    menu = await _rows(conn, "SELECT data, update_seq FROM menu_items WHERE update_seq > %s ORDER BY update_seq",
                       (cursor,))
    policies = await _rows(conn, "SELECT data, update_seq FROM token_policies WHERE update_seq > %s "
                                 "ORDER BY update_seq", (cursor,))
    seqs = [r["update_seq"] for r in menu + policies]
    return {"cursor": max(seqs, default=cursor), "menu": [r["data"] for r in menu],
            "policies": [r["data"] for r in policies]}


async def kyc_decisions_since(conn: AsyncConnection[Any], terminal_id: str, after: int,
                              limit: int = 1000) -> dict[str, Any]:
    """HQ's decisions on the cases this terminal took, since decision `after` (its KYC list shows the status)."""
    rows = await _rows(conn, """
        SELECT case_id::text, status, decision_seq, decision_reason FROM kyc_cases
        WHERE terminal_id = %s AND decision_seq > %s ORDER BY decision_seq LIMIT %s""", (terminal_id, after, limit))
    # The reason goes to the counter only when the customer is asked to come again (what to bring): a rejection's
    # reason stays at HQ, as a suspicion must not be told to the customer (no tipping-off).
    return {"kyc": [{"case_id": r["case_id"], "status": r["status"],
                     **({"note": r["decision_reason"]} if r["status"] == "resubmission_requested" else {})}
                    for r in rows],
            "kyc_cursor": max((r["decision_seq"] for r in rows), default=after)}


async def claims_since(conn: AsyncConnection[Any], terminal_id: str, after: int,
                       limit: int = 1000) -> dict[str, Any]:
    """Which of a terminal's checks customers claimed since ledger entry `after` (the terminal's History shows it)."""
    rows = await _rows(conn, """
        SELECT cl.check_id, (extract(epoch FROM cl.at) * 1000)::bigint AS claimed_at_ms, cl.ledger_seq
        FROM claims cl JOIN checks c ON c.check_id = cl.check_id
        WHERE c.terminal_id = %s AND cl.ledger_seq > %s ORDER BY cl.ledger_seq LIMIT %s""",
                       (terminal_id, after, limit))
    return {"claims": [{"check_id": r["check_id"], "claimed_at_ms": r["claimed_at_ms"]} for r in rows],
            "claims_cursor": max((r["ledger_seq"] for r in rows), default=after)}


async def franchises(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    return await _rows(conn, """
        SELECT f.id, f.name, COALESCE(json_agg(json_build_object('id', n.id, 'name', n.name, 'node_type',
               n.node_type) ORDER BY n.id) FILTER (WHERE n.id IS NOT NULL), '[]') AS nodes
        FROM franchises f LEFT JOIN nodes n ON n.franchise_id = f.id GROUP BY f.id ORDER BY f.id""")


async def terminals(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    rows = await _rows(conn, """
        SELECT t.id, t.name, t.status, n.name AS node, f.name AS franchise, t.enrolled_at, t.revoked_at,
               (SELECT max(height) FROM blocks b WHERE b.terminal_id = t.id) AS head_height,
               (SELECT max(received_at) FROM blocks b WHERE b.terminal_id = t.id) AS last_block_at,
               (SELECT count(*) FROM token_mints m WHERE m.terminal_id = t.id AND NOT m.confirmed) AS held_mints
        FROM terminals t JOIN nodes n ON n.id = t.node_id JOIN franchises f ON f.id = n.franchise_id
        ORDER BY t.enrolled_at""")
    for row in rows:
        for key in ("enrolled_at", "revoked_at", "last_block_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return rows


async def sales(conn: AsyncConnection[Any], group: str, since: date | None, until: date | None) -> list[dict[str, Any]]:
    key = {"franchise": "f.name", "node": "f.name || ' / ' || n.name", "day": "to_char(s.created_at, 'YYYY-MM-DD')"}
    return await _rows(conn, f"""
        SELECT {key[group]} AS "group", count(*) AS sales, sum(s.total) AS total, sum(s.cash_amount) AS cash,
               sum(s.card_amount) AS card, sum(s.minted) AS minted
        FROM sales s JOIN nodes n ON n.id = s.node_id JOIN franchises f ON f.id = n.franchise_id
        WHERE s.created_at >= %s AND s.created_at < %s
        GROUP BY 1 ORDER BY 1""", (since or date(2000, 1, 1), (until or date(2999, 1, 1)) + timedelta(days=1)))


_NET = """
    WITH net AS (
        SELECT p.party, CASE WHEN p.party = 'customer' THEN m.customer_address END AS address, n.franchise_id,
               p.amount
        FROM token_mints m JOIN sales s ON s.terminal_id = m.terminal_id AND s.sale_id = m.sale_id
            AND s.created_at = m.created_at
        JOIN nodes n ON n.id = s.node_id
        CROSS JOIN LATERAL (VALUES ('owner', m.owner), ('franchisee', m.franchisee), ('charity', m.charity),
                                   ('customer', m.customer)) AS p (party, amount)
        WHERE m.confirmed
        UNION ALL
        SELECT r.party, CASE WHEN r.party = 'customer' THEN c.claim_address END, n.franchise_id, -r.amount
        FROM token_reversals r JOIN refunds f ON f.terminal_id = r.terminal_id AND f.refund_id = r.refund_id
        JOIN sales s ON s.terminal_id = f.terminal_id AND s.sale_id = f.sale_id
        JOIN token_mints m ON m.terminal_id = s.terminal_id AND m.sale_id = s.sale_id
            AND m.created_at = s.created_at AND m.confirmed
        JOIN nodes n ON n.id = s.node_id JOIN checks c ON c.terminal_id = s.terminal_id AND c.sale_id = s.sale_id
    )"""


async def token_balances(conn: AsyncConnection[Any]) -> dict[str, Any]:
    by_party = {r["party"]: int(r["st"]) for r in await _rows(
        conn, _NET + " SELECT party, sum(amount) AS st FROM net GROUP BY party")}
    franchisees = await _rows(conn, _NET + """ SELECT f.name AS franchise, sum(net.amount) AS st FROM net
        JOIN franchises f ON f.id = net.franchise_id WHERE party = 'franchisee' GROUP BY f.name ORDER BY 2 DESC""")
    top_customers = await _rows(conn, _NET + """ SELECT address, sum(amount) AS st FROM net
        WHERE party = 'customer' GROUP BY address ORDER BY 2 DESC LIMIT 20""")
    return {"total": sum(by_party.values()), "by_party": {p: by_party.get(p, 0) for p in PARTIES},
            "franchisees": [{"franchise": r["franchise"], "st": int(r["st"])} for r in franchisees],
            "top_customer_addresses": [{"address": r["address"], "st": int(r["st"])} for r in top_customers]}


async def cap_alerts(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    """DOMAIN.md's concentration caps over all ST (they never block a sale; they raise alerts here)."""
    balances = await token_balances(conn)
    total = balances["total"]
    if total <= 0:
        return []
    alerts = []
    parties = balances["by_party"]

    def share_bp(amount: int) -> int:
        return int(amount * 10_000 // total)

    if parties["owner"] * 10_000 > OWNER_CAP_BP * total:
        alerts.append({"cap": "owner", "share_bp": share_bp(parties["owner"]), "limit_bp": OWNER_CAP_BP})
    if parties["franchisee"] * 10_000 > FRANCHISEES_CAP_BP * total:
        alerts.append({"cap": "franchisees", "share_bp": share_bp(parties["franchisee"]),
                       "limit_bp": FRANCHISEES_CAP_BP})
    for customer in balances["top_customer_addresses"]:
        if customer["st"] * 10_000 > CUSTOMER_CAP_BP * total:
            alerts.append({"cap": "customer", "address": customer["address"], "share_bp": share_bp(customer["st"]),
                           "limit_bp": CUSTOMER_CAP_BP})
    if parties["charity"] * 10_000 * 100 < CHARITY_EXPECTED_BP * CHARITY_FLOOR_PCT * total:
        alerts.append({"cap": "charity_floor", "share_bp": share_bp(parties["charity"]),
                       "limit_bp": CHARITY_EXPECTED_BP * CHARITY_FLOOR_PCT // 100})
    return alerts


async def alerts(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    rows = await _rows(conn, "SELECT id, terminal_id, kind, detail, created_at, acknowledged_at FROM alerts "
                             "ORDER BY id DESC LIMIT 200")
    for row in rows:
        row["created_at"] = row["created_at"].isoformat()
        row["acknowledged_at"] = row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None
    return rows


async def sales_rows(conn: AsyncConnection[Any], since: date, until: date) -> list[tuple[Any, ...]]:
    cur = await conn.execute("""
        SELECT s.sale_id, s.check_id, s.terminal_id, f.name, n.name, s.created_at, s.cashier, s.subtotal, s.discount,
               s.total, s.cash_amount, s.card_amount, s.status, s.minted
        FROM sales s JOIN nodes n ON n.id = s.node_id JOIN franchises f ON f.id = n.franchise_id
        WHERE s.created_at >= %s AND s.created_at < %s ORDER BY s.created_at, s.check_id""",
                             (since, until + timedelta(days=1)))
    return [tuple(row) for row in await cur.fetchall()]

