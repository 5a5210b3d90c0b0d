"""HQ's writes, each in one transaction with its audit entry: enrollment codes and enrollment, franchises and nodes,
revoking terminals, menu items, token policies, staff users. The API's routes and the `hotpot-hq` CLI both call
these; nothing else inserts into those tables."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bip32 import BIP32
from psycopg import AsyncConnection, errors

from sync.hq.api.errors import ApiError
from sync.hq.auth import hash_password
from sync.protocol.demo_menu import DEMO_MENU_ITEMS
from sync.protocol.keys import verify_signature
from sync.protocol.messages import enrollment_digest
from sync.protocol.vocabulary import menu_item_problem, policy_problem

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
Conn = AsyncConnection[Any]


def hash_code(code: str) -> bytes:
    """Enrollment codes are stored only as this hash. Dashes, spaces and case do not matter."""
    normalized = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(b"hotpot/enroll-code/v1\x00" + normalized.encode()).digest()


def new_enroll_code() -> str:
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(20))  # 100 bits
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


async def audit(conn: Conn, actor: str, action: str, target: str | None,
                detail: dict[str, Any] | None = None) -> None:
    await conn.execute("INSERT INTO audit_log (actor, action, target, detail) VALUES (%s, %s, %s, %s)",
                       (actor, action, target, json.dumps(detail or {})))


async def _one(conn: Conn, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    cur = await conn.execute(sql, params)
    return await cur.fetchone()


# --- enrollment ---------------------------------------------------------------------------------------------------


async def issue_enroll_code(conn: Conn, actor: str, franchise: str, terminal_name: str, node: str, node_type: str,
                            ttl_s: int) -> str:
    """A one-time code for a terminal of `node` (franchise and node are made when new). Only its hash is kept."""
    code = new_enroll_code()
    async with conn.transaction():
        row = await _one(conn, "INSERT INTO franchises (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = "
                               "excluded.name RETURNING id", (franchise,))
        assert row is not None
        row = await _one(conn, "INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                               "ON CONFLICT (franchise_id, name) DO UPDATE SET name = excluded.name "
                               "RETURNING id, node_type", (row[0], node, node_type))
        assert row is not None
        node_id, actual_type = row
        if actual_type != node_type:
            raise ApiError(409, "node_type_mismatch",
                           f"Node {node!r} of {franchise!r} is a {actual_type} node, not {node_type}.")
        await conn.execute("INSERT INTO enrollment_codes (code_hash, node_id, terminal_name, expires_at) "
                           "VALUES (%s, %s, %s, %s)",
                           (hash_code(code), node_id, terminal_name, datetime.now(UTC) + timedelta(seconds=ttl_s)))
        await audit(conn, actor, "enroll_code", f"{franchise}/{node}/{terminal_name}")
    return code


def check_enrollment_proof(code: str, terminal_id: str, account_xpub: str, signing_public_key: str,
                           signature: str) -> None:
    """The registered key must be m/0/0 of the account xpub, and it must have signed this enrollment."""
    try:
        derived = BIP32.from_xpub(account_xpub).get_pubkey_from_path([0, 0]).hex()
    except Exception:  # noqa: BLE001 - any malformed xpub is the client's mistake
        raise ApiError(422, "bad_xpub", "account_xpub is not a valid extended public key.") from None
    if derived != signing_public_key:
        raise ApiError(422, "key_mismatch", "signing_public_key is not the key m/0/0 of account_xpub.")
    digest = enrollment_digest(code, terminal_id, account_xpub, signing_public_key)
    if not verify_signature(bytes.fromhex(signing_public_key), digest, bytes.fromhex(signature)):
        raise ApiError(401, "bad_signature", "The enrollment is not signed by the key it registers.")


async def enroll_terminal(conn: Conn, code: str, terminal_id: str, account_xpub: str,
                          signing_public_key: str) -> str:
    """Use a one-time code to register a terminal's keys (the proof checked first). Returns the node type."""
    code_hash = hash_code(code)
    async with conn.transaction():
        row = await _one(conn, "SELECT e.node_id, e.terminal_name, e.expires_at < now(), e.used_at IS NOT NULL, "
                               "n.node_type FROM enrollment_codes e JOIN nodes n ON n.id = e.node_id "
                               "WHERE e.code_hash = %s FOR UPDATE OF e", (code_hash,))
        if row is None:
            raise ApiError(404, "unknown_code", "This enrollment code is not known at HQ.")
        node_id, name, expired, used, node_type = row
        if used:
            raise ApiError(409, "code_used", "This enrollment code has already been used.")
        if expired:
            raise ApiError(410, "code_expired", "This enrollment code has expired; ask HQ for a new one.")
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (terminal_id, node_id, name, account_xpub, bytes.fromhex(signing_public_key)))
        except errors.UniqueViolation:
            raise ApiError(409, "terminal_exists", f"Terminal {terminal_id} is already enrolled.") from None
        await conn.execute("UPDATE enrollment_codes SET used_at = now(), terminal_id = %s WHERE code_hash = %s",
                           (terminal_id, code_hash))
        await audit(conn, f"terminal:{terminal_id}", "enroll", terminal_id, {"node_id": node_id})
    return str(node_type)


async def note_served(conn: Conn, terminal_id: str, cursor: int) -> None:
    """HQ handed this terminal the updates up to `cursor`: it may now sell under menu versions up to it."""
    await conn.execute("UPDATE terminals SET served_seq = GREATEST(served_seq, %s) WHERE id = %s",
                       (cursor, terminal_id))


async def revoke_terminal(conn: Conn, actor: str, terminal_id: str, reason: str = "") -> None:
    async with conn.transaction():
        row = await _one(conn, "UPDATE terminals SET status = 'revoked', revoked_at = coalesce(revoked_at, now()) "
                               "WHERE id = %s RETURNING id", (terminal_id,))
        if row is None:
            raise ApiError(404, "not_found", f"No terminal {terminal_id}.")
        await audit(conn, actor, "revoke_terminal", terminal_id, {"reason": reason} if reason else None)


async def confirm_early_mints(conn: Conn, actor: str, terminal_id: str) -> int:
    """Book the held mints of the sales a terminal made before it enrolled (checked against the menu and policy in
    its own chain, which HQ never issued): an hq_admin looked at them and vouches for them."""
    async with conn.transaction():
        if await _one(conn, "SELECT 1 FROM terminals WHERE id = %s", (terminal_id,)) is None:
            raise ApiError(404, "not_found", f"No terminal {terminal_id}.")
        cur = await conn.execute("UPDATE token_mints SET confirmed = true WHERE terminal_id = %s AND NOT confirmed",
                                 (terminal_id,))
        await audit(conn, actor, "confirm_early_mints", terminal_id, {"mints": cur.rowcount})
    return cur.rowcount


# --- franchises and nodes -----------------------------------------------------------------------------------------


async def create_franchise(conn: Conn, actor: str, name: str) -> int:
    async with conn.transaction():
        try:
            async with conn.transaction():
                row = await _one(conn, "INSERT INTO franchises (name) VALUES (%s) RETURNING id", (name,))
        except errors.UniqueViolation:
            raise ApiError(409, "exists", f"A franchise called {name!r} exists.") from None
        assert row is not None
        await audit(conn, actor, "create_franchise", name)
    return int(row[0])


async def create_node(conn: Conn, actor: str, franchise_id: int, name: str, node_type: str) -> int:
    async with conn.transaction():
        try:
            async with conn.transaction():
                row = await _one(conn, "INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                                       "RETURNING id", (franchise_id, name, node_type))
        except errors.ForeignKeyViolation:
            raise ApiError(404, "not_found", f"No franchise {franchise_id}.") from None
        except errors.UniqueViolation:
            raise ApiError(409, "exists", f"The franchise already has a node {name!r}.") from None
        assert row is not None
        await audit(conn, actor, "create_node", name, {"franchise_id": franchise_id})
    return int(row[0])


async def rename_franchise(conn: Conn, actor: str, franchise_id: int, name: str) -> None:
    async with conn.transaction():
        try:
            async with conn.transaction():
                row = await _one(conn, "UPDATE franchises SET name = %s WHERE id = %s RETURNING id",
                                 (name, franchise_id))
        except errors.UniqueViolation:
            raise ApiError(409, "exists", f"A franchise called {name!r} exists.") from None
        if row is None:
            raise ApiError(404, "not_found", f"No franchise {franchise_id}.")
        await audit(conn, actor, "rename_franchise", str(franchise_id), {"name": name})


async def update_node(conn: Conn, actor: str, node_id: int, name: str, node_type: str) -> None:
    """Rename a node, or change its type while no terminal has enrolled there (HQ checks every terminal's mints
    against the type it enrolled under)."""
    async with conn.transaction():
        row = await _one(conn, "SELECT node_type, (SELECT count(*) FROM terminals t WHERE t.node_id = n.id) FROM "
                               "nodes n WHERE id = %s FOR UPDATE", (node_id,))
        if row is None:
            raise ApiError(404, "not_found", f"No node {node_id}.")
        if row[0] != node_type and row[1]:
            raise ApiError(409, "node_in_use", "A node's type cannot change once a terminal has enrolled there.")
        try:
            async with conn.transaction():
                await conn.execute("UPDATE nodes SET name = %s, node_type = %s WHERE id = %s",
                                   (name, node_type, node_id))
        except errors.UniqueViolation:
            raise ApiError(409, "exists", f"The franchise already has a node {name!r}.") from None
        await audit(conn, actor, "update_node", str(node_id), {"name": name, "node_type": node_type})


# --- menu and policy ----------------------------------------------------------------------------------------------


async def put_menu_item(conn: Conn, actor: str, item: dict[str, Any]) -> dict[str, Any]:
    """Add or change a menu item. Refused (422) when a terminal would refuse it: the shared vocabulary decides."""
    problem = menu_item_problem(item)
    if problem:
        raise ApiError(422, "invalid_menu_item", problem)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO menu_items (id, data, active, update_seq) VALUES (%s, %s, %s, nextval('update_seq')) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data, active = excluded.active, "
            "update_seq = excluded.update_seq", (item["id"], json.dumps(item, ensure_ascii=False), item["active"]))
        await _remember_menu_version(conn, item["id"])
        await audit(conn, actor, "put_menu_item", item["id"])
    return item


async def _remember_menu_version(conn: Conn, item_id: str) -> None:
    """The item's price and state at its new version, kept for good: sales are checked against the version they
    were sold under."""
    await conn.execute("INSERT INTO menu_item_history (item_id, update_seq, price, active, name, modifiers) "
                       "SELECT id, update_seq, (data ->> 'price')::bigint, active, data -> 'name' ->> 'en', "
                       "COALESCE(data -> 'modifiers', '[]') FROM menu_items WHERE id = %s", (item_id,))


async def load_demo_menu(conn: Conn, actor: str) -> int:
    """Make the demo menu HQ's menu (each item a change of its own), so a demo terminal enrolled here sells at once."""
    for item in DEMO_MENU_ITEMS:
        await put_menu_item(conn, actor, dict(item))
    return len(DEMO_MENU_ITEMS)


async def retire_menu_item(conn: Conn, actor: str, item_id: str) -> None:
    """Menu items are retired (inactive), never deleted: old sales still name them."""
    async with conn.transaction():
        row = await _one(conn, "UPDATE menu_items SET active = false, data = jsonb_set(data, '{active}', 'false'), "
                               "update_seq = nextval('update_seq') WHERE id = %s RETURNING id", (item_id,))
        if row is None:
            raise ApiError(404, "not_found", f"No menu item {item_id!r}.")
        await _remember_menu_version(conn, item_id)
        await audit(conn, actor, "retire_menu_item", item_id)


async def new_policy(conn: Conn, actor: str, terms: dict[str, Any]) -> dict[str, Any]:
    """A new token policy version from its rate and shares; versions only ever go up."""
    problem = policy_problem(terms, versioned=False)
    if problem:
        raise ApiError(422, "invalid_policy", problem)
    async with conn.transaction():
        await conn.execute("LOCK TABLE token_policies IN EXCLUSIVE MODE")
        row = await _one(conn, "SELECT COALESCE(MAX(version), 0) + 1 FROM token_policies", ())
        version = int(row[0]) if row else 1
        policy = {"version": version, **terms}
        await conn.execute("INSERT INTO token_policies (version, data, update_seq) "
                           "VALUES (%s, %s, nextval('update_seq'))", (version, json.dumps(policy)))
        await audit(conn, actor, "new_policy", str(version))
    return policy


# --- staff --------------------------------------------------------------------------------------------------------


async def create_staff_user(conn: Conn, actor: str, username: str, password: str, role: str,
                            franchise_id: int | None = None) -> None:
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise ApiError(422, "weak_password", str(exc)) from None
    async with conn.transaction():
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO staff_users (username, password_hash, role, franchise_id) VALUES "
                                   "(%s, %s, %s, %s)", (username, hashed, role, franchise_id))
        except errors.UniqueViolation:
            raise ApiError(409, "exists", f"A staff user {username!r} exists.") from None
        except errors.ForeignKeyViolation:
            raise ApiError(404, "not_found", f"No franchise {franchise_id}.") from None
        except errors.CheckViolation as exc:
            if "scope" in str(exc.diag.constraint_name):
                raise ApiError(422, "invalid_request", "A franchise manager needs a franchise; other roles have "
                                                       "none.") from None
            raise ApiError(422, "invalid_request", "A username is 3-40 lowercase letters, digits, dots, dashes or "
                                                   "underscores.") from None
        await audit(conn, actor, "create_staff_user", username, {"role": role, "franchise_id": franchise_id})


async def update_staff_user(conn: Conn, actor: str, username: str, role: str, franchise_id: int | None,
                            active: bool) -> None:
    """A new role, franchise or active flag, in force at once: the user's console sessions end with it."""
    if username == actor and (not active or role != "hq_admin"):
        raise ApiError(409, "own_account", "You cannot deactivate your own account or take away your own admin "
                                           "role; ask another HQ admin.")
    async with conn.transaction():
        try:
            async with conn.transaction():
                row = await _one(conn, "UPDATE staff_users SET role = %s, franchise_id = %s, active = %s WHERE "
                                       "username = %s RETURNING username", (role, franchise_id, active, username))
        except errors.ForeignKeyViolation:
            raise ApiError(404, "not_found", f"No franchise {franchise_id}.") from None
        except errors.CheckViolation:
            raise ApiError(422, "invalid_request", "A franchise manager needs a franchise; other roles have "
                                                   "none.") from None
        if row is None:
            raise ApiError(404, "not_found", f"No staff user {username!r}.")
        await conn.execute("UPDATE console_sessions SET ended_at = now() WHERE username = %s AND ended_at IS NULL",
                           (username,))
        await audit(conn, actor, "update_staff_user", username,
                    {"role": role, "franchise_id": franchise_id, "active": active})


async def set_language(conn: Conn, username: str, language: str) -> None:
    await conn.execute("UPDATE staff_users SET language = %s WHERE username = %s", (language, username))


# --- screening lists ----------------------------------------------------------------------------------------------


async def import_screening_list(conn: Conn, actor: str, fmt: str, data: bytes) -> int:
    """Replace the list of `fmt` with the file's entries, whole, in one transaction (a reader sees the old list or the
    new one, never a mix), and record the import. ApiError 422 when the file is not such a list: nothing changes."""
    from sync.hq import screening

    try:
        entries = screening.read_list(fmt, data)
    except screening.ListFormatError as exc:
        raise ApiError(422, "invalid_list", f"This is not a {fmt} list: {exc}.") from None
    if not entries:
        raise ApiError(422, "invalid_list", f"The {fmt} file lists no person; the current list is kept.")
    async with conn.transaction():
        await conn.execute("LOCK TABLE screening_entries IN SHARE ROW EXCLUSIVE MODE")
        await conn.execute("DELETE FROM screening_entries WHERE list_format = %s", (fmt,))
        async with conn.cursor().copy("COPY screening_entries (list_format, ref, name, aliases, birth, nationality, "
                                      "kind, programs) FROM STDIN") as copy:
            for e in entries:
                await copy.write_row((fmt, e.ref, e.name, json.dumps(e.aliases, ensure_ascii=False), e.birth,
                                      e.nationality, e.kind, e.programs))
        digest = hashlib.sha256(data).hexdigest()
        await conn.execute("INSERT INTO screening_imports (list_format, sha256, entries, imported_by) VALUES "
                           "(%s, %s, %s, %s)", (fmt, digest, len(entries), actor))
        await audit(conn, actor, "import_screening_list", fmt, {"entries": len(entries), "sha256": digest})
        await conn.execute("UPDATE kyc_cases SET rescreen_due = true WHERE status = 'approved'")
    return len(entries)
