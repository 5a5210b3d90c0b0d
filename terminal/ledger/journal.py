"""Appending records to the local ledger inside the business transaction that produced them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sync.protocol.records import Record, encode_record


def append_record(conn: sqlite3.Connection, terminal_id: str, type: str, payload: dict[str, Any], now_ms: int) -> int:
    """Append one record and return its seq. See append_records."""
    return append_records(conn, terminal_id, [(type, payload)], now_ms)[0]


def append_records(conn: sqlite3.Connection, terminal_id: str, facts: Sequence[tuple[str, dict[str, Any]]],
                   now_ms: int) -> list[int]:
    """Append records (type, payload) and return their seqs. Must run inside the caller's open write transaction
    (BEGIN IMMEDIATE), so the records commit or roll back together with the business rows they describe, and the
    write lock keeps the seqs read here from being taken by anyone else."""
    if not conn.in_transaction:
        raise RuntimeError("append_records must run inside a write transaction")
    first = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_records").fetchone()[0])
    rows = [(first + i, type, now_ms, encode_record(Record(terminal_id, first + i, type, now_ms, payload)))
            for i, (type, payload) in enumerate(facts)]
    conn.executemany("INSERT INTO ledger_records (seq, type, created_at_ms, body) VALUES (?, ?, ?, ?)", rows)
    return [row[0] for row in rows]

