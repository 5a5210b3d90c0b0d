"""KYC cases at HQ: the sealed envelopes terminals upload, stored content-addressed by SHA-256 (a folder of files
today; the name is all an object store or IPFS backend would need), with what HQ can say without opening them."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from sync.hq.api.errors import ApiError
from sync.protocol.kyc import MAX_ENVELOPE, EnvelopeError, decode


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
    sha = hashlib.sha256(data).hexdigest()
    async with conn.transaction():
        cur = await conn.execute("SELECT sha256, received_at FROM kyc_cases WHERE terminal_id = %s AND case_id = %s "
                                 "FOR UPDATE", (terminal_id, case_id))
        row = await cur.fetchone()
        if row is not None:
            if row[0] != sha:
                raise ApiError(409, "case_conflict", f"HQ holds another envelope for case {case_id}.")
            await asyncio.to_thread(_write_once, folder, sha, data)  # a lost file comes back from the terminal
            return sha, row[1]
        await asyncio.to_thread(_write_once, folder, sha, data)  # the bytes first: a row never points at nothing
        cur = await conn.execute(
            "INSERT INTO kyc_cases (terminal_id, case_id, sha256, size, level, created_at_ms) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING received_at",
            (terminal_id, case_id, sha, len(data), header["level"], header["created_at_ms"]))
        inserted = await cur.fetchone()
        assert inserted is not None
        return sha, inserted[0]
