"""What HQ's business rules need to judge a block, read from the database under the terminal's row lock: the chain
state HQ has followed so far, its policies, the menu at the versions the block names, and the terminal's own sales
and shifts that the block refers to; and writing the chain state back when the block is booked."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from bip32 import BIP32
from psycopg import AsyncConnection

from sync.hq.rules import ChainState, ClaimKeys, Lookups, SaleBook, Terminal
from sync.protocol.records import Record

Conn = AsyncConnection[Any]
_claim_keys: dict[str, ClaimKeys] = {}  # by account xpub: the m/1 node's derivation is the slow part
# A menu version's prices and options never change once it is served.
_menus: dict[int, tuple[dict[str, tuple[int, bool]], dict[str, list[Any]]]] = {}
_policies: dict[int, dict[str, Any]] = {}  # policies are never changed, only added


def rules_terminal(row: dict[str, Any]) -> Terminal:
    xpub = row["account_xpub"]
    claims = _claim_keys.get(xpub)
    if claims is None:
        chain_code, key = BIP32.from_xpub(xpub).get_extended_pubkey_from_path([1])
        claims = _claim_keys.setdefault(xpub, ClaimKeys(bytes(key), bytes(chain_code)))
    return Terminal(row["id"], row["node_type"], xpub, bytes(row["signing_public_key"]).hex(), row["served_seq"],
                    claims)


async def load_state(conn: Conn, terminal_id: str) -> ChainState:
    cur = await conn.execute("SELECT state FROM terminal_state WHERE terminal_id = %s", (terminal_id,))
    row = await cur.fetchone()
    return ChainState() if row is None else ChainState(**row[0])


async def save_state(conn: Conn, terminal_id: str, state: ChainState) -> None:
    await conn.execute("INSERT INTO terminal_state (terminal_id, state) VALUES (%s, %s) ON CONFLICT (terminal_id) "
                       "DO UPDATE SET state = excluded.state", (terminal_id, json.dumps(asdict(state))))


async def _menu_at(conn: Conn, version: int) -> tuple[dict[str, tuple[int, bool]], dict[str, list[Any]]]:
    """HQ's menu at a version: each item's (price, could be sold), and the modifier groups of those with any."""
    menu = _menus.get(version)
    if menu is None:
        cur = await conn.execute("SELECT DISTINCT ON (item_id) item_id, price, active, modifiers FROM "
                                 "menu_item_history WHERE update_seq <= %s ORDER BY item_id, update_seq DESC",
                                 (version,))
        rows = await cur.fetchall()
        menu = ({r[0]: (int(r[1]), bool(r[2])) for r in rows}, {r[0]: r[3] for r in rows if r[3]})
        if len(_menus) > 64:
            _menus.clear()
        _menus[version] = menu
    return menu


async def _policies_now(conn: Conn, wanted: set[int]) -> dict[int, dict[str, Any]]:
    if not wanted <= set(_policies):
        cur = await conn.execute("SELECT version, data FROM token_policies")
        _policies.update({int(r[0]): r[1] for r in await cur.fetchall()})
    return _policies


async def load_lookups(conn: Conn, terminal_id: str, state: ChainState, records: list[Record]) -> Lookups:
    versions = {state.menu_version}
    policy_versions = {state.policy_version}
    referenced: set[str] = set()
    shifts: set[str] = set()
    for rec in records:
        p = rec.payload
        if rec.type == "menu_loaded" and p["source"] == "hq":
            versions.add(p["version"])
        elif rec.type == "policy_received":
            policy_versions.add(p["version"])
        elif rec.type == "token_mint":
            policy_versions.add(p["policy_version"])
        elif rec.type == "sale":
            shifts.add(p["shift_id"])
        elif rec.type in ("order_status", "refund"):
            referenced.add(p["sale_id"])
            if rec.type == "refund":
                shifts.add(p["shift_id"])
        elif rec.type in ("shift_opened", "shift_closed", "cash_moved"):
            shifts.add(p["shift_id"])
    menus = {v: await _menu_at(conn, v) for v in versions}
    sales: dict[str, SaleBook] = {}
    if referenced:
        cur = await conn.execute(
            "SELECT s.sale_id::text, s.total, s.status, m.owner, m.franchisee, m.charity, m.customer, m.minted, "
            "COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.terminal_id = s.terminal_id AND "
            "r.sale_id = s.sale_id), 0), (SELECT count(*) FROM refunds r WHERE r.terminal_id = s.terminal_id AND "
            "r.sale_id = s.sale_id) FROM sales s LEFT JOIN token_mints m ON m.terminal_id = s.terminal_id AND "
            "m.sale_id = s.sale_id AND m.created_at = s.created_at WHERE s.terminal_id = %s AND "
            "s.sale_id = ANY(%s::uuid[])",
            (terminal_id, sorted(referenced)))
        for sid, total, status, owner, franchisee, charity, customer, _, refunded, count in await cur.fetchall():
            parts = {p: v for p, v in zip(("owner", "franchisee", "charity", "customer"),
                                          (owner, franchisee, charity, customer), strict=True) if v is not None}
            sales[sid] = SaleBook(int(total), status, {p: v for p, v in parts.items() if v}, int(refunded),
                                  int(count))
    known: set[str] = set()
    open_: set[str] = set()
    if shifts:
        cur = await conn.execute("SELECT shift_id::text, closed_at IS NULL FROM shifts WHERE terminal_id = %s AND "
                                 "shift_id = ANY(%s::uuid[])", (terminal_id, sorted(shifts)))
        for sid, is_open in await cur.fetchall():
            known.add(sid)
            if is_open:
                open_.add(sid)
    return Lookups(await _policies_now(conn, policy_versions), lambda v: menus[v][0], sales, open_, known,
                   lambda v: menus[v][1])
