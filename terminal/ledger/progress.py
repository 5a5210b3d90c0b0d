"""Sync progress of the ledger: which sealed blocks HQ has acknowledged (with its receipt), which it refused
(quarantine, and a manager's release), and the summary `status` shows. The outbox is the set of sealed blocks
without an acknowledgement; nothing here ever deletes a block or a record."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def first_unacknowledged(conn: sqlite3.Connection) -> int | None:
    value = conn.execute("SELECT MIN(height) FROM blocks WHERE acked_at_ms IS NULL").fetchone()[0]
    return None if value is None else int(value)


def backlog(conn: sqlite3.Connection) -> int:
    """Records HQ has not acknowledged yet (sealed or not): what the terminal tells HQ for its monitoring."""
    top = conn.execute("SELECT max(seq) FROM ledger_records").fetchone()[0] or 0
    acked = conn.execute("SELECT max(last_seq) FROM blocks WHERE acked_at_ms IS NOT NULL").fetchone()[0] or 0
    return max(0, int(top) - int(acked))


def acknowledge(conn: sqlite3.Connection, height: int, receipt: dict[str, Any], signature: str, at_ms: int) -> None:
    """Keep HQ's verified receipt of a block (inside the caller's transaction); an acknowledged block stays so."""
    conn.execute("UPDATE blocks SET acked_at_ms = ?, receipt = ? WHERE height = ? AND acked_at_ms IS NULL",
                 (at_ms, json.dumps({"receipt": receipt, "signature": signature}), height))


def quarantine(conn: sqlite3.Connection, height: int, reason: str, detail: str, at_ms: int) -> None:
    conn.execute("INSERT OR REPLACE INTO quarantine (height, reason, detail, at_ms) VALUES (?, ?, ?, ?)",
                 (height, reason, detail, at_ms))


def quarantined_height(conn: sqlite3.Connection) -> int | None:
    value = conn.execute("SELECT MIN(height) FROM quarantine WHERE resolved_at_ms IS NULL").fetchone()[0]
    return None if value is None else int(value)


def release_quarantine(conn: sqlite3.Connection, height: int, user: str, at_ms: int) -> bool:
    """Mark a refused block as released for another try; False when it was not in quarantine."""
    cur = conn.execute("UPDATE quarantine SET resolved_at_ms = ?, resolved_by = ? WHERE height = ? AND "
                       "resolved_at_ms IS NULL", (at_ms, user, height))
    return cur.rowcount == 1


def quarantined(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [{"height": r[0], "reason": r[1], "detail": r[2]} for r in conn.execute(
        "SELECT height, reason, detail FROM quarantine WHERE resolved_at_ms IS NULL ORDER BY height")]


def sync_summary(conn: sqlite3.Connection, now_ms: int) -> dict[str, Any]:
    """The ledger's side of `status`: records, what is sealed, what HQ still has to acknowledge, and since when."""
    records = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger_records").fetchone()[0])
    top = conn.execute("SELECT height, hash, last_seq FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
    acked = conn.execute("SELECT height, acked_at_ms, last_seq FROM blocks WHERE acked_at_ms IS NOT NULL "
                         "ORDER BY height DESC LIMIT 1").fetchone()
    oldest = conn.execute(
        "SELECT MIN(created_at_ms) FROM ledger_records WHERE seq >= COALESCE((SELECT MIN(first_seq) FROM blocks "
        "WHERE acked_at_ms IS NULL), (SELECT COALESCE(MAX(last_seq), 0) + 1 FROM blocks))").fetchone()[0]
    return {
        "records": records,
        "unsealed_records": records - (top[2] if top else 0),
        "head": {"height": top[0], "hash": top[1]} if top else None,
        "pending_blocks": int(conn.execute("SELECT COUNT(*) FROM blocks WHERE acked_at_ms IS NULL").fetchone()[0]),
        "pending_records": records - (acked[2] if acked else 0),
        "oldest_pending_age_ms": None if oldest is None else max(0, now_ms - int(oldest)),
        "last_ack": {"height": acked[0], "at": acked[1]} if acked else None,
        "quarantined": quarantined(conn),
    }
