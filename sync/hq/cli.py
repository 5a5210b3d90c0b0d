"""`hotpot-hq`: migrate, serve, enrollment codes, staff users, and re-verifying a terminal's stored chain."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from sync.hq import writes
from sync.hq.api.errors import ApiError
from sync.hq.auth import ROLES
from sync.hq.books import rules_terminal
from sync.hq.config import Settings
from sync.hq.db import migrate
from sync.hq.rules import ChainState, Lookups, Outcome, Refusal, Terminal, check_block
from sync.protocol.blocks import Block, BlockError, BlockHeader, check_block_alone, check_block_link, decode_header
from sync.protocol.records import Record

EXIT_OK, EXIT_FAULT, EXIT_USER = 0, 1, 2
T = TypeVar("T")


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
    p.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                   help="reverse proxies whose X-Forwarded-For is believed, comma-separated (env "
                        "HOTPOT_HQ_TRUSTED_PROXIES; default: none)")
    p.add_argument("--key-dir", default=None,
                   help="HQ key folder (env HOTPOT_HQ_KEY_DIR; default: ~/.local/share/hotpot-hq/keys)")
    p = sub.add_parser("enroll-code", help="make a one-time code for a terminal to enroll with")
    p.add_argument("--franchise", required=True)
    p.add_argument("--terminal", required=True, help="the terminal's name")
    p.add_argument("--node", default="Main", help="the point of sale the terminal stands in")
    p.add_argument("--node-type", choices=["own", "franchise"], default="franchise")
    p = sub.add_parser("create-user", help="create an HQ staff user (password from HOTPOT_HQ_PASSWORD or a prompt)")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--franchise", help="the franchise a franchise_manager sees (by name)")
    menu = sub.add_parser("menu", help="HQ's menu")
    msub = menu.add_subparsers(dest="menu_command", required=True, parser_class=_Parser)
    msub.add_parser("load-demo", help="make the demo menu HQ's menu (a demo HQ for demo terminals)")
    tokens_cmd = sub.add_parser("tokens", help="HQ's token ledger jobs")
    tsub = tokens_cmd.add_subparsers(dest="tokens_command", required=True)
    tsub.add_parser("enter", help="enter new mints and refunds' reversals into the token ledger now (idempotent; "
                                  "the server does it every few seconds)")
    tsub.add_parser("expire", help="move customer shares unclaimed after 365 days to the redistribution pool "
                                   "(idempotent; the server also does it hourly)")
    p = tsub.add_parser("redistribute", help="pay the redistribution pool out pro rata to holders, within their "
                                             "caps (once per year)")
    p.add_argument("--year", type=int, required=True)
    lists = sub.add_parser("lists", help="sanctions and PEP lists for KYC screening")
    lsub = lists.add_subparsers(dest="lists_command", required=True, parser_class=_Parser)
    p = lsub.add_parser("import", help="replace one list with a file in its published format (atomic, recorded)")
    p.add_argument("--format", required=True, choices=("ofac", "un", "eu", "ftm"), dest="list_format",
                   help="ofac: OFAC sdn.xml; un: UN consolidated.xml; eu: EU Financial Sanctions File, XML or CSV; "
                        "ftm: OpenSanctions FollowTheMoney JSON lines")
    p.add_argument("file", type=Path)
    kyc_cmd = sub.add_parser("kyc", help="KYC case jobs")
    ksub = kyc_cmd.add_subparsers(dest="kyc_command", required=True, parser_class=_Parser)
    ksub.add_parser("retention", help="expire approvals older than 365 days, delete photographs 90 days after the "
                                      "decision and case data 5 years after the relationship ended (idempotent; the "
                                      "server also runs it hourly)")
    footage_cmd = sub.add_parser("footage", help="footage uploaded as evidence")
    fsub = footage_cmd.add_subparsers(dest="footage_command", required=True, parser_class=_Parser)
    fsub.add_parser("retention", help="delete footage stored more than HOTPOT_HQ_FOOTAGE_DAYS (90) days ago that no "
                                      "request on hold covers; its hash, record and block stay (idempotent; the "
                                      "server also runs it hourly)")
    sub.add_parser("verify-ledger", help="re-derive HQ's token ledger: links, hashes, signatures, every balance, "
                                         "mints against the books (exit 1 on a fault)")
    p = sub.add_parser("verify-chain", help="re-verify a terminal's stored chain from genesis (exit 1 on a fault)")
    p.add_argument("terminal_id")
    p = sub.add_parser("backup", help="back up the database, the key folder and the KYC case files into a new "
                                      "encrypted folder under DEST (passphrase: HOTPOT_HQ_BACKUP_PASSPHRASE or "
                                      "HOTPOT_HQ_BACKUP_PASSPHRASE_FILE)")
    p.add_argument("dest", type=Path)
    p.add_argument("--keep", type=int, default=14, help="how many backups to keep in DEST (default 14)")
    p = sub.add_parser("restore", help="restore a backup folder into an empty database and the key and KYC "
                                       "folders, then check its counts and token supply")
    p.add_argument("src", type=Path)
    return parser


def _with_connection(url: str, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
    """Run one of HQ's async writes from the command line, on a connection of its own."""

    async def run() -> T:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await work(conn)

    return asyncio.run(run())


def enroll_code(url: str, franchise: str, terminal: str, node: str, node_type: str,
                ttl_s: int | None = None) -> str:
    ttl = ttl_s if ttl_s is not None else Settings().enroll_code_ttl_s
    return _with_connection(url, lambda conn: writes.issue_enroll_code(conn, "cli", franchise, terminal, node,
                                                                        node_type, ttl))


def verify_stored_chain(url: str, terminal_id: str) -> tuple[int, int]:
    """Re-verify every stored block and record of a terminal, and replay HQ's business rules over the whole chain
    from genesis. Raises BlockError at the first fault, Refusal (with the block's height) at the first broken rule."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT t.id, t.signing_public_key, t.account_xpub, n.node_type, t.served_seq "
                           "FROM terminals t JOIN nodes n ON n.id = t.node_id WHERE t.id = %s",
                           (terminal_id,)).fetchone()
        if row is None:
            raise ApiError(404, "unknown_terminal", f"No terminal {terminal_id} is enrolled at HQ.")
        key = bytes(row[1])
        replay = _Replay(conn, rules_terminal(dict(zip(("id", "signing_public_key", "account_xpub", "node_type",
                                                        "served_seq"), row, strict=True))))
        previous: BlockHeader | None = None
        blocks = records = 0
        cur = conn.cursor(name="blocks")  # server-side: the chain may be long
        cur.execute("SELECT hash, header, signature, first_seq, record_count FROM blocks "
                    "WHERE terminal_id = %s ORDER BY height", (terminal_id,))
        for stored_hash, header, signature, first_seq, count in cur:
            bodies = conn.execute("SELECT body FROM records WHERE terminal_id = %s AND seq >= %s AND seq < %s "
                                  "ORDER BY seq", (terminal_id, first_seq, first_seq + count)).fetchall()
            block = Block(decode_header(bytes(header)), bytes(signature), tuple(bytes(b[0]) for b in bodies))
            decoded = check_block_alone(block, key, bytes(stored_hash))
            check_block_link(block.header, previous)
            replay.block(block.height, decoded)
            previous = block.header
            blocks += 1
            records += count
        return blocks, records


class _Replay:
    """HQ's business rules over a stored chain, block after block, from an empty state: what ingest checked, again,
    against HQ's menu history and policies (a rule added later is applied to old blocks too)."""

    def __init__(self, conn: psycopg.Connection[Any], terminal: Terminal) -> None:
        self.conn, self.terminal = conn, terminal
        self.outcome = Outcome(ChainState())
        self.policies = {int(v): d for v, d in conn.execute("SELECT version, data FROM token_policies")}
        self.menus: dict[int, tuple[dict[str, tuple[int, bool]], dict[str, list[Any]]]] = {}

    def _menu(self, version: int) -> tuple[dict[str, tuple[int, bool]], dict[str, list[Any]]]:
        if version not in self.menus:
            rows = self.conn.execute(
                "SELECT DISTINCT ON (item_id) item_id, price, active, modifiers FROM menu_item_history "
                "WHERE update_seq <= %s ORDER BY item_id, update_seq DESC", (version,)).fetchall()
            self.menus[version] = ({r[0]: (int(r[1]), bool(r[2])) for r in rows}, {r[0]: r[3] for r in rows if r[3]})
        return self.menus[version]

    def prices_at(self, version: int) -> dict[str, tuple[int, bool]]:
        return self._menu(version)[0]

    def modifiers_at(self, version: int) -> dict[str, list[Any]]:
        return self._menu(version)[1]

    def block(self, height: int, records: list[Record]) -> None:
        o = self.outcome
        lookups = Lookups(self.policies, self.prices_at, o.sales, o.open_shifts, o.known_shifts, self.modifiers_at)
        try:
            self.outcome = check_block(self.terminal, o.state, records, lookups, time.time_ns() // 1_000_000)
        except Refusal as exc:
            raise BusinessRuleBroken(height, f"{exc.detail} ({exc.reason})") from None


class BusinessRuleBroken(BlockError):
    reason = "business_rule"


# --- the commands: each takes the settings and its arguments and returns the exit code ----------------------------


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    applied = migrate(settings.require_database())
    print(f"Applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else
                                                    "; the schema is current."))
    return EXIT_OK


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from sync.hq.auth import load_or_create_jwt_secret
    from sync.hq.keys import load_or_create_keys

    os.environ["HOTPOT_DATABASE_URL"] = settings.require_database()
    os.environ["HOTPOT_HQ_KEY_DIR"] = str(settings.key_dir.resolve())
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hotpot-hq-metrics-")
    # Keys and the JWT secret are created here, once, before workers race to make them.
    load_or_create_keys(settings.key_dir)
    load_or_create_jwt_secret(settings.jwt_secret, settings.key_dir)
    trusted = args.forwarded_allow_ips if args.forwarded_allow_ips is not None else settings.trusted_proxies
    # Without trusted proxies, uvicorn's proxy-header handling is off entirely (its default trusts 127.0.0.1).
    uvicorn.run("sync.hq.asgi:app", host=args.host, port=args.port, workers=args.workers, access_log=False,
                log_config=None, timeout_graceful_shutdown=10, proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None)
    return EXIT_OK


def _enroll_code(settings: Settings, args: argparse.Namespace) -> int:
    print(enroll_code(settings.require_database(), args.franchise, args.terminal, args.node, args.node_type,
                      settings.enroll_code_ttl_s))
    return EXIT_OK


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("HOTPOT_HQ_PASSWORD") or (
        getpass.getpass(f"Password for {args.username}: ") if sys.stdin.isatty() else "")
    if (args.role == "franchise_manager") != bool(args.franchise):
        print("error: --franchise NAME goes with --role franchise_manager, and only with it", file=sys.stderr)
        return EXIT_USER

    async def create(conn: psycopg.AsyncConnection[Any]) -> None:
        franchise_id = None
        if args.franchise:
            cur = await conn.execute("SELECT id FROM franchises WHERE name = %s", (args.franchise,))
            row = await cur.fetchone()
            if row is None:
                raise ApiError(404, "not_found", f"No franchise called {args.franchise!r}.")
            franchise_id = int(row[0])
        await writes.create_staff_user(conn, "cli", args.username, password, args.role, franchise_id)

    _with_connection(settings.require_database(), create)
    print(f"Created {args.role} {args.username}" + (f" of {args.franchise}." if args.franchise else "."))
    return EXIT_OK


def _menu(settings: Settings, _: argparse.Namespace) -> int:
    count = _with_connection(settings.require_database(), lambda conn: writes.load_demo_menu(conn, "cli"))
    print(f"Loaded the demo menu at HQ: {count} items; enrolled terminals receive it with their next update.")
    return EXIT_OK


def _verify_chain(settings: Settings, args: argparse.Namespace) -> int:
    try:
        blocks, records = verify_stored_chain(settings.require_database(), args.terminal_id)
    except BlockError as exc:
        print(f"verify failed at block {exc.height}: {exc.detail} ({exc.reason})")
        return EXIT_FAULT
    print(f"Chain of {args.terminal_id} OK: {blocks} block(s), {records} records.")
    return EXIT_OK


def _tokens(settings: Settings, args: argparse.Namespace) -> int:
    from sync.hq import tokens
    from sync.hq.keys import load_or_create_keys

    keys = load_or_create_keys(settings.key_dir)
    if args.tokens_command == "redistribute":
        if not 2000 <= args.year <= 2999:
            print("error: --year is a year such as 2026", file=sys.stderr)
            return EXIT_USER

        async def run(conn: psycopg.AsyncConnection[Any]) -> dict[str, Any]:
            async with conn.transaction():
                return await tokens.redistribute_year(conn, keys, args.year)

        result = _with_connection(settings.require_database(), run)
        if result["already"]:
            print(f"Year {args.year} was redistributed already: {result['paid']} ST units paid, {result['kept']} "
                  "kept in the pool. Nothing changed.")
        else:
            print(f"Redistributed {result['paid']} ST units of the pool to {result['holders']} holder(s) for "
                  f"{args.year}; {result['kept']} stay in the pool (holders at their caps).")
        return EXIT_OK

    if args.tokens_command == "enter":
        async def enter(conn: psycopg.AsyncConnection[Any]) -> tuple[int, int]:
            mints = reversals = 0
            while True:
                async with conn.transaction():
                    more_mints = await tokens.append_pending_mints(conn, keys)
                    more_reversals = await tokens.append_pending_reversals(conn, keys)
                mints, reversals = mints + more_mints, reversals + more_reversals
                if not more_mints and not more_reversals:
                    return mints, reversals

        mints, reversals = _with_connection(settings.require_database(), enter)
        print(f"Entered {mints} mint(s) and {reversals} refund reversal(s) into the token ledger.")
        return EXIT_OK

    async def expire(conn: psycopg.AsyncConnection[Any]) -> int:
        total = 0
        while True:
            async with conn.transaction():
                done = await tokens.expire_unclaimed(conn, keys)
            total += done
            if not done:
                return total

    count = _with_connection(settings.require_database(), expire)
    print(f"Expired {count} unclaimed customer share(s) into the redistribution pool.")
    return EXIT_OK


def _lists(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USER
    began = time.monotonic()
    count = _with_connection(settings.require_database(),
                             lambda conn: writes.import_screening_list(conn, "cli", args.list_format, data))
    print(f"Imported {count} listed people from {args.file.name} as the {args.list_format} list in "
          f"{time.monotonic() - began:.1f} s; the previous version is replaced.")
    return EXIT_OK


def _kyc(settings: Settings, _: argparse.Namespace) -> int:
    from sync.hq import kyc
    from sync.hq.keys import load_or_create_keys

    keys = load_or_create_keys(settings.key_dir)
    counts = _with_connection(settings.require_database(),
                              lambda conn: kyc.retention(conn, settings.kyc_dir, keys.kyc))
    print(f"KYC retention: {counts['expired']} approval(s) expired, photographs of {counts['images_deleted']} "
          f"case(s) deleted, personal data of {counts['data_deleted']} case(s) deleted.")
    return EXIT_OK


def _footage(settings: Settings, _: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sync.hq import evidence

    count = _with_connection(settings.require_database(), lambda conn: evidence.retention(
        conn, settings.kyc_dir, datetime.now(UTC), settings.footage_days, limit=10**9))
    print(f"Footage retention: {count} recording(s) stored more than {settings.footage_days} days ago deleted "
          "(their proof stays).")
    return EXIT_OK


def _verify_ledger(settings: Settings, args: argparse.Namespace) -> int:
    from sync.hq import tokens
    from sync.hq.keys import load_or_create_keys

    public = load_or_create_keys(settings.key_dir).receipt_public
    try:
        report = _with_connection(settings.require_database(), lambda conn: tokens.verify_ledger(conn, public))
    except tokens.LedgerError as exc:
        print(f"verify-ledger failed: {exc}")
        return EXIT_FAULT
    print(f"Token ledger OK: {report.entries} entries, {report.holders} holders, {report.in_circulation} ST units "
          "minted and all accounted for; every balance re-derived.")
    return EXIT_OK


def _backup_passphrase() -> str:
    path = os.environ.get("HOTPOT_HQ_BACKUP_PASSPHRASE_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ApiError(400, "bad_passphrase", f"cannot read {path}: {exc.strerror}") from None
    passphrase = os.environ.get("HOTPOT_HQ_BACKUP_PASSPHRASE")
    if passphrase:
        return passphrase
    if sys.stdin.isatty():
        return getpass.getpass("Backup passphrase: ")
    raise ApiError(400, "bad_passphrase", "set HOTPOT_HQ_BACKUP_PASSPHRASE or HOTPOT_HQ_BACKUP_PASSPHRASE_FILE: "
                                          "backups are encrypted")


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from sync.hq import backup

    began = time.monotonic()
    try:
        folder = backup.backup(settings.require_database(), settings.key_dir, settings.kyc_dir, args.dest,
                               _backup_passphrase(), keep=args.keep,
                               progress=lambda step: print(f"backing up {step}…", flush=True))
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    manifest = backup.read_manifest(folder)
    size = sum(f["bytes"] for f in manifest["files"].values())
    counts = manifest["database"]["counts"]
    print(f"Backed up to {folder} in {time.monotonic() - began:.1f} s ({size / 1e6:.1f} MB encrypted): "
          f"{counts['terminals']} terminal(s), {counts['blocks']} blocks, {counts['sales']} sales, "
          f"{manifest['database']['token_supply']} ST in the ledger. {len(backup.backups_in(args.dest))} "
          f"backup(s) kept in {args.dest}.")
    return EXIT_OK


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from sync.hq import backup
    from sync.hq.db import migrate

    began = time.monotonic()
    try:
        result = backup.restore(settings.require_database(), settings.key_dir, settings.kyc_dir, args.src,
                                _backup_passphrase(), progress=lambda step: print(f"restoring {step}…", flush=True))
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    applied = migrate(settings.require_database())
    counts = result["figures"]["counts"]
    print(f"Restored the backup of {result['created_at']} in {time.monotonic() - began:.1f} s: {counts['terminals']} "
          f"terminal(s), {counts['blocks']} blocks, {counts['sales']} sales, {result['figures']['token_supply']} ST "
          f"(counts and supply as backed up), {result['keys']} key file(s), {result['kyc_files']} KYC case file(s)"
          + (f"; then applied {len(applied)} newer migration(s)" if applied else "") + ". Run verify-chain and "
          "verify-ledger before opening it to terminals.")
    return EXIT_OK


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "migrate": _migrate, "serve": _serve, "enroll-code": _enroll_code, "create-user": _create_user,
    "verify-chain": _verify_chain, "verify-ledger": _verify_ledger, "tokens": _tokens, "lists": _lists, "menu": _menu,
    "kyc": _kyc, "footage": _footage, "backup": _backup, "restore": _restore,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings.database_url = args.database_url
    if getattr(args, "key_dir", None):
        settings.key_dir = Path(args.key_dir)
    settings.require_database()
    try:
        return COMMANDS[args.command](settings, args)
    except ApiError as exc:  # refused by HQ's own rules: the same words the API would answer with
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USER
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_FAULT
