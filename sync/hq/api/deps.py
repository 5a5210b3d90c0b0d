"""Typed dependencies of the routes: the pool, keys and settings from app.state; a staff user with one of the roles
a route allows; a terminal whose signed request verified; a JSON body. Authentication runs before the body is
validated, so a caller without the right to ask learns nothing about what a valid request looks like."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from sync.hq.api.errors import ApiError
from sync.hq.auth import check_terminal_request, read_token, terminal_row
from sync.hq.config import Settings
from sync.hq.keys import HQKeys
from sync.protocol.messages import BACKLOG_HEADER, SIGNATURE_HEADER

# Dependencies are coroutines: FastAPI runs a plain function on its thread pool, a thread hop per request.


async def _pool(request: Request) -> AsyncConnectionPool[AsyncConnection[Any]]:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = request.app.state.pool
    return pool


async def _keys(request: Request) -> HQKeys:
    keys: HQKeys = request.app.state.keys
    return keys


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _jwt_secret(request: Request) -> str:
    secret: str = request.app.state.jwt_secret
    return secret


Pool = Annotated[AsyncConnectionPool[AsyncConnection[Any]], Depends(_pool)]
Keys = Annotated[HQKeys, Depends(_keys)]
AppSettings = Annotated[Settings, Depends(_settings)]
JwtSecret = Annotated[str, Depends(_jwt_secret)]


@dataclass(frozen=True)
class Staff:
    """A signed-in HQ staff member, from a verified token."""

    username: str
    role: str


def _staff_with(*roles: str) -> Callable[[Request, str, AsyncConnectionPool[AsyncConnection[Any]]],
                                         Awaitable[Staff]]:
    async def dependency(request: Request, secret: JwtSecret, pool: Pool) -> Staff:
        claims = read_token(secret, request.headers.get("authorization"), roles)
        # The token is only as good as the account behind it: a user deactivated, deleted or moved to another role
        # since the token was issued is refused at once, not when the token expires.
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT role, active FROM staff_users WHERE username = %s", (claims["sub"],))
            row = await cur.fetchone()
        if row is None or not row[1] or row[0] != claims["role"]:
            raise ApiError(401, "account_disabled", "This staff account is no longer active; sign in again.")
        return Staff(claims["sub"], claims["role"])

    return dependency


# The staff roles each kind of route admits.
Admin = Annotated[Staff, Depends(_staff_with("hq_admin"))]
Reader = Annotated[Staff, Depends(_staff_with("hq_admin", "auditor"))]
Overseer = Annotated[Staff, Depends(_staff_with("hq_admin", "auditor", "compliance"))]
# Personal data of KYC cases: compliance officers only (an admin or auditor is refused, and so audited nowhere).
Compliance = Annotated[Staff, Depends(_staff_with("compliance"))]


async def _signed_terminal(request: Request, terminal_id: str, pool: Pool) -> dict[str, Any]:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    async with pool.connection() as conn:
        terminal = await terminal_row(conn, terminal_id)
        await check_terminal_request(conn, terminal, request.headers.get(SIGNATURE_HEADER), request.method, path,
                                     await request.body())
        await note_contact(conn, terminal["id"], request.headers.get(BACKLOG_HEADER))
    return terminal


async def note_contact(conn: Any, terminal_id: str, backlog_header: str | None) -> None:
    """Remember when a terminal was last heard from, and its backlog, for monitoring. Written at most every 30 s
    per terminal unless the backlog changed; a header that is not a small non-negative integer is ignored."""
    backlog = int(backlog_header) if backlog_header and backlog_header.isdigit() and len(backlog_header) <= 12 \
        else None
    await conn.execute(
        "UPDATE terminals SET last_seen_at = now(), backlog = coalesce(%s, backlog) WHERE id = %s AND "
        "(last_seen_at IS NULL OR last_seen_at < now() - interval '30 seconds' OR "
        "(%s::bigint IS NOT NULL AND backlog IS DISTINCT FROM %s::bigint))", (backlog, terminal_id, backlog, backlog))


async def _enrolled_terminal(terminal_id: str, pool: Pool) -> dict[str, Any]:
    async with pool.connection() as conn:
        return await terminal_row(conn, terminal_id)


# A terminal whose request carries a valid signature of its key (and a fresh nonce).
SignedTerminal = Annotated[dict[str, Any], Depends(_signed_terminal)]
# An enrolled, active terminal named in the path; its blocks carry their own signatures.
EnrolledTerminal = Annotated[dict[str, Any], Depends(_enrolled_terminal)]


async def _json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send JSON with Content-Type: application/json.")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None


JsonBody = Annotated[Any, Depends(_json_body)]
