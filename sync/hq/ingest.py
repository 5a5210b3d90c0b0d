"""Ingest of a terminal's signed blocks: verify each against the registered key and the stored head, then write the
block, its records and the books materialised from them in ONE transaction, and answer with a signed receipt."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool

from sync.hq.books import load_lookups, load_state, rules_terminal, save_state
from sync.hq.keys import HQKeys
from sync.hq.rules import Refusal, check_block
from sync.protocol.blocks import (
    Block,
    BlockError,
    check_block_alone,
    check_block_link,
    decode_header,
)
from sync.protocol.messages import receipt_digest_input, receipt_payload
from sync.protocol.records import Record

logger = logging.getLogger(__name__)

ACCEPTED, DUPLICATE, CONFLICT, INVALID, GAP, NOT_PROCESSED = (
    "accepted", "duplicate", "conflict", "invalid", "gap", "not_processed")

# A till's camera alert kinds as HQ's alert list names them (consolekit.ALERT_NAMES).
CAMERA_ALERT_KINDS = {"motion_after_hours": "motion_after_hours", "camera_failed": "camera_failure"}


@dataclass
class BlockResult:
    height: int
    status: str
    reason: str | None = None
    detail: str | None = None
    receipt: dict[str, Any] | None = None
    receipt_signature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"height": self.height, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.detail:
            out["detail"] = self.detail
        if self.receipt is not None:
            out["receipt"] = self.receipt
            out["receipt_signature"] = self.receipt_signature
        return out


@dataclass
class IngestOutcome:
    results: list[BlockResult] = field(default_factory=list)
    head: dict[str, Any] | None = None
    records: int = 0
    sales: int = 0
    minted: int = 0  # ST units the accepted blocks' token_mint records minted

    @property
    def http_status(self) -> int:
        statuses = {r.status for r in self.results}
        if CONFLICT in statuses:
            return 409
        if INVALID in statuses:
            return 422
        return 200


def _account_id(account: str | None) -> str | None:
    """The customer's account the desk linked: its id as such, or the id of its key; anything else is no link."""
    from sync.protocol import accounts

    if not account:
        return None
    if account.startswith("HC") and len(account) == 34 and account.isalnum():
        return account
    try:
        return accounts.account_id(account)
    except ValueError:
        return None


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=(ms % 1000) * 1000)


def _receipt(keys: HQKeys, terminal_id: str, height: int, block_hash: bytes, received_at: datetime,
             result_status: str) -> BlockResult:
    receipt = receipt_payload(terminal_id, height, block_hash.hex(), int(received_at.timestamp() * 1000))
    signature = keys.sign_receipt(receipt_digest_input(receipt)).hex()
    return BlockResult(height, result_status, receipt=receipt, receipt_signature=signature)


async def head_of(conn: AsyncConnection[Any], terminal_id: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT height, hash, first_seq + record_count - 1 FROM blocks WHERE terminal_id = %s "
                             "ORDER BY height DESC LIMIT 1", (terminal_id,))
    row = await cur.fetchone()
    return None if row is None else {"height": row[0], "hash": bytes(row[1]).hex(), "last_seq": row[2]}


async def ingest_blocks(pool: AsyncConnectionPool[Any], keys: HQKeys, terminal: dict[str, Any],
                        blocks: Sequence[Block], stated: Sequence[bytes]) -> IngestOutcome:
    """Blocks must come in height order. Stops at the first block that is neither accepted nor a duplicate: nothing
    after a bad block can be accepted, and a gap means the terminal must resend from HQ's head."""
    outcome = IngestOutcome()
    terminal_id = terminal["id"]
    key = bytes(terminal["signing_public_key"])
    for index, (block, stated_hash) in enumerate(zip(blocks, stated, strict=True)):
        result = await _ingest_one(pool, keys, terminal, key, block, stated_hash, outcome)
        outcome.results.append(result)
        if result.status == INVALID:  # tampering or a forged chain: someone at HQ should look
            async with pool.connection() as conn:
                await conn.execute("INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'invalid_block', %s)",
                                   (terminal_id, json.dumps({"height": block.height, "reason": result.reason,
                                                             "detail": result.detail})))
        if result.status not in (ACCEPTED, DUPLICATE):
            outcome.results += [BlockResult(b.height, NOT_PROCESSED) for b in blocks[index + 1:]]
            break
    async with pool.connection() as conn:
        outcome.head = await head_of(conn, terminal_id)
    return outcome


async def _ingest_one(pool: AsyncConnectionPool[Any], keys: HQKeys, terminal: dict[str, Any], key: bytes,
                      block: Block, stated_hash: bytes, outcome: IngestOutcome) -> BlockResult:
    terminal_id = terminal["id"]
    height = block.height
    if block.header.terminal_id != terminal_id:
        return BlockResult(height, INVALID, "wrong_terminal", "the block names another terminal")
    try:
        # The expensive part (signature, every record, Merkle root) before any lock is taken.
        records = check_block_alone(block, key, stated_hash)
    except BlockError as exc:
        return BlockResult(height, INVALID, exc.reason, exc.detail)
    conflict: tuple[bytes, bytes] | None = None
    async with pool.connection() as conn:
        async with conn.transaction():
            # One writer per terminal at a time: its row is the lock.
            await conn.execute("SELECT 1 FROM terminals WHERE id = %s FOR UPDATE", (terminal_id,))
            cur = await conn.execute("SELECT hash, received_at FROM blocks WHERE terminal_id = %s AND height = %s",
                                     (terminal_id, height))
            existing = await cur.fetchone()
            if existing is not None:
                if bytes(existing[0]) == block.hash:
                    return _receipt(keys, terminal_id, height, block.hash, existing[1], DUPLICATE)
                conflict = (bytes(existing[0]), block.hash)
            else:
                cur = await conn.execute("SELECT header FROM blocks WHERE terminal_id = %s ORDER BY height DESC "
                                         "LIMIT 1", (terminal_id,))
                top = await cur.fetchone()
                previous = decode_header(bytes(top[0])) if top else None
                expected = 0 if previous is None else previous.height + 1
                if height > expected:
                    return BlockResult(height, GAP, "gap", f"HQ holds blocks up to {expected - 1}; send {expected}")
                try:
                    check_block_link(block.header, previous)
                except BlockError as exc:
                    return BlockResult(height, INVALID, exc.reason, exc.detail)
                state = await load_state(conn, terminal_id)
                try:
                    lookups = await load_lookups(conn, terminal_id, state, records)
                    verdict = check_block(rules_terminal(terminal), state, records, lookups,
                                          time.time_ns() // 1_000_000)
                except Refusal as exc:
                    return BlockResult(height, INVALID, exc.reason, exc.detail)
                try:
                    async with conn.transaction():  # a savepoint: a refused materialisation leaves nothing
                        received_at = await _store(conn, terminal, block, records, verdict.unconfirmed_sales)
                        await save_state(conn, terminal_id, verdict.state)
                except (errors.IntegrityError, errors.DataError) as exc:
                    logger.warning("block %s/%s refused while materialising: %s", terminal_id, height, exc)
                    return BlockResult(height, INVALID, "bad_content", _content_error(exc))
                outcome.records += len(records)
                outcome.sales += sum(1 for r in records if r.type == "sale")
                outcome.minted += sum(int(r.payload["minted"]) for r in records if r.type == "token_mint")
                return _receipt(keys, terminal_id, height, block.hash, received_at, ACCEPTED)
    # A fork: another block at a height HQ already has. Refuse it and raise an alert (in its own transaction).
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'fork', %s)",
                           (terminal_id, json.dumps({"height": height, "stored_hash": conflict[0].hex(),
                                                     "offered_hash": conflict[1].hex()})))
    return BlockResult(height, CONFLICT, "fork", f"HQ already holds a different block at height {height}")


def _content_error(exc: Exception) -> str:
    if isinstance(exc, errors.UniqueViolation):
        return "a record repeats a fact HQ already holds (for example a sale id)"
    return f"a record's contents do not fit the books: {type(exc).__name__}"


async def _store(conn: AsyncConnection[Any], terminal: dict[str, Any], block: Block,
                 records: Sequence[Record], unconfirmed: set[str]) -> datetime:
    h = block.header
    cur = await conn.execute(
        """INSERT INTO blocks (terminal_id, height, hash, prev_hash, header, signature, first_seq, record_count,
                               created_at_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING received_at""",
        (h.terminal_id, h.height, block.hash, h.prev_hash, h.encode(), block.signature, h.first_seq,
         h.record_count, h.created_at_ms))
    row = await cur.fetchone()
    assert row is not None
    received_at: datetime = row[0]
    async with conn.cursor().copy(
            "COPY records (terminal_id, seq, block_height, type, created_at_ms, body) FROM STDIN") as copy:
        for rec, body in zip(records, block.records, strict=True):
            await copy.write_row((rec.terminal_id, rec.seq, h.height, rec.type, rec.created_at_ms, body))
    await materialise(conn, terminal, records, unconfirmed, h.height)
    return received_at


async def _date_mints_sold_earlier(conn: AsyncConnection[Any], terminal_id: str, mints: list[list[Any]]) -> None:
    """A mint row's last field is its sale's time (the partition it goes to); a mint whose sale ended the previous
    block has none yet: take it from the sale HQ holds."""
    earlier = [m[1] for m in mints if m[-1] is None]
    if not earlier:
        return
    cur = await conn.execute("SELECT sale_id::text, created_at FROM sales WHERE terminal_id = %s AND "
                             "sale_id = ANY(%s::uuid[])", (terminal_id, earlier))
    sale_at = dict(await cur.fetchall())
    for m in mints:
        m[-1] = m[-1] or sale_at.get(m[1])
    if any(m[-1] is None for m in mints):
        raise errors.DataError("a token mint names a sale HQ does not hold")


async def materialise(conn: AsyncConnection[Any], terminal: dict[str, Any], records: Sequence[Record],
                      unconfirmed: set[str], height: int) -> None:
    """The books from records the rules allowed: sales and their parts, shifts, refunds, order status. Every row
    carries its terminal; bulk rows go by COPY. A mint in `unconfirmed` (a sale made before the terminal enrolled)
    is booked but held until an hq_admin confirms it."""
    tid, node = terminal["id"], terminal["node_id"]
    Rows = list[tuple[Any, ...]]
    sales: Rows = []
    items: Rows = []
    payments: Rows = []
    checks: Rows = []
    mints: list[list[Any]] = []
    mint_updates: Rows = []
    statuses: Rows = []
    shifts_open: Rows = []
    refused_updates: Rows = []
    shifts_closed: Rows = []
    refunds: Rows = []
    reversals: Rows = []
    kyc_cases: Rows = []
    # A sale's token_mint is the very next record: when both are in this block, the sale row is written complete
    # (one COPY) instead of being patched by an UPDATE per sale.
    mint_of = {r.payload["sale_id"]: r.payload for r in records if r.type == "token_mint"}
    sold_here = {r.payload["sale_id"] for r in records if r.type == "sale"}
    sale_at: dict[str, datetime] = {}  # a sale's time, which its items, payments and mint are partitioned by
    for rec in records:
        p = rec.payload
        at = _ts(rec.created_at_ms)
        if rec.type == "sale":
            pay = p["payments"]
            cash = sum(x["amount"] for x in pay if x["kind"] == "cash")
            mint = mint_of.get(p["sale_id"])
            sales.append((p["sale_id"], tid, node, p["shift_id"], p["check"]["id"], p["cashier"], at, p["subtotal"],
                          (p["discount"] or {}).get("amount", 0), p["total"], cash, p["total"] - cash, p["change"],
                          p["status"], rec.seq, mint["node_type"] if mint else terminal["node_type"],
                          mint["policy_version"] if mint else 0, mint["minted"] if mint else 0))
            sale_at[p["sale_id"]] = at
            items += [(tid, p["sale_id"], n, ln["item_id"], ln["name"], ln["quantity"], ln["unit_price"], at)
                      for n, ln in enumerate(p["lines"], 1)]
            payments += [(tid, p["sale_id"], n, x["kind"], x["amount"], x["tendered"], x["change"], x["reference"],
                          at) for n, x in enumerate(pay, 1)]
            c = p["check"]
            checks.append((c["id"], tid, p["sale_id"], c["claim_hash"], c["claim_salt"], c["claim_hash_alg"],
                           c["claim_hash_iterations"], c["claim_address"]))
        elif rec.type == "token_mint":
            parts = p["parts"]
            mints.append([tid, p["sale_id"], p["policy_version"], p["minted"], parts.get("owner", 0),
                          parts.get("franchisee", 0), parts.get("charity", 0), parts.get("customer", 0),
                          p["customer_address"], p["sale_id"] not in unconfirmed, sale_at.get(p["sale_id"])])
            if p["sale_id"] not in sold_here:  # its sale came in the previous block
                mint_updates.append((p["node_type"], p["policy_version"], p["minted"], tid, p["sale_id"]))
        elif rec.type == "order_status":
            statuses.append((p["to"], tid, p["sale_id"]))
        elif rec.type == "shift_opened":
            shifts_open.append((p["shift_id"], tid, p["user"], at, p["float"]))
        elif rec.type == "shift_closed":
            shifts_closed.append((p["user"], at, p["counted_cash"], p["expected_cash"], p["variance"], tid,
                                  p["shift_id"]))
        elif rec.type == "update_refused":  # a terminal could not apply one of HQ's updates: someone should look
            refused_updates.append((tid, json.dumps({"seq": rec.seq, **p})))
        elif rec.type == "kyc_submitted":
            kyc_cases.append((p["case_id"], tid, p["sha256"], _account_id(p["account"]), at))
        elif rec.type == "refund":
            refunds.append((p["refund_id"], p["sale_id"], tid, p["amount"], p["method"], p["reason"],
                            p["approved_by"], at))
            reversals += [(tid, p["refund_id"], party, amount) for party, amount in p["token_reversal"].items()]
    cur = conn.cursor()
    await _camera_books(cur, tid, height, records)
    if kyc_cases:  # what the chain says of each case: the uploaded envelope must be this one (kyc.store_case)
        await cur.executemany("INSERT INTO kyc_submissions (case_id, terminal_id, sha256, account_id, submitted_at) "
                              "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (case_id) DO NOTHING", kyc_cases)
        await cur.execute(
            "INSERT INTO alerts (terminal_id, kind, detail) SELECT c.terminal_id, 'kyc_mismatch', "
            "json_build_object('case_id', c.case_id, 'uploaded', c.sha256, 'recorded', s.sha256) FROM kyc_cases c "
            "JOIN kyc_submissions s ON s.case_id = c.case_id WHERE c.case_id = ANY(%s::uuid[]) AND "
            "c.sha256 <> s.sha256", ([row[0] for row in kyc_cases],))
    if refused_updates:
        await cur.executemany("INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'update_refused', %s)",
                              refused_updates)
    if shifts_open:
        await cur.executemany("INSERT INTO shifts (shift_id, terminal_id, opened_by, opened_at, float_amount) "
                              "VALUES (%s, %s, %s, %s, %s)", shifts_open)
    if sales:
        async with cur.copy("COPY sales (sale_id, terminal_id, node_id, shift_id, check_id, cashier, created_at, "
                            "subtotal, discount, total, cash_amount, card_amount, change_given, status, record_seq, "
                            "node_type, policy_version, minted) FROM STDIN") as copy:
            for row in sales:
                await copy.write_row(row)
        for table, columns, rows in (
            ("sale_items", "terminal_id, sale_id, line_no, item_id, name, quantity, unit_price, created_at", items),
            ("payments", "terminal_id, sale_id, line_no, kind, amount, tendered, change_given, reference, "
                         "created_at", payments),
            ("checks", "check_id, terminal_id, sale_id, claim_hash, claim_salt, claim_hash_alg, "
                       "claim_hash_iterations, claim_address", checks),
        ):
            async with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
    if mints:
        await _date_mints_sold_earlier(conn, tid, mints)
        async with cur.copy("COPY token_mints (terminal_id, sale_id, policy_version, minted, owner, franchisee, "
                            "charity, customer, customer_address, confirmed, created_at) FROM STDIN") as copy:
            for mint_row in mints:
                await copy.write_row(mint_row)
        if mint_updates:
            await cur.executemany("UPDATE sales SET node_type = %s, policy_version = %s, minted = %s "
                                  "WHERE terminal_id = %s AND sale_id = %s", mint_updates)
    if statuses:
        await cur.executemany("UPDATE sales SET status = %s WHERE terminal_id = %s AND sale_id = %s", statuses)
    if shifts_closed:
        await cur.executemany("UPDATE shifts SET closed_by = %s, closed_at = %s, counted_cash = %s, "
                              "expected_cash = %s, variance = %s WHERE terminal_id = %s AND shift_id = %s",
                              shifts_closed)
    if refunds:
        await cur.executemany("INSERT INTO refunds (refund_id, sale_id, terminal_id, amount, method, reason, "
                              "approved_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", refunds)
        await cur.executemany("INSERT INTO token_reversals (terminal_id, refund_id, party, amount) "
                              "VALUES (%s, %s, %s, %s)", reversals)


async def _camera_books(cur: Any, tid: str, height: int, records: Sequence[Record]) -> None:
    """What a till's camera records give HQ: one alert per incident of its cameras, counting its events, and the till's
    acknowledgement on it; its cameras' names; and every segment's hash, which footage uploaded as evidence must match.
    """
    events: list[dict[str, Any]] = []
    acks: list[tuple[Any, ...]] = []
    cameras: list[tuple[Any, ...]] = []
    segments: list[tuple[Any, ...]] = []
    for rec in records:
        p = rec.payload
        if rec.type == "camera_alert":  # after-hours motion, a camera down: for the console's alert list
            events.append(p)
        elif rec.type == "camera_alert_acknowledged":
            acks.append((json.dumps({"acknowledged_at_till_by": p["user"], "till_note": p.get("note", "")}), tid,
                         str(p["alert_id"])))
        elif rec.type == "camera_configured":  # its name and kind, for the console
            config = p["config"]
            cameras.append((tid, p["camera_id"], str(config.get("name") or p["camera_id"])[:80],
                            str(config.get("kind") or ""), False))
        elif rec.type == "camera_removed":
            cameras.append((tid, p["camera_id"], p["camera_id"], "", True))
        elif rec.type == "camera_segment":  # footage HQ may ask for as evidence: it must hash to this
            segments.append((tid, p["sha256"], p["camera_id"], f"{p['day']}/{p['file']}", p["started_at_ms"],
                             p["ended_at_ms"], p["frames"], p["bytes"], rec.seq, height))
    for p in events:
        kind = CAMERA_ALERT_KINDS[p["kind"]]
        detail = {"alert_id": p["alert_id"], "camera_id": p["camera_id"], "first_at_ms": p["at_ms"],
                  "last_at_ms": p["at_ms"], "count": 1, **({"error": p["error"]} if p.get("error") else {})}
        await cur.execute(
            "WITH seen AS (UPDATE alerts SET detail = detail || jsonb_build_object('count', "
            "(detail ->> 'count')::int + 1, 'last_at_ms', GREATEST((detail ->> 'last_at_ms')::bigint, %s)) "
            "WHERE terminal_id = %s AND kind = %s AND detail ->> 'alert_id' = %s AND acknowledged_at IS NULL "
            "RETURNING id) INSERT INTO alerts (terminal_id, kind, detail) SELECT %s, %s, %s "
            "WHERE NOT EXISTS (SELECT 1 FROM seen)",
            (p["at_ms"], tid, kind, str(p["alert_id"]), tid, kind, json.dumps(detail)))
    if acks:  # the till's manager looked at it: HQ's alert says so (HQ's own acknowledgement is HQ's)
        await cur.executemany("UPDATE alerts SET detail = detail || %s::jsonb WHERE terminal_id = %s AND kind IN "
                              "('motion_after_hours', 'camera_failure') AND detail ->> 'alert_id' = %s", acks)
    if cameras:  # in ledger order: the last word on a camera stands
        await cur.executemany("INSERT INTO terminal_cameras (terminal_id, camera_id, name, kind, removed) VALUES "
                              "(%s, %s, %s, %s, %s) ON CONFLICT (terminal_id, camera_id) DO UPDATE SET "
                              "name = CASE WHEN excluded.removed THEN terminal_cameras.name ELSE excluded.name END, "
                              "kind = CASE WHEN excluded.removed THEN terminal_cameras.kind ELSE excluded.kind END, "
                              "removed = excluded.removed", cameras)
    if segments:
        await cur.executemany("INSERT INTO camera_segments (terminal_id, sha256, camera_id, file, started_at_ms, "
                              "ended_at_ms, frames, size, record_seq, block_height) VALUES (%s, %s, %s, %s, %s, %s, "
                              "%s, %s, %s, %s) ON CONFLICT DO NOTHING", segments)
