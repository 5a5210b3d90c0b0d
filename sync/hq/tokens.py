"""HQ's token ledger and customer claims (docs/protocol.md section 11).

Every movement of ST is an entry of ONE append-only chain: `{seq, prev, kind, at_ms, ..., moves}` as canonical JSON,
its SHA-256 the entry's hash (each entry names the previous one's), signed with HQ's Ed25519 key. `moves` are
[holder, delta] pairs; a mint's add up to what it minted, every other entry's to zero, so the sum of all balances is
always the sum of all mints. Balances (token_balances) and each holder's entries (token_ledger_holders) are kept in
the same transaction as the entry: a view over the chain that `verify_ledger` re-derives.

Holders: `owner`, `franchisee:<franchise id>`, `charity`, `unclaimed` (customer shares not claimed yet),
`redistribution` (expired shares for the yearly payout), `reversed` (taken back by refunds, out of circulation) and
customer accounts (`HC...`).

A mint enters the chain when a claim needs it, or from `append_pending_mints` (a job): the hot ingest path never
waits on the chain's single head lock.

Lock order (no deadlock): a claim locks its check's row, then (if its mint is not in the chain yet) the mint's row,
then the chain's head. The jobs (new mints, reversals, expiry, redistribution) take the head FIRST and then lock rows
with SKIP LOCKED: a row a claim holds is left for the job's next round, so a job never waits while holding the
head."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg import AsyncConnection

from sync.hq.keys import HQKeys
from sync.hq.redistribution import redistribute
from sync.protocol import accounts, claims
from sync.protocol.canonical import CanonicalError, canonical_json, decode_canonical

logger = logging.getLogger(__name__)
GENESIS = "0" * 64
# A sale's customer share less what refunds reversed of it (for token_mints m).
CLAIMABLE_SQL = ("m.customer - coalesce((SELECT sum(v.amount) FROM token_reversals v JOIN refunds r ON "
                 "r.terminal_id = v.terminal_id AND r.refund_id = v.refund_id WHERE r.terminal_id = m.terminal_id "
                 "AND r.sale_id = m.sale_id AND v.party = 'customer'), 0)")
CLAIM_EXPIRY = timedelta(days=365)
MAX_WRONG_CODES = 5
LOCK_FOR = timedelta(hours=1)
CUSTOMER_CAP_BP = 4900  # DOMAIN.md: any single customer holds at most 49 % of all ST minted
UNCLAIMED, REDISTRIBUTION, REVERSED = "unclaimed", "redistribution", "reversed"
OWNER, CHARITY = "owner", "charity"


class LedgerError(RuntimeError):
    """A movement the balances cannot carry: a fault of ours, never a client's mistake."""


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def entry_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


async def lock_head(conn: AsyncConnection[Any]) -> tuple[int, str]:
    """Take the chain's head lock (held to the end of the caller's transaction); the last entry's seq and hash."""
    cur = await conn.execute("SELECT seq, hash FROM token_ledger_head WHERE id = 1 FOR UPDATE")
    head = await cur.fetchone()
    assert head is not None, "migration 0005 seeds the head"
    return int(head[0]), str(head[1])


async def append(conn: AsyncConnection[Any], keys: HQKeys, kind: str, fields: dict[str, Any],
                 moves: list[tuple[str, int]], at_ms: int, *, head: tuple[int, str] | None = None,
                 also: str = "", also_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one entry (inside the caller's transaction) and apply its moves; returns the signed entry.
    `head`: the head the caller already locked (lock_head); `also`: more data-modifying CTEs (`name AS (...), ...`)
    to run in the same statement, with `also_params` (they may use %(seq)s, the new entry's number)."""
    if head is None:
        head = await lock_head(conn)
    moves = [(holder, delta) for holder, delta in moves if delta]
    if len({holder for holder, _ in moves}) != len(moves):
        raise LedgerError("an entry moves each holder's balance once")
    body = {**fields, "seq": head[0] + 1, "prev": head[1], "kind": kind, "at_ms": at_ms,
            "moves": [[holder, delta] for holder, delta in moves]}
    data = canonical_json(body)
    digest = hashlib.sha256(data).hexdigest()
    signature = keys.sign_receipt(bytes.fromhex(digest)).hex()
    minted = sum(delta for _, delta in moves) if kind == "mint" else 0
    reversed_ = sum(delta for holder, delta in moves if holder == REVERSED) if kind == "reversal" else 0
    # The entry, the head, the holders' history, the balances (and the caller's own writes) in one round trip: the
    # head lock is held for as short a time as can be. CHECK (balance >= 0) refuses a debit beyond what a holder
    # has: a fault, never a silent loss.
    try:
        await conn.execute(
            "WITH entry AS (INSERT INTO token_ledger (seq, kind, body, hash, signature, at) VALUES "
            "(%(seq)s, %(kind)s, %(body)s, %(hash)s, %(sig)s, to_timestamp(%(at)s / 1000.0))), "
            "head AS (UPDATE token_ledger_head SET seq = %(seq)s, hash = %(hash)s, minted = minted + %(minted)s, "
            "reversed = reversed + %(reversed)s WHERE id = 1), "
            "moved AS (UPDATE token_balances b SET balance = b.balance + t.d FROM unnest(%(holders)s::text[], "
            "%(deltas)s::bigint[]) AS t(h, d) WHERE b.holder = t.h RETURNING b.holder), "
            "opened AS (INSERT INTO token_balances (holder, balance) SELECT h, d FROM unnest(%(holders)s::text[], "
            "%(deltas)s::bigint[]) AS t(h, d) WHERE h NOT IN (SELECT holder FROM moved))"
            + (", " + also.strip().rstrip(",") if also else "")
            + " INSERT INTO token_ledger_holders (holder, seq, delta) "
            "SELECT h, %(seq)s, d FROM unnest(%(holders)s::text[], %(deltas)s::bigint[]) AS t(h, d)",
            {**(also_params or {}), "seq": body["seq"], "kind": kind, "body": data, "hash": digest,
             "sig": signature, "at": at_ms, "minted": minted, "reversed": reversed_,
             "holders": [h for h, _ in moves], "deltas": [d for _, d in moves]})
    except psycopg.errors.CheckViolation as exc:
        raise LedgerError(f"a {kind} would take a balance below zero ({exc.diag.message_detail})") from None
    return {"entry": body, "hash": digest, "signature": signature}


_MINT = """
SELECT m.terminal_id, m.sale_id::text, m.policy_version, m.minted, m.owner, m.franchisee, m.charity, m.customer,
       m.confirmed, m.ledger_seq, c.check_id, n.franchise_id, extract(epoch FROM s.created_at) * 1000
FROM token_mints m
JOIN sales s ON s.terminal_id = m.terminal_id AND s.sale_id = m.sale_id AND s.created_at = m.created_at
JOIN checks c ON c.terminal_id = m.terminal_id AND c.sale_id = m.sale_id
JOIN terminals t ON t.id = m.terminal_id
JOIN nodes n ON n.id = t.node_id
"""


async def ledger_mint(conn: AsyncConnection[Any], keys: HQKeys, terminal_id: str, sale_id: str,
                      skip_locked: bool = False) -> int | None:
    """The chain entry of a sale's mint, appended now if it is not there yet; None while the mint is held
    (a sale from before its terminal enrolled, until an admin confirms it), or, with `skip_locked` (a job, holding
    the head), while a claim holds its row."""
    cur = await conn.execute(_MINT + " WHERE m.terminal_id = %s AND m.sale_id = %s FOR UPDATE OF m"
                             + (" SKIP LOCKED" if skip_locked else ""), (terminal_id, sale_id))
    row = await cur.fetchone()
    if row is None or not row[8]:
        return None
    if row[9] is not None:
        return int(row[9])
    (term, sale, policy, minted, owner, franchisee, charity, customer, _c, _s, check_id, franchise_id,
     sold_ms) = row
    entry = await append(conn, keys, "mint", {
        "terminal_id": term, "sale_id": sale, "check_id": check_id, "policy_version": policy, "minted": minted,
        "sold_at_ms": int(sold_ms)}, [(OWNER, owner), (f"franchisee:{franchise_id}", franchisee),
                                      (CHARITY, charity), (UNCLAIMED, customer)], now_ms())
    seq = int(entry["entry"]["seq"])
    await conn.execute("UPDATE token_mints SET ledger_seq = %s, customer_held = customer WHERE terminal_id = %s "
                       "AND sale_id = %s", (seq, terminal_id, sale_id))
    return seq


async def append_pending_mints(conn: AsyncConnection[Any], keys: HQKeys, limit: int = 1000) -> int:
    """Enter confirmed mints that are not in the chain yet (oldest first); returns how many."""
    cur = await conn.execute("SELECT terminal_id, sale_id::text FROM token_mints WHERE ledger_seq IS NULL AND "
                             "confirmed ORDER BY sale_id LIMIT %s", (limit,))
    pending = await cur.fetchall()
    if pending:
        await lock_head(conn)  # the head first: see the lock order above
    done = 0
    for terminal_id, sale_id in pending:
        if await ledger_mint(conn, keys, terminal_id, sale_id, skip_locked=True) is not None:
            done += 1
    return done


async def append_pending_reversals(conn: AsyncConnection[Any], keys: HQKeys, limit: int = 1000) -> int:
    """Enter the refunds HQ booked whose tokens the chain has not taken back yet (oldest first): one `reversal`
    entry each. Returns how many."""
    cur = await conn.execute(
        "SELECT r.terminal_id, r.refund_id::text FROM refunds r JOIN token_mints m ON "
        "m.terminal_id = r.terminal_id AND m.sale_id = r.sale_id WHERE r.ledger_seq IS NULL AND m.confirmed "
        "ORDER BY r.created_at, r.refund_id "
        "LIMIT %s", (limit,))
    pending = await cur.fetchall()
    if pending:
        await lock_head(conn)  # the head first: see the lock order above
    done = 0
    for terminal_id, refund_id in pending:
        if await ledger_reversal(conn, keys, terminal_id, refund_id) is not None:
            done += 1
    return done


async def ledger_reversal(conn: AsyncConnection[Any], keys: HQKeys, terminal_id: str,
                          refund_id: str) -> int | None:
    """The chain entry taking back a refund's tokens, appended now if it is not there yet (after the sale's mint).
    The owner's, franchisee's and charity's parts move to `reversed`; the customer's part only as far as the
    `unclaimed` holder still holds the sale's share: what the customer claimed (or what expired) before the refund
    reached HQ stays where it is, and the entry says how much of the customer's part was kept (`customer_kept`).
    The caller holds the chain's head (append_pending_reversals): rows a claim holds are skipped, not waited for."""
    cur = await conn.execute(
        "SELECT r.sale_id::text, r.ledger_seq, c.check_id, n.franchise_id FROM refunds r "
        "JOIN checks c ON c.terminal_id = r.terminal_id AND c.sale_id = r.sale_id "
        "JOIN terminals t ON t.id = r.terminal_id JOIN nodes n ON n.id = t.node_id "
        "WHERE r.terminal_id = %s AND r.refund_id = %s", (terminal_id, refund_id))
    row = await cur.fetchone()
    if row is None:
        return None
    sale_id, seq, check_id, franchise_id = row
    if seq is not None:
        return int(seq)
    # The check's row serialises this with the sale's claim and expiry; the caller holds the head, so a row a claim
    # holds is skipped (the next round takes it).
    cur = await conn.execute("SELECT 1 FROM checks WHERE check_id = %s FOR UPDATE SKIP LOCKED", (check_id,))
    if await cur.fetchone() is None:
        return None
    cur = await conn.execute("SELECT ledger_seq FROM refunds WHERE terminal_id = %s AND refund_id = %s FOR UPDATE "
                             "SKIP LOCKED", (terminal_id, refund_id))
    again = await cur.fetchone()
    if again is None or again[0] is not None:
        return None if again is None else int(again[0])
    mint_seq = await ledger_mint(conn, keys, terminal_id, sale_id, skip_locked=True)
    if mint_seq is None:
        return None
    cur = await conn.execute("SELECT party, amount FROM token_reversals WHERE terminal_id = %s AND refund_id = %s",
                             (terminal_id, refund_id))
    parts = {party: int(amount) for party, amount in await cur.fetchall()}
    cur = await conn.execute("SELECT customer_held FROM token_mints WHERE terminal_id = %s AND sale_id = %s",
                             (terminal_id, sale_id))
    held_row = await cur.fetchone()
    held = int(held_row[0]) if held_row and held_row[0] is not None else 0
    customer = min(parts.get("customer", 0), held)
    moves = [(OWNER, -parts.get("owner", 0)), (f"franchisee:{franchise_id}", -parts.get("franchisee", 0)),
             (CHARITY, -parts.get("charity", 0)), (UNCLAIMED, -customer)]
    taken = -sum(delta for _, delta in moves)
    entry = await append(conn, keys, "reversal", {
        "terminal_id": terminal_id, "sale_id": sale_id, "refund_id": refund_id, "check_id": check_id,
        "mint_seq": mint_seq, "reversed": taken, "customer_kept": parts.get("customer", 0) - customer},
        [*moves, (REVERSED, taken)], now_ms())
    seq = int(entry["entry"]["seq"])
    await conn.execute(
        "WITH r AS (UPDATE refunds SET ledger_seq = %s WHERE terminal_id = %s AND refund_id = %s) "
        "UPDATE token_mints SET customer_held = customer_held - %s WHERE terminal_id = %s AND sale_id = %s",
        (seq, terminal_id, refund_id, customer, terminal_id, sale_id))
    return seq


async def balance_of(conn: AsyncConnection[Any], holder: str) -> int:
    cur = await conn.execute("SELECT balance FROM token_balances WHERE holder = %s", (holder,))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def total_minted(conn: AsyncConnection[Any]) -> int:
    """All ST in circulation: what the chain minted less what refunds took back (the caps are shares of this)."""
    cur = await conn.execute("SELECT minted - reversed FROM token_ledger_head WHERE id = 1")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


# --- claims ------------------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    status: int
    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClaimRequest:
    check_id: str
    account: str
    nonce: str
    ts: int
    token: str | None = None
    short_code: str | None = None


async def use_nonce(conn: AsyncConnection[Any], account_id: str, nonce: str) -> bool:
    cur = await conn.execute("INSERT INTO account_nonces (account_id, nonce) VALUES (%s, %s) ON CONFLICT DO NOTHING "
                             "RETURNING 1", (account_id, nonce))
    return await cur.fetchone() is not None


INLINE_HASH_ITERATIONS = 20_000  # a stretched hash this short runs on the event loop; a longer one on a thread


async def claim(conn: AsyncConnection[Any], keys: HQKeys, req: ClaimRequest) -> dict[str, Any] | Refusal:
    """One claim, inside the caller's transaction (which must COMMIT even on a refusal: a wrong code counts).
    The signature, the nonce's form and the time were checked by the caller. Five statements in all: the nonce and
    the check (locked), the mint and the chain's head (locked: the cap is checked on what will hold), then the
    entry with every write of the claim."""
    account_id = accounts.account_id(req.account)
    cur = await conn.execute(
        "WITH nonce AS (INSERT INTO account_nonces (account_id, nonce) VALUES (%s, %s) ON CONFLICT DO NOTHING "
        "RETURNING 1) "
        "SELECT (SELECT count(*) FROM nonce), c.terminal_id, c.sale_id::text, c.claim_hash, c.claim_salt, "
        "c.claim_hash_alg, c.claim_hash_iterations, c.claimed_at, c.expired_seq, a.failures, a.locked_until "
        "FROM checks c LEFT JOIN claim_attempts a ON a.check_id = c.check_id WHERE c.check_id = %s "
        "FOR UPDATE OF c", (account_id, req.nonce, req.check_id))
    row = await cur.fetchone()
    if row is None:  # (the nonce is spent all the same: a data-modifying CTE always runs)
        return Refusal(404, "not_synced", "HQ has not received this check yet: the restaurant's terminal sends it "
                       "within minutes of the sale. Try again later.", {"retry_after_s": 300})
    if not row[0]:
        return Refusal(409, "replayed", "This request was already sent once; a new one needs a new nonce.")
    (_, terminal_id, sale_id, stored_hash, salt, alg, iterations, claimed_at, expired_seq, failures_before,
     locked_until) = row
    now = datetime.now(UTC)
    if locked_until and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        return Refusal(429, "locked", "Too many wrong codes for this check: it is locked for an hour.",
                       {"retry_after_s": wait})
    try:
        code = claims.short_code_for(claims.secret_from_token(req.token)) if req.token is not None \
            else claims.normalize_short_code(req.short_code or "")
    except ValueError as exc:
        return Refusal(422, "invalid_request", str(exc))
    # A terminal chooses the iteration count (within the schema's bound): a long one runs on a thread, so the event
    # loop serves everyone else meanwhile.
    if alg != claims.CLAIM_HASH_ALG:
        matches = False
    elif iterations <= INLINE_HASH_ITERATIONS:
        matches = claims.claim_matches(code, bytes.fromhex(salt), stored_hash, iterations)
    else:
        matches = await asyncio.to_thread(claims.claim_matches, code, bytes.fromhex(salt), stored_hash, iterations)
    if not matches:
        failures = (failures_before or 0) + 1
        locked = now + LOCK_FOR if failures >= MAX_WRONG_CODES else None
        await conn.execute("INSERT INTO claim_attempts (check_id, failures, locked_until) VALUES (%s, %s, %s) "
                           "ON CONFLICT (check_id) DO UPDATE SET failures = EXCLUDED.failures, "
                           "locked_until = EXCLUDED.locked_until",
                           (req.check_id, 0 if locked else failures, locked))
        if locked:
            return Refusal(429, "locked", "Too many wrong codes for this check: it is locked for an hour.",
                           {"retry_after_s": int(LOCK_FOR.total_seconds())})
        return Refusal(403, "wrong_code", "That code does not belong to this check.",
                       {"attempts_left": MAX_WRONG_CODES - failures})
    if claimed_at is not None:
        return Refusal(409, "already_claimed", "This check's tokens were already claimed.")
    mint = await _mint_and_head(conn, terminal_id, sale_id, account_id)
    if mint is not None and mint[1] and mint[0] is None:  # not in the chain yet: enter it now, then look again
        await ledger_mint(conn, keys, terminal_id, sale_id)
        mint = await _mint_and_head(conn, terminal_id, sale_id, account_id)
    if mint is None or not mint[1] or mint[0] is None:
        return Refusal(404, "not_synced", "This check is waiting for HQ to confirm its terminal's early sales. Try "
                       "again later.", {"retry_after_s": 3600})
    seq, _, sold_at, amount, circulating, balance, head_seq, head_hash = mint
    if sold_at + CLAIM_EXPIRY < now or expired_seq is not None:
        return Refusal(410, "expired", "This check's tokens expired: a share can be claimed for 365 days after "
                       "the sale.")
    if amount <= 0:
        return Refusal(409, "nothing_to_claim", "This check has no tokens left to claim (the sale was refunded).")
    cap = circulating * CUSTOMER_CAP_BP // 10_000
    if balance + amount > cap:
        return Refusal(409, "cap_exceeded", "This account would hold more than 49 % of all tokens. The check stays "
                       "claimable: try again when more tokens exist, or claim into another account.",
                       {"balance": balance, "cap": cap})
    claim_id = str(uuid.uuid4())
    entry = await append(
        conn, keys, "claim", {"check_id": req.check_id, "claim_id": claim_id, "account_id": account_id,
                              "amount": amount, "mint_seq": seq},
        [(UNCLAIMED, -amount), (account_id, amount)], now_ms(), head=(head_seq, head_hash),
        also="account AS (INSERT INTO accounts (account_id, public_key) VALUES (%(account)s, %(key)s) "
             "ON CONFLICT DO NOTHING), "
             "claim AS (INSERT INTO claims (check_id, claim_id, account_id, amount, ledger_seq) VALUES "
             "(%(check)s, %(claim)s, %(account)s, %(amount)s, %(seq)s)), "
             "mark AS (UPDATE checks SET claimed_at = now(), claimed_to = %(account)s WHERE check_id = %(check)s), "
             "held AS (UPDATE token_mints SET customer_held = customer_held - %(amount)s WHERE "
             "terminal_id = %(term)s AND sale_id = %(sale)s), "
             "attempts AS (DELETE FROM claim_attempts WHERE check_id = %(check)s), ",
        also_params={"account": account_id, "key": req.account, "check": req.check_id, "claim": claim_id,
                     "amount": amount, "term": terminal_id, "sale": sale_id})
    return {"claim_id": claim_id, "amount": amount, "account_id": account_id, "balance": balance + amount,
            "receipt": entry}


async def _mint_and_head(conn: AsyncConnection[Any], terminal_id: str, sale_id: str,
                         account_id: str) -> tuple[Any, ...] | None:
    """A sale's mint (ledger seq, confirmed, sold at, what is claimable) with the chain's head locked: the ST in
    circulation, the account's balance, the head's seq and hash. None when HQ holds no mint for the sale."""
    cur = await conn.execute(
        f"SELECT m.ledger_seq, m.confirmed, s.created_at, {CLAIMABLE_SQL}, h.minted - h.reversed, "
        "coalesce(b.balance, 0), h.seq, h.hash FROM token_mints m JOIN sales s ON s.terminal_id = m.terminal_id "
        "AND s.sale_id = m.sale_id AND s.created_at = m.created_at CROSS JOIN token_ledger_head h "
        "LEFT JOIN token_balances b ON b.holder = %s "
        "WHERE m.terminal_id = %s AND m.sale_id = %s AND h.id = 1 FOR UPDATE OF h", (account_id, terminal_id, sale_id))
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1], row[2], int(row[3]), int(row[4]), int(row[5]), int(row[6]),
                                     row[7])


async def transfer(conn: AsyncConnection[Any], keys: HQKeys, sender: str, receiver: str,
                   amount: int) -> dict[str, Any] | Refusal:
    """Move `amount` from one account to another (the caller checked the signature, nonce and the sender's KYC):
    an existing receiver, enough balance, the receiver's cap; one `transfer` entry under the head lock."""
    if receiver == sender:
        return Refusal(422, "invalid_request", "An account cannot send tokens to itself.")
    cur = await conn.execute("SELECT 1 FROM accounts WHERE account_id = %s", (receiver,))
    if await cur.fetchone() is None:
        return Refusal(404, "unknown_account", "No account with that id has claimed tokens yet: check the id (scan "
                       "the receiver's account QR).")
    head = await lock_head(conn)
    cur = await conn.execute("SELECT h.minted - h.reversed, coalesce((SELECT balance FROM token_balances WHERE "
                             "holder = %s), 0), coalesce((SELECT balance FROM token_balances WHERE holder = %s), 0) "
                             "FROM token_ledger_head h WHERE h.id = 1", (sender, receiver))
    row = await cur.fetchone()
    assert row is not None
    circulating, have, theirs = int(row[0]), int(row[1]), int(row[2])
    if amount > have:
        return Refusal(409, "insufficient_balance", "This account holds fewer tokens than that.",
                       {"balance": have})
    cap = circulating * CUSTOMER_CAP_BP // 10_000
    if theirs + amount > cap:
        return Refusal(409, "cap_exceeded", "The receiving account would hold more than 49 % of all tokens.",
                       {"cap": cap})
    transfer_id = str(uuid.uuid4())
    entry = await append(conn, keys, "transfer", {"transfer_id": transfer_id, "from": sender, "to": receiver,
                                                  "amount": amount},
                         [(sender, -amount), (receiver, amount)], now_ms(), head=head)
    return {"transfer_id": transfer_id, "amount": amount, "from": sender, "to": receiver,
            "balance": have - amount, "receipt": entry}


async def account_view(conn: AsyncConnection[Any], account_id: str, limit: int = 200) -> dict[str, Any]:
    """An account's balance and its entries (newest first), each with its hash and HQ's signature."""
    cur = await conn.execute(
        "SELECT l.body, l.hash, l.signature FROM token_ledger_holders h JOIN token_ledger l ON l.seq = h.seq "
        "WHERE h.holder = %s ORDER BY h.seq DESC LIMIT %s", (account_id, limit))
    entries = [{"entry": decode_canonical(bytes(body)), "hash": digest, "signature": sig}
               for body, digest, sig in await cur.fetchall()]
    return {"account_id": account_id, "balance": await balance_of(conn, account_id), "entries": entries}


# --- the job and the verifier -------------------------------------------------------------------------------------

MINT_JOB_INTERVAL_S = 10.0
MINT_BATCH = 20
EXPIRY_EVERY_S = 3600.0  # unclaimed shares past 365 days move to the redistribution pool about hourly


async def mint_job(pool: Any, keys: HQKeys, interval_s: float = MINT_JOB_INTERVAL_S) -> None:
    """Enter new mints into the chain every few seconds (a claim enters its own at once). Runs in every worker:
    the chain's head lock keeps them in turn, and a mint enters once whoever gets there first."""
    rounds = 0
    while True:
        try:
            # Small batches, each its own transaction: the chain's head is locked only for one batch at a time, so
            # a customer's claim waits for at most one batch, not for the whole backlog (the soak showed claims
            # queueing behind rounds of hundreds of mints).
            async with pool.connection() as conn:
                while True:
                    async with conn.transaction():
                        mints = await append_pending_mints(conn, keys, limit=MINT_BATCH)
                        reversals = await append_pending_reversals(conn, keys, limit=MINT_BATCH)
                    if mints < MINT_BATCH and reversals < MINT_BATCH:
                        break
            if rounds % max(1, int(EXPIRY_EVERY_S / max(interval_s, 0.001))) == 0:
                async with pool.connection() as conn, conn.transaction():
                    await expire_unclaimed(conn, keys)
        except Exception:  # the next round tries again; a fault is logged, never fatal to the server
            logger.exception("token ledger: entering new mints or expiring shares failed")
        rounds += 1
        await asyncio.sleep(interval_s)


@dataclass
class LedgerReport:
    entries: int
    holders: int
    in_circulation: int


async def verify_ledger(conn: AsyncConnection[Any], hq_public_key: bytes) -> LedgerReport:
    """The whole check in one REPEATABLE READ snapshot (a running HQ keeps appending meanwhile)."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return await _verify_ledger(conn, hq_public_key)


async def _verify_ledger(conn: AsyncConnection[Any], hq_public_key: bytes) -> LedgerReport:
    """Re-derive the whole chain: every entry's canonical form, hash, link and HQ signature; every balance from
    the moves (compared with the stored view); every mint against the books of verified terminal blocks and
    every claim against the claims table; the sum of all balances against the sum of the mints. LedgerError
    naming the first entry that does not hold."""
    key = Ed25519PublicKey.from_public_bytes(hq_public_key)
    balances: dict[str, int] = {}
    prev, expected_seq, minted, reversed_ = GENESIS, 1, 0, 0
    held: dict[int, int] = {}  # each mint's customer share still in `unclaimed`, by the mint's seq
    async with conn.cursor(name="ledger") as cur:
        await cur.execute("SELECT seq, kind, body, hash, signature FROM token_ledger ORDER BY seq")
        async for seq, kind, body, digest, signature in cur:
            data = bytes(body)
            try:
                entry = decode_canonical(data)
            except CanonicalError as exc:
                raise LedgerError(f"entry {seq}: not canonical JSON ({exc})") from None
            if seq != expected_seq or entry.get("seq") != seq:
                raise LedgerError(f"entry {seq}: expected entry {expected_seq} (a gap or a renumbered entry)")
            if hashlib.sha256(data).hexdigest() != digest:
                raise LedgerError(f"entry {seq}: its hash does not match its bytes")
            if entry.get("prev") != prev:
                raise LedgerError(f"entry {seq}: does not link to entry {seq - 1}")
            try:
                key.verify(bytes.fromhex(signature), bytes.fromhex(digest))
            except (InvalidSignature, ValueError):
                raise LedgerError(f"entry {seq}: HQ's signature does not verify") from None
            if entry.get("kind") != kind:
                raise LedgerError(f"entry {seq}: its kind column says {kind}, its body {entry.get('kind')}")
            moves = entry.get("moves", [])
            total = sum(delta for _, delta in moves)
            if kind == "mint":
                if total != entry["minted"]:
                    raise LedgerError(f"entry {seq}: a mint's moves add up to {total}, not {entry['minted']}")
                minted += total
            elif total != 0:
                raise LedgerError(f"entry {seq}: a {kind}'s moves add up to {total}, not 0")
            if kind == "reversal":
                if dict(moves).get(REVERSED, 0) != entry["reversed"]:
                    raise LedgerError(f"entry {seq}: a reversal's moves take back other than {entry['reversed']}")
                reversed_ += entry["reversed"]
            if kind == "mint" or entry.get("mint_seq") is not None:
                mint_seq = seq if kind == "mint" else entry["mint_seq"]
                held[mint_seq] = held.get(mint_seq, 0) + dict(moves).get(UNCLAIMED, 0)
                if held[mint_seq] < 0:
                    raise LedgerError(f"entry {seq}: takes more of mint {mint_seq}'s customer share than it left")
            for holder, delta in moves:
                balances[holder] = balances.get(holder, 0) + delta
                if balances[holder] < 0:
                    raise LedgerError(f"entry {seq}: {holder} would go below zero")
            prev, expected_seq = digest, expected_seq + 1
    await _compare_books(conn, balances, held)
    cur2 = await conn.execute("SELECT seq, hash, minted, reversed FROM token_ledger_head WHERE id = 1")
    head = await cur2.fetchone()
    if head is None or (int(head[0]), head[1]) != (expected_seq - 1, prev):
        raise LedgerError("the chain's head row does not name its last entry")
    if int(head[2]) != minted:
        raise LedgerError(f"the chain's head says {head[2]} ST units minted, its mint entries {minted}")
    if int(head[3]) != reversed_:
        raise LedgerError(f"the chain's head says {head[3]} ST units reversed, its reversal entries {reversed_}")
    if sum(balances.values()) != minted:
        raise LedgerError(f"balances add up to {sum(balances.values())}, the mints to {minted}")
    return LedgerReport(expected_seq - 1, len([h for h, b in balances.items() if b]), minted)


async def _compare_books(conn: AsyncConnection[Any], balances: dict[str, int], held: dict[int, int]) -> None:
    cur = await conn.execute("SELECT holder, balance FROM token_balances")
    stored = {holder: int(balance) for holder, balance in await cur.fetchall()}
    derived = {holder: balance for holder, balance in balances.items() if balance or holder in stored}
    for holder in sorted(set(stored) | set(derived)):
        if stored.get(holder, 0) != derived.get(holder, 0):
            raise LedgerError(f"{holder}: the balance view says {stored.get(holder, 0)}, the entries "
                              f"{derived.get(holder, 0)}")
    # Every mint entry is the mint of a verified terminal block, as HQ booked it; every claim is in the claims book.
    cur = await conn.execute(
        "SELECT l.seq, l.body, m.minted, m.owner, m.franchisee, m.charity, m.customer, m.ledger_seq, m.confirmed "
        "FROM token_ledger l LEFT JOIN token_mints m ON m.ledger_seq = l.seq WHERE l.kind = 'mint' ORDER BY l.seq")
    for seq, body, minted, owner, franchisee, charity, customer, _ls, confirmed in await cur.fetchall():
        entry = decode_canonical(bytes(body))
        if minted is None or not confirmed:
            raise LedgerError(f"entry {seq}: a mint no verified (and confirmed) sale of HQ's books holds")
        parts = {h.split(":")[0]: d for h, d in entry["moves"]}
        if (entry["minted"], parts.get(OWNER, 0), parts.get("franchisee", 0), parts.get(CHARITY, 0),
                parts.get(UNCLAIMED, 0)) != (minted, owner, franchisee, charity, customer):
            raise LedgerError(f"entry {seq}: the mint differs from the sale {entry['sale_id']} HQ booked")
    cur = await conn.execute(
        "SELECT l.seq, l.body, c.check_id, c.account_id, c.amount FROM token_ledger l LEFT JOIN claims c ON "
        "c.ledger_seq = l.seq WHERE l.kind = 'claim' ORDER BY l.seq")
    for seq, body, check_id, account_id, amount in await cur.fetchall():
        entry = decode_canonical(bytes(body))
        if (entry["check_id"], entry["account_id"], entry["amount"]) != (check_id, account_id, amount):
            raise LedgerError(f"entry {seq}: the claim differs from the claims book")
    # Every reversal is the reversal of a refund HQ booked, as its token_reversal said (less what was kept).
    cur = await conn.execute(
        "SELECT l.seq, l.body, r.refund_id::text, (SELECT jsonb_object_agg(v.party, v.amount) FROM token_reversals v "
        "WHERE v.terminal_id = r.terminal_id AND v.refund_id = r.refund_id) FROM token_ledger l LEFT JOIN refunds r "
        "ON r.ledger_seq = l.seq WHERE l.kind = 'reversal' ORDER BY l.seq")
    for seq, body, refund_id, parts in await cur.fetchall():
        entry = decode_canonical(bytes(body))
        parts = {k: int(v) for k, v in (parts or {}).items()}
        moves = {h.split(":")[0]: -d for h, d in entry["moves"] if h != REVERSED}
        if refund_id != entry["refund_id"] or any(
                moves.get(party, 0) != parts.get(party, 0) for party in ("owner", "franchisee", "charity")) or \
                moves.get(UNCLAIMED, 0) + entry["customer_kept"] != parts.get("customer", 0):
            raise LedgerError(f"entry {seq}: the reversal differs from the refund {entry['refund_id']} HQ booked")
    cur = await conn.execute("SELECT ledger_seq, customer_held FROM token_mints WHERE ledger_seq IS NOT NULL")
    for mint_seq, customer_held in await cur.fetchall():
        if held.get(int(mint_seq), 0) != customer_held:
            raise LedgerError(f"entry {mint_seq}: the books say {customer_held} of its customer share is unclaimed, "
                              f"the entries {held.get(int(mint_seq), 0)}")


async def expire_unclaimed(conn: AsyncConnection[Any], keys: HQKeys, limit: int = 1000) -> int:
    """Move every customer share not claimed within 365 days of its sale from `unclaimed` to `redistribution`
    (one `expiry` entry each; a check expires once: idempotent). Returns how many expired."""
    cur = await conn.execute(
        "SELECT c.terminal_id, c.sale_id::text, c.check_id FROM checks c JOIN sales s ON s.terminal_id = "
        "c.terminal_id AND s.sale_id = c.sale_id JOIN token_mints m ON m.terminal_id = c.terminal_id AND "
        "m.sale_id = c.sale_id WHERE c.claimed_at IS NULL AND c.expired_seq IS NULL AND m.confirmed AND "
        f"s.created_at + interval '365 days' < now() AND {CLAIMABLE_SQL} > 0 "
        "ORDER BY s.created_at LIMIT %s", (limit,))
    due = await cur.fetchall()
    if due:
        await lock_head(conn)  # the head first: see the lock order above
    done = 0
    for terminal_id, sale_id, check_id in due:
        locked = await conn.execute("SELECT claimed_at, expired_seq FROM checks WHERE check_id = %s FOR UPDATE "
                                    "SKIP LOCKED", (check_id,))
        state = await locked.fetchone()
        if state is None or state[0] is not None or state[1] is not None:
            continue  # a claim holds it (the next round looks again), or it was claimed or expired meanwhile
        mint_seq = await ledger_mint(conn, keys, terminal_id, sale_id, skip_locked=True)
        amount = await _claimable(conn, terminal_id, sale_id)
        if mint_seq is None or amount <= 0:
            continue
        entry = await append(conn, keys, "expiry", {"check_id": check_id, "sale_id": sale_id, "amount": amount,
                                                    "mint_seq": mint_seq},
                             [(UNCLAIMED, -amount), (REDISTRIBUTION, amount)], now_ms())
        await conn.execute("WITH c AS (UPDATE checks SET expired_seq = %s WHERE check_id = %s) UPDATE token_mints "
                           "SET customer_held = customer_held - %s WHERE terminal_id = %s AND sale_id = %s",
                           (entry["entry"]["seq"], check_id, amount, terminal_id, sale_id))
        done += 1
    return done


async def _claimable(conn: AsyncConnection[Any], terminal_id: str, sale_id: str) -> int:
    """A sale's customer share less what refunds reversed of it."""
    cur = await conn.execute(f"SELECT {CLAIMABLE_SQL} FROM token_mints m WHERE m.terminal_id = %s AND "
                             "m.sale_id = %s", (terminal_id, sale_id))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def redistribute_year(conn: AsyncConnection[Any], keys: HQKeys, year: int) -> dict[str, Any]:
    """Pay the redistribution pool out to holders for `year` (sync/hq/redistribution.py's rule), once: a second
    run for the same year changes nothing and says what the first did."""
    await conn.execute("SELECT 1 FROM token_ledger_head WHERE id = 1 FOR UPDATE")  # balances hold still meanwhile
    cur = await conn.execute("SELECT ledger_seq, paid, kept FROM token_redistributions WHERE year = %s", (year,))
    done = await cur.fetchone()
    if done is not None:
        return {"year": year, "already": True, "seq": done[0], "paid": int(done[1]), "kept": int(done[2])}
    pool = await balance_of(conn, REDISTRIBUTION)
    cur = await conn.execute("SELECT holder, balance FROM token_balances WHERE balance > 0")
    balances = {holder: int(balance) for holder, balance in await cur.fetchall()}
    payouts = redistribute(pool, balances, await total_minted(conn))
    paid = sum(payouts.values())
    seq = None
    if paid:
        entry = await append(conn, keys, "redistribution", {"year": year, "pool": pool, "paid": paid},
                             [(REDISTRIBUTION, -paid), *sorted(payouts.items())], now_ms())
        seq = entry["entry"]["seq"]
    await conn.execute("INSERT INTO token_redistributions (year, ledger_seq, paid, kept) VALUES (%s, %s, %s, %s)",
                       (year, seq, paid, pool - paid))
    return {"year": year, "already": False, "seq": seq, "paid": paid, "kept": pool - paid,
            "holders": len(payouts)}
