"""What a cashier can do at the counter, one method per action: validate with core, then ONE transaction that
writes the business rows and appends the ledger record. The CLI and the GUI both call this and nothing lower."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.protocol.blocks import BlockHeader
from terminal.core.checks import ClaimSecret
from terminal.core.errors import (
    InvalidInput,
    ManagerApprovalRequired,
    NotAllowed,
    NotFound,
    UserFacingError,
    WrongState,
)
from terminal.core.ids import uuid7
from terminal.core.menu import LANGUAGES as LANGUAGE_CODES
from terminal.core.menu import MenuItem, menu_item_from_dict
from terminal.core.money import check_amount, format_gel
from terminal.core.orders import (
    CANCELLED,
    Tender,
    Wanted,
    check_quantity,
    check_transition,
    clean_label,
    clean_text,
    next_status,
)
from terminal.core.sales import DiscountRequest, Refund, Sale, prepare_refund, prepare_sale
from terminal.core.shifts import ZReport, check_cash_movement, check_float
from terminal.core.tokens import TokenPolicy
from terminal.core.users import (
    Role,
    User,
    hash_pin,
    pin_matches,
    require_role,
    reserve_attempt,
    settle_attempt,
    validate_user_name,
)
from terminal.ledger import progress
from terminal.ledger.journal import append_record, append_records
from terminal.ledger.sealer import ChainReport, Head, SealPolicy, head, load_blocks, seal_pending, verify_chain
from terminal.store import repos
from terminal.store.db import Store, open_store, store_exists
from terminal.tickets import ClaimTicketPool
from terminal.wallet.backup import backup_answers_match, backup_challenge
from terminal.wallet.errors import KeystoreForeign, WalletError
from terminal.wallet.hd import Account, Wallet, recording_public_key
from terminal.wallet.keystore import (
    check_passphrase_strength,
    keystore_intact,
    keystore_path,
    load_keystore,
    restore_wallet,
    save_keystore,
    unlock_with_retries,
)

logger = logging.getLogger(__name__)

RECEIPT_WIDTHS = (80, 58)
DEFAULT_Z_VARIANCE_LIMIT = 2_000  # tetri
# Camera footage to HQ (issue 21): 2 Mbit/s of a shop's uplink by default; from a slow line to a fast one.
DEFAULT_EVIDENCE_RATE_KIB = 256
EVIDENCE_RATE_RANGE = (16, 102_400)
CUSTOMER_DISPLAY_MODES = ("auto", "on", "off")

# A terminal not enrolled with HQ prints a claim link that says so (.invalid never resolves, RFC 2606); enrollment
# replaces it with HQ's own claim page.
DEMO_CLAIM_BASE_URL = "https://not-enrolled-demo-terminal.invalid/c"
ONLINE_WITHIN_MS = 2 * 60 * 1000  # "online" means HQ answered within the last two minutes


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SaleResult:
    sale: Sale
    secret: ClaimSecret  # for printing the check only; never stored

    def to_dict(self) -> dict[str, Any]:
        s = self.sale
        return {"sale_id": s.id, "total": s.total, "subtotal": s.subtotal, "discount": s.discount_amount,
                "change": s.change, "paid": sum(p.tendered for p in s.payments),
                "payments": [p.to_dict() for p in s.payments], "lines": [ln.to_dict() for ln in s.lines],
                "tokens": {"minted": s.minted, "parts": dict(s.parts), "policy_version": s.policy_version},
                "check": s.check.public_dict(), "status": "pending"}


class Terminal:
    """The counter terminal over its open store."""

    def __init__(self, store: Store, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.clock = clock
        meta = repos.all_meta(store)
        if "terminal_id" not in meta:
            raise UserFacingError("{path} has no terminal set up yet. Run 'hotpot-terminal init'.", path=store.path)
        self.terminal_id = meta["terminal_id"]
        self.franchise = meta.get("franchise", "")
        self.terminal_name = meta.get("terminal_name", "")
        self.node_type = meta.get("node_type", "franchise")
        self.claim_base_url = meta.get("claim_base_url", DEMO_CLAIM_BASE_URL)
        self.account = Account(meta["account_xpub"])
        self.signing_public_key = bytes.fromhex(meta["signing_public_key"])
        self._next_check = 1
        self._tickets = ClaimTicketPool(between=self._prefetch_addresses)
        self._busy = False
        self._menu: dict[str, MenuItem] = {}
        self._policy: TokenPolicy | None = None
        self._menu_version = 0
        self._data_version = -1
        self._cache_checked = 0.0

    # --- set-up -------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: Path, clock: Callable[[], int] = now_ms) -> Terminal:
        return cls(open_store(data_dir), clock)

    @staticmethod
    def exists(data_dir: Path) -> bool:
        """Is a terminal database in this folder? (Set up by create_terminal in terminal.setup.)"""
        return store_exists(data_dir)

    def close(self) -> None:
        self._tickets.close()
        self.store.close()

    # --- reference data -----------------------------------------------------------------------------------------

    def _refresh_cache(self) -> None:
        """Reload menu and policy when another connection changed the database (PRAGMA data_version moves).

        Looked at most twice a second: a menu update may take that long to show, while stock is checked by the
        database inside the sale's own transaction."""
        now = time.monotonic()
        if self._policy is not None and now - self._cache_checked < 0.5:
            return
        self._cache_checked = now
        version = self.store.data_version()
        if version != self._data_version or self._policy is None:
            self._menu = repos.load_menu(self.store)
            self._policy = repos.current_policy(self.store)
            self._menu_version = int(self.store.meta("menu_version") or 0)
            self._data_version = version

    def reload_reference_data(self) -> None:
        """Read menu, policy and menu version afresh at the next use (after this connection changed them itself,
        which PRAGMA data_version does not show)."""
        self._policy = None

    def menu(self) -> dict[str, MenuItem]:
        self._refresh_cache()
        return dict(self._menu)

    def policy(self) -> TokenPolicy:
        self._refresh_cache()
        assert self._policy is not None
        return self._policy

    # --- users --------------------------------------------------------------------------------------------------

    def users(self) -> list[User]:
        return repos.list_users(self.store)

    def owner(self) -> User:
        """The local operator of the CLI when no user is named: the terminal's owner (the shell is the owner's)."""
        for user in self.users():
            if user.role is Role.OWNER and user.active:
                return user
        raise NotFound("This terminal has no owner account.")

    def login(self, name: str, pin: str) -> User:
        """Check a PIN. The attempt is counted under the write lock before the (slow) check, so processes guessing
        at once share the 3 tries; a locked user is refused before the PIN is checked."""
        at = self.clock()
        with self.store.transaction():
            user = repos.get_user(self.store, name.strip())
            if user is None:
                raise NotFound("There is no user {name!r} on this terminal.", name=name)
            repos.save_login_state(self.store.conn, reserve_attempt(user, at))  # raises UserLocked
        matched = pin_matches(pin, user.pin_hash)
        with self.store.transaction() as conn:
            current = repos.get_user(self.store, user.name)
            assert current is not None
            result = settle_attempt(current, matched, at)
            repos.save_login_state(conn, result.user)
            if not result.ok:
                kind = "user_locked" if result.user.locked_until_ms else "login_failed"
                append_record(conn, self.terminal_id, kind, {"user": user.name}, at)
        if not result.ok:
            raise NotAllowed(result.template, **result.params)
        return result.user

    def add_user(self, by: User, name: str, role: Role, pin: str) -> User:
        require_role(by, Role.MANAGER, "add users")
        if role.rank > by.role.rank:
            raise NotAllowed("A {role} cannot create a {new_role}.", role=by.role.value, new_role=role.value)
        name = validate_user_name(name)
        pin_hash = hash_pin(pin)
        if repos.get_user(self.store, name) is not None:
            raise WrongState("There is already a user called {name}.", name=name)
        at = self.clock()
        with self.store.transaction() as conn:
            repos.insert_user(conn, name, role, pin_hash, at)
            append_record(conn, self.terminal_id, "user_created", {"name": name, "role": role.value, "by": by.name},
                          at)
        user = repos.get_user(self.store, name)
        assert user is not None
        return user

    def _user_to_change(self, by: User, name: str) -> User:
        require_role(by, Role.MANAGER, "change users")
        user = repos.get_user(self.store, name.strip())
        if user is None:
            raise NotFound("There is no user {name!r} on this terminal.", name=name)
        if user.role.rank > by.role.rank:
            raise NotAllowed("A {role} cannot change a {their_role}.", role=by.role.value, their_role=user.role.value)
        return user

    def change_pin(self, by: User, name: str, new_pin: str) -> None:
        """A manager (or the owner) sets a user's new PIN; it also lifts a lock from wrong PINs."""
        user = self._user_to_change(by, name)
        if not user.active:
            raise WrongState("{name} is deactivated; reactivate them first.", name=user.name)
        pin_hash = hash_pin(new_pin)
        at = self.clock()
        with self.store.transaction() as conn:
            repos.set_user_pin(conn, user.id, pin_hash)
            append_record(conn, self.terminal_id, "user_changed", {"name": user.name, "by": by.name, "change": "pin"},
                          at)

    def set_user_active(self, by: User, name: str, active: bool) -> None:
        """Deactivate a user (they can no longer log in; their past stays theirs) or bring them back."""
        user = self._user_to_change(by, name)
        if user.active == active:
            raise WrongState("{name} is already active." if active else "{name} is already deactivated.",
                             name=user.name)
        if not active and user.id == by.id:
            raise NotAllowed("You cannot deactivate yourself.")
        if not active and user.role is Role.OWNER and \
                sum(1 for u in self.users() if u.role is Role.OWNER and u.active) == 1:
            raise NotAllowed("The terminal's last owner cannot be deactivated.")
        at = self.clock()
        with self.store.transaction() as conn:
            repos.set_user_active(conn, user.id, active)
            append_record(conn, self.terminal_id, "user_changed",
                          {"name": user.name, "by": by.name, "change": "reactivated" if active else "deactivated"}, at)

    # --- the menu of a terminal not enrolled with HQ ---------------------------------------------------------------

    def put_local_menu_item(self, by: User, data: Mapping[str, Any]) -> MenuItem:
        """Add or change an item of this terminal's own menu (before it enrolls: afterwards the menu is HQ's).
        Recorded as the terminal's own menu_loaded, so HQ prices these sales from it once the chain arrives."""
        require_role(by, Role.MANAGER, "change the menu")
        if self.enrolled():
            raise WrongState("This terminal takes its menu from HQ; change it in the HQ console.")
        current = self.menu().get(str(data.get("id", "")))
        merged = {**(current.to_dict() if current is not None else {}), **data}
        merged.pop("total_kcal", None)
        item = menu_item_from_dict(merged)
        at = self.clock()
        with self.store.transaction() as conn:
            repos.save_menu_items(conn, [item])
            loaded: dict[str, Any] = {"source": "demo", "version": 0, "prices": {item.id: item.price}}
            if item.modifiers:
                loaded["modifiers"] = {item.id: [dict(g) for g in item.modifiers]}
            append_record(conn, self.terminal_id, "menu_loaded", loaded, at)
        self._policy = None  # this connection's own commit does not move data_version: reload at the next read
        return item

    # --- shifts -------------------------------------------------------------------------------------------------

    def current_shift(self) -> dict[str, Any] | None:
        row = repos.open_shift_row(self.store)
        if row is None:
            return None
        totals = repos.shift_totals(self.store.conn, row["id"])
        return {"id": row["id"], "opened_by": row["opened_by"], "opened_at_ms": row["opened_at_ms"],
                "float": row["float_amount"], "sales": totals.sales_count, "expected_cash": totals.expected_cash}

    def _open_shift_id(self) -> str | None:
        row = repos.open_shift_row(self.store)
        return None if row is None else str(row["id"])

    def open_shift(self, user: User, float_amount: int) -> str:
        check_float(float_amount)
        at = self.clock()
        shift_id = uuid7(at)
        with self.store.transaction() as conn:
            if repos.open_shift_row(self.store) is not None:
                raise WrongState("A shift is already open on this terminal; close it first.")
            repos.insert_shift(conn, shift_id, user.name, float_amount, at)
            append_record(conn, self.terminal_id, "shift_opened",
                          {"shift_id": shift_id, "user": user.name, "float": float_amount}, at)
        return shift_id

    def move_cash(self, user: User, direction: str, amount: int, reason: str) -> None:
        reason = clean_text(reason, "reason for the cash movement")
        at = self.clock()
        with self.store.transaction() as conn:
            shift_id = self._require_open_shift()
            check_cash_movement(direction, amount, repos.shift_totals(conn, shift_id).expected_cash)
            repos.insert_cash_movement(conn, shift_id, direction, amount, reason, user.name, at)
            append_record(conn, self.terminal_id, "cash_moved", {"shift_id": shift_id, "direction": direction,
                                                                  "amount": amount, "reason": reason,
                                                                  "user": user.name}, at)

    def _require_open_shift(self) -> str:
        shift_id = self._open_shift_id()
        if shift_id is None:
            raise WrongState("There is no open shift. Open a shift first.")
        return shift_id

    def x_report(self) -> dict[str, Any]:
        shift_id = self._require_open_shift()
        return {"shift_id": shift_id, **repos.shift_totals(self.store.conn, shift_id).to_dict()}

    def close_shift(self, user: User, counted_cash: int) -> dict[str, Any]:
        check_amount(counted_cash, "counted cash")
        at = self.clock()
        with self.store.transaction() as conn:
            row = repos.open_shift_row(self.store)
            if row is None:
                raise WrongState("There is no open shift to close.")
            if row["opened_by"] != user.name and not user.role.at_least(Role.MANAGER):
                raise NotAllowed("Only {opened_by} or a manager may close this shift.", opened_by=row['opened_by'])
            report = ZReport(repos.shift_totals(conn, row["id"]), counted_cash)
            limit = self.z_variance_limit()
            if abs(report.variance) > limit and not user.role.at_least(Role.MANAGER):
                raise ManagerApprovalRequired(
                    "The drawer is {amount} short: above {limit} a manager must close the shift." if report.variance < 0
                    else "The drawer is {amount} over: above {limit} a manager must close the shift.",
                    amount=format_gel(abs(report.variance)), limit=format_gel(limit))
            repos.close_shift_row(conn, row["id"], user.name, at, counted_cash, report.totals.expected_cash,
                                  report.variance)
            append_record(conn, self.terminal_id, "shift_closed",
                          {"shift_id": row["id"], "user": user.name, **report.to_dict()}, at)
        return {"shift_id": row["id"], **report.to_dict()}

    # --- selling ------------------------------------------------------------------------------------------------

    def sell(self, user: User, wanted: Sequence[Wanted | Sequence[Any]], tenders: Sequence[Tender],
             discount: DiscountRequest | None = None, *, language: str | None = None,
             order_label: str | None = None) -> SaleResult:
        """Record a paid sale: when this returns, the sale and its ledger records are on disk (synchronous=FULL).

        `language` (the screen's, for the check) and `order_label` (a table, pager number or name) stay at this
        till."""
        if language is not None and language not in LANGUAGE_CODES:
            raise InvalidInput("Unknown language {language!r}: choose one of {items}.",
                               language=language, items=', '.join(LANGUAGE_CODES))
        label = clean_label(order_label)
        menu = self.menu()
        policy = self.policy()
        ticket = self._tickets.take()
        at = self.clock()
        with self.store.transaction() as conn:
            check_number = repos.next_check_number(conn)
            sale = prepare_sale(
                menu=menu, stock=None, wanted=wanted, tenders=tenders,  # take_stock below checks the stock
                cashier=user, discount=discount, node_type=self.node_type, policy=policy,
                terminal_id=self.terminal_id, shift_id=self._open_shift_id(), check_number=check_number,
                now_ms=at, claim_base_url=self.claim_base_url, ticket=ticket,
                claim_address=self.account.claim_address(check_number), menu_version=self._menu_version,
            )
            seq, _ = append_records(conn, self.terminal_id, [("sale", sale.record_payload()),
                                                             ("token_mint", sale.mint_payload())], at)
            repos.insert_sale(conn, sale, seq)
            if language is not None or label is not None:
                repos.set_sale_extras(conn, sale.id, language, label)
            repos.take_stock(conn, sale.lines)
        if not self._busy:  # a process that sells more than once: do the slow parts between sales from now on
            self._busy = True
            self._tickets.start()
            self.store.start_background_checkpoints()
        self._next_check = sale.check.number + 1
        return SaleResult(sale, ticket.secret)

    def _prefetch_addresses(self) -> None:
        self.account.prefetch_claim_addresses(self._next_check, 8)

    def _sale_row(self, sale_id: str) -> sqlite3.Row:
        row = repos.get_sale(self.store, sale_id.strip())
        if row is None:
            raise NotFound("There is no sale {sale_id!r} on this terminal.", sale_id=sale_id)
        return row

    def advance_order(self, user: User, sale_id: str, to: str | None = None) -> str:
        at = self.clock()
        with self.store.transaction() as conn:
            row = self._sale_row(sale_id)
            new = to or next_status(row["status"])
            if new == CANCELLED:
                raise InvalidInput("Use cancel to cancel an order; it needs a reason.")
            check_transition(row["status"], new)
            repos.set_sale_status(conn, row["id"], row["status"], new, at)
            append_record(conn, self.terminal_id, "order_status",
                          {"sale_id": row["id"], "from": row["status"], "to": new, "user": user.name}, at)
        return new

    def cancel_order(self, user: User, sale_id: str, reason: str) -> dict[str, Any]:
        """Cancel an order before completion. A paid order is refunded in full in the same transaction, which
        needs a manager, since money goes back."""
        reason = clean_text(reason, "reason for cancelling")
        at = self.clock()
        with self.store.transaction() as conn:
            row = self._sale_row(sale_id)
            check_transition(row["status"], CANCELLED)
            repos.set_sale_status(conn, row["id"], row["status"], CANCELLED, at, reason)
            append_record(conn, self.terminal_id, "order_status", {"sale_id": row["id"], "from": row["status"],
                                                                    "to": CANCELLED, "reason": reason,
                                                                    "user": user.name}, at)
            refunds = self._refund_as_paid(conn, user, row, None, f"order cancelled: {reason}")
        return {"sale_id": row["id"], "status": CANCELLED, "refund": sum(r.amount for r in refunds),
                "refunds": [{"amount": r.amount, "method": r.method} for r in refunds]}

    def _refund_as_paid(self, conn: sqlite3.Connection, user: User, row: sqlite3.Row, amount: int | None,
                        reason: str) -> list[Refund]:
        """Money goes back the way it came: to the card up to what the card paid (less card refunds so far), the
        rest in cash. A split sale so gets two refunds, card first."""
        remaining = row["total"] - repos.refunded_total(conn, row["id"])
        if amount is None and remaining == 0:
            return []  # nothing was paid, or all of it went back already
        wanted = remaining if amount is None else amount
        if wanted <= 0 or wanted > remaining:
            self._refund_plan(user, row, amount, "cash", reason)  # says what is wrong, in the refund's own words
            return []
        to_card = min(wanted, max(0, row["card_amount"] - repos.refunded_total(conn, row["id"], "card")))
        done = []
        for method, part in (("card", to_card), ("cash", wanted - to_card)):
            if part > 0:
                refund = self._refund_plan(user, row, part, method, reason)
                self._write_refund(conn, refund)
                done.append(refund)
        return done

    def _refund_plan(self, user: User, row: sqlite3.Row, amount: int | None, method: str, reason: str) -> Refund:
        return prepare_refund(
            sale_id=row["id"], sale_total=row["total"],
            sale_parts=repos.sale_parts(self.store.conn, row["check_number"]),
            refunded_before=repos.refunded_total(self.store.conn, row["id"]), amount=amount, method=method,
            reason=reason, user=user, shift_id=self._open_shift_id(), now_ms=self.clock(),
            terminal_id=self.terminal_id, refunds_before=repos.refund_count(self.store.conn, row["id"]),
        )

    def _write_refund(self, conn: sqlite3.Connection, refund: Refund) -> None:
        if refund.method == "cash":
            expected = repos.shift_totals(conn, refund.shift_id).expected_cash
            if refund.amount > expected:
                raise WrongState("The drawer should not hold enough cash for this refund; refund to card instead.")
        repos.insert_refund(conn, refund)
        append_records(conn, self.terminal_id, [
            ("refund", refund.record_payload()),
            ("token_reversal", {"refund_id": refund.id, "sale_id": refund.sale_id,
                                "parts": dict(refund.token_reversal)}),
        ], refund.created_at_ms)

    def refund_lines_amount(self, sale: Mapping[str, Any],
                            lines: Mapping[int, int]) -> tuple[int, list[dict[str, Any]]]:
        """What giving back these quantities of these lines (by index) comes to: their share of what was paid (a
        discount is shared out in proportion), and the lines as the refund keeps them. Checks each quantity against
        what is left of its line."""
        sold = sale["lines"]
        done = repos.refunded_quantities(self.store.conn, sale["id"])
        chosen, gross = [], 0
        for index, quantity in sorted(lines.items()):
            if quantity == 0:
                continue
            if not 0 <= index < len(sold):
                raise InvalidInput("The sale has no line {line}.", line=index + 1)
            left = sold[index]["quantity"] - done.get(index, 0)
            check_quantity(quantity)
            if quantity > left:
                raise InvalidInput("Only {left} × {name} can still be refunded.", left=left, name=sold[index]['name'])
            gross += sold[index]["unit_price"] * quantity
            chosen.append({"line": index, "item_id": sold[index]["item_id"], "name": sold[index]["name"],
                           "quantity": quantity, **({"modifiers": sold[index]["modifiers"]}
                                                    if sold[index].get("modifiers") else {})})
        if not chosen:
            raise InvalidInput("Choose at least one item to refund.")
        amount = gross * sale["total"] // sale["subtotal"] if sale["subtotal"] else 0
        for line in chosen:  # each line's share, for the slip (the last takes the rounding)
            line["amount"] = sold[line["line"]]["unit_price"] * line["quantity"] * sale["total"] // sale["subtotal"]
        chosen[-1]["amount"] += amount - sum(line["amount"] for line in chosen)
        return amount, chosen

    def refund(self, user: User, sale_id: str, reason: str, amount: int | None = None,
               method: str | None = None, lines: Mapping[int, int] | None = None) -> dict[str, Any]:
        """Refund (part of) a sale, by amount or by item (`lines`: quantity by line index). Without a method the
        money goes back the way it was paid (card first); a manager may choose cash or card instead."""
        chosen: list[dict[str, Any]] = []
        if lines is not None:
            if amount is not None:
                raise InvalidInput("Refund by item or by amount, not both.")
            amount, chosen = self.refund_lines_amount(self.sale_details(sale_id), lines)
        with self.store.transaction() as conn:
            row = self._sale_row(sale_id)
            if method is None:
                refunds = self._refund_as_paid(conn, user, row, amount, reason)
                if not refunds:  # nothing left to give back: say so, in the refund's own words
                    self._refund_plan(user, row, amount, "cash", reason)
            else:
                refunds = [self._refund_plan(user, row, amount, method, reason)]
                self._write_refund(conn, refunds[0])
            if chosen:
                repos.set_refund_lines(conn, refunds[0].id, chosen)
        reversal: dict[str, int] = {}
        for r in refunds:
            for party, units in r.token_reversal.items():
                reversal[party] = reversal.get(party, 0) + units
        return {"refund_id": refunds[0].id, "sale_id": refunds[0].sale_id, "amount": sum(r.amount for r in refunds),
                "method": "+".join(r.method for r in refunds), "token_reversal": reversal,
                "refunds": [{"refund_id": r.id, "amount": r.amount, "method": r.method} for r in refunds],
                "lines": chosen}

    # --- history and the kitchen --------------------------------------------------------------------------------

    def recent_sales(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest sales first, with what the history screen lists."""
        return repos.recent_sales(self.store, limit)

    def sale_details(self, sale_id: str) -> dict[str, Any]:
        """A sale with its lines, payments, tokens, refunds and the hash of the block that holds it (once sealed)."""
        row = self._sale_row(sale_id)
        details = repos.sale_details(self.store, row["id"])
        details["block"] = repos.block_holding(self.store, row["record_seq"])
        return details

    # --- parked orders ------------------------------------------------------------------------------------------

    def park_cart(self, user: User, lines: Sequence[Mapping[str, Any]], label: str | None = None) -> int:
        """Put an order aside before payment; it stays on disk until recalled (or dropped)."""
        if not lines:
            raise InvalidInput("There is nothing in the order to park.")
        menu = self.menu()
        for line in lines:
            if line.get("item_id") not in menu:
                raise NotFound("There is no menu item {item_id!r}.", item_id=line.get("item_id"))
            check_quantity(line.get("quantity"))
        data = json.dumps({"lines": [dict(ln) for ln in lines]}, ensure_ascii=False)
        with self.store.transaction() as conn:
            cur = conn.execute("INSERT INTO parked_carts (label, parked_by, parked_at_ms, data) VALUES (?, ?, ?, ?)",
                               (clean_label(label), user.name, self.clock(), data))
            return int(cur.lastrowid or 0)

    def parked_carts(self) -> list[dict[str, Any]]:
        """Parked orders, oldest first."""
        return [{**dict(r), "lines": json.loads(r["data"])["lines"]}
                for r in self.store.all("SELECT * FROM parked_carts ORDER BY id")]

    def recall_cart(self, user: User, parked_id: int) -> dict[str, Any]:
        """Take a parked order back (it leaves the parked list in the same step: two tills cannot both take it)."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM parked_carts WHERE id = ?", (parked_id,)).fetchone()
            if row is None:
                raise NotFound("That parked order is gone: someone recalled it already.")
            conn.execute("DELETE FROM parked_carts WHERE id = ?", (parked_id,))
        return {**dict(row), "lines": json.loads(row["data"])["lines"]}

    def completed_orders(self, limit: int = 50) -> list[dict[str, Any]]:
        """Orders handed over lately, newest first, with their lines (the Completed tab)."""
        return [{**dict(row), "lines": json.loads(row["lines"])} for row in repos.completed_orders(self.store, limit)]

    def open_orders(self) -> list[dict[str, Any]]:
        """Orders the kitchen still has to finish, oldest first, with their lines."""
        out = []
        for row in repos.open_orders(self.store):
            order = dict(row)
            order["lines"] = json.loads(row["lines"])
            out.append(order)
        return out

    # --- HQ -----------------------------------------------------------------------------------------------------

    def enrolled(self) -> bool:
        return bool(self.store.meta("hq_receipt_key"))

    @property
    def hq_url(self) -> str | None:
        return self.store.meta("hq_url")

    # --- wallet and ledger --------------------------------------------------------------------------------------

    def set_backup_place(self, folder: Path, keep: int) -> None:
        """Where the automatic daily backup goes, and how many it keeps (terminal.backup.DailyBackup)."""
        with self.store.transaction() as conn:
            repos.set_meta(conn, "backup_dir", str(folder))
            repos.set_meta(conn, "backup_keep", str(keep))

    @property
    def data_dir(self) -> Path:
        return self.store.path.parent

    @property
    def keystore_path(self) -> Path:
        return keystore_path(self.data_dir)

    def unlock_with_retries(self, ask: Callable[[int], str]) -> Wallet:
        """Ask for the passphrase (ask(n) for try n) up to three times; the last wrong one raises WrongPassphrase."""
        return unlock_with_retries(self.unlock, ask)

    @staticmethod
    def backup_challenge(wallet: Wallet) -> list[int]:
        """Which of the recovery words (1-based positions) the owner is asked to type back."""
        return list(backup_challenge(len(wallet.mnemonic.split())))

    def unlock(self, passphrase: str) -> Wallet:
        """Open the keystore; refuses a keystore (or words) that are not this terminal's."""
        wallet = load_keystore(self.data_dir, passphrase, terminal_id=self.terminal_id)
        if wallet.account_xpub != self.account.xpub:
            raise KeystoreForeign("The keystore's keys are not the keys terminal {terminal_id} was set up with.",
                                  terminal_id=self.terminal_id)
        self.remember_recording_key(wallet)
        return wallet

    def remember_recording_key(self, wallet: Wallet) -> None:
        """Keep the public half of the wallet's recording key, so cameras seal footage with the wallet locked."""
        public = recording_public_key(wallet.recording_key()).hex()
        if self.store.meta("recording_public_key") != public:
            with self.store.transaction() as conn:
                repos.set_meta(conn, "recording_public_key", public)

    def recording_public_key(self) -> bytes | None:
        value = self.store.meta("recording_public_key")
        return bytes.fromhex(value) if value else None

    def seal(self, wallet: Wallet, *, force: bool = False, policy: SealPolicy | None = None) -> list[BlockHeader]:
        """Seal pending records into signed blocks: what is due under the policy, or everything with force."""
        return seal_pending(self.store, self.terminal_id, wallet.signer.sign_digest, self.clock,
                            policy=policy or SealPolicy(), force=force)

    def verify(self) -> ChainReport:
        """Walk the whole chain from genesis against this terminal's signing key; raises BlockError at a fault."""
        return verify_chain(self.store, self.signing_public_key)

    def export_blocks(self, from_height: int = 0) -> Iterator[bytes]:
        for block, _ in load_blocks(self.store, from_height):
            yield block.encode()

    def restore_keystore(self, words: str, passphrase: str, *, bip39_passphrase: str = "",
                         replace: bool = False) -> Wallet:
        """Write a new keystore from the 24 recovery words. Refuses words of another wallet, and refuses to replace
        an intact keystore unless asked to (that is how the passphrase is changed); nothing is written on refusal."""
        wallet = restore_wallet(words, bip39_passphrase)
        if wallet.account_xpub != self.account.xpub:
            raise KeystoreForeign("These recovery words belong to another wallet, not to terminal {terminal_id}; "
                                  "nothing was changed.",
                                  terminal_id=self.terminal_id)
        check_passphrase_strength(passphrase)
        path = keystore_path(self.data_dir)
        if path.exists() and not replace and keystore_intact(path):
            raise WalletError("This terminal's keystore is intact; nothing was overwritten. To change its passphrase, "
                              "restore with --replace.")
        save_keystore(self.data_dir, wallet, self.terminal_id, passphrase, overwrite=True,
                      bip39_passphrase=bip39_passphrase)
        with self.store.transaction() as conn:
            append_record(conn, self.terminal_id, "wallet_restored", {"account_xpub": wallet.account_xpub},
                          self.clock())
        return wallet

    def receipt_width_mm(self) -> int:
        """The receipt printer's paper: 80 mm (the default) or 58 mm rolls."""
        value = self.store.meta("receipt_width_mm")
        return int(value) if value in ("58", "80") else 80

    def set_receipt_width(self, user: User, width_mm: int) -> None:
        require_role(user, Role.MANAGER, "set the receipt paper width")
        if width_mm not in RECEIPT_WIDTHS:
            raise InvalidInput("Receipt paper is {items} mm wide, not {width_mm}.",
                               items=' or '.join(map(str, RECEIPT_WIDTHS)), width_mm=width_mm)
        with self.store.transaction() as conn:
            repos.set_meta(conn, "receipt_width_mm", str(width_mm))

    def z_variance_limit(self) -> int:
        """How far the counted drawer may be off the expected cash (either way) before only a manager may close the
        shift; 20.00 GEL unless a manager set another."""
        value = self.store.meta("z_variance_limit")
        return int(value) if value is not None and value.isdigit() else DEFAULT_Z_VARIANCE_LIMIT

    def set_z_variance_limit(self, user: User, tetri: int) -> None:
        require_role(user, Role.MANAGER, "set the drawer variance limit")
        check_amount(tetri, "variance limit", allow_zero=True)
        with self.store.transaction() as conn:
            repos.set_meta(conn, "z_variance_limit", str(tetri))

    def customer_display(self) -> str:
        """The customer-facing display: "auto" (on a second screen when there is one), "on" or "off"."""
        value = self.store.meta("customer_display")
        return value if value in CUSTOMER_DISPLAY_MODES else "auto"

    def set_customer_display(self, user: User, mode: str) -> None:
        require_role(user, Role.MANAGER, "set the customer display")
        if mode not in CUSTOMER_DISPLAY_MODES:
            raise InvalidInput("The customer display is {items}, not {mode!r}.",
                               items=', '.join(CUSTOMER_DISPLAY_MODES), mode=mode)
        with self.store.transaction() as conn:
            repos.set_meta(conn, "customer_display", mode)

    def evidence_rate_kib(self) -> int:
        """How fast camera footage goes up to HQ as evidence, in KiB/s (sales always go first)."""
        value = self.store.meta("evidence_rate_kib")
        return int(value) if value is not None and value.isdigit() else DEFAULT_EVIDENCE_RATE_KIB

    def set_evidence_rate(self, user: User, kib_per_s: int) -> None:
        require_role(user, Role.MANAGER, "set the footage upload rate")
        low, high = EVIDENCE_RATE_RANGE
        if not low <= kib_per_s <= high:
            raise InvalidInput("The footage upload rate is {low} to {high} KiB/s, not {rate}.", low=low, high=high,
                               rate=kib_per_s)
        with self.store.transaction() as conn:
            repos.set_meta(conn, "evidence_rate_kib", str(kib_per_s))

    def user_pref(self, user: User, key: str) -> str | None:
        """A user's own setting at this till (the camera wall's layout...); local, not in the ledger."""
        return self.store.meta(f"pref:{key}:{user.id}")

    def set_user_pref(self, user: User, key: str, value: str) -> None:
        with self.store.transaction() as conn:
            repos.set_meta(conn, f"pref:{key}:{user.id}", value[:200])

    def user_language(self, user: User) -> str | None:
        """The language this user last chose at this till (a local preference: not recorded in the ledger)."""
        return self.store.meta(f"language:{user.id}")

    def set_user_language(self, user: User, lang: str) -> None:
        if lang not in LANGUAGE_CODES:
            raise InvalidInput("Unknown language {lang!r}: choose one of {items}.",
                               lang=lang, items=', '.join(LANGUAGE_CODES))
        with self.store.transaction() as conn:
            repos.set_meta(conn, f"language:{user.id}", lang)

    def wallet_backed_up(self) -> bool:
        return self.store.meta("wallet_backed_up") == "1"

    def confirm_backup(self, wallet: Wallet, positions: Sequence[int], answers: Sequence[str]) -> bool:
        """The owner re-entered the words at `positions`: right answers mark the wallet as backed up."""
        if not backup_answers_match(wallet.mnemonic, positions, answers):
            return False
        with self.store.transaction() as conn:
            repos.set_meta(conn, "wallet_backed_up", "1")
            append_record(conn, self.terminal_id, "wallet_backed_up", {"positions": list(positions)}, self.clock())
        return True

    def resolve_quarantine(self, user: User, height: int, note: str) -> None:
        """A manager releases a refused block for another try (after HQ fixed what made it refuse)."""
        require_role(user, Role.MANAGER, "release a quarantined block")
        note = clean_text(note, "note on the resolution")
        at = self.clock()
        with self.store.transaction() as conn:
            if not progress.release_quarantine(conn, height, user.name, at):
                raise NotFound("Block {height} is not in quarantine.", height=height)
            append_record(conn, self.terminal_id, "quarantine_resolved",
                          {"height": height, "user": user.name, "note": note}, at)

    def head(self) -> Head | None:
        return head(self.store.conn)

    def status(self) -> dict[str, Any]:
        meta = repos.all_meta(self.store)
        at = self.clock()
        contact, failure = int(meta.get("sync_last_contact_ms", 0)), int(meta.get("sync_last_failure_ms", 0))
        ledger = progress.sync_summary(self.store.conn, at)
        return {
            "terminal_id": self.terminal_id,
            "franchise": self.franchise,
            "terminal_name": self.terminal_name,
            "node_type": self.node_type,
            "shift": self.current_shift(),
            "sales": repos.sale_count(self.store),
            **ledger,
            "wallet_backed_up": self.wallet_backed_up(),
            "hq": meta.get("hq_url"),
            "last_error": meta.get("sync_last_error") or meta.get("sync_update_error") or None,
            "online": bool(contact) and contact >= failure and at - contact < ONLINE_WITHIN_MS,
            "footage": repos.evidence_summary(self.store),  # camera segments waiting to go to HQ as evidence
        }


__all__ = ["DEMO_CLAIM_BASE_URL", "ONLINE_WITHIN_MS", "SaleResult", "Terminal", "Wallet", "now_ms"]
