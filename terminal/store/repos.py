"""Repositories: reading and writing the terminal's business rows. Writers take the open transaction's connection."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from terminal.core.menu import MenuItem, menu_item_from_dict
from terminal.core.orders import OrderLine, sold_out
from terminal.core.sales import Refund, Sale
from terminal.core.shifts import ShiftTotals
from terminal.core.tokens import PARTIES, TokenPolicy, policy_from_dict
from terminal.core.users import Role, User
from terminal.store.db import Store

# --- meta -------------------------------------------------------------------------------------------------------


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, value))


def all_meta(store: Store) -> dict[str, str]:
    return {r["key"]: r["value"] for r in store.all("SELECT key, value FROM meta")}


# --- menu and policy --------------------------------------------------------------------------------------------


def save_menu_items(conn: sqlite3.Connection, items: Iterable[MenuItem]) -> None:
    conn.executemany(
        """INSERT INTO menu_items (id, category, price, active, priority, data)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET category = excluded.category, price = excluded.price,
             active = excluded.active, priority = excluded.priority, data = excluded.data""",
        [(i.id, i.category, i.price, int(i.active), i.priority, json.dumps(i.to_dict(), ensure_ascii=False))
         for i in items],
    )
    conn.executemany(
        "INSERT INTO stock (item_id, available) VALUES (?, ?) "
        "ON CONFLICT (item_id) DO UPDATE SET available = excluded.available",
        [(i.id, i.available) for i in items])


def take_off_menu_except(conn: sqlite3.Connection, keep: Sequence[str]) -> None:
    """Mark every menu item not in `keep` as not sold (enrollment: HQ's menu replaces the local one)."""
    items = [r[0] for r in conn.execute("SELECT id FROM menu_items")]
    for item_id in set(items) - set(keep):
        row = conn.execute("SELECT data FROM menu_items WHERE id = ?", (item_id,)).fetchone()
        data = {**json.loads(row[0]), "active": False}
        conn.execute("UPDATE menu_items SET active = 0, data = ? WHERE id = ?", (json.dumps(data, ensure_ascii=False),
                                                                                  item_id))


def load_menu(store: Store) -> dict[str, MenuItem]:
    menu: dict[str, MenuItem] = {}
    for row in store.all("SELECT m.data, s.available FROM menu_items m JOIN stock s ON s.item_id = m.id "
                         "ORDER BY m.priority, m.id"):
        data = json.loads(row["data"])
        data["available"] = row["available"]
        item = menu_item_from_dict(data)
        menu[item.id] = item
    return menu


def stock_of(conn: sqlite3.Connection, item_ids: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(f"SELECT item_id, available FROM stock WHERE item_id IN ({','.join('?' * len(item_ids))})",
                        list(item_ids))
    return {r[0]: r[1] for r in rows}


def take_stock(conn: sqlite3.Connection, lines: Sequence[OrderLine]) -> None:
    """Decrease availability. The CHECK constraint (available >= 0) is the stock check: one statement per line on
    the happy path, and a precise message when an item runs out (the caller's transaction then rolls back)."""
    try:
        conn.executemany("UPDATE stock SET available = available - ? WHERE item_id = ?",
                         [(line.quantity, line.item_id) for line in lines])
    except sqlite3.IntegrityError:
        left = stock_of(conn, [line.item_id for line in lines])
        for line in lines:
            if line.quantity > left.get(line.item_id, 0):
                raise sold_out(line.name, left.get(line.item_id, 0), line.quantity) from None
        raise


def save_policy(conn: sqlite3.Connection, policy: TokenPolicy, now_ms: int) -> None:
    conn.execute("INSERT OR REPLACE INTO token_policies (version, data, received_at_ms) VALUES (?, ?, ?)",
                 (policy.version, json.dumps(policy.to_dict()), now_ms))


def current_policy(store: Store) -> TokenPolicy:
    row = store.one("SELECT data FROM token_policies ORDER BY version DESC LIMIT 1")
    if row is None:
        raise LookupError("no token policy stored")
    return policy_from_dict(json.loads(row["data"]))


# --- users ------------------------------------------------------------------------------------------------------


def _user(row: sqlite3.Row) -> User:
    return User(id=row["id"], name=row["name"], role=Role(row["role"]), pin_hash=row["pin_hash"],
                failed_attempts=row["failed_attempts"], locked_until_ms=row["locked_until_ms"],
                active=bool(row["active"]))


def get_user(store: Store, name: str) -> User | None:
    row = store.one("SELECT * FROM users WHERE name = ?", (name,))
    return None if row is None else _user(row)


def list_users(store: Store) -> list[User]:
    return [_user(r) for r in store.all("SELECT * FROM users ORDER BY role DESC, name")]


def insert_user(conn: sqlite3.Connection, name: str, role: Role, pin_hash: str, now_ms: int) -> int:
    cur = conn.execute("INSERT INTO users (name, role, pin_hash, created_at_ms) VALUES (?, ?, ?, ?)",
                       (name, role.value, pin_hash, now_ms))
    return int(cur.lastrowid or 0)


def set_user_pin(conn: sqlite3.Connection, user_id: int, pin_hash: str) -> None:
    conn.execute("UPDATE users SET pin_hash = ?, failed_attempts = 0, locked_until_ms = 0 WHERE id = ?",
                 (pin_hash, user_id))


def set_user_active(conn: sqlite3.Connection, user_id: int, active: bool) -> None:
    conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))


def save_login_state(conn: sqlite3.Connection, user: User) -> None:
    conn.execute("UPDATE users SET failed_attempts = ?, locked_until_ms = ? WHERE id = ?",
                 (user.failed_attempts, user.locked_until_ms, user.id))


# --- shifts -----------------------------------------------------------------------------------------------------


def open_shift_row(store: Store) -> sqlite3.Row | None:
    return store.one("SELECT * FROM shifts WHERE status = 'open'")


def insert_shift(conn: sqlite3.Connection, shift_id: str, user: str, float_amount: int, now_ms: int) -> None:
    conn.execute("""INSERT INTO shifts (id, status, opened_by, opened_at_ms, float_amount, first_check_number)
                    VALUES (?, 'open', ?, ?, ?, ?)""",
                 (shift_id, user, now_ms, float_amount, next_check_number(conn)))


def close_shift_row(conn: sqlite3.Connection, shift_id: str, user: str, now_ms: int,
                    counted: int, expected: int, variance: int) -> None:
    cur = conn.execute(
        """UPDATE shifts SET status = 'closed', closed_by = ?, closed_at_ms = ?, counted_cash = ?,
           expected_cash = ?, variance = ?, last_check_number = ? WHERE id = ? AND status = 'open'""",
        (user, now_ms, counted, expected, variance, next_check_number(conn) - 1, shift_id))
    if cur.rowcount != 1:
        raise sqlite3.IntegrityError("shift was not open")


def insert_cash_movement(conn: sqlite3.Connection, shift_id: str, direction: str, amount: int, reason: str,
                         user: str, now_ms: int) -> None:
    conn.execute("""INSERT INTO cash_movements (shift_id, direction, amount, reason, user_name, at_ms)
                    VALUES (?, ?, ?, ?, ?, ?)""", (shift_id, direction, amount, reason, user, now_ms))


def shift_totals(conn: sqlite3.Connection, shift_id: str) -> ShiftTotals:
    """The shift's figures, all summed by SQLite over the shift's own rows."""
    shift = conn.execute("SELECT float_amount, first_check_number, last_check_number FROM shifts WHERE id = ?",
                         (shift_id,)).fetchone()
    sales = conn.execute(
        """SELECT COUNT(*), COALESCE(SUM(subtotal), 0), COALESCE(SUM(discount), 0), COALESCE(SUM(cash_amount), 0),
                  COALESCE(SUM(card_amount), 0)
           FROM sales WHERE check_number BETWEEN ? AND ? AND shift_id = ?""",
        (shift[1], shift[2] if shift[2] is not None else 2**62, shift_id)).fetchone()
    ref = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT method, COUNT(*), SUM(amount) FROM refunds WHERE shift_id = ? GROUP BY method", (shift_id,))}
    moves = dict(conn.execute(
        "SELECT direction, SUM(amount) FROM cash_movements WHERE shift_id = ? GROUP BY direction",
        (shift_id,)).fetchall())
    return ShiftTotals(
        float_amount=shift[0], sales_count=sales[0], gross_sales=sales[1], discounts=sales[2],
        cash_sales=sales[3], card_sales=sales[4],
        refunds_count=sum(v[0] for v in ref.values()),
        cash_refunds=ref.get("cash", (0, 0))[1], card_refunds=ref.get("card", (0, 0))[1],
        cash_in=moves.get("in", 0), cash_out=moves.get("out", 0),
    )


# --- sales ------------------------------------------------------------------------------------------------------


def next_check_number(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(check_number), 0) + 1 FROM sales").fetchone()[0])


def insert_sale(conn: sqlite3.Connection, sale: Sale, record_seq: int) -> None:
    d = sale.discount
    parts = sale.parts
    conn.execute(
        """INSERT INTO sales (check_number, id, shift_id, cashier, created_at_ms, subtotal, discount, discount_reason,
             discount_approved_by, total, cash_amount, card_amount, change_given, status, status_at_ms, node_type,
             policy_version, minted, owner_st, franchisee_st, charity_st, customer_st, check_id, claim_hash,
             record_seq, lines, payments)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (sale.check.number, sale.id, sale.shift_id, sale.cashier, sale.created_at_ms, sale.subtotal,
         sale.discount_amount, d.reason if d else None, d.approved_by if d else None, sale.total, sale.cash_amount(),
         sale.total - sale.cash_amount(), sale.change, sale.created_at_ms, sale.node_type, sale.policy_version,
         sale.minted, parts.get("owner", 0), parts.get("franchisee", 0), parts.get("charity", 0),
         parts.get("customer", 0), sale.check.id, sale.check.claim_hash, record_seq,
         json.dumps([ln.to_dict() for ln in sale.lines], ensure_ascii=False),
         json.dumps([p.to_dict() for p in sale.payments], ensure_ascii=False)))


def set_sale_extras(conn: sqlite3.Connection, sale_id: str, language: str | None, order_label: str | None) -> None:
    conn.execute("UPDATE sales SET language = ?, order_label = ? WHERE id = ?", (language, order_label, sale_id))


def get_sale(store: Store, sale_id: str) -> sqlite3.Row | None:
    """A sale by its id or by its check id (TERMINAL-NUMBER)."""
    number = sale_id.rpartition("-")[2]
    if number.isdigit() and sale_id.count("-") == 1:
        return store.one("SELECT * FROM sales WHERE check_number = ? AND check_id = ?", (int(number), sale_id))
    return store.one("SELECT * FROM sales WHERE id = ?", (sale_id,))


def sale_details(store: Store, sale_id: str) -> dict[str, Any]:
    """A sale with its lines, payments, token parts and refunds, for reports, reprints and the CLI."""
    row = get_sale(store, sale_id)
    if row is None:
        raise LookupError(sale_id)
    sale = dict(row)
    sale["lines"] = json.loads(row["lines"])
    sale["payments"] = json.loads(row["payments"])
    sale["tokens"] = sale_parts(store.conn, row["check_number"])
    sale["refunds"] = [{**dict(r), "lines": json.loads(r["lines"]) if r["lines"] else []} for r in store.all(
        "SELECT id, amount, method, reason, approved_by, created_at_ms, lines FROM refunds WHERE sale_id = ?",
        (row["id"],))]
    return sale


def mark_claimed(conn: sqlite3.Connection, check_id: str, claimed_at_ms: int) -> None:
    conn.execute("UPDATE sales SET claimed_at_ms = ? WHERE check_id = ? AND claimed_at_ms IS NULL",
                 (claimed_at_ms, check_id))


def recent_sales(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest sales first, with what the history screen lists."""
    return [dict(r) for r in store.all(
        "SELECT s.id, s.check_id, s.check_number, s.created_at_ms, s.cashier, s.total, s.status, s.claimed_at_ms, "
        "COALESCE((SELECT SUM(amount) FROM refunds r WHERE r.sale_id = s.id), 0) AS refunded "
        "FROM sales s ORDER BY s.check_number DESC LIMIT ?", (limit,))]


def sale_count(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM sales"))


def block_holding(store: Store, record_seq: int) -> dict[str, Any] | None:
    """The sealed block that holds a ledger record (a sale's, say), or None while it is not sealed yet."""
    row = store.one("SELECT height, hash FROM blocks WHERE first_seq <= ? AND last_seq >= ?", (record_seq, record_seq))
    return None if row is None else {"height": row["height"], "hash": row["hash"]}


def open_orders(store: Store) -> list[sqlite3.Row]:
    return store.all("SELECT * FROM sales WHERE status NOT IN ('completed', 'cancelled') ORDER BY created_at_ms")


def completed_orders(store: Store, limit: int) -> list[sqlite3.Row]:
    """The orders handed over most recently, newest first (a partial index serves the open ones only; this reads
    the newest sales backwards)."""
    return store.all("SELECT * FROM (SELECT * FROM sales ORDER BY check_number DESC LIMIT ?) "
                     "WHERE status = 'completed' ORDER BY status_at_ms DESC", (limit * 4,))[:limit]


def sale_parts(conn: sqlite3.Connection, check_number: int) -> dict[str, int]:
    """The sale's minted ST per party that received any."""
    row = conn.execute("SELECT owner_st, franchisee_st, charity_st, customer_st FROM sales WHERE check_number = ?",
                       (check_number,)).fetchone()
    return {party: amount for party, amount in zip(PARTIES, row, strict=True) if amount}


def set_sale_status(conn: sqlite3.Connection, sale_id: str, old: str, new: str, now_ms: int,
                    reason: str | None = None) -> None:
    cur = conn.execute(
        "UPDATE sales SET status = ?, status_at_ms = ?, cancel_reason = COALESCE(?, cancel_reason) "
        "WHERE id = ? AND status = ?", (new, now_ms, reason, sale_id, old))
    if cur.rowcount != 1:
        raise sqlite3.IntegrityError("order status changed underneath")


def refunded_total(conn: sqlite3.Connection, sale_id: str, method: str | None = None) -> int:
    """What was refunded on a sale so far: in all, or by one method."""
    if method is None:
        row = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE sale_id = ?", (sale_id,)).fetchone()
    else:
        row = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE sale_id = ? AND method = ?",
                           (sale_id, method)).fetchone()
    return int(row[0])


def refund_count(conn: sqlite3.Connection, sale_id: str) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM refunds WHERE sale_id = ?", (sale_id,)).fetchone()[0])


def insert_refund(conn: sqlite3.Connection, refund: Refund) -> None:
    conn.execute(
        """INSERT INTO refunds (id, sale_id, shift_id, amount, method, reason, approved_by, created_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (refund.id, refund.sale_id, refund.shift_id, refund.amount, refund.method, refund.reason,
         refund.approved_by, refund.created_at_ms))
    conn.executemany("INSERT INTO token_reversals (refund_id, party, amount) VALUES (?, ?, ?)",
                     [(refund.id, p, a) for p, a in refund.token_reversal.items()])


def set_refund_lines(conn: sqlite3.Connection, refund_id: str, lines: list[dict[str, Any]]) -> None:
    conn.execute("UPDATE refunds SET lines = ? WHERE id = ?", (json.dumps(lines, ensure_ascii=False), refund_id))


def refunded_quantities(conn: sqlite3.Connection, sale_id: str) -> dict[int, int]:
    """How many of each line (by its index in the sale) were refunded by item so far."""
    out: dict[int, int] = {}
    for (data,) in conn.execute("SELECT lines FROM refunds WHERE sale_id = ? AND lines IS NOT NULL", (sale_id,)):
        for line in json.loads(data):
            out[line["line"]] = out.get(line["line"], 0) + line["quantity"]
    return out


# --- cameras ----------------------------------------------------------------------------------------------------
# Settings are camera.config's JSON (the store does not interpret them); segments and alerts are what the cameras
# produced, with the SHA-256 of each finished segment (also sealed in the ledger).


def save_camera(conn: sqlite3.Connection, camera_id: str, config: dict[str, Any], now_ms: int, by: str) -> None:
    conn.execute("INSERT INTO cameras (id, config, updated_at_ms, updated_by) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (id) DO UPDATE SET config = excluded.config, "
                 "updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
                 (camera_id, json.dumps(config), now_ms, by))


def delete_camera(conn: sqlite3.Connection, camera_id: str) -> bool:
    return conn.execute("DELETE FROM cameras WHERE id = ?", (camera_id,)).rowcount == 1


def camera_configs(store: Store) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in store.all("SELECT config FROM cameras ORDER BY id")]


def insert_camera_segment(conn: sqlite3.Connection, path: str, camera_id: str, started_at_ms: int,
                          ended_at_ms: int, frames: int, size: int, sha256: str) -> None:
    conn.execute("INSERT OR REPLACE INTO camera_segments (path, camera_id, started_at_ms, ended_at_ms, frames, "
                 "bytes, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (path, camera_id, started_at_ms, ended_at_ms, frames, size, sha256))


def camera_segments(store: Store, camera_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """A camera's finished segments, newest first (paths relative to the recordings folder)."""
    return [dict(r) for r in store.all("SELECT * FROM camera_segments WHERE camera_id = ? "
                                       "ORDER BY started_at_ms DESC LIMIT ?", (camera_id, limit))]


def camera_segment_sha256(store: Store, path: str) -> str | None:
    value = store.scalar("SELECT sha256 FROM camera_segments WHERE path = ?", (path,))
    return None if value is None else str(value)


def insert_camera_alert(conn: sqlite3.Connection, camera_id: str, at_ms: int, kind: str,
                        detail: dict[str, Any], group_ms: int = 0) -> int:
    """A new incident, or one more event of the open incident of this camera and kind if its last event was at
    most `group_ms` before. Returns the incident's id."""
    if group_ms:
        row = conn.execute("SELECT id FROM camera_alerts WHERE camera_id = ? AND kind = ? AND acknowledged_at_ms IS "
                           "NULL AND COALESCE(last_at_ms, at_ms) >= ? ORDER BY id DESC LIMIT 1",
                           (camera_id, kind, at_ms - group_ms)).fetchone()
        if row is not None:
            conn.execute("UPDATE camera_alerts SET count = count + 1, last_at_ms = MAX(COALESCE(last_at_ms, at_ms), ?) "
                         "WHERE id = ?", (at_ms, row[0]))
            return int(row[0])
    cur = conn.execute("INSERT INTO camera_alerts (camera_id, at_ms, kind, detail, last_at_ms) VALUES (?, ?, ?, ?, ?)",
                       (camera_id, at_ms, kind, json.dumps(detail), at_ms))
    return int(cur.lastrowid or 0)


def camera_alerts(store: Store, *, include_acknowledged: bool, limit: int = 500) -> list[dict[str, Any]]:
    where = "" if include_acknowledged else "WHERE acknowledged_at_ms IS NULL"
    rows = store.all(f"SELECT * FROM camera_alerts {where} ORDER BY COALESCE(last_at_ms, at_ms) DESC LIMIT ?",
                     (limit,))
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]


def acknowledge_camera_alert(conn: sqlite3.Connection, alert_id: int, now_ms: int, by: str, note: str = "") -> bool:
    """False when there is no such open alert."""
    cur = conn.execute("UPDATE camera_alerts SET acknowledged_at_ms = ?, acknowledged_by = ?, note = ? "
                       "WHERE id = ? AND acknowledged_at_ms IS NULL", (now_ms, by, note or None, alert_id))
    return cur.rowcount == 1


def camera_segments_between(store: Store, camera_id: str, from_ms: int, to_ms: int) -> list[dict[str, Any]]:
    """The segments of a camera that cover any of [from_ms, to_ms], oldest first."""
    return [dict(r) for r in store.all("SELECT * FROM camera_segments WHERE camera_id = ? AND started_at_ms <= ? AND "
                                       "ended_at_ms >= ? ORDER BY started_at_ms", (camera_id, to_ms, from_ms))]


def camera_segment_by_sha256(store: Store, sha256: str) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM camera_segments WHERE sha256 = ? ORDER BY started_at_ms DESC LIMIT 1", (sha256,))
    return None if row is None else dict(row)


# --- evidence: camera segments to upload to HQ ------------------------------------------------------------------


def want_evidence(conn: sqlite3.Connection, sha256s: list[str], reason: str, now_ms: int) -> None:
    """Queue segments for upload. HQ asking again for one it was sent (HQ lost it: restored from a backup) queues it
    again; one that was missing or refused stays as it ended."""
    conn.executemany("INSERT INTO evidence_uploads (sha256, reason, added_at_ms) VALUES (?, ?, ?) ON CONFLICT "
                     "(sha256) DO UPDATE SET done_at_ms = NULL, outcome = NULL, sent = 0 WHERE outcome = 'stored' "
                     "AND excluded.reason = 'requested'", [(s, reason, now_ms) for s in sha256s])


def evidence_waiting(store: Store) -> list[dict[str, Any]]:
    """Segments to upload: HQ's requests first, then automatic ones, oldest first."""
    return [dict(r) for r in store.all("SELECT * FROM evidence_uploads WHERE done_at_ms IS NULL ORDER BY "
                                       "reason = 'auto', added_at_ms")]


def evidence_progress(conn: sqlite3.Connection, sha256: str, sent: int, size: int) -> None:
    conn.execute("UPDATE evidence_uploads SET sent = ?, size = ? WHERE sha256 = ?", (sent, size, sha256))


def evidence_done(conn: sqlite3.Connection, sha256: str, outcome: str, now_ms: int, receipt: str | None = None) -> None:
    conn.execute("UPDATE evidence_uploads SET done_at_ms = ?, outcome = ?, receipt = ? WHERE sha256 = ?",
                 (now_ms, outcome, receipt, sha256))


def evidence_of(store: Store, sha256s: list[str]) -> list[dict[str, Any]]:
    if not sha256s:
        return []
    marks = ", ".join("?" * len(sha256s))
    return [dict(r) for r in store.all(f"SELECT * FROM evidence_uploads WHERE sha256 IN ({marks})", tuple(sha256s))]


def evidence_summary(store: Store) -> dict[str, Any]:
    """For a status line: how many segments wait, and the bytes left of them."""
    row = store.one("SELECT count(*), COALESCE(sum(COALESCE(e.size, s.bytes, 0) - e.sent), 0) FROM evidence_uploads e "
                    "LEFT JOIN camera_segments s ON s.sha256 = e.sha256 WHERE e.done_at_ms IS NULL")
    return {"waiting": int(row[0]) if row else 0, "bytes_left": int(row[1]) if row else 0}


# --- KYC cases --------------------------------------------------------------------------------------------------
# Sealed envelopes only, kept until HQ's receipt; then the case id, status, level and the envelope's hash.


def insert_kyc_case(conn: sqlite3.Connection, case_id: str, level: str, account: str | None, now_ms: int, by: str,
                    envelope: bytes, sha256: str) -> None:
    conn.execute("INSERT INTO kyc_cases (id, level, status, account, created_at_ms, created_by, envelope, sha256, "
                 "size) VALUES (?, ?, 'submitted', ?, ?, ?, ?, ?, ?)",
                 (case_id, level, account, now_ms, by, envelope, sha256, len(envelope)))


def kyc_cases_to_upload(store: Store) -> list[tuple[str, bytes, str]]:
    """(case id, envelope, its SHA-256) of the cases HQ has not acknowledged yet, oldest first."""
    return [(r[0], bytes(r[1]), r[2]) for r in store.all(
        "SELECT id, envelope, sha256 FROM kyc_cases WHERE envelope IS NOT NULL ORDER BY created_at_ms")]


def kyc_upload_waiting(store: Store) -> bool:
    return bool(store.scalar("SELECT EXISTS (SELECT 1 FROM kyc_cases WHERE envelope IS NOT NULL)"))


def acknowledge_kyc_case(conn: sqlite3.Connection, case_id: str, receipt: str, now_ms: int) -> None:
    """HQ holds the envelope: the terminal's copy goes (the row keeps the receipt and the hash)."""
    conn.execute("UPDATE kyc_cases SET envelope = NULL, acked_at_ms = ?, receipt = ? WHERE id = ?",
                 (now_ms, receipt, case_id))


def set_kyc_status(conn: sqlite3.Connection, case_id: str, status: str, note: str | None = None) -> None:
    """HQ's decision on a case taken here, with what to bring when it asks for the case again (a case this
    terminal does not hold is none of its business)."""
    conn.execute("UPDATE kyc_cases SET status = ?, hq_note = ? WHERE id = ?", (status, note, case_id))


def kyc_cases(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    return [dict(r) for r in store.all(
        "SELECT id, level, status, hq_note, account, created_at_ms, created_by, sha256, size, acked_at_ms, "
        "envelope IS NULL AS uploaded FROM kyc_cases ORDER BY created_at_ms DESC LIMIT ?", (limit,))]
