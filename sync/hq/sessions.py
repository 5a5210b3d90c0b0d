"""Console sign-in sessions (/console/): the cookie carries a random 32-byte id, HMAC-signed with HQ's JWT secret so a
forged or truncated cookie is refused before the database is asked; only the id's SHA-256 is stored. A session ends
at logout, at expiry, or as soon as its user is deactivated or given another role (checked on every request). Each
session has its own CSRF token, which every form and htmx request must send back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

COOKIE = "hq_console"
SESSION_TTL = timedelta(hours=8)  # one working day; signing in again after it is expected


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    franchise_id: int | None  # a franchise manager's franchise; None: every franchise
    franchise_name: str | None
    language: str
    csrf: str
    id_hash: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: str, session_id: str) -> str:
    return _b64(hmac.new(secret.encode(), b"hotpot/console-session/v1\x00" + session_id.encode(),
                         hashlib.sha256).digest()[:18])


def cookie_value(secret: str, session_id: str) -> str:
    return f"{session_id}.{_mac(secret, session_id)}"


def _id_from_cookie(secret: str, value: str | None) -> str | None:
    if not value or value.count(".") != 1 or len(value) > 200:
        return None
    session_id, mac = value.split(".")
    return session_id if hmac.compare_digest(mac, _mac(secret, session_id)) else None


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


async def start(conn: AsyncConnection[Any], secret: str, username: str, role: str) -> str:
    """A new session for a user who just proved their password; the cookie's value."""
    session_id = _b64(secrets.token_bytes(32))
    await conn.execute("INSERT INTO console_sessions (id_hash, username, role, csrf, expires_at) VALUES "
                       "(%s, %s, %s, %s, %s)", (_hash(session_id), username, role, _b64(secrets.token_bytes(24)),
                                                datetime.now(UTC) + SESSION_TTL))
    return cookie_value(secret, session_id)


async def current(conn: AsyncConnection[Any], secret: str, cookie: str | None) -> Session | None:
    """The live session the cookie names, or None (no cookie, forged, ended, expired, or its user deactivated or
    given another role since: such a session is ended here and then)."""
    session_id = _id_from_cookie(secret, cookie)
    if session_id is None:
        return None
    cur = await conn.execute(
        "SELECT s.username, s.role, s.csrf, s.expires_at, s.ended_at, u.role, u.active, u.franchise_id, f.name, "
        "u.language FROM console_sessions s JOIN staff_users u ON u.username = s.username LEFT JOIN franchises f "
        "ON f.id = u.franchise_id WHERE s.id_hash = %s", (_hash(session_id),))
    row = await cur.fetchone()
    if row is None:
        return None
    username, role, csrf, expires_at, ended_at, role_now, active, franchise_id, franchise_name, language = row
    if ended_at is not None or expires_at <= datetime.now(UTC):
        return None
    if not active or role_now != role:
        await conn.execute("UPDATE console_sessions SET ended_at = now() WHERE id_hash = %s", (_hash(session_id),))
        return None
    return Session(username, role, franchise_id, franchise_name, language, csrf, _hash(session_id))


async def end(conn: AsyncConnection[Any], session: Session) -> None:
    await conn.execute("UPDATE console_sessions SET ended_at = now() WHERE id_hash = %s AND ended_at IS NULL",
                       (session.id_hash,))


async def end_all_of(conn: AsyncConnection[Any], username: str) -> None:
    """Sign a user out everywhere (deactivation, a new role, a new password)."""
    await conn.execute("UPDATE console_sessions SET ended_at = now() WHERE username = %s AND ended_at IS NULL",
                       (username,))


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, sent or "")
