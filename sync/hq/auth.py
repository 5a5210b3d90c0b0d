"""Who may call HQ: terminals by a signature of their registered key on each request; staff by short-lived JWTs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from psycopg import AsyncConnection, errors

from sync.hq.api.errors import ApiError
from sync.hq.keys import write_new_secret_file
from sync.protocol.keys import verify_signature
from sync.protocol.messages import REQUEST_WINDOW_MS, parse_signature_header, request_digest

ROLES = ("hq_admin", "auditor", "compliance", "franchise_manager")  # franchise_manager: one franchise, console only
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


async def terminal_row(conn: AsyncConnection[Any], terminal_id: str) -> dict[str, Any]:
    cur = await conn.execute(
        "SELECT t.id, t.status, t.signing_public_key, t.account_xpub, t.node_id, n.node_type, n.franchise_id, "
        "t.served_seq "
        "FROM terminals t JOIN nodes n ON n.id = t.node_id WHERE t.id = %s", (terminal_id,))
    row = await cur.fetchone()
    if row is None:
        raise ApiError(404, "unknown_terminal", f"No terminal {terminal_id} is enrolled at HQ.")
    names = ("id", "status", "signing_public_key", "account_xpub", "node_id", "node_type", "franchise_id",
             "served_seq")
    terminal = dict(zip(names, row, strict=True))
    if terminal["status"] != "active":
        raise ApiError(403, "terminal_revoked", f"Terminal {terminal_id} has been revoked.")
    return terminal


async def check_terminal_request(conn: AsyncConnection[Any], terminal: dict[str, Any], header: str | None,
                                 method: str, path: str, body: bytes) -> None:
    """A signed request within +-5 minutes whose nonce HQ has not seen from this terminal before."""
    if not header:
        raise ApiError(401, "signature_required", "This call must be signed by the terminal's key.")
    parsed = parse_signature_header(header)
    if parsed is None:
        raise ApiError(401, "bad_signature_header", "The X-Hotpot-Signature header is malformed.")
    now = time.time_ns() // 1_000_000
    if abs(now - parsed.timestamp_ms) > REQUEST_WINDOW_MS:
        raise ApiError(401, "stale_request", "The request's time is more than 5 minutes off HQ's clock.")
    digest = request_digest(method, path, body, parsed.timestamp_ms, parsed.nonce, terminal["id"])
    if not verify_signature(bytes(terminal["signing_public_key"]), digest, parsed.signature):
        raise ApiError(401, "bad_signature", "The request's signature does not verify with the terminal's key.")
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO request_nonces (terminal_id, nonce) VALUES (%s, %s)",
                               (terminal["id"], parsed.nonce))
    except errors.UniqueViolation:
        raise ApiError(401, "replayed_request", "This signed request was already used.") from None
    if secrets.randbelow(200) == 0:  # now and then, forget nonces older than the window
        await conn.execute("DELETE FROM request_nonces WHERE seen_at < now() - interval '10 minutes'")


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("A staff password needs at least 10 characters.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


# Hashed for a login name that does not exist, so an unknown name costs what a wrong password costs.
_DUMMY_HASH = f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${'00' * 16}${'00' * 32}"


def login_matches(password: str, stored: str | None) -> bool:
    """The password against the stored hash, or against a dummy one when there is none (same work either way)."""
    return password_matches(password, stored or _DUMMY_HASH) and stored is not None


def password_matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def load_or_create_jwt_secret(configured: str, key_dir: Path) -> str:
    """From the environment if set (all workers and replicas must share it), else a 0600 file in the key folder."""
    if configured:
        return configured
    path = key_dir / "jwt.secret"
    if not path.exists():
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_new_secret_file(path, secrets.token_hex(32).encode())
        except FileExistsError:  # another worker made it first: use theirs
            pass
    return path.read_text().strip()


def issue_token(secret: str, username: str, role: str, ttl_s: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": username, "role": role, "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")


def read_token(secret: str, authorization: str | None, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "token_required", "Sign in first: this call needs a staff token.")
    try:
        claims: dict[str, Any] = jwt.decode(authorization[7:].strip(), secret, algorithms=["HS256"],
                                            options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token_expired", "The staff token has expired; sign in again.") from None
    except jwt.InvalidTokenError:
        raise ApiError(401, "bad_token", "The staff token is not valid.") from None
    if claims.get("role") not in allowed:
        raise ApiError(403, "forbidden", f"This needs one of the roles: {', '.join(allowed)}.")
    return claims
