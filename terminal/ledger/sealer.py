"""Sealing the ledger: pending records -> signed, hash-chained blocks; and walking the chain to verify it."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sync.protocol.blocks import (
    GENESIS_PREV_HASH,
    BadContent,
    BadRecord,
    Block,
    BlockError,
    BlockHeader,
    build_block,
    check_block_link,
    decode_header,
)
from sync.protocol.schemas import stored_record_problem
from terminal.ledger.chainworker import blocks_in, check_block, check_range
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


def seal_pending(store: Store, terminal_id: str, sign: Callable[[bytes], bytes], now_ms: Callable[[], int], *,
                 policy: SealPolicy = SealPolicy(), force: bool = False) -> list[BlockHeader]:
    """Seal what is due (everything pending when force) into blocks of at most policy.max_records.

    The block is built and signed outside any lock (records are append-only, so reading them needs none); the
    write transaction only checks that the head has not moved and stores the block and the marks on its records,
    together or not at all. A sale at the counter waits for that short transaction at most, never for the signing.
    """
    sealed: list[BlockHeader] = []
    while True:
        at = now_ms()
        conn = store.conn
        top = head(conn)
        after = top.last_seq if top else 0
        rows = conn.execute("SELECT seq, created_at_ms, body, type FROM ledger_records WHERE seq > ? ORDER BY seq "
                            "LIMIT ?", (after, policy.max_records)).fetchall()
        if not rows:
            break
        due = force or len(rows) >= policy.max_records or at - rows[0][1] >= policy.max_age_ms
        if not due:
            break
        height = 0 if top is None else top.height + 1
        for seq, _, body, record_type in rows:  # never sign what HQ would refuse for its content
            if not isinstance(body, bytes):
                raise BadContent(height, f"record {seq} cannot be sealed: it is stored as {type(body).__name__}, "
                                         "not as the bytes the terminal wrote")
            problem = stored_record_problem(body, record_type)
            if problem:
                raise BadContent(height, f"record {seq} cannot be sealed: {problem}")
        block = build_block(terminal_id=terminal_id, height=height,
                            prev_hash=GENESIS_PREV_HASH if top is None else bytes.fromhex(top.hash),
                            created_at_ms=at, first_seq=rows[0][0], records=[bytes(r[2]) for r in rows], sign=sign)
        with store.transaction() as tx:
            if head(tx) != top:  # another sealer got there first: build again on the new head
                continue
            _store_block(tx, block)
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
    return ((block, stated) for block, stated, _ in blocks_in(store.conn, from_height, None))


@dataclass(frozen=True)
class ChainReport:
    blocks: int
    records: int
    head: Head | None


def _worker_context() -> multiprocessing.context.BaseContext:
    """A plain fork when this process runs no other thread (the CLI's `verify`): workers start in milliseconds.
    Otherwise (a GUI with its background threads) a fork could inherit a lock some thread holds, so workers fork
    from a server process that has imported only the checking code."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["terminal.ledger.chainworker"])
    return ctx


PARALLEL_FROM_BLOCKS = 16
_BATCH = 16


def verify_chain(store: Store, public_key: bytes, *, workers: int | None = None) -> ChainReport:
    """Walk the whole chain from genesis. Raises BlockError naming the first height that fails.

    Each block's own checks (signature, records, Merkle root) run on every core for long chains; the links between
    blocks are checked here, in order. What this cannot see: the newest blocks cut off the end together with their
    records (a shorter chain is still a valid chain); HQ's signed receipts are what catch that.
    """
    workers = workers if workers is not None else (os.cpu_count() or 1)
    total_blocks = int(store.scalar("SELECT COUNT(*) FROM blocks"))
    previous: BlockHeader | None = None
    records = 0
    failures: list[tuple[int, int, BlockError]] = []  # (height, 0 = the block alone / 1 = its link, error)
    if workers > 1 and total_blocks >= PARALLEL_FROM_BLOCKS:
        # Workers read and check the blocks themselves; here only the headers are read, for the links.
        step = max(1, min(_BATCH, -(-total_blocks // workers)))
        with ProcessPoolExecutor(workers, mp_context=_worker_context()) as pool:
            pending = [pool.submit(check_range, str(store.path), first, first + step - 1, public_key)
                       for first in range(0, total_blocks, step)]
            for h, header in store.conn.execute("SELECT height, header FROM blocks ORDER BY height"):
                block_header = decode_header(bytes(header))
                try:
                    check_block_link(block_header, previous)
                except BlockError as exc:
                    failures.append((h, 1, exc))
                    break
                records += block_header.record_count
                previous = block_header
            failures += [(err.height or 0, 0, err) for err in (f.result() for f in pending) if err is not None]
    else:
        for block, stored_hash, stray in blocks_in(store.conn, 0, None):
            check_block(block, public_key, stored_hash, stray)
            check_block_link(block.header, previous)
            records += block.header.record_count
            previous = block.header
    if failures:  # the lowest height wins; at one height, the block's own fault before its link (docs/protocol.md)
        raise min(failures, key=lambda f: (f[0], f[1]))[2]
    last_seq = previous.last_seq if previous else 0
    stray = store.scalar("SELECT MIN(seq) FROM ledger_records WHERE seq > ? AND block_height IS NOT NULL",
                         (last_seq,))
    if stray is not None:
        raise BadRecord(previous.height if previous else None,
                        f"record {stray} is marked as sealed but no block holds it")
    return ChainReport(0 if previous is None else previous.height + 1, records, head(store.conn))


__all__ = ["BlockError", "ChainReport", "Head", "SealPolicy", "head", "load_blocks", "seal_pending",
           "verify_chain"]
