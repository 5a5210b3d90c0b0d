"""Camera footage as evidence (issue 21): staff ask for the footage of an incident; the till uploads the segments that
cover it, resumably, in pieces; HQ takes the bytes only if they hash to what the till's verified chain recorded, keeps
them content-addressed beside the KYC cases (the same folder, named by CID), and the segment's key only if it opens
them. The console plays the frames from memory and hands out a copy with its proof."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import threading
import zipfile
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from psycopg import AsyncConnection

from sync.hq import writes
from sync.hq.api.errors import ApiError
from sync.hq.console import _scope, rows
from sync.hq.kyc import cid_of_sha256
from sync.protocol import footage

logger = logging.getLogger("hotpot.hq.evidence")

PARTIAL = ".partial"  # uploads under way, in the store's folder: <terminal>-<sha256>
MAX_PIECE = 4 * 2**20  # one PUT of an upload
CAMERA_ALERTS = ("motion_after_hours", "camera_failure")
MARGIN_MS = 5_000  # footage from a little before an incident's first event to a little after its last
FAILURE_LEAD_MS = 60_000  # a camera that failed: the minute before it did
WANTED_AT_ONCE = 100
SYSTEM = "system:retention"
Conn = AsyncConnection[Any]


def _sha(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ApiError(404, "not_found", "A segment is named by its SHA-256 (64 lowercase hex digits).")
    return value


async def _segment(conn: Conn, terminal_id: str, sha256: str, *, lock: bool = False) -> dict[str, Any]:
    found = await rows(conn, "SELECT * FROM camera_segments WHERE terminal_id = %s AND sha256 = %s"
                             + (" FOR UPDATE" if lock else ""), (terminal_id, _sha(sha256)))
    if not found:
        raise ApiError(404, "not_in_chain", "No camera_segment record of this terminal's verified chain has this "
                                            "hash (push the block that records it first).")
    return found[0]


def _status(row: dict[str, Any]) -> dict[str, Any]:
    return {"sha256": row["sha256"], "size": row["size"], "received": row["received"],
            "bytes_verified": row["blob"] is not None, "stored": row["stored_at"] is not None,
            "refused": row["refused_at"] is not None}


# --- what the till calls ------------------------------------------------------------------------------------------


async def wanted(conn: Conn, terminal_id: str) -> list[str]:
    """The segments of this till that staff asked for and HQ does not hold yet, oldest first."""
    found = await rows(conn, """
        SELECT s.sha256 FROM camera_segments s WHERE s.terminal_id = %s AND s.stored_at IS NULL
          AND s.missing_at IS NULL AND s.refused_at IS NULL AND EXISTS (
            SELECT 1 FROM evidence_requests r WHERE r.terminal_id = s.terminal_id AND r.camera_id = s.camera_id
              AND s.started_at_ms <= r.to_ms AND s.ended_at_ms >= r.from_ms)
        ORDER BY s.started_at_ms LIMIT %s""", (terminal_id, WANTED_AT_ONCE))
    return [r["sha256"] for r in found]


async def status(conn: Conn, terminal_id: str, sha256: str) -> dict[str, Any]:
    return _status(await _segment(conn, terminal_id, sha256))


def _append(path: Path, offset: int, data: bytes) -> None:
    """The piece at `offset` of the partial file (what a crash left after it is cut off: the database's count of
    received bytes is the truth)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as fh:
        fh.truncate(offset)
        fh.seek(offset)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _promote(partial: Path, target: Path) -> None:
    if target.exists():  # the same bytes from another till's identical segment: content-addressed, kept once
        partial.unlink()
    else:
        os.replace(partial, target)


async def append(conn: Conn, folder: Path, terminal_id: str, sha256: str, offset: int, data: bytes) -> dict[str, Any]:
    """One piece of an upload, at the offset HQ holds up to (a resumed upload asks status first). The last piece
    makes HQ hash the whole: bytes that are not what the chain recorded are deleted, the segment refused for good
    and an alert raised."""
    if len(data) > MAX_PIECE:
        raise ApiError(413, "body_too_large", f"Send a segment in pieces of at most {MAX_PIECE} bytes.")
    mismatch = None
    async with conn.transaction():
        row = await _segment(conn, terminal_id, sha256, lock=True)
        if row["refused_at"] is not None:
            raise ApiError(409, "refused", "An upload of this segment did not match the ledger; HQ took no more.")
        if row["blob"] is not None:
            return _status(row)
        if offset != row["received"]:
            raise ApiError(409, "wrong_offset", f"HQ holds {row['received']} bytes of this segment; send from there.",
                           {"received": row["received"]})
        if not data or offset + len(data) > row["size"]:
            raise ApiError(422, "invalid_request", f"The segment is {row['size']} bytes; this piece does not fit.")
        partial = folder / PARTIAL / f"{terminal_id}-{sha256}"
        await asyncio.to_thread(_append, partial, offset, data)
        received = offset + len(data)
        blob = None
        if received == row["size"]:
            digest = await asyncio.to_thread(_hash, partial)
            if digest != sha256:
                await asyncio.to_thread(partial.unlink)
                await conn.execute("UPDATE camera_segments SET received = 0, refused_at = now() WHERE terminal_id = %s "
                                   "AND sha256 = %s", (terminal_id, sha256))
                await conn.execute("INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'evidence_mismatch', "
                                   "%s)", (terminal_id, json.dumps({"camera_id": row["camera_id"], "file": row["file"],
                                                                    "recorded": sha256, "uploaded": digest})))
                mismatch = digest
            else:
                blob = cid_of_sha256(sha256)
                await asyncio.to_thread(_promote, partial, folder / blob)
        if mismatch is None:
            await conn.execute("UPDATE camera_segments SET received = %s, blob = %s WHERE terminal_id = %s AND "
                               "sha256 = %s", (received, blob, terminal_id, sha256))
    if mismatch is not None:
        logger.warning("terminal %s uploaded footage %s that hashes to %s: refused", terminal_id, sha256, mismatch)
        raise ApiError(422, "segment_mismatch", "These bytes are not the segment the terminal's ledger recorded "
                                                "(their SHA-256 differs); HQ refused them.")
    return await status(conn, terminal_id, sha256)


async def store_key(conn: Conn, folder: Path, kyc_key: X25519PrivateKey, terminal_id: str, sha256: str,
                    envelope: bytes) -> tuple[str, datetime]:
    """The segment's key, sealed to HQ: kept only if it opens the stored bytes into frames. Returns the CID and
    when the footage became playable at HQ."""
    if len(envelope) > 1024:
        raise ApiError(413, "body_too_large", "A key envelope is a few dozen bytes.")
    row = await _segment(conn, terminal_id, sha256)
    if row["blob"] is None:
        raise ApiError(409, "bytes_first", "Upload the segment's bytes before its key.")
    if row["stored_at"] is not None and bytes(row["key_envelope"]) == envelope:
        return row["blob"], row["stored_at"]
    try:
        key = footage.unwrap_key(envelope, sha256, kyc_key)
        data = await asyncio.to_thread((folder / row["blob"]).read_bytes)
        plain, _complete = footage.open_sealed(data, key)
        footage.frames_of(plain)
    except footage.FootageError as exc:
        raise ApiError(422, "bad_key", f"The key does not open this segment: {exc}.") from None
    found = await rows(conn, "UPDATE camera_segments SET key_envelope = %s, stored_at = COALESCE(stored_at, now()) "
                             "WHERE terminal_id = %s AND sha256 = %s RETURNING stored_at", (envelope, terminal_id,
                                                                                            sha256))
    return row["blob"], found[0]["stored_at"]


async def mark_missing(conn: Conn, terminal_id: str, sha256: str) -> None:
    """The till no longer holds this segment (its retention deleted it before anyone asked)."""
    await _segment(conn, terminal_id, sha256)
    await conn.execute("UPDATE camera_segments SET missing_at = COALESCE(missing_at, now()) WHERE terminal_id = %s "
                       "AND sha256 = %s AND stored_at IS NULL", (terminal_id, sha256))


# --- what staff do (the console) ----------------------------------------------------------------------------------


async def request_for_alert(conn: Conn, franchise: int | None, alert_id: int, reason: str, who: str) -> int:
    """Ask the till for the footage covering a camera incident (in the franchise manager's scope); returns the
    request's id. Asking twice for one incident gives the first request."""
    found = await rows(conn, f"""
        SELECT a.id, a.terminal_id, a.kind, a.detail FROM alerts a JOIN terminals t ON t.id = a.terminal_id
        JOIN nodes n ON n.id = t.node_id WHERE a.id = %(id)s AND a.kind = ANY(%(kinds)s) AND {_scope('n.franchise_id')}
        """, {"id": alert_id, "kinds": list(CAMERA_ALERTS), "franchise": franchise})
    if not found:
        raise ApiError(404, "not_found", "That is not a camera alert of yours.")
    alert = found[0]
    detail = alert["detail"]
    first, last = int(detail.get("first_at_ms", 0)), int(detail.get("last_at_ms") or detail.get("first_at_ms", 0))
    if not detail.get("camera_id") or not first:
        raise ApiError(422, "invalid_request", "This alert does not say which camera or when.")
    earlier = await rows(conn, "SELECT id FROM evidence_requests WHERE alert_id = %s ORDER BY id LIMIT 1", (alert_id,))
    if earlier:
        return int(earlier[0]["id"])
    lead = FAILURE_LEAD_MS if alert["kind"] == "camera_failure" else MARGIN_MS
    made = await rows(conn, "INSERT INTO evidence_requests (terminal_id, camera_id, from_ms, to_ms, alert_id, reason, "
                            "requested_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                      (alert["terminal_id"], detail["camera_id"], first - lead, last + MARGIN_MS, alert_id, reason,
                       who))
    return int(made[0]["id"])


async def requests(conn: Conn, franchise: int | None) -> list[dict[str, Any]]:
    return await rows(conn, f"""
        SELECT r.*, t.name AS terminal, COALESCE(c.name, r.camera_id) AS camera,
               (SELECT count(*) FROM camera_segments s WHERE s.terminal_id = r.terminal_id AND
                  s.camera_id = r.camera_id AND s.started_at_ms <= r.to_ms AND s.ended_at_ms >= r.from_ms) AS segments,
               (SELECT count(*) FROM camera_segments s WHERE s.terminal_id = r.terminal_id AND
                  s.camera_id = r.camera_id AND s.started_at_ms <= r.to_ms AND s.ended_at_ms >= r.from_ms
                  AND s.stored_at IS NOT NULL) AS stored
        FROM evidence_requests r JOIN terminals t ON t.id = r.terminal_id JOIN nodes n ON n.id = t.node_id
        LEFT JOIN terminal_cameras c ON c.terminal_id = r.terminal_id AND c.camera_id = r.camera_id
        WHERE {_scope('n.franchise_id')} ORDER BY r.id DESC LIMIT 200""", {"franchise": franchise})


async def request(conn: Conn, franchise: int | None, request_id: int) -> dict[str, Any]:
    """A request and its segments, each with its state and its proof (record, block and block hash)."""
    found = await rows(conn, f"""
        SELECT r.*, t.name AS terminal, COALESCE(c.name, r.camera_id) AS camera FROM evidence_requests r
        JOIN terminals t ON t.id = r.terminal_id JOIN nodes n ON n.id = t.node_id
        LEFT JOIN terminal_cameras c ON c.terminal_id = r.terminal_id AND c.camera_id = r.camera_id
        WHERE r.id = %(id)s AND {_scope('n.franchise_id')}""",
                       {"id": request_id, "franchise": franchise})
    if not found:
        raise ApiError(404, "not_found", "No such footage request.")
    req = found[0]
    req["segments"] = await rows(conn, """
        SELECT s.*, encode(b.hash, 'hex') AS block_hash, b.received_at AS block_received_at
        FROM camera_segments s JOIN blocks b ON b.terminal_id = s.terminal_id AND b.height = s.block_height
        WHERE s.terminal_id = %s AND s.camera_id = %s AND s.started_at_ms <= %s AND s.ended_at_ms >= %s
        ORDER BY s.started_at_ms""", (req["terminal_id"], req["camera_id"], req["to_ms"], req["from_ms"]))
    for seg in req["segments"]:
        seg["state"] = ("deleted" if seg["deleted_at"] else "stored" if seg["stored_at"] else
                        "refused" if seg["refused_at"] else "missing" if seg["missing_at"] else
                        "uploading" if seg["received"] or seg["blob"] else "waiting")
    return req


async def segment_of(conn: Conn, franchise: int | None, request_id: int, sha256: str) -> dict[str, Any]:
    """A stored segment of a request the viewer may see."""
    req = await request(conn, franchise, request_id)
    seg = next((s for s in req["segments"] if s["sha256"] == sha256), None)
    if seg is None or seg["stored_at"] is None or seg["blob"] is None:
        raise ApiError(404, "not_found", "That footage is not at HQ (yet).")
    return {**seg, "request": req}


async def hold(conn: Conn, franchise: int | None, request_id: int, reason: str | None, who: str) -> None:
    """Keep a request's footage past retention (with a reason), or let it go again (reason None)."""
    await request(conn, franchise, request_id)  # in scope, or 404
    await conn.execute("UPDATE evidence_requests SET hold_reason = %s, held_by = %s, held_at = CASE WHEN %s::text IS "
                       "NULL THEN NULL ELSE now() END WHERE id = %s",
                       (reason, who if reason else None, reason, request_id))


async def retention(conn: Conn, folder: Path, now: datetime, days: int, limit: int = 1000) -> int:
    """Delete the bytes and key of footage stored more than `days` ago that no request on hold covers; the segment's
    hash, record and block stay (the proof). Returns how many segments."""
    deleted = 0
    async with conn.transaction():
        due = await rows(conn, """
            SELECT s.terminal_id, s.sha256, s.blob FROM camera_segments s
            WHERE s.blob IS NOT NULL AND s.stored_at < %s - make_interval(days => %s) AND NOT EXISTS (
                SELECT 1 FROM evidence_requests r WHERE r.hold_reason IS NOT NULL AND r.terminal_id = s.terminal_id
                  AND r.camera_id = s.camera_id AND s.started_at_ms <= r.to_ms AND s.ended_at_ms >= r.from_ms)
            ORDER BY s.stored_at LIMIT %s FOR UPDATE SKIP LOCKED""", (now, days, limit))
        for seg in due:
            await conn.execute("UPDATE camera_segments SET blob = NULL, key_envelope = NULL, deleted_at = %s WHERE "
                               "terminal_id = %s AND sha256 = %s", (now, seg["terminal_id"], seg["sha256"]))
            shared = await rows(conn, "SELECT 1 FROM camera_segments WHERE blob = %s LIMIT 1", (seg["blob"],))
            if not shared:  # content-addressed: the file goes with the last segment that names it
                await asyncio.to_thread((folder / seg["blob"]).unlink, missing_ok=True)
            _PLAIN.drop((seg["terminal_id"], seg["sha256"]))
            deleted += 1
        if deleted:
            await writes.audit(conn, SYSTEM, "delete_footage", None, {"segments": deleted, "older_than_days": days})
    if deleted:
        logger.info("footage retention: %d segment(s) older than %d days deleted", deleted, days)
    return deleted


async def retention_job(pool: Any, folder: Path, days: int, interval_s: float = 3600.0) -> None:
    """Footage retention about hourly in the server (rows are locked, so every worker may run it)."""
    from datetime import UTC

    while True:
        try:
            async with pool.connection() as conn:
                await retention(conn, folder, datetime.now(UTC), days)
        except Exception:
            logger.exception("footage retention failed; it runs again within the hour")
        await asyncio.sleep(interval_s)


class _Plaintexts:
    """Decrypted segments in memory (never on disk), the few most recently played: a player asks frame by frame."""

    def __init__(self, size: int = 3) -> None:
        self.size, self._items, self._lock = size, OrderedDict[tuple[str, str], bytes](), threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._items.pop(key, None)

    def put(self, key: tuple[str, str], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_PLAIN = _Plaintexts()


async def plaintext(folder: Path, kyc_key: X25519PrivateKey, seg: dict[str, Any]) -> tuple[bytes, bytes]:
    """A stored segment decrypted in memory, and its key."""
    key = footage.unwrap_key(bytes(seg["key_envelope"]), seg["sha256"], kyc_key)
    cached = _PLAIN.get((seg["terminal_id"], seg["sha256"]))
    if cached is None:
        data = await asyncio.to_thread((folder / seg["blob"]).read_bytes)
        cached, _complete = footage.open_sealed(data, key)
        _PLAIN.put((seg["terminal_id"], seg["sha256"]), cached)
    return cached, key


def frame(plain: bytes, number: int) -> bytes:
    (_fps, _w, _h), frames = footage.frames_of(plain)
    if not 0 <= number < len(frames):
        raise ApiError(404, "not_found", f"The segment has {len(frames)} frames.")
    start, size, _ms = frames[number]
    return plain[start:start + size]


def proof(seg: dict[str, Any]) -> dict[str, Any]:
    return {"terminal_id": seg["terminal_id"], "camera_id": seg["camera_id"], "file": seg["file"],
            "started_at_ms": seg["started_at_ms"], "ended_at_ms": seg["ended_at_ms"], "frames": seg["frames"],
            "bytes": seg["size"], "sha256": seg["sha256"], "cid": seg["blob"], "record_seq": seg["record_seq"],
            "block": {"height": seg["block_height"], "hash": seg["block_hash"]},
            "verified_at_hq": seg["stored_at"].isoformat()}


def bundle(seg: dict[str, Any], sealed: bytes, plain: bytes, key: bytes) -> bytes:
    """The download: the sealed segment exactly as the ledger hashed it, its frames as Motion-JPEG (ffplay, VLC),
    and the proof with the segment's own key (it opens this segment only), so anyone can check that the frames are
    what the sealed file holds and that the file is what the till's signed chain recorded."""
    name = seg["file"].replace("/", "-")
    (fps, width, height), frames = footage.frames_of(plain)
    doc = {**proof(seg), "fps": fps, "width": width, "height": height, "segment_key": key.hex(),
           "how_to_check": "sha256 of the .hpv is `sha256`; it is the camera_segment record `record_seq` in the "
                           "terminal's block `block.height` (hash `block.hash`), signed by the terminal. The .hpv "
                           "opens with `segment_key` (docs/protocol.md, Footage) into the frames of the .mjpeg."}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{seg['camera_id']}-{name}", sealed)
        z.writestr(f"{seg['camera_id']}-{Path(name).stem}.mjpeg",
                   b"".join(plain[start:start + size] for start, size, _ms in frames))
        z.writestr(f"{seg['camera_id']}-{Path(name).stem}.proof.json", json.dumps(doc, indent=2))
    return out.getvalue()
