"""Orders: lines from the menu, discounts, payments with change and split tender, and the kitchen status machine."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.protocol.vocabulary import DISCOUNT_LIMIT_BP, NEXT_ORDER_STATUS, ORDER_STATUSES, modified_price
from terminal.core.errors import InvalidInput, ManagerApprovalRequired, NotFound, WrongState
from terminal.core.menu import MenuItem
from terminal.core.money import Tetri, check_amount, format_gel
from terminal.core.users import Role, User

MAX_QUANTITY = 999
MAX_LINES = 100
MAX_TEXT = 200

PENDING, CONFIRMED, IN_PROGRESS, READY, COMPLETED, CANCELLED = ORDER_STATUSES
STATUSES = ORDER_STATUSES
_NEXT = NEXT_ORDER_STATUS


@dataclass(frozen=True)
class OrderLine:
    item_id: str
    name: str
    quantity: int
    unit_price: Tetri  # with the options' prices
    modifiers: tuple[Mapping[str, Any], ...] = ()  # {group, option, price} as recorded
    note: str = ""

    @property
    def total(self) -> Tetri:
        return self.quantity * self.unit_price

    def to_dict(self) -> dict[str, Any]:
        out = {"item_id": self.item_id, "name": self.name, "quantity": self.quantity,
               "unit_price": self.unit_price, "total": self.total}
        if self.modifiers:  # a plain line is recorded exactly as before modifiers existed
            out["modifiers"] = [dict(m) for m in self.modifiers]
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Wanted:
    """A line the cashier asks for: an item, how many, the options picked ((group, option) pairs) and a note."""

    item_id: str
    quantity: int
    options: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @classmethod
    def of(cls, entry: Wanted | Sequence[Any]) -> Wanted:
        if isinstance(entry, Wanted):
            return entry
        item_id, quantity, *rest = entry
        options = tuple((str(g), str(o)) for g, o in (rest[0] if rest else ()))
        return cls(item_id, quantity, options, str(rest[1]) if len(rest) > 1 else "")

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...], str]:
        return self.item_id, tuple(sorted(self.options)), self.note


def priced_modifiers(item: MenuItem, options: Sequence[tuple[str, str]]) -> tuple[tuple[dict[str, Any], ...], int]:
    """The options as recorded ({group, option, price}) and the unit price they make, checked against the item's
    groups by the rule HQ applies (vocabulary.modified_price)."""
    picks = []
    for group_id, option_id in options:
        option = item.option(group_id, option_id)
        if option is None:
            raise InvalidInput("{item} has no option {option_id!r} in {group_id!r}.",
                               item=item.display_name(), option_id=option_id, group_id=group_id)
        picks.append({"group": group_id, "option": option_id, "price": option["price"]})
    try:
        price = modified_price(item.price, item.modifiers, picks)
    except ValueError as exc:
        group = next((g for g in item.modifiers if g["id"] in str(exc)), None)
        if group is not None and "choose" in str(exc):
            raise InvalidInput("{item}: choose {min} to {max} of {group}.",
                               item=item.display_name(), min=group["min"], max=group["max"],
                               group=group["name"]["en"]) from None
        raise InvalidInput("{item} cannot have these options: {problem}.", item=item.display_name(),
                           problem=str(exc)) from None
    return tuple(picks), price


def check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("A quantity must be a whole number.")
    if quantity < 1:
        raise InvalidInput("A quantity must be at least 1.")
    if quantity > MAX_QUANTITY:
        raise InvalidInput("A quantity cannot be more than {max_quantity}.", max_quantity=MAX_QUANTITY)
    return quantity


def build_lines(menu: Mapping[str, MenuItem], wanted: Sequence[Wanted | Sequence[Any]],
                stock: Mapping[str, int] | None = None) -> list[OrderLine]:
    """Turn requests ((item id, quantity), or with options and a note, or Wanted) into priced order lines, merging
    repeats of the same item with the same options and note, checking stock and activity.

    `stock` gives the current availability where it is fresher than the menu's; None leaves the stock check to the
    caller (the store decrements stock under a CHECK constraint in the sale's own transaction).
    """
    if not wanted:
        raise InvalidInput("An order needs at least one item.")
    merged: dict[tuple[Any, ...], Wanted] = {}
    for entry in wanted:
        want = Wanted.of(entry)
        check_quantity(want.quantity)
        before = merged.get(want.key)
        merged[want.key] = want if before is None else Wanted(want.item_id, before.quantity + want.quantity,
                                                               want.options, want.note)
    if len(merged) > MAX_LINES:
        raise InvalidInput("An order can have at most {max_lines} different items.", max_lines=MAX_LINES)
    per_item: dict[str, int] = {}
    for want in merged.values():
        per_item[want.item_id] = per_item.get(want.item_id, 0) + want.quantity
    lines = []
    for want in merged.values():
        item = menu.get(want.item_id)
        if item is None:
            raise NotFound("There is no menu item {item_id!r}.", item_id=want.item_id)
        if not item.active:
            raise WrongState("{item} is not on sale right now.", item=item.display_name())
        check_quantity(want.quantity)
        if stock is not None and per_item[item.id] > stock.get(item.id, 0):
            raise sold_out(item.display_name(), stock.get(item.id, 0), per_item[item.id])
        picks, price = priced_modifiers(item, want.options)
        note = clean_text(want.note, "note", required=False)
        lines.append(OrderLine(item.id, item.display_name("en"), want.quantity, price, picks, note))
    return lines


def sold_out(name: str, available: int, asked: int) -> WrongState:
    return WrongState("Only {available} x {name} left; {asked} asked.", available=available, name=name, asked=asked)


@dataclass(frozen=True)
class Discount:
    amount: Tetri
    reason: str
    approved_by: str | None  # the manager's name when one was needed

    def to_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "reason": self.reason, "approved_by": self.approved_by}


# Characters that have no business in a name or a reason: NUL and other controls (tab, newline and CR are folded
# into spaces instead), and the invisible marks that reverse the direction of text (an RTL override on a printed
# check makes it say something else than it stores).
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str, what: str, *, required: bool = True) -> str:
    if _HIDDEN.search(text or ""):
        raise InvalidInput("The {what} holds a control or text-direction character; please type it again.", what=what)
    cleaned = " ".join((text or "").split())
    if required and not cleaned:
        raise InvalidInput("Please give a {what}.", what=what)
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput("The {what} is too long (at most {max_text} characters).", what=what, max_text=MAX_TEXT)
    return cleaned


MAX_LABEL = 20


def clean_label(text: str | None) -> str | None:
    """An order's table, pager number or customer name: short, one line; empty is none."""
    if text is None:
        return None
    cleaned = clean_text(text, "table, pager or name", required=False)
    if len(cleaned) > MAX_LABEL:
        raise InvalidInput("A table, pager or name is at most {max_label} characters.", max_label=MAX_LABEL)
    return cleaned or None


def make_discount(subtotal: Tetri, amount: Tetri, reason: str, cashier: User, approver: User | None) -> Discount:
    """A discount up to DISCOUNT_LIMIT_BP of the subtotal is the cashier's call; above it a manager must approve."""
    check_amount(amount, "discount", allow_zero=False)
    if amount > subtotal:
        raise InvalidInput("A discount of {amount} is more than the subtotal {subtotal}.",
                           amount=format_gel(amount), subtotal=format_gel(subtotal))
    reason = clean_text(reason, "reason for the discount")
    over_limit = amount * 10_000 > subtotal * DISCOUNT_LIMIT_BP
    approver_name: str | None = None
    if over_limit:
        deciding = approver or cashier
        if not deciding.role.at_least(Role.MANAGER):
            raise ManagerApprovalRequired(
                "A discount above {percent} % needs a manager's approval.", percent=DISCOUNT_LIMIT_BP // 100)
        approver_name = deciding.name
    return Discount(amount, reason, approver_name)


CASH, CARD = "cash", "card"


@dataclass(frozen=True)
class Tender:
    """What the customer hands over: cash (amount tendered) or a card payment (amount charged, terminal reference)."""

    kind: str
    amount: Tetri | None = None  # None: exactly what is still due
    reference: str = ""


@dataclass(frozen=True)
class Payment:
    kind: str
    amount: Tetri  # what this payment contributes to the total
    tendered: Tetri  # what was handed over (equals amount for card)
    change: Tetri
    reference: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": self.amount, "tendered": self.tendered, "change": self.change,
                "reference": self.reference}


def settle(total: Tetri, tenders: Sequence[Tender]) -> list[Payment]:
    """Apply tenders in order to a total. Cards may not exceed what is due; cash may, and the excess is change."""
    if total > 0 and not tenders:
        raise InvalidInput("Please take a payment.")
    payments: list[Payment] = []
    due = total
    for tender in tenders:
        if tender.kind not in (CASH, CARD):
            raise InvalidInput("Unknown payment kind {kind!r}; use cash or card.", kind=tender.kind)
        if due <= 0:
            raise InvalidInput("More payments were given than the total needs.")
        amount = due if tender.amount is None else check_amount(tender.amount, f"{tender.kind} amount",
                                                                allow_zero=False)
        if tender.kind == CARD:
            reference = clean_text(tender.reference, "card reference", required=False) or "card"
            if amount > due:
                raise InvalidInput("A card payment of {amount} is more than the {due} due.",
                                   amount=format_gel(amount), due=format_gel(due))
            payments.append(Payment(CARD, amount, amount, 0, reference[:64]))
            due -= amount
        else:
            applied = min(amount, due)
            payments.append(Payment(CASH, applied, amount, amount - applied, ""))
            due -= applied
    if due > 0:
        paid = total - due
        raise InvalidInput("Tendered {paid} is less than the total {total}; {due} still due.",
                           paid=format_gel(paid), total=format_gel(total), due=format_gel(due))
    return payments


def next_status(status: str) -> str:
    if status not in _NEXT:
        raise WrongState("An order that is {status} cannot move on.", status=status.replace("_", " "))
    return _NEXT[status]


def check_transition(current: str, new: str) -> None:
    if new not in STATUSES:
        raise InvalidInput("Unknown order status {new!r}.", new=new)
    if new == CANCELLED:
        if current in (COMPLETED, CANCELLED):
            raise WrongState("An order that is {current} cannot be cancelled.", current=current)
        return
    if _NEXT.get(current) != new:
        raise WrongState("An order cannot go from {current} to {new}.",
                         current=current.replace("_", " "), new=new.replace("_", " "))
