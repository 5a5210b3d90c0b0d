"""KYC cases at HQ: the sealed envelopes terminals upload, stored content-addressed (a folder of files named by the
CIDv1 of their bytes: raw codec, SHA-256 multihash, base32, the name IPFS or an object store would use too), with
what HQ can say without opening them; review, screening, decisions and the retention jobs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from sync.hq.api.errors import ApiError
from sync.protocol.kyc import MAX_ENVELOPE, EnvelopeError, decode

logger = logging.getLogger("hotpot.hq.kyc")


def cid(data: bytes) -> str:
    """The CIDv1 of these bytes (multibase base32 'b', version 1, codec raw 0x55, multihash sha2-256 0x12/32): the
    id of one raw IPFS block (`ipfs block put --cid-codec raw`; `ipfs add --raw-leaves` gives the same for a file
    within one chunk), and a fine object-store key."""
    return cid_of_sha256(hashlib.sha256(data).hexdigest())


def cid_of_sha256(sha256_hex: str) -> str:
    """The CIDv1 of bytes whose SHA-256 is this (what the terminal's ledger records names the stored file)."""
    digest = bytes([0x01, 0x55, 0x12, 0x20]) + bytes.fromhex(sha256_hex)
    return "b" + base64.b32encode(digest).decode().lower().rstrip("=")


def blob_path(folder: Path, case: dict[str, Any]) -> Path:
    """Where a case's sealed file is: by its CID; a case stored before CIDs is named by its SHA-256."""
    return folder / str(case.get("blob") or case["sha256"])


def _write_once(folder: Path, name: str, data: bytes) -> None:
    """Store a file under its content's name, owner-only, atomically; a file of that name is already these bytes."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    if path.exists():
        return
    tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


async def store_case(conn: AsyncConnection[Any], folder: Path, terminal_id: str, case_id: str,
                     data: bytes) -> tuple[str, datetime]:
    """Keep a terminal's sealed case. Idempotent: the same envelope again answers as before; another envelope under
    a case id already held is a conflict. Returns its SHA-256 and when HQ first received it."""
    if len(data) > MAX_ENVELOPE:
        raise ApiError(413, "body_too_large", f"A KYC envelope is at most {MAX_ENVELOPE} bytes.")
    try:
        envelope = decode(data)
    except EnvelopeError as exc:
        raise ApiError(422, "bad_envelope", f"This is not a KYC envelope: {exc}.") from None
    header = envelope.header
    if header["case_id"] != case_id or header["terminal_id"] != terminal_id:
        raise ApiError(422, "bad_envelope", "The envelope's header names another case or terminal than the path.")
    if header["level"] not in ("basic", "enhanced") or not isinstance(header["created_at_ms"], int):
        raise ApiError(422, "bad_envelope", "The envelope's header has an unknown level or no creation time.")
    sha, name = hashlib.sha256(data).hexdigest(), cid(data)
    async with conn.transaction():
        cur = await conn.execute("SELECT sha256 FROM kyc_submissions WHERE case_id = %s AND terminal_id = %s",
                                 (case_id, terminal_id))
        recorded = await cur.fetchone()
        if recorded is not None and recorded[0] != sha:  # the terminal's own signed chain names another envelope
            raise ApiError(409, "case_conflict", f"This is not the envelope the terminal's ledger recorded for case "
                                                 f"{case_id}.")
        cur = await conn.execute("SELECT sha256, received_at, blob, data_deleted_at FROM kyc_cases WHERE "
                                 "terminal_id = %s AND case_id = %s FOR UPDATE", (terminal_id, case_id))
        row = await cur.fetchone()
        if row is not None:
            if row[0] != sha:
                raise ApiError(409, "case_conflict", f"HQ holds another envelope for case {case_id}.")
            if row[2] is None and row[3] is None:  # a lost file comes back from the terminal (not a deleted one)
                await asyncio.to_thread(_write_once, folder, sha, data)
            return sha, row[1]
        await asyncio.to_thread(_write_once, folder, name, data)  # the bytes first: a row never points at nothing
        cur = await conn.execute(
            "INSERT INTO kyc_cases (terminal_id, case_id, sha256, size, level, created_at_ms, blob) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING received_at",
            (terminal_id, case_id, sha, len(data), header["level"], header["created_at_ms"], name))
        inserted = await cur.fetchone()
        assert inserted is not None
        return sha, inserted[0]


# --- review: opening a case, screening it, deciding ------------------------------------------------------------------

STATUSES = ("submitted", "approved", "rejected", "resubmission_requested", "expired")
DECISIONS = {"approve": "approved", "reject": "rejected", "resubmit": "resubmission_requested"}


async def case_row(conn: AsyncConnection[Any], case_id: str) -> dict[str, Any]:
    cur = await conn.execute(
        "SELECT terminal_id, case_id::text, sha256, level, status, received_at, risk_score, risk_level, risk_parts, "
        "screened_at, first_approver, decided_by, decided_at, decision_reason, blob, ended_at, images_deleted_at, "
        "data_deleted_at FROM kyc_cases WHERE case_id = %s", (case_id,))
    row = await cur.fetchone()
    if row is None:
        raise ApiError(404, "not_found", f"No KYC case {case_id}.")
    names = ("terminal_id", "case_id", "sha256", "level", "status", "received_at", "risk_score", "risk_level",
             "risk_parts", "screened_at", "first_approver", "decided_by", "decided_at", "decision_reason", "blob",
             "ended_at", "images_deleted_at", "data_deleted_at")
    return dict(zip(names, row, strict=True))


async def open_case(conn: AsyncConnection[Any], folder: Path, kyc_key: Any, case: dict[str, Any], reader: str,
                    parts: list[str]) -> dict[str, Any]:
    """Decrypt a case in memory (never to disk) for a compliance user, and write who read which parts to the audit
    log first: a read that is not logged does not happen."""
    import json

    from sync.hq import writes
    from sync.protocol.kyc import open_envelope

    if case.get("data_deleted_at") is not None:
        raise ApiError(410, "case_deleted", "This case's personal data was deleted by the retention rules on "
                                            f"{case['data_deleted_at']:%Y-%m-%d}; only the decision is kept.")
    await writes.audit(conn, reader, "kyc_read", case["case_id"], {"parts": parts})
    try:
        data = await asyncio.to_thread(blob_path(folder, case).read_bytes)
    except OSError:
        raise ApiError(503, "case_missing", "The case's sealed file is not in HQ's store; the terminal sends it "
                                            "again with its next sync.") from None
    _, plaintext = await asyncio.to_thread(open_envelope, data, kyc_key)
    doc: dict[str, Any] = json.loads(plaintext)
    return doc


async def screen_case(conn: AsyncConnection[Any], case: dict[str, Any], details: dict[str, Any],
                      index: Any, account: str | None = None) -> dict[str, Any]:
    """Screen the case's customer against the imported lists, store the hits (list entries, not the customer) and
    the risk score with its parts. Dismissed hits stay dismissed on a re-screening."""
    import json
    from datetime import UTC, date, datetime

    from sync.hq import screening

    born = date.fromisoformat(details["date_of_birth"]) if details.get("date_of_birth") else None
    name = f"{details.get('given_names', '')} {details.get('surname', '')}".strip()
    hits = [h for h in index.screen(name, born, details.get("nationality")) if h.score >= screening.HIT_AT]
    for hit in hits:
        await conn.execute(
            "INSERT INTO kyc_hits (case_id, list_format, ref, kind, score, parts, matched_name) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (case_id, list_format, ref) DO UPDATE SET score = "
            "EXCLUDED.score, parts = EXCLUDED.parts, matched_name = EXCLUDED.matched_name",
            (case["case_id"], hit.entry.list_format, hit.entry.ref, hit.entry.kind, hit.score,
             json.dumps(hit.parts), hit.matched_name))
    cur = await conn.execute("SELECT kind FROM kyc_hits WHERE case_id = %s AND dismissed_at IS NULL",
                             (case["case_id"],))
    kinds = {row[0] for row in await cur.fetchall()}
    result = screening.risk(details.get("nationality"), born, datetime.now(UTC).date(), "pep" in kinds,
                            "sanction" in kinds)
    today = datetime.now(UTC).date()
    adult = born is not None and (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 18
    account_id = None
    if isinstance(account, str) and account:
        from sync.protocol import accounts

        try:  # the desk read the customer's account QR: a key (base64url) or already its id
            account_id = account if re.fullmatch(r"HC[0-9A-Z]{32}", account) else accounts.account_id(account)
        except ValueError:
            account_id = None
    await conn.execute("UPDATE kyc_cases SET risk_score = %s, risk_level = %s, risk_parts = %s, screened_at = now(), "
                       "account_id = %s, adult = %s WHERE case_id = %s",
                       (result.score, result.level, json.dumps(result.parts), account_id, adult, case["case_id"]))
    return {"score": result.score, "level": result.level, "parts": result.parts}


async def hits_of(conn: AsyncConnection[Any], case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT h.list_format, h.ref, h.kind, h.score, h.parts, h.matched_name, h.dismissed_by, h.dismissed_reason, "
        "e.name, e.aliases, e.birth, e.nationality, e.programs FROM kyc_hits h LEFT JOIN screening_entries e ON "
        "e.list_format = h.list_format AND e.ref = h.ref WHERE h.case_id = %s ORDER BY h.score DESC", (case_id,))
    names = ("list", "ref", "kind", "score", "parts", "matched_name", "dismissed_by", "dismissed_reason",
             "listed_name", "aliases", "birth", "nationality", "programs")
    return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def decide(conn: AsyncConnection[Any], case_id: str, who: str, decision: str, reason: str) -> dict[str, Any]:
    """approve / reject / resubmit with a reason. A high-risk case is approved by two different compliance users
    (four eyes): the first approval is recorded and the case waits for the second."""
    from sync.hq import writes

    if decision not in DECISIONS:
        raise ApiError(422, "invalid_request", "decision is approve, reject or resubmit.")
    reason = " ".join(str(reason or "").split())
    if not reason or len(reason) > 1000:
        raise ApiError(422, "invalid_request", "Give the reason for the decision (at most 1000 characters).")
    async with conn.transaction():
        cur = await conn.execute("SELECT status, risk_level, first_approver, screened_at FROM kyc_cases WHERE "
                                 "case_id = %s FOR UPDATE", (case_id,))
        row = await cur.fetchone()
        if row is None:
            raise ApiError(404, "not_found", f"No KYC case {case_id}.")
        status, level, first, screened = row
        if status != "submitted":
            raise ApiError(409, "decided", f"This case was decided already ({status}).")
        if screened is None:
            raise ApiError(409, "not_screened", "Open the case first: it is screened when a compliance user reads it.")
        if decision == "approve" and level == "high":
            if first is None:
                await conn.execute("UPDATE kyc_cases SET first_approver = %s WHERE case_id = %s", (who, case_id))
                await writes.audit(conn, who, "kyc_first_approval", case_id, {"reason": reason})
                return {"case_id": case_id, "status": "submitted", "awaiting": "second_approval"}
            if first == who:
                raise ApiError(409, "four_eyes", "A high-risk case needs a second compliance user's approval.")
        new = DECISIONS[decision]
        await conn.execute("UPDATE kyc_cases SET status = %s, decided_by = %s, decided_at = now(), "
                           "decision_reason = %s, decision_seq = nextval('kyc_decision_seq'), ended_at = CASE WHEN "
                           "%s <> 'approved' THEN now() END WHERE case_id = %s", (new, who, reason, new, case_id))
        await writes.audit(conn, who, "kyc_decision", case_id, {"decision": new, "reason": reason})
    return {"case_id": case_id, "status": new}


_INDEX: dict[str, Any] = {"version": None, "index": None}


async def screening_index(conn: AsyncConnection[Any]) -> Any:
    """The imported lists as a screening Index, rebuilt in this process only when a new import has landed."""
    import json

    from sync.hq import screening

    cur = await conn.execute("SELECT coalesce(max(id), 0) FROM screening_imports")
    row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if _INDEX["version"] != version:
        cur = await conn.execute("SELECT list_format, ref, name, aliases, birth, nationality, kind, programs FROM "
                                 "screening_entries")
        entries = [screening.Entry(ref, name, list(aliases if isinstance(aliases, list) else json.loads(aliases)),
                                   list(birth), list(nationality), kind, list(programs), list_format)
                   for list_format, ref, name, aliases, birth, nationality, kind, programs in await cur.fetchall()]
        _INDEX["index"] = await asyncio.to_thread(screening.Index, entries)
        _INDEX["version"] = version
    return _INDEX["index"]


async def dismiss_hit(conn: AsyncConnection[Any], case_id: str, list_format: str, ref: str, who: str,
                      reason: str) -> bool:
    """A reviewer says a hit is another person (audited); the case's risk loses that hit's part when no other open
    hit of its kind is left. False when there is no such open hit."""
    import json

    from sync.hq import writes

    cur = await conn.execute("UPDATE kyc_hits SET dismissed_by = %s, dismissed_reason = %s, dismissed_at = now() "
                             "WHERE case_id = %s AND list_format = %s AND ref = %s AND dismissed_at IS NULL "
                             "RETURNING kind", (who, reason, case_id, list_format, ref))
    row = await cur.fetchone()
    if row is None:
        return False
    await writes.audit(conn, who, "kyc_dismiss_hit", case_id, {"list": list_format, "ref": ref, "reason": reason})
    cur = await conn.execute("SELECT risk_parts, (SELECT array_agg(DISTINCT kind) FROM kyc_hits WHERE case_id = %s "
                             "AND dismissed_at IS NULL) FROM kyc_cases WHERE case_id = %s FOR UPDATE",
                             (case_id, case_id))
    parts_row = await cur.fetchone()
    if parts_row and parts_row[0]:
        parts = dict(parts_row[0])
        still = set(parts_row[1] or [])
        if "sanction" not in still:
            parts.pop("sanctions", None)
        if "pep" not in still:
            parts.pop("pep", None)
        score = min(100, sum(parts.values()))
        level = "high" if score > 70 else "medium" if score > 30 else "low"
        await conn.execute("UPDATE kyc_cases SET risk_score = %s, risk_level = %s, risk_parts = %s, "
                           "first_approver = CASE WHEN %s = 'high' THEN first_approver END WHERE case_id = %s",
                           (score, level, json.dumps(parts), level, case_id))
    return True


async def rescreen_due(conn: AsyncConnection[Any], folder: Path, kyc_key: Any, reader: str,
                       limit: int = 200) -> tuple[int, int]:
    """Screen the approved customers again after a new list version (a compliance officer's request: each case is
    decrypted here and the read audited). A hit the case did not have before raises an alert. Returns (cases
    screened, new hits)."""
    import json

    cur = await conn.execute("SELECT case_id::text FROM kyc_cases WHERE rescreen_due AND data_deleted_at IS NULL "
                             "ORDER BY received_at LIMIT %s", (limit,))
    due = [row[0] for row in await cur.fetchall()]
    index = await screening_index(conn) if due else None
    new_hits = 0
    for case_id in due:
        async with conn.transaction():
            case = await case_row(conn, case_id)
            cur = await conn.execute("SELECT list_format, ref FROM kyc_hits WHERE case_id = %s", (case_id,))
            before = {(f, r) for f, r in await cur.fetchall()}
            doc = await open_case(conn, folder, kyc_key, case, reader, ["details"])
            await screen_case(conn, case, doc.get("details", {}), index, doc.get("account"))
            cur = await conn.execute("SELECT list_format, ref, kind, score FROM kyc_hits WHERE case_id = %s AND "
                                     "dismissed_at IS NULL", (case_id,))
            for list_format, ref, kind, score in await cur.fetchall():
                if (list_format, ref) not in before:
                    new_hits += 1
                    await conn.execute("INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'kyc_rescreen_hit', "
                                       "%s)", (case["terminal_id"], json.dumps({"case_id": case_id, "list": list_format,
                                                                                "ref": ref, "kind": kind,
                                                                                "score": score})))
            await conn.execute("UPDATE kyc_cases SET rescreen_due = false WHERE case_id = %s", (case_id,))
    return len(due), new_hits


# --- retention (DOMAIN.md "KYC / AML"): idempotent jobs, each step audited as the system's ------------------------

APPROVAL_DAYS = 365
IMAGES_KEPT_DAYS = 90
DATA_KEPT_YEARS = 5
RETENTION_EVERY_S = 3600.0
SYSTEM = "system:retention"


def _strip_images(data: bytes, kyc_key: Any) -> bytes:
    """The same case sealed again to HQ's own KYC key without its photographs (what was there is noted by name and
    size, nothing else); the header, and so the case's identity, stays."""
    import json

    from cryptography.hazmat.primitives import serialization

    from sync.protocol.kyc import open_envelope, seal

    header, plaintext = open_envelope(data, kyc_key)
    doc = json.loads(plaintext)
    images = doc.pop("images", {}) or {}
    doc["images_deleted"] = {name: len(b64) * 3 // 4 for name, b64 in images.items()}
    public = kyc_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return seal(json.dumps(doc, ensure_ascii=False).encode(), header, public).encode()


def _remove(folder: Path, name: str | None) -> None:
    if name:
        (folder / name).unlink(missing_ok=True)


async def expire_approvals(conn: AsyncConnection[Any], now: datetime) -> int:
    """Approvals older than 365 days lapse: the case is `expired` (the terminal hears it through the updates feed,
    transfers stop until a new check) and the relationship it carried has ended."""
    from sync.hq import writes

    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE kyc_cases SET status = 'expired', ended_at = %s, decision_seq = nextval('kyc_decision_seq') "
            "WHERE status = 'approved' AND decided_at <= %s - make_interval(days => %s) RETURNING case_id::text",
            (now, now, APPROVAL_DAYS))
        expired = [row[0] for row in await cur.fetchall()]
        for case_id in expired:
            await writes.audit(conn, SYSTEM, "kyc_expired", case_id, {"after_days": APPROVAL_DAYS})
    return len(expired)


async def delete_images(conn: AsyncConnection[Any], folder: Path, kyc_key: Any, now: datetime,
                        limit: int = 100) -> int:
    """Photographs go 90 days after the decision: each such case is opened in memory, sealed again without them
    and stored under its new CID; the old file is removed once the row points at the new one."""
    from sync.hq import writes

    done = 0
    while True:
        async with conn.transaction():
            cur = await conn.execute(
                "SELECT case_id::text, sha256, blob FROM kyc_cases WHERE decided_at <= %s - make_interval(days => %s) "
                "AND images_deleted_at IS NULL AND data_deleted_at IS NULL ORDER BY decided_at LIMIT 1 "
                "FOR UPDATE SKIP LOCKED", (now, IMAGES_KEPT_DAYS))
            row = await cur.fetchone()
            if row is None or done >= limit:
                return done
            case_id, sha, old = row
            path = folder / (old or sha)
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:  # nothing left to strip: the photographs are not held anywhere
                data = None
            new = None
            if data is not None:
                stripped = await asyncio.to_thread(_strip_images, data, kyc_key)
                new = cid(stripped)
                await asyncio.to_thread(_write_once, folder, new, stripped)
            await conn.execute("UPDATE kyc_cases SET blob = %s, images_deleted_at = %s WHERE case_id = %s",
                               (new, now, case_id))
            await writes.audit(conn, SYSTEM, "kyc_images_deleted", case_id,
                               {"after_days": IMAGES_KEPT_DAYS, "file_was_missing": data is None})
        if old != new:
            await asyncio.to_thread(_remove, folder, old or sha)
        done += 1


async def delete_case_data(conn: AsyncConnection[Any], folder: Path, now: datetime, limit: int = 1000) -> int:
    """A case's data goes 5 years after the relationship ended: the case stopped being in force (rejected,
    resubmission asked, approval lapsed) and its account has had no ledger activity for 5 years. The sealed file,
    the screening hits, the reason text and the risk's parts go; the row keeps the case id, status and dates."""
    from sync.hq import writes

    cur = await conn.execute(
        "SELECT c.case_id::text FROM kyc_cases c LEFT JOIN kyc_submissions s ON s.case_id = c.case_id "
        "WHERE c.data_deleted_at IS NULL AND c.ended_at <= %s - make_interval(years => %s) "
        "AND NOT EXISTS (SELECT 1 FROM token_ledger_holders h JOIN token_ledger l ON l.seq = h.seq "
        "WHERE h.holder = coalesce(c.account_id, s.account_id) AND l.at > %s - make_interval(years => %s)) "
        "ORDER BY c.ended_at LIMIT %s", (now, DATA_KEPT_YEARS, now, DATA_KEPT_YEARS, limit))
    due = [row[0] for row in await cur.fetchall()]
    for case_id in due:
        async with conn.transaction():
            cur = await conn.execute("SELECT sha256, blob FROM kyc_cases WHERE case_id = %s AND data_deleted_at IS "
                                     "NULL FOR UPDATE", (case_id,))
            row = await cur.fetchone()
            if row is None:
                continue
            await conn.execute("UPDATE kyc_cases SET data_deleted_at = %s, blob = NULL, risk_parts = NULL, "
                               "decision_reason = NULL, rescreen_due = false WHERE case_id = %s", (now, case_id))
            await conn.execute("DELETE FROM kyc_hits WHERE case_id = %s", (case_id,))
            await writes.audit(conn, SYSTEM, "kyc_data_deleted", case_id, {"after_years": DATA_KEPT_YEARS})
        await asyncio.to_thread(_remove, folder, row[1])
        await asyncio.to_thread(_remove, folder, row[0])  # a case stored before CIDs is named by its SHA-256
    return len(due)


async def retention(pool_or_conn: Any, folder: Path, kyc_key: Any, now: datetime | None = None) -> dict[str, int]:
    """The three jobs in order (an approval lapses, photographs go, data goes); safe to run again at any time."""
    from datetime import UTC

    now = now or datetime.now(UTC)
    counts = {"expired": await expire_approvals(pool_or_conn, now),
              "images_deleted": await delete_images(pool_or_conn, folder, kyc_key, now, limit=10**9),
              "data_deleted": await delete_case_data(pool_or_conn, folder, now)}
    if any(counts.values()):
        logger.info("KYC retention: %(expired)d approval(s) expired, photographs of %(images_deleted)d case(s) "
                    "deleted, data of %(data_deleted)d case(s) deleted", counts)
    return counts


async def retention_job(pool: Any, folder: Path, kyc_key: Any, interval_s: float = RETENTION_EVERY_S) -> None:
    """The retention jobs about hourly in the server (every worker may run them: rows are locked or re-checked)."""
    while True:
        try:
            async with pool.connection() as conn:
                await retention(conn, folder, kyc_key)
        except Exception:
            logger.exception("KYC retention failed; it runs again within the hour")
        await asyncio.sleep(interval_s)


async def account_kyc(conn: AsyncConnection[Any], account_id: str) -> dict[str, Any]:
    """What a customer's own page says of their identity check, from the newest case linked to the account (by the
    desk's ledger record or the case itself): verified (until when, and whether transfers are open), in review,
    asked to come again, lapsed, or none. A rejection reads as none: the customer is not told of a suspicion."""
    cur = await conn.execute(
        "SELECT status, decided_at, adult, decided_at > now() - make_interval(days => %s) FROM kyc_cases "
        "WHERE (account_id = %s OR case_id IN (SELECT case_id FROM kyc_submissions WHERE account_id = %s)) "
        "AND data_deleted_at IS NULL ORDER BY (status = 'approved') DESC, received_at DESC LIMIT 1",
        (APPROVAL_DAYS, account_id, account_id))
    row = await cur.fetchone()
    if row is None or row[0] == "rejected":
        return {"state": "none"}
    status, decided_at, adult, fresh = row
    if status == "approved" and fresh:  # (past 365 days it lapsed, even before the retention job marks it)
        from datetime import timedelta

        until = decided_at + timedelta(days=APPROVAL_DAYS)
        return {"state": "verified", "until": until.date().isoformat(), "transfers": bool(adult)}
    return {"state": {"submitted": "in_review", "resubmission_requested": "resubmit"}.get(status, "expired")}
