"""Sealing the ledger: pending records -> signed, hash-chained blocks; and walking the chain to verify it."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sync.protocol.blocks import (
    GENESIS_PREV_HASH,
    BadRecord,
    Block,
    BlockError,
    BlockHeader,
    build_block,
    decode_header,
    verify_block,
)
from terminal.store.db import Store

logger = logging.getLogger(__name__)

MAX_RECORDS = 500
MAX_AGE_MS = 5_000


@dataclass(frozen=True)
class SealPolicy:
    """Seal when this many records are pending, or when the oldest pending one is this old."""

    max_records: int = MAX_RECORDS
    max_age_ms: int = MAX_AGE_MS


@dataclass(frozen=True)
class Head:
    height: int
    hash: str
    last_seq: int


def head(conn: sqlite3.Connection) -> Head | None:
    row = conn.execute("SELECT height, hash, last_seq FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
    return None if row is None else Head(row[0], row[1], row[2])


def pending_count(conn: sqlite3.Connection) -> int:
    top = head(conn)
    after = top.last_seq if top else 0
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger_records").fetchone()[0]) - after


def seal_pending(store: Store, terminal_id: str, sign: Callable[[bytes], bytes], now_ms: Callable[[], int], *,
                 policy: SealPolicy = SealPolicy(), force: bool = False) -> list[BlockHeader]:
    """Seal what is due (everything pending when force) into blocks of at most policy.max_records.

    Each block is one transaction: the block row and the marks on its records commit together, or neither does.
    """
    sealed: list[BlockHeader] = []
    while True:
        at = now_ms()
        with store.transaction() as conn:
            top = head(conn)
            after = top.last_seq if top else 0
            rows = conn.execute(
                "SELECT seq, created_at_ms, body FROM ledger_records WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, policy.max_records)).fetchall()
            if not rows:
                break
            due = force or len(rows) >= policy.max_records or at - rows[0][1] >= policy.max_age_ms
            if not due:
                break
            height = 0 if top is None else top.height + 1
            block = build_block(terminal_id=terminal_id, height=height,
                                prev_hash=GENESIS_PREV_HASH if top is None else bytes.fromhex(top.hash),
                                created_at_ms=at, first_seq=rows[0][0], records=[bytes(r[2]) for r in rows],
                                sign=sign)
            _store_block(conn, block)
        sealed.append(block.header)
        if len(rows) < policy.max_records:
            break
    return sealed


def _store_block(conn: sqlite3.Connection, block: Block) -> None:
    h = block.header
    conn.execute(
        """INSERT INTO blocks (height, hash, prev_hash, header, signature, first_seq, last_seq, record_count,
                               created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (h.height, block.hash.hex(), h.prev_hash.hex(), h.encode(), block.signature, h.first_seq, h.last_seq,
         h.record_count, h.created_at_ms))
    conn.execute("UPDATE ledger_records SET block_height = ? WHERE seq BETWEEN ? AND ?",
                 (h.height, h.first_seq, h.last_seq))


def load_blocks(store: Store, from_height: int = 0) -> Iterator[tuple[Block, bytes]]:
    """Stored blocks from a height on, each with the hash that was stored for it. Reads in pages, not all at once."""
    height = from_height
    while True:
        rows = store.all("SELECT height, hash, header, signature, first_seq, last_seq FROM blocks "
                         "WHERE height >= ? ORDER BY height LIMIT 50", (height,))
        if not rows:
            return
        for row in rows:
            bodies = store.all("SELECT body FROM ledger_records WHERE seq BETWEEN ? AND ? ORDER BY seq",
                               (row["first_seq"], row["last_seq"]))
            header = decode_header(bytes(row["header"]))
            yield Block(header, bytes(row["signature"]), tuple(bytes(b[0]) for b in bodies)), bytes.fromhex(
                row["hash"])
            height = row["height"] + 1


@dataclass(frozen=True)
class ChainReport:
    blocks: int
    records: int
    head: Head | None


def verify_chain(store: Store, public_key: bytes) -> ChainReport:
    """Walk the whole chain from genesis. Raises BlockError naming the first height that fails.

    What this cannot see: the newest blocks cut off the end together with their records (a shorter chain is still
    a valid chain). HQ's signed receipts for blocks it has acknowledged are what catch that.
    """
    previous: BlockHeader | None = None
    records = 0
    for block, stored_hash in load_blocks(store):
        verify_block(block, public_key, previous, stated_hash=stored_hash)
        records += block.header.record_count
        previous = block.header
    last_seq = previous.last_seq if previous else 0
    stray = store.scalar("SELECT MIN(seq) FROM ledger_records WHERE (seq <= ? AND block_height IS NULL) "
                         "OR (seq > ? AND block_height IS NOT NULL)", (last_seq, last_seq))
    if stray is not None:
        raise BadRecord(previous.height if previous else None,
                        f"record {stray}'s seal mark disagrees with the chain")
    return ChainReport(0 if previous is None else previous.height + 1, records, head(store.conn))


__all__ = ["BlockError", "ChainReport", "Head", "SealPolicy", "head", "load_blocks", "pending_count",
           "seal_pending", "verify_chain"]
