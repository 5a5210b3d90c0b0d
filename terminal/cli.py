"""The headless command line of the terminal: the same actions as the GUI, for scripts, tests and operators.

Contract (ARCHITECTURE.md): `--json` prints one JSON value on stdout; a user error prints one line on stderr and
exits 2; amounts are integers in tetri.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import importlib.metadata
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sync.protocol.blocks import BlockError
from terminal.core.errors import InvalidInput, UserFacingError, WrongState
from terminal.core.money import format_gel, parse_tetri
from terminal.core.orders import CARD, CASH, Tender
from terminal.core.sales import DiscountRequest, check_text
from terminal.core.users import User, parse_role
from terminal.services import Terminal, Wallet

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAULT, EXIT_USER = 0, 1, 2


def _version() -> str:
    try:
        return importlib.metadata.version("hotpotspot")
    except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
        return "dev"


def default_data_dir() -> Path:
    env = os.environ.get("HOTPOT_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hotpot-terminal"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line and exits 2, like every other user error."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USER, f"{self.prog}: error: {message}\n")


def _add_backup_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("backup", parents=[common], help="back up the database and keystore (encrypted) into a new "
                                                        "folder under DEST, safely while selling")
    p.add_argument("dest", type=Path)
    p.add_argument("--keep", type=int, default=14, help="how many of this terminal's backups to keep (default 14)")
    p.add_argument("--daily", action="store_true", help="also make DEST (and --keep) the place of the automatic "
                                                        "daily backup")
    p = sub.add_parser("restore", parents=[common], help="restore a backup folder into an empty data folder "
                                                         "(asks for the backup's wallet passphrase)")
    p.add_argument("src", type=Path)


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the subcommand is not reset by the subcommand's own copy of it.
    common = _Parser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help="terminal data folder (env HOTPOT_DATA_DIR; default: the user data dir)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON value")
    common.add_argument("--user", default=argparse.SUPPRESS,
                        help="act as this user (env HOTPOT_USER); default: the terminal owner")
    common.add_argument("--pin", default=argparse.SUPPRESS, help="the user's PIN (env HOTPOT_PIN)")

    parser = _Parser(prog="hotpot-terminal", description="HotPot Spot counter terminal", parents=[common])
    parser.add_argument("--version", action="version", version=f"hotpot-terminal {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("gui", parents=[common], help="start the counter app (default)")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="with no terminal in the data folder, set up a demo terminal (demo menu and staff) at once")
    p.add_argument("--windowed", action="store_true", default=argparse.SUPPRESS,
                   help="open in a window (1280x800, or smaller to fit the screen) instead of full screen "
                        "(env HOTPOT_WINDOWED=1)")

    p = sub.add_parser("init", parents=[common], help="set up a new terminal in the data folder")
    p.add_argument("--franchise", required=True)
    p.add_argument("--terminal", required=True)
    p.add_argument("--node-type", choices=["own", "franchise"], default="franchise")
    p.add_argument("--demo-menu", action="store_true", help="load the demo menu and demo staff")
    p.add_argument("--owner-pin", default=os.environ.get("HOTPOT_OWNER_PIN"),
                   help="PIN of the owner account (env HOTPOT_OWNER_PIN; default: a random one, shown once)")
    p.add_argument("--hq", default=None, help="HQ URL to enroll with")
    p.add_argument("--enroll-code", default=None)
    p.add_argument("--insecure", action="store_true", help="allow a plain http:// HQ that is not on this machine")

    p = sub.add_parser("menu", parents=[common], help="show the menu")
    p.add_argument("--lang", choices=["ka", "en", "ru"], default="en")

    shift = sub.add_parser("shift", parents=[common], help="open, report on, or close the cash shift")
    ssub = shift.add_subparsers(dest="shift_command", required=True, parser_class=_Parser)
    p = ssub.add_parser("open", parents=[common])
    p.add_argument("--float", dest="float_amount", required=True, help="counted opening float, tetri")
    p = ssub.add_parser("close", parents=[common])
    p.add_argument("--counted", required=True, help="counted cash in the drawer, tetri")
    ssub.add_parser("report", parents=[common], help="X report of the open shift")
    p = ssub.add_parser("cash", parents=[common], help="cash in or out of the drawer")
    p.add_argument("direction", choices=["in", "out"])
    p.add_argument("amount", help="tetri")
    p.add_argument("--reason", required=True)

    p = sub.add_parser("sell", parents=[common], help="record a paid sale and print its check")
    p.add_argument("items", nargs="+", metavar="ITEM_ID[:QTY]")
    p.add_argument("--pay", action="append", default=[], metavar="cash[:TENDERED]|card[:REF[:AMOUNT]]",
                   help="repeat for split tender; default: exact cash")
    p.add_argument("--discount", default=None, help="discount in tetri")
    p.add_argument("--reason", default="", help="reason for the discount")
    p.add_argument("--approver", default=None, help="manager approving a discount over the limit")
    p.add_argument("--approver-pin", default=None)

    order = sub.add_parser("order", parents=[common], help="move an order through the kitchen")
    osub = order.add_subparsers(dest="order_command", required=True, parser_class=_Parser)
    p = osub.add_parser("advance", parents=[common])
    p.add_argument("sale_id")
    p.add_argument("--to", default=None, choices=["confirmed", "in_progress", "ready", "completed"])
    p = osub.add_parser("cancel", parents=[common])
    p.add_argument("sale_id")
    p.add_argument("--reason", required=True)
    osub.add_parser("list", parents=[common], help="open orders")

    p = sub.add_parser("refund", parents=[common], help="refund a sale (manager)")
    p.add_argument("sale_id")
    p.add_argument("--reason", required=True)
    p.add_argument("--amount", default=None, help="tetri; default: everything not yet refunded")
    p.add_argument("--item", action="append", default=None, metavar="LINE:QTY",
                   help="refund by item: QTY of the sale's line LINE (1 = its first line); repeat for more lines")
    p.add_argument("--method", choices=["cash", "card"], default=None,
                   help="default: the way the sale was paid (card first, then cash)")

    user = sub.add_parser("user", parents=[common], help="manage terminal users")
    usub = user.add_subparsers(dest="user_command", required=True, parser_class=_Parser)
    p = usub.add_parser("add", parents=[common])
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["cashier", "manager", "owner"])
    p.add_argument("--new-pin", required=True, help="the new user's PIN (4-8 digits)")
    usub.add_parser("list", parents=[common])
    p = usub.add_parser("pin", parents=[common], help="set a user's new PIN (a manager's)")
    p.add_argument("name")
    p.add_argument("--new-pin", required=True)
    p = usub.add_parser("deactivate", parents=[common], help="stop a user from logging in (a manager's)")
    p.add_argument("name")
    p = usub.add_parser("reactivate", parents=[common], help="let a deactivated user log in again")
    p.add_argument("name")

    sub.add_parser("status", parents=[common], help="terminal state: shift, sales, ledger")
    p = sub.add_parser("settings", parents=[common], help="show or change the till's settings (a manager's)")
    p.add_argument("--receipt-width", type=int, choices=[80, 58], help="receipt paper width in mm")
    p.add_argument("--customer-display", choices=["auto", "on", "off"],
                   help="the customer-facing window: on a second screen when there is one (auto), always, never")
    p.add_argument("--z-variance-limit", metavar="TETRI",
                   help="how far the counted drawer may be off before only a manager may close the shift")
    p.add_argument("--evidence-rate", type=int, metavar="KIB_PER_S",
                   help="how fast camera footage HQ asked for is uploaded (sales always go first); 256 by default")
    sub.add_parser("seal", parents=[common], help="seal every pending record into signed blocks now")
    p = sub.add_parser("enroll", parents=[common], help="enroll this terminal with HQ using a one-time code")
    p.add_argument("--hq", required=True, help="HQ URL, e.g. https://hq.example")
    p.add_argument("--code", required=True)
    p.add_argument("--insecure", action="store_true", help="allow a plain http:// HQ that is not on this machine "
                                                           "(a test network; never in a shop)")
    p = sub.add_parser("sync", parents=[common], help="sync with HQ: in the foreground until stopped, or --once")
    p.add_argument("--once", action="store_true", help="seal, push and pull once; exit 1 if anything failed")
    quarantine = sub.add_parser("quarantine", parents=[common], help="blocks HQ refused")
    qsub = quarantine.add_subparsers(dest="quarantine_command", required=True, parser_class=_Parser)
    qsub.add_parser("list", parents=[common])
    p = qsub.add_parser("resolve", parents=[common], help="release a block for another try (manager)")
    p.add_argument("height", type=int)
    p.add_argument("--note", required=True)
    cam = sub.add_parser("camera", parents=[common], help="the terminal's cameras (manager)")
    csub = cam.add_subparsers(dest="camera_command", required=True, parser_class=_Parser)
    csub.add_parser("list", parents=[common], help="cameras and their settings")
    p = csub.add_parser("set", parents=[common], help="add or change a camera from its settings as JSON")
    p.add_argument("settings", help='e.g. \'{"id": "door", "name": "Door", "kind": "security", "source": "usb:0"}\'')
    kyc = sub.add_parser("kyc", parents=[common], help="KYC intake: submit a customer's case, list cases (manager)")
    ksub = kyc.add_subparsers(dest="kyc_command", required=True)
    p = ksub.add_parser("submit", parents=[common], help="check and seal a case from its details and photos")
    p.add_argument("--details", required=True, type=Path, help="the customer's details as a JSON file")
    p.add_argument("--front", required=True, type=Path, help="photo of the document's front (passport photo page)")
    p.add_argument("--back", type=Path, help="photo of the document's back (an ID card's MRZ side)")
    p.add_argument("--selfie", required=True, type=Path, help="photo of the customer's face")
    p.add_argument("--proof-of-address", type=Path, help="enhanced level: a proof of address")
    p.add_argument("--bank-statement", type=Path, help="enhanced level: a bank statement")
    p.add_argument("--account", help="the customer's token account id, to link the case to")
    ksub.add_parser("list", parents=[common], help="this terminal's cases (no personal data)")
    sub.add_parser("verify", parents=[common], help="verify the whole block chain from genesis (exit 1 on a fault)")
    p = sub.add_parser("export-blocks", parents=[common], help="print blocks as JSON lines (the wire format)")
    p.add_argument("--from", dest="from_height", type=int, default=0, metavar="HEIGHT")
    _add_backup_parsers(sub, common)
    wallet = sub.add_parser("wallet", parents=[common], help="the terminal's wallet")
    wsub = wallet.add_subparsers(dest="wallet_command", required=True, parser_class=_Parser)
    wsub.add_parser("show", parents=[common], help="public keys and backup state")
    wsub.add_parser("backup-check", parents=[common], help="confirm the recovery words are written down")
    p = wsub.add_parser("restore", parents=[common],
                        help="write a new keystore from the recovery words (env HOTPOT_MNEMONIC or stdin)")
    p.add_argument("--replace", action="store_true", help="replace an intact keystore (to change the passphrase)")
    sub.add_parser("demo", parents=[common], help="a short scripted demo of a shift on this terminal")
    return parser


def parse_item_spec(spec: str) -> tuple[str, int]:
    item_id, colon, qty = spec.partition(":")
    if not item_id:
        raise InvalidInput(f"{spec!r} is not an item; write ITEM_ID or ITEM_ID:QTY.")
    if not colon:
        return item_id, 1
    # ASCII digits only: int() would also take "٣", "１２", "1_0" and "+5".
    if not (qty.isascii() and qty.isdigit()) or len(qty) > 4:
        raise InvalidInput(f"The quantity in {spec!r} must be a whole number written with the digits 0-9.")
    return item_id, int(qty)


def parse_tender(spec: str) -> Tender:
    kind, _, rest = spec.partition(":")
    if kind == CASH:
        return Tender(CASH, parse_tetri(rest, "cash tendered") if rest else None)
    if kind == CARD:
        ref, _, amount = rest.partition(":")
        return Tender(CARD, parse_tetri(amount, "card amount") if amount else None, ref)
    raise InvalidInput(f"Payment {spec!r} must be cash[:TENDERED] or card[:REF[:AMOUNT]].")


def _new_passphrase() -> str:
    env = os.environ.get("HOTPOT_PASSPHRASE")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise InvalidInput("Set HOTPOT_PASSPHRASE to the new wallet passphrase (there is no terminal to ask on).")
    for _ in range(3):
        first = getpass.getpass("New wallet passphrase (at least 8 characters): ")
        if first == getpass.getpass("The same passphrase again: "):
            return first
        print("The two entries differ; try again.", file=sys.stderr)
    raise InvalidInput("The passphrase entries did not match; nothing was set up.")


def _unlock(term: Terminal) -> Wallet:
    env = os.environ.get("HOTPOT_PASSPHRASE")
    if env is not None:
        try:
            return term.unlock(env)
        except UserFacingError as exc:
            if exc.code == "wrong_passphrase":
                raise InvalidInput("Wrong wallet passphrase (from HOTPOT_PASSPHRASE).") from None
            raise
    if not sys.stdin.isatty():
        raise InvalidInput("Set HOTPOT_PASSPHRASE to the wallet passphrase (there is no terminal to ask on).")
    return term.unlock_with_retries(lambda n: getpass.getpass(
        "Wallet passphrase: " if n == 1 else f"Wrong passphrase. Try {n} of 3: "))


def _sync(term: Terminal, args: argparse.Namespace) -> int:
    from terminal.syncing import SyncService

    wallet = _unlock(term)
    service = SyncService(term.data_dir, wallet)
    if args.once:
        try:
            result = service.run_once()
        finally:
            service.stop()
        status = term.status()
        sent = result.evidence
        footage = {"stored": sent.stored if sent else 0, "refused": sent.refused if sent else 0,
                   "missing": sent.missing if sent else 0, "bytes": sent.bytes if sent else 0}
        data = {"ok": result.ok, "sealed_blocks": result.sealed_blocks, "acknowledged": result.acknowledged,
                "records": result.records, "applied_updates": result.applied_updates, "errors": result.errors,
                "pending_blocks": status["pending_blocks"], "quarantined": status["quarantined"],
                "footage": footage}
        _out(args, data, (f"Sync: sealed {result.sealed_blocks} block(s), HQ acknowledged {result.acknowledged} "
                          f"({result.records} records), {result.applied_updates} update(s) applied; "
                          f"{status['pending_blocks']} block(s) pending.")
             + (f"\nFootage HQ asked for: {footage['stored']} recording(s) verified and stored at HQ "
                f"({footage['bytes'] / 1_048_576:.1f} MB sent), {footage['refused']} refused, "
                f"{footage['missing']} no longer here." if sent else "")
             + "".join(f"\n  error: {e}" for e in result.errors))
        return EXIT_OK if result.ok else EXIT_FAULT
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    print(f"Syncing terminal {term.terminal_id} with {term.hq_url}; Ctrl-C stops.", flush=True)
    try:
        while not stop.wait(5):
            pass
    finally:
        service.stop()
    return EXIT_OK


def _quarantine(term: Terminal, args: argparse.Namespace) -> int:
    if args.quarantine_command == "list":
        items = term.status()["quarantined"]
        _out(args, items, "\n".join(f"block {q['height']}: {q['reason']} {q['detail']}" for q in items)
             or "Nothing is quarantined.")
        return EXIT_OK
    user = _acting_user(term, args)
    term.resolve_quarantine(user, args.height, args.note)
    _out(args, {"resolved": args.height}, f"Block {args.height} released from quarantine; sync will try it again.")
    return EXIT_OK


def _read_line(prompt: str) -> str:
    if sys.stdin.isatty():
        return input(prompt)
    line = sys.stdin.readline()
    if not line:
        raise InvalidInput(f"Expected an answer on standard input for: {prompt.strip()}")
    return line.rstrip("\n")


def _wallet(term: Terminal, args: argparse.Namespace) -> int:
    sub = args.wallet_command
    if sub == "show":
        info = {"terminal_id": term.terminal_id, "account_xpub": term.account.xpub,
                "signing_public_key": term.signing_public_key.hex(), "backed_up": term.wallet_backed_up(),
                "keystore": str(term.keystore_path)}
        _out(args, info, "\n".join(f"{k}: {v}" for k, v in info.items()))
        return EXIT_OK
    if sub == "backup-check":
        wallet = _unlock(term)
        positions = term.backup_challenge(wallet)
        answers = [_read_line(f"Word #{p} of your recovery words: ") for p in positions]
        if not term.confirm_backup(wallet, positions, answers):
            raise InvalidInput("Those words do not match; the wallet is not marked as backed up. Check your paper "
                               "copy and try again.")
        _out(args, {"backed_up": True}, "Thank you: the wallet is marked as backed up.")
        return EXIT_OK
    words = os.environ.get("HOTPOT_MNEMONIC") or _read_line("The 24 recovery words, separated by spaces: ")
    term.restore_keystore(words, _new_passphrase(), replace=args.replace)
    _out(args, {"restored": True, "keystore": str(term.keystore_path)}, f"Keystore restored at {term.keystore_path}.")
    return EXIT_OK


def _acting_user(term: Terminal, args: argparse.Namespace) -> User:
    if not args.user:
        return term.owner()
    pin = args.pin or os.environ.get("HOTPOT_PIN")
    if not pin:
        raise InvalidInput(f"Give the PIN of {args.user} with --pin or HOTPOT_PIN.")
    return term.login(args.user, pin)


def _camera(term: Terminal, args: argparse.Namespace) -> int:
    from terminal.cameras import Cameras  # OpenCV loads only for camera commands

    user = _acting_user(term, args)
    cameras = Cameras(term.data_dir)
    try:
        if args.camera_command == "list":
            cams = [c.to_dict() for c in cameras.visible_to(user)]
            _out(args, cams, "\n".join(f"{c['id']:<16} {c['kind']:<15} {c['source']}" for c in cams)
                 or "No cameras are set up.")
        else:
            try:
                settings = json.loads(args.settings)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"The camera settings are not valid JSON: {exc.msg}.") from None
            if not isinstance(settings, dict):
                raise InvalidInput("The camera settings must be a JSON object.")
            saved = cameras.save(user, settings)
            _out(args, saved.to_dict(), f"Camera {saved.id} saved; the app picks it up when it next starts.")
    finally:
        cameras.close()
    return EXIT_OK


def _kyc(term: Terminal, args: argparse.Namespace) -> int:
    from terminal import kyc  # OpenCV, Tesseract and dlib load only for KYC commands

    user = _acting_user(term, args)
    if args.kyc_command == "list":
        cases = kyc.list_cases(term, user)
        _out(args, cases, "\n".join(f"{c['id']}  {c['level']:<8} {c['status']:<10} "
                                    f"{'held by HQ' if c['uploaded'] else 'to send to HQ'}"
                                    + (f"  HQ asks: {c['hq_note']}" if c["hq_note"] else "") for c in cases)
             or "No KYC cases on this terminal.")
        return EXIT_OK
    kyc.require_kyc_access(user)
    try:
        details = json.loads(args.details.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"The details file {str(args.details)!r} cannot be read: {exc.strerror or exc}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The details file is not valid JSON: {exc}.") from None
    if not isinstance(details, dict):
        raise InvalidInput("The details file must hold a JSON object.")
    files = {"front": args.front, "back": args.back, "selfie": args.selfie,
             "proof_of_address": args.proof_of_address, "bank_statement": args.bank_statement}
    images = {}
    for name, path in files.items():
        if path is None:
            continue
        try:
            images[name] = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"The {name.replace('_', ' ')} photo {str(path)!r} cannot be read: "
                               f"{exc.strerror or exc}.") from None
    case = kyc.intake(term, user, details, kyc.decode_stills(images), account=args.account)
    verdict = ("same person" if case["same_person"] else "not the same person") if case["match_score"] is not None \
        else "no comparison"
    _out(args, case, f"KYC case {case['case_id']} ({case['level']}) sealed for HQ: MRZ valid, faces found, "
                     f"match {case['match_score']:.2f} ({verdict}); it goes to HQ with the next sync.")
    return EXIT_OK


def _out(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        print(json.dumps(value, ensure_ascii=False, sort_keys=True))
    else:
        print(text)


def _report_text(title: str, r: dict[str, Any]) -> str:
    rows = [("Float", r["float_amount"]), ("Sales", r["gross_sales"]), ("Discounts", -r["discounts"]),
            ("Cash sales", r["cash_sales"]), ("Card sales", r["card_sales"]),
            ("Cash refunds", -r["cash_refunds"]), ("Card refunds", -r["card_refunds"]),
            ("Cash in", r["cash_in"]), ("Cash out", -r["cash_out"]), ("Net sales", r["net_sales"]),
            ("Expected cash", r["expected_cash"])]
    if "counted_cash" in r:
        rows += [("Counted cash", r["counted_cash"]), ("Variance", r["variance"])]
    lines = [title, f"  {'Sales count':<14}{r['sales_count']:>16}", f"  {'Refunds count':<14}{r['refunds_count']:>16}"]
    lines += [f"  {label:<14}{format_gel(amount):>16}" for label, amount in rows]
    return "\n".join(lines)


# --- commands without an open terminal: they take the data folder ---------------------------------------------


def _init(args: argparse.Namespace, data_dir: Path) -> int:
    from terminal.setup import create_terminal

    if bool(args.hq) != bool(args.enroll_code):
        raise InvalidInput("Give both --hq URL and --enroll-code CODE to enroll, or neither.")
    passphrase = _new_passphrase()
    term, setup = create_terminal(data_dir, franchise=args.franchise, terminal_name=args.terminal,
                                  node_type=args.node_type, demo=args.demo_menu, owner_pin=args.owner_pin,
                                  passphrase=passphrase)
    enrolled, enroll_error = "", None
    try:
        if args.hq:
            from terminal.syncing import enroll

            try:
                enroll(term, term.unlock(passphrase), args.hq, args.enroll_code, insecure=args.insecure)
                enrolled = f"\nEnrolled with HQ at {args.hq}."
            except UserFacingError as exc:  # the words must still be shown: report, go on
                enroll_error = exc.message
                enrolled = (f"\nThe terminal is set up but NOT enrolled: {exc.message} "
                            "Run 'hotpot-terminal enroll' when HQ can be reached.")
    finally:
        status = term.status()
        term.close()
    pin_text = "\n".join(f"  {name}: PIN {pin}" for name, pin in setup.pins.items())
    words = setup.mnemonic.split()
    word_text = "\n".join("  " + "  ".join(f"{i + 1:>2}. {w:<10}" for i, w in enumerate(words) if i // 6 == row)
                          for row in range(4))
    _out(args, {"terminal_id": status["terminal_id"], "data_dir": str(data_dir), "users": setup.pins,
                "mnemonic": setup.mnemonic, "account_xpub": term.account.xpub, "enrolled": bool(args.hq)
                and enroll_error is None, "enroll_error": enroll_error},
         f"Terminal {status['terminal_id']} set up in {data_dir}.\n\nWrite these PINs down; they are not shown "
         f"again:\n{pin_text}\n\nThe wallet's 24 recovery words. Write them on paper and keep them safe: with them "
         f"anyone can sign as this terminal, and without them a lost keystore cannot be restored. They are not "
         f"shown again.\n{word_text}\n\nThen run 'hotpot-terminal wallet backup-check'.{enrolled}")
    if enroll_error:
        print(f"error: {enroll_error}", file=sys.stderr)
        return EXIT_USER
    return EXIT_OK


def _demo(_: argparse.Namespace, data_dir: Path) -> int:
    from terminal.demo import run_demo

    return run_demo(data_dir, print)


# --- commands on the terminal in the data folder ----------------------------------------------------------------


def _seal(term: Terminal, args: argparse.Namespace) -> int:
    try:
        blocks = term.seal(_unlock(term), force=True)
    except BlockError as exc:  # a stored record HQ would refuse: nothing was sealed
        print(f"seal refused at block {exc.height}: {exc.detail} ({exc.reason})", file=sys.stderr)
        return EXIT_FAULT
    top = term.head()
    _out(args, {"sealed": [{"height": b.height, "records": b.record_count, "hash": b.hash().hex()}
                           for b in blocks], "head": {"height": top.height, "hash": top.hash} if top else None},
         f"Sealed {sum(b.record_count for b in blocks)} records into {len(blocks)} block(s)"
         + (f"; head is block {top.height} ({top.hash[:12]})." if top else "; nothing to seal."))
    return EXIT_OK


def _verify(term: Terminal, args: argparse.Namespace) -> int:
    try:
        report = term.verify()
    except BlockError as exc:
        _out(args, {"ok": False, "height": exc.height, "reason": exc.reason, "detail": exc.detail},
             f"verify failed at block {exc.height}: {exc.detail} ({exc.reason})")
        return EXIT_FAULT
    top = report.head
    _out(args, {"ok": True, "blocks": report.blocks, "records": report.records,
                "head": {"height": top.height, "hash": top.hash} if top else None},
         f"Chain OK: {report.blocks} block(s), {report.records} sealed records"
         + (f", head {top.height} ({top.hash[:12]})." if top else "."))
    return EXIT_OK


def _export_blocks(term: Terminal, args: argparse.Namespace) -> int:
    if args.from_height < 0:
        raise InvalidInput("--from must be a height, 0 or more.")
    for line in term.export_blocks(args.from_height):
        sys.stdout.write(line.decode("utf-8") + "\n")
    return EXIT_OK


def _enroll(term: Terminal, args: argparse.Namespace) -> int:
    from terminal.syncing import enroll

    answer = enroll(term, _unlock(term), args.hq, args.code, insecure=args.insecure)
    _out(args, {"enrolled": True, "hq": args.hq, "node_type": answer["node_type"]},
         f"Enrolled terminal {term.terminal_id} with HQ at {args.hq} ({answer['node_type']} node).")
    return EXIT_OK


def _menu(term: Terminal, args: argparse.Namespace) -> int:
    items = list(term.menu().values())
    _out(args, [{**i.to_dict(), "name": i.display_name(args.lang), "names": dict(i.name)} for i in items],
         "\n".join(f"{i.id:<20} {i.display_name(args.lang):<32} {format_gel(i.price):>10}  "
                   f"{i.available:>5} left{'' if i.active else '  (off)'}" for i in items))
    return EXIT_OK


def _status(term: Terminal, args: argparse.Namespace) -> int:
    st = term.status()
    shift = st["shift"]
    shift_text = f"open, {shift['sales']} sales, by {shift['opened_by']}" if shift else "closed"
    _out(args, st, f"Terminal {st['terminal_id']} ({st['terminal_name']}, {st['franchise']}, {st['node_type']})\n"
         f"Shift: {shift_text}\n"
         f"Sales: {st['sales']}\nLedger records: {st['records']} ({st['unsealed_records']} not sealed yet)")
    return EXIT_OK


def _settings(term: Terminal, args: argparse.Namespace) -> int:
    if args.receipt_width is not None or args.z_variance_limit is not None or args.customer_display is not None \
            or args.evidence_rate is not None:
        user = _acting_user(term, args)
        if args.evidence_rate is not None:
            term.set_evidence_rate(user, args.evidence_rate)
        if args.customer_display is not None:
            term.set_customer_display(user, args.customer_display)
        if args.receipt_width is not None:
            term.set_receipt_width(user, args.receipt_width)
        if args.z_variance_limit is not None:
            term.set_z_variance_limit(user, parse_tetri(args.z_variance_limit, "variance limit"))
    width, limit, display = term.receipt_width_mm(), term.z_variance_limit(), term.customer_display()
    rate = term.evidence_rate_kib()
    _out(args, {"receipt_width_mm": width, "z_variance_limit": limit, "customer_display": display,
                "evidence_rate_kib": rate},
         f"Receipt paper: {width} mm\nDrawer variance a cashier may close with: {format_gel(limit)}\n"
         f"Customer display: {display}\nFootage uploads to HQ: at most {rate} KiB/s, after sales")
    return EXIT_OK


def _user(term: Terminal, args: argparse.Namespace) -> int:
    if args.user_command == "list":
        users = [{"name": u.name, "role": u.role.value, "locked_until_ms": u.locked_until_ms, "active": u.active}
                 for u in term.users()]
        _out(args, users, "\n".join(f"{u['name']:<20} {u['role']}{'' if u['active'] else ' (deactivated)'}"
                                     for u in users))
        return EXIT_OK
    if args.user_command == "pin":
        term.change_pin(_acting_user(term, args), args.name, args.new_pin)
        _out(args, {"name": args.name, "changed": "pin"}, f"{args.name}'s PIN changed.")
        return EXIT_OK
    if args.user_command in ("deactivate", "reactivate"):
        term.set_user_active(_acting_user(term, args), args.name, args.user_command == "reactivate")
        _out(args, {"name": args.name, "changed": args.user_command + "d"}, f"{args.name} {args.user_command}d.")
        return EXIT_OK
    new_user = term.add_user(_acting_user(term, args), args.name, parse_role(args.role), args.new_pin)
    _out(args, {"name": new_user.name, "role": new_user.role.value},
         f"User {new_user.name} ({new_user.role.value}) added.")
    return EXIT_OK


def _order(term: Terminal, args: argparse.Namespace) -> int:
    if args.order_command == "list":
        orders = term.open_orders()
        _out(args, orders, "\n".join(f"{o['check_id']:<16} {o['status']:<12} {format_gel(o['total']):>10}"
                                     for o in orders) or "No open orders.")
        return EXIT_OK
    user = _acting_user(term, args)
    if args.order_command == "advance":
        new = term.advance_order(user, args.sale_id, args.to)
        _out(args, {"sale_id": args.sale_id, "status": new}, f"Order {args.sale_id} is now {new}.")
    else:
        res = term.cancel_order(user, args.sale_id, args.reason)
        _out(args, res, f"Order {args.sale_id} cancelled; refunded {format_gel(res['refund'])}.")
    return EXIT_OK


def _shift(term: Terminal, args: argparse.Namespace) -> int:
    user = _acting_user(term, args)
    if args.shift_command == "open":
        shift_id = term.open_shift(user, parse_tetri(args.float_amount, "opening float"))
        _out(args, {"shift_id": shift_id}, f"Shift {shift_id} opened by {user.name}.")
    elif args.shift_command == "close":
        z = term.close_shift(user, parse_tetri(args.counted, "counted cash"))
        _out(args, z, _report_text(f"Z report, shift {z['shift_id']}", z))
    elif args.shift_command == "report":
        x = term.x_report()
        _out(args, x, _report_text(f"X report, shift {x['shift_id']}", x))
    else:
        term.move_cash(user, args.direction, parse_tetri(args.amount, "amount"), args.reason)
        _out(args, {"ok": True}, f"Cash {args.direction}: {format_gel(int(args.amount))}.")
    return EXIT_OK


def _sell(term: Terminal, args: argparse.Namespace) -> int:
    user = _acting_user(term, args)
    wanted = [parse_item_spec(s) for s in args.items]
    tenders = [parse_tender(s) for s in args.pay] or [Tender(CASH)]
    discount = None
    if args.discount is not None:
        approver = term.login(args.approver, args.approver_pin or "") if args.approver else None
        discount = DiscountRequest(parse_tetri(args.discount, "discount"), args.reason, approver)
    result = term.sell(user, wanted, tenders, discount)
    _out(args, result.to_dict(), check_text(result.sale, franchise=term.franchise, terminal_name=term.terminal_name))
    return EXIT_OK


def _refund(term: Terminal, args: argparse.Namespace) -> int:
    user = _acting_user(term, args)
    amount = parse_tetri(args.amount, "refund amount") if args.amount is not None else None
    by_item: dict[int, int] = {}
    for spec in args.item or ():
        line, _, quantity = spec.partition(":")
        if not line.isdigit() or not quantity.isdigit() or int(line) < 1:
            raise InvalidInput(f"--item takes LINE:QTY, like 2:1 (one of the second line), not {spec!r}.")
        by_item[int(line) - 1] = by_item.get(int(line) - 1, 0) + int(quantity)
    res = term.refund(user, args.sale_id, args.reason, amount, args.method, lines=by_item if args.item else None)
    _out(args, res, f"Refunded {format_gel(res['amount'])} ({res['method']}) on sale {res['sale_id']}.")
    return EXIT_OK


def _backup(term: Terminal, args: argparse.Namespace) -> int:
    from terminal import backup

    wallet = _unlock(term)
    folder = backup.backup(term.data_dir, term.terminal_id, wallet, args.dest, args.keep)
    if args.daily:
        term.set_backup_place(args.dest.resolve(), args.keep)
    manifest = backup.read_manifest(folder)
    size = sum(f["bytes"] for f in manifest["files"].values())
    kept = len(backup.backups_in(args.dest, term.terminal_id))
    _out(args, {"folder": str(folder), **{k: manifest[k] for k in ("sales", "records", "block_height")},
                "bytes": size, "kept": kept, "daily": bool(args.daily)},
         f"Backed up terminal {term.terminal_id} to {folder}: {manifest['sales']} sales, {manifest['records']} "
         f"ledger records ({size / 1e6:.1f} MB, encrypted). {kept} backup(s) kept there."
         + (" The daily backup goes there too from now on." if args.daily else ""))
    return EXIT_OK


def _restore(args: argparse.Namespace, data_dir: Path) -> int:
    from terminal import backup

    passphrase = os.environ.get("HOTPOT_PASSPHRASE")
    if passphrase is None:
        if not sys.stdin.isatty():
            raise InvalidInput("Set HOTPOT_PASSPHRASE to the wallet passphrase of the backup (there is no terminal "
                               "to ask on).")
        passphrase = getpass.getpass("Wallet passphrase of the backup: ")

    def verify(folder: Path) -> dict[str, int]:
        restored = Terminal.open(folder)
        try:
            report = restored.verify()
        except BlockError as exc:
            raise WrongState(f"The backup's chain does not verify at block {exc.height} ({exc.detail}); nothing "
                             "was restored.") from None
        finally:
            restored.close()
        return {"blocks": report.blocks, "records": report.records}

    result = backup.restore(args.src, data_dir, passphrase, verify)
    _out(args, result, f"Restored terminal {result['terminal_id']} from its backup of {result['created_at']} into "
                       f"{data_dir}: {result['sales']} sales; chain verified ({result['verified']['blocks']} "
                       "block(s)). Records made after the backup and not yet at HQ are not in it; HQ holds what it "
                       "received.")
    return EXIT_OK


# The table of commands: those that set a terminal up (or need none yet) take the data folder; the rest get the
# terminal opened in it, and closed again whatever happens.
SETUP_COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"init": _init, "demo": _demo,
                                                                      "restore": _restore}
COMMANDS: dict[str, Callable[[Terminal, argparse.Namespace], int]] = {
    "seal": _seal, "verify": _verify, "export-blocks": _export_blocks, "wallet": _wallet, "enroll": _enroll,
    "sync": _sync, "quarantine": _quarantine, "camera": _camera, "kyc": _kyc, "menu": _menu, "status": _status,
    "user": _user, "settings": _settings, "order": _order, "shift": _shift, "sell": _sell, "refund": _refund,
    "backup": _backup,
}


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    if args.command in SETUP_COMMANDS:
        return SETUP_COMMANDS[args.command](args, data_dir)
    term = Terminal.open(data_dir)
    try:
        return COMMANDS[args.command](term, args)
    finally:
        term.close()


def main(argv: Sequence[str] | None = None, gui: Callable[[Path, bool, bool], int] | None = None) -> int:
    """The CLI. `gui` starts the counter app (given by terminal.__main__, the one module that may import the GUI)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    defaults = {"command": None, "data_dir": None, "json": False, "user": os.environ.get("HOTPOT_USER"), "pin": None,
                "demo": False, "windowed": os.environ.get("HOTPOT_WINDOWED", "") not in ("", "0")}
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.command = args.command or "gui"
    logging.basicConfig(level=os.environ.get("HOTPOT_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = args.data_dir or default_data_dir()
    try:
        if args.command == "gui":
            if gui is None:
                raise InvalidInput("This build has no counter GUI; use the CLI (hotpot-terminal --help).")
            return gui(data_dir, args.demo, args.windowed)
        return _run(args, data_dir)
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); what was done is done, there is nobody to tell.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:  # a full disk is no fault of ours: say what to do
            print(f"error: The disk holding {data_dir} is full: this action was not saved, and nothing saved before "
                  "was lost. Free some space on it and try again.", file=sys.stderr)
            return EXIT_USER
        # A fault of ours: say so plainly, keep the trace where support can find it.
        trace = traceback.format_exc()
        log = data_dir / "logs" / "faults.log"
        try:
            log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as fh:
                fh.write(trace + "\n")
            where = f"details in {log}"
        except OSError:
            where = "details:\n" + trace
        print(f"internal error: the terminal hit a fault it did not expect; nothing half-done was saved ({where}).",
              file=sys.stderr)
        return EXIT_FAULT
