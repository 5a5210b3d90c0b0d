"""Checking stored blocks in a worker process: light on imports (no store, no sqlite-utils), so workers start fast."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from sync.protocol.blocks import BadRecord, Block, BlockError, check_block_alone, decode_header


def blocks_in(conn: sqlite3.Connection, first: int, last: int | None) -> Iterator[tuple[Block, bytes, int | None]]:
    """Stored blocks first..last (None: to the end), each with the hash stored beside it and the first of its records
    whose seal mark names another block (None when all agree). Reads 50 blocks at a time."""
    height = first
    while last is None or height <= last:
        rows = conn.execute("SELECT height, hash, header, signature, first_seq, last_seq FROM blocks "
                            "WHERE height >= ? AND height <= ? ORDER BY height LIMIT 50",
                            (height, last if last is not None else 2**62)).fetchall()
        if not rows:
            return
        for h, stored_hash, header, signature, first_seq, last_seq in rows:
            rows_ = conn.execute("SELECT seq, body, block_height FROM ledger_records WHERE seq BETWEEN ? AND ? "
                                 "ORDER BY seq", (first_seq, last_seq)).fetchall()
            stray = next((r[0] for r in rows_ if r[2] != h), None)
            changed = next((r for r in rows_ if not isinstance(r[1], bytes)), None)
            if changed is not None:  # the bytes were turned into something else: what was signed is gone
                raise BadRecord(h, f"record {changed[0]} is stored as {type(changed[1]).__name__}, not as its bytes")
            yield (Block(decode_header(bytes(header)), bytes(signature), tuple(r[1] for r in rows_)),
                   bytes.fromhex(stored_hash), stray)
            height = h + 1


def check_block(block: Block, public_key: bytes, stated: bytes, stray: int | None) -> None:
    check_block_alone(block, public_key, stated)
    if stray is not None:
        raise BadRecord(block.height, f"record {stray} is marked as sealed in another block")


def check_range(db_path: str, first: int, last: int, public_key: bytes) -> BlockError | None:
    """The first failure among blocks first..last, each checked on its own, over a read-only connection of this
    process's own (WAL lets readers run beside the terminal's writer)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for block, stated, stray in blocks_in(conn, first, last):  # a record that cannot be read raises here
            check_block(block, public_key, stated, stray)
    except BlockError as exc:
        return exc
    finally:
        conn.close()
    return None
