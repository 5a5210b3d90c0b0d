"""`hotpot-hq`: migrate, serve, enrollment codes, staff users, and re-verifying a terminal's stored chain."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from sync.hq import reports
from sync.hq.auth import ROLES, hash_password
from sync.hq.config import Settings
from sync.hq.db import migrate
from sync.protocol.blocks import Block, BlockError, BlockHeader, check_block_alone, check_block_link, decode_header

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EXIT_OK, EXIT_FAULT, EXIT_USER = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.exit(EXIT_USER, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hotpot-hq", description="HotPot Spot HQ server")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (env HOTPOT_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("migrate", help="apply pending schema migrations (safe to repeat)")
    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--key-dir", default=None, help="HQ key folder (env HOTPOT_HQ_KEY_DIR)")
    p = sub.add_parser("enroll-code", help="make a one-time code for a terminal to enroll with (valid 24 h)")
    p.add_argument("--franchise", required=True)
    p.add_argument("--terminal", required=True, help="the terminal's name")
    p.add_argument("--node", default="Main", help="the point of sale the terminal stands in")
    p.add_argument("--node-type", choices=["own", "franchise"], default="franchise")
    p = sub.add_parser("create-user", help="create an HQ staff user (password from HOTPOT_HQ_PASSWORD or a prompt)")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=ROLES)
    p = sub.add_parser("verify-chain", help="re-verify a terminal's stored chain from genesis (exit 1 on a fault)")
    p.add_argument("terminal_id")
    return parser


def new_enroll_code() -> str:
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(20))  # 100 bits
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def enroll_code(url: str, franchise: str, terminal: str, node: str, node_type: str) -> str:
    code = new_enroll_code()
    with psycopg.connect(url) as conn:
        cur = conn.execute("INSERT INTO franchises (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = "
                           "excluded.name RETURNING id", (franchise,))
        franchise_id = cur.fetchone()[0]  # type: ignore[index]
        cur = conn.execute("INSERT INTO nodes (franchise_id, name, node_type) VALUES (%s, %s, %s) "
                           "ON CONFLICT (franchise_id, name) DO UPDATE SET name = excluded.name "
                           "RETURNING id, node_type", (franchise_id, node, node_type))
        node_id, actual_type = cur.fetchone()  # type: ignore[misc]
        if actual_type != node_type:
            raise SystemExit(f"hotpot-hq: node {node!r} of {franchise!r} is a {actual_type} node, not {node_type}")
        conn.execute("INSERT INTO enrollment_codes (code_hash, node_id, terminal_name, expires_at) "
                     "VALUES (%s, %s, %s, %s)",
                     (reports.hash_code(code), node_id, terminal, datetime.now(UTC) + timedelta(hours=24)))
        conn.execute("INSERT INTO audit_log (actor, action, target) VALUES ('cli', 'enroll_code', %s)",
                     (f"{franchise}/{node}/{terminal}",))
    return code


def verify_stored_chain(url: str, terminal_id: str) -> tuple[int, int]:
    """Re-verify every stored block and record of a terminal. Raises BlockError at the first fault."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT signing_public_key FROM terminals WHERE id = %s", (terminal_id,)).fetchone()
        if row is None:
            raise SystemExit(f"hotpot-hq: no terminal {terminal_id}")
        key = bytes(row[0])
        previous: BlockHeader | None = None
        blocks = records = 0
        cur = conn.cursor(name="blocks")  # server-side: the chain may be long
        cur.execute("SELECT hash, header, signature, first_seq, record_count FROM blocks "
                    "WHERE terminal_id = %s ORDER BY height", (terminal_id,))
        for stored_hash, header, signature, first_seq, count in cur:
            bodies = conn.execute("SELECT body FROM records WHERE terminal_id = %s AND seq >= %s AND seq < %s "
                                  "ORDER BY seq", (terminal_id, first_seq, first_seq + count)).fetchall()
            block = Block(decode_header(bytes(header)), bytes(signature), tuple(bytes(b[0]) for b in bodies))
            check_block_alone(block, key, bytes(stored_hash))
            check_block_link(block.header, previous)
            previous = block.header
            blocks += 1
            records += count
        return blocks, records


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    os.environ["HOTPOT_DATABASE_URL"] = settings.require_database()
    os.environ["HOTPOT_HQ_KEY_DIR"] = str(settings.key_dir.resolve())
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hotpot-hq-metrics-")
    # Keys and the JWT secret are created here, once, before workers race to make them.
    from sync.hq.auth import load_or_create_jwt_secret
    from sync.hq.keys import load_or_create_keys

    load_or_create_keys(settings.key_dir)
    load_or_create_jwt_secret(settings.jwt_secret, settings.key_dir)
    uvicorn.run("sync.hq.asgi:app", host=host, port=port, workers=workers, access_log=False, log_config=None,
                timeout_graceful_shutdown=10)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings.database_url = args.database_url
    if getattr(args, "key_dir", None):
        settings.key_dir = Path(args.key_dir)
    url = settings.require_database()
    try:
        if args.command == "migrate":
            applied = migrate(url)
            print(f"Applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else
                                                            "; the schema is current."))
        elif args.command == "serve":
            return serve(settings, args.host, args.port, args.workers)
        elif args.command == "enroll-code":
            code = enroll_code(url, args.franchise, args.terminal, args.node, args.node_type)
            print(code)
        elif args.command == "create-user":
            password = os.environ.get("HOTPOT_HQ_PASSWORD") or (
                getpass.getpass(f"Password for {args.username}: ") if sys.stdin.isatty() else "")
            try:
                hashed = hash_password(password)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USER
            with psycopg.connect(url) as conn:
                try:
                    conn.execute("INSERT INTO staff_users (username, password_hash, role) VALUES (%s, %s, %s)",
                                 (args.username, hashed, args.role))
                except psycopg.errors.UniqueViolation:
                    print(f"error: a staff user {args.username!r} exists", file=sys.stderr)
                    return EXIT_USER
                except psycopg.errors.CheckViolation:
                    print("error: a username is 3-40 lowercase letters, digits, dots, dashes or underscores",
                          file=sys.stderr)
                    return EXIT_USER
            print(f"Created {args.role} {args.username}.")
        elif args.command == "verify-chain":
            try:
                blocks, records = verify_stored_chain(url, args.terminal_id)
            except BlockError as exc:
                print(f"verify failed at block {exc.height}: {exc.detail} ({exc.reason})")
                return EXIT_FAULT
            print(f"Chain of {args.terminal_id} OK: {blocks} block(s), {records} records.")
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_FAULT
    return EXIT_OK

