"""Appending records to the local ledger inside the business transaction that produced them."""

from __future__ import annotations

import sqlite3
from typing import Any

from sync.protocol.records import Record, decode_record, encode_record


def append_record(conn: sqlite3.Connection, terminal_id: str, type: str, payload: dict[str, Any], now_ms: int) -> int:
    """Append one record and return its seq. Must run inside the caller's open write transaction (BEGIN IMMEDIATE),
    so the record commits or rolls back together with the business rows it describes."""
    if not conn.in_transaction:
        raise RuntimeError("append_record must run inside a write transaction")
    seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_records").fetchone()[0])
    body = encode_record(Record(terminal_id, seq, type, now_ms, payload))
    conn.execute("INSERT INTO ledger_records (seq, type, created_at_ms, body) VALUES (?, ?, ?, ?)",
                 (seq, type, now_ms, body))
    return seq


def read_records(conn: sqlite3.Connection, from_seq: int = 1, limit: int = 1000) -> list[Record]:
    rows = conn.execute("SELECT body FROM ledger_records WHERE seq >= ? ORDER BY seq LIMIT ?",
                        (from_seq, limit)).fetchall()
    return [decode_record(bytes(r[0])) for r in rows]
