"""HQ believes nothing it can check: the business rules a verified block's records must keep, re-derived from HQ's
own menu history, token policies and books, and from the terminal's chain as HQ has followed it (docs/protocol.md,
"Business rules"). Pure: ingest loads what the rules need, runs them over a block's records in order, and books what
they allow; one broken rule refuses the whole block, naming the record and the rule.

The token split and the refund reversal are computed here again, from the documented algorithm, independently of
the terminal's code: HQ is the second implementation that keeps the first honest (a property test runs both)."""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import coincurve

from sync.protocol.ids import is_bound, refund_id_parts, sale_id_parts
from sync.protocol.keys import claim_address
from sync.protocol.records import Record
from sync.protocol.vocabulary import (
    BASIS_POINTS,
    DISCOUNT_LIMIT_BP,
    NEXT_ORDER_STATUS,
    PARTIES,
    modified_price,
    modifiers_problem,
)

CLOCK_SKEW_MS = 5 * 60 * 1000  # a record may be this far ahead of HQ's clock, or behind the terminal's first record
MANAGERS = ("manager", "owner")
ROLE_RANK = {"cashier": 1, "manager": 2, "owner": 3}


class Refusal(Exception):
    """A record breaks a business rule: `reason` is the rule's code, `seq` the record."""

    def __init__(self, reason: str, seq: int, detail: str) -> None:
        super().__init__(f"record {seq}: {detail}")
        self.reason, self.seq, self.detail = reason, seq, f"record {seq}: {detail}"


# --- the two computations HQ re-derives (docs/protocol.md section 3) -------------------------------------------


def split(minted: int, shares: Mapping[str, int]) -> dict[str, int]:
    """Largest-remainder split of `minted` by basis-point shares; ties in party order; parties with no share out."""
    parties = [p for p in PARTIES if shares.get(p, 0) > 0]
    parts = {p: minted * shares[p] // BASIS_POINTS for p in parties}
    order = sorted(range(len(parties)), key=lambda i: (-(minted * shares[parties[i]] % BASIS_POINTS), i))
    for i in order[:minted - sum(parts.values())]:
        parts[parties[i]] += 1
    return parts


def reversal(parts: Mapping[str, int], refunded_before: int, refunded_now: int, total: int) -> dict[str, int]:
    """What a refund of `refunded_now` more takes back from each party of a sale of `total`."""
    after = refunded_before + refunded_now
    if after == total:
        return {p: v - v * refunded_before // total for p, v in parts.items()}
    return {p: v * after // total - v * refunded_before // total for p, v in parts.items()}


class ClaimKeys:
    """A terminal's claim addresses (public derivation m/1/n below its account xpub, BIP32 CKDpub on coincurve)."""

    def __init__(self, claim_chain_key: bytes, claim_chain_code: bytes) -> None:
        self.key, self.code = claim_chain_key, claim_chain_code
        self._point = coincurve.PublicKey(claim_chain_key)  # parsed once: every check of the terminal adds to it

    def address(self, check_number: int) -> str:
        if not 1 <= check_number < 2**31:
            raise ValueError("check numbers run from 1 to 2^31 - 1")
        i = hmac.new(self.code, self.key + check_number.to_bytes(4, "big"), hashlib.sha512).digest()
        return claim_address(self._point.add(i[:32]).format(compressed=True))


# --- what HQ knows when a block arrives -------------------------------------------------------------------------


@dataclass
class ChainState:
    """The terminal's chain as HQ has followed it (the terminal_state row), advanced record by record."""

    enrolled: bool = False
    local_node_type: str | None = None
    menu_version: int = 0
    local_prices: dict[str, int] = field(default_factory=dict)
    local_modifiers: dict[str, list[Any]] = field(default_factory=dict)  # the own menu's groups, by item
    policy_version: int = 1
    last_check_number: int = 0
    users: dict[str, str] = field(default_factory=dict)
    inactive_users: dict[str, str] = field(default_factory=dict)  # deactivated (user_changed), with their role
    first_record_ms: int | None = None
    pending_sale: dict[str, Any] | None = None  # a sale whose token_mint is the next record
    pending_refund: dict[str, Any] | None = None  # a refund whose token_reversal is the next record


@dataclass
class SaleBook:
    """One of the terminal's sales as HQ's books hold it."""

    total: int
    status: str
    parts: dict[str, int]  # the parties that received any ST, and how much
    refunded: int = 0
    refunds: int = 0


@dataclass
class Terminal:
    id: str
    node_type: str
    account_xpub: str
    signing_public_key: str
    served_seq: int
    claims: ClaimKeys


@dataclass
class Lookups:
    """What ingest loaded for this block: HQ's policies and the menu at each version named, the terminal's sales and
    shifts that the block's records refer to."""

    policies: dict[int, dict[str, Any]]
    prices_at: Callable[[int], dict[str, tuple[int, bool]]]  # version -> {item: (price, sold)}
    sales: dict[str, SaleBook]
    open_shifts: set[str]
    known_shifts: set[str]
    # version -> {item: modifier groups} for the items that have any (vocabulary.modified_price)
    modifiers_at: Callable[[int], dict[str, list[Any]]] = lambda _version: {}


@dataclass
class Outcome:
    """What the rules allow to be booked, beyond the records themselves."""

    state: ChainState
    unconfirmed_sales: set[str] = field(default_factory=set)
    # The terminal's books as the block left them (what a replay of the whole chain carries to the next block).
    sales: dict[str, SaleBook] = field(default_factory=dict)
    open_shifts: set[str] = field(default_factory=set)
    known_shifts: set[str] = field(default_factory=set)


# --- the rules --------------------------------------------------------------------------------------------------


def check_block(terminal: Terminal, state: ChainState, records: list[Record], lookups: Lookups,
                now_ms: int) -> Outcome:
    """Run every record of a block through the rules, in order. Raises Refusal at the first broken rule."""
    st = copy.deepcopy(state)
    sales = {k: copy.deepcopy(v) for k, v in lookups.sales.items()}
    open_shifts, known_shifts = set(lookups.open_shifts), set(lookups.known_shifts)
    out = Outcome(st, sales=sales, open_shifts=open_shifts, known_shifts=known_shifts)
    for rec in records:
        p, seq = rec.payload, rec.seq
        if rec.created_at_ms > now_ms + CLOCK_SKEW_MS:
            raise Refusal("bad_time", seq, "is dated more than 5 minutes ahead of HQ's clock")
        if st.first_record_ms is not None and rec.created_at_ms < st.first_record_ms - CLOCK_SKEW_MS:
            raise Refusal("bad_time", seq, "is dated before the terminal was set up")
        if (seq == 1) != (rec.type == "terminal_initialized"):
            raise Refusal("wrong_identity", seq, "a chain starts with terminal_initialized, and only once")
        if st.pending_sale is not None and rec.type != "token_mint":
            raise Refusal("wrong_mint", seq, f"sale {st.pending_sale['sale_id']} has no token_mint right after it")
        if st.pending_refund is not None and rec.type != "token_reversal":
            raise Refusal("wrong_reversal", seq,
                          f"refund {st.pending_refund['refund_id']} has no token_reversal right after it")
        rule = _RULES.get(rec.type)
        if rule is not None:
            rule(_Ctx(terminal, st, out, lookups, sales, open_shifts, known_shifts, seq, rec.created_at_ms), p)
    return out


@dataclass
class _Ctx:
    terminal: Terminal
    st: ChainState
    out: Outcome
    lookups: Lookups
    sales: dict[str, SaleBook]
    open_shifts: set[str]
    known_shifts: set[str]
    seq: int
    at_ms: int

    def refuse(self, reason: str, detail: str) -> Refusal:
        return Refusal(reason, self.seq, detail)

    def need_user(self, name: str | None, roles: tuple[str, ...] = ("cashier", "manager", "owner")) -> None:
        if name is None or self.st.users.get(name) not in roles:
            raise self.refuse("unknown_user", f"{name!r} is not a {'/'.join(roles)} this terminal created")

    def need_open_shift(self, shift_id: str) -> None:
        if shift_id not in self.open_shifts:
            raise self.refuse("not_owner", f"shift {shift_id} is not an open shift of this terminal")

    def own_sale(self, sale_id: str) -> SaleBook:
        sale = self.sales.get(sale_id)
        if sale is None:
            raise self.refuse("not_owner", f"sale {sale_id} is not a sale of this terminal")
        return sale


def _initialized(c: _Ctx, p: dict[str, Any]) -> None:
    t = c.terminal
    if p["account_xpub"] != t.account_xpub or p["signing_public_key"] != t.signing_public_key:
        raise c.refuse("wrong_identity", "its keys are not the keys this terminal enrolled with")
    c.st.local_node_type, c.st.first_record_ms = p["node_type"], c.at_ms


def _menu_loaded(c: _Ctx, p: dict[str, Any]) -> None:
    version = p["version"]
    if p["source"] == "demo":
        if c.st.enrolled or version != 0:
            raise c.refuse("wrong_menu_version", "a terminal's own menu is version 0, and only before it enrolls")
        c.st.local_prices.update(p["prices"])
        for item, groups in (p.get("modifiers") or {}).items():
            problem = modifiers_problem(groups, item, p["prices"].get(item, 0))
            if problem is not None or item not in p["prices"]:
                raise c.refuse("bad_menu", problem or f"options for {item}, which this menu does not price")
        c.st.local_modifiers.update({item: p.get("modifiers", {}).get(item, []) for item in p["prices"]})
        c.st.local_modifiers = {k: v for k, v in c.st.local_modifiers.items() if v}
        return
    if version > c.terminal.served_seq:
        raise c.refuse("menu_not_issued", f"menu version {version} was never handed to this terminal")
    if version < c.st.menu_version:
        raise c.refuse("wrong_menu_version", f"menu version {version} is older than {c.st.menu_version}")
    menu = c.lookups.prices_at(version)
    for item, price in p["prices"].items():
        if menu.get(item, (None, False))[0] != price:
            raise c.refuse("wrong_price", f"HQ's menu version {version} does not price {item} at {price}")
    c.st.menu_version = version


def _policy_received(c: _Ctx, p: dict[str, Any]) -> None:
    hq = c.lookups.policies.get(p["version"])
    if hq is None or {k: hq[k] for k in ("rate_num", "rate_den", "shares")} != {
            k: p[k] for k in ("rate_num", "rate_den", "shares")}:
        raise c.refuse("unknown_policy", f"policy version {p['version']} is not HQ's")
    c.st.policy_version = max(c.st.policy_version, p["version"])


def _enrolled(c: _Ctx, p: dict[str, Any]) -> None:
    if p["node_type"] != c.terminal.node_type:
        raise c.refuse("wrong_node_type", f"HQ enrolled this terminal as {c.terminal.node_type}, not {p['node_type']}")
    c.st.enrolled = True


def _user_created(c: _Ctx, p: dict[str, Any]) -> None:
    if p["name"] in c.st.users or p["name"] in c.st.inactive_users:
        raise c.refuse("duplicate_id", f"user {p['name']!r} exists already")
    c.st.users[p["name"]] = p["role"]


def _user_changed(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["by"], MANAGERS)
    by, name = c.st.users[p["by"]], p["name"]
    role = c.st.users.get(name) or c.st.inactive_users.get(name)
    if role is None or ROLE_RANK[role] > ROLE_RANK[by]:
        raise c.refuse("unknown_user", f"{p['by']} ({by}) cannot change {name!r}")
    if p["change"] == "deactivated":
        if name not in c.st.users:
            raise c.refuse("unknown_user", f"{name!r} is not an active user")
        c.st.inactive_users[name] = c.st.users.pop(name)
    elif p["change"] == "reactivated":
        if name not in c.st.inactive_users:
            raise c.refuse("unknown_user", f"{name!r} is not a deactivated user")
        c.st.users[name] = c.st.inactive_users.pop(name)
    elif name not in c.st.users:
        raise c.refuse("unknown_user", f"{name!r} is not an active user")


def _shift_opened(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["user"])
    if p["shift_id"] in c.known_shifts:
        raise c.refuse("duplicate_id", f"shift {p['shift_id']} exists already")
    c.known_shifts.add(p["shift_id"])
    c.open_shifts.add(p["shift_id"])


def _cash_moved(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["user"])
    c.need_open_shift(p["shift_id"])


def _shift_closed(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["user"])
    c.need_open_shift(p["shift_id"])
    c.open_shifts.discard(p["shift_id"])


def _sale(c: _Ctx, p: dict[str, Any]) -> None:
    t, st = c.terminal, c.st
    c.need_user(p["cashier"])
    c.need_open_shift(p["shift_id"])
    check = p["check"]
    if check["id"] != f"{t.id}-{check['number']}" or check["number"] <= st.last_check_number:
        raise c.refuse("wrong_check_id", f"check {check['id']} is not {t.id}-N with N above {st.last_check_number}")
    if not is_bound(p["sale_id"], t.id, *sale_id_parts(check["number"])):
        raise c.refuse("foreign_id", f"sale id {p['sale_id']} is not this terminal's id for check {check['number']}")
    try:
        address = t.claims.address(check["number"])
    except ValueError:
        raise c.refuse("wrong_check_id", f"check number {check['number']} is out of range") from None
    if check["claim_address"] != address:
        raise c.refuse("wrong_address", f"check {check['id']}'s claim address is not derived from this terminal's key")
    _check_prices(c, p)
    _check_arithmetic(c, p)
    st.last_check_number = check["number"]
    st.pending_sale = {"sale_id": p["sale_id"], "check_id": check["id"], "total": p["total"], "address": address,
                       "enrolled": st.enrolled}
    c.sales[p["sale_id"]] = SaleBook(p["total"], "pending", {})


def _check_prices(c: _Ctx, p: dict[str, Any]) -> None:
    st = c.st
    if st.enrolled:
        if p["menu_version"] != st.menu_version:
            raise c.refuse("wrong_menu_version", f"sold under menu version {p['menu_version']}, but the terminal "
                                                 f"had loaded version {st.menu_version}")
        menu = c.lookups.prices_at(st.menu_version)
        groups = c.lookups.modifiers_at(st.menu_version)
        for line in p["lines"]:
            base, sold = menu.get(line["item_id"], (None, False))
            price = _line_price(c, base, groups.get(line["item_id"], []), line)
            if price != line["unit_price"] or not sold:
                raise c.refuse("wrong_price", f"{line['item_id']} at {line['unit_price']} is not on HQ's menu version "
                                              f"{st.menu_version}" + ("" if price is None else f" (price {price})"))
    else:
        if p["menu_version"] != 0:
            raise c.refuse("wrong_menu_version", "before enrollment a terminal sells from its own menu (version 0)")
        for line in p["lines"]:
            price = _line_price(c, st.local_prices.get(line["item_id"]),
                                st.local_modifiers.get(line["item_id"], []), line)
            if price != line["unit_price"]:
                raise c.refuse("wrong_price", f"{line['item_id']} at {line['unit_price']} is not on the menu this "
                                              "terminal recorded")


def _line_price(c: _Ctx, base: int | None, groups: list[Any], line: dict[str, Any]) -> int | None:
    """A line's unit price re-derived: the item's price on the menu plus its options', every option checked to be
    on that menu at that price and each group's min and max kept (shared with the terminal: modified_price)."""
    if base is None:
        return None
    try:
        return modified_price(base, groups, line.get("modifiers") or [])
    except ValueError as exc:
        raise c.refuse("wrong_option", f"{line['item_id']}: {exc}") from None


def _check_arithmetic(c: _Ctx, p: dict[str, Any]) -> None:
    for n, line in enumerate(p["lines"]):
        if line["total"] != line["quantity"] * line["unit_price"]:
            raise c.refuse("bad_arithmetic", f"line {n + 1}: {line['quantity']} × {line['unit_price']} is not "
                                             f"{line['total']}")
    subtotal = sum(line["total"] for line in p["lines"])
    if p["subtotal"] != subtotal:
        raise c.refuse("bad_arithmetic", f"the lines add up to {subtotal}, not {p['subtotal']}")
    discount = p["discount"]
    amount = discount["amount"] if discount else 0
    if discount is not None:
        if not 1 <= amount <= subtotal:
            raise c.refuse("bad_arithmetic", f"a discount of {amount} on a subtotal of {subtotal}")
        if amount * BASIS_POINTS > subtotal * DISCOUNT_LIMIT_BP:
            c.need_user(discount["approved_by"], MANAGERS)
    if p["total"] != subtotal - amount:
        raise c.refuse("bad_arithmetic", f"the total should be {subtotal - amount}, not {p['total']}")
    due, change = p["total"], 0
    for n, pay in enumerate(p["payments"]):
        if due <= 0:
            raise c.refuse("bad_arithmetic", f"payment {n + 1} comes after the total was paid")
        if pay["kind"] == "card":
            ok = 1 <= pay["amount"] <= due and pay["tendered"] == pay["amount"] and pay["change"] == 0
        else:
            ok = pay["amount"] == min(pay["tendered"], due) and pay["amount"] >= 1 and \
                pay["change"] == pay["tendered"] - pay["amount"]
        if not ok:
            raise c.refuse("bad_arithmetic", f"payment {n + 1} ({pay['kind']}) does not add up")
        due -= pay["amount"]
        change += pay["change"]
    if due != 0 or p["change"] != change:
        raise c.refuse("bad_arithmetic", "the payments do not settle the total exactly, or the change is wrong")


def _token_mint(c: _Ctx, p: dict[str, Any]) -> None:
    t, st = c.terminal, c.st
    sale = st.pending_sale
    if sale is None or p["sale_id"] != sale["sale_id"] or p["check_id"] != sale["check_id"]:
        raise c.refuse("wrong_mint", "a token_mint follows its own sale, and only that")
    node_type = t.node_type if sale["enrolled"] else st.local_node_type
    if p["node_type"] != node_type:
        raise c.refuse("wrong_node_type", f"this terminal's sales mint as {node_type}, not {p['node_type']}")
    policy = c.lookups.policies.get(p["policy_version"])
    if policy is None or p["policy_version"] != st.policy_version:
        raise c.refuse("wrong_policy_version", f"policy version {p['policy_version']} is not the one in force "
                                               f"({st.policy_version})")
    minted = sale["total"] * policy["rate_num"] // policy["rate_den"]
    parts = split(minted, policy["shares"][node_type])
    if p["minted"] != minted or p["parts"] != parts:
        raise c.refuse("wrong_mint", f"a total of {sale['total']} mints {minted} split {parts} under policy "
                                     f"{p['policy_version']}, not {p['minted']} split {p['parts']}")
    if p["customer_address"] != sale["address"]:
        raise c.refuse("wrong_address", "the customer's share goes to the check's own claim address")
    book = c.sales.setdefault(p["sale_id"], SaleBook(sale["total"], "pending", {}))  # its sale: maybe last block
    book.parts = {k: v for k, v in parts.items() if v}  # as refunds see them: who got any
    if not sale["enrolled"]:
        c.out.unconfirmed_sales.add(p["sale_id"])
    st.pending_sale = None


def _order_status(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["user"])
    sale = c.own_sale(p["sale_id"])
    current, new = p["from"], p["to"]
    if current != sale.status:
        raise c.refuse("bad_transition", f"sale {p['sale_id']} is {sale.status}, not {current}")
    allowed = new == "cancelled" and current not in ("completed", "cancelled") or NEXT_ORDER_STATUS.get(current) == new
    if not allowed:
        raise c.refuse("bad_transition", f"an order cannot go from {current} to {new}")
    sale.status = new


def _refund(c: _Ctx, p: dict[str, Any]) -> None:
    c.need_user(p["approved_by"], MANAGERS)
    c.need_open_shift(p["shift_id"])
    sale = c.own_sale(p["sale_id"])
    if not is_bound(p["refund_id"], c.terminal.id, *refund_id_parts(p["sale_id"], sale.refunds)):
        raise c.refuse("foreign_id", f"refund id {p['refund_id']} is not this terminal's id for refund "
                                     f"{sale.refunds + 1} of sale {p['sale_id']}")
    if p["amount"] > sale.total - sale.refunded:
        raise c.refuse("over_refund", f"refund of {p['amount']} on a sale with {sale.total - sale.refunded} left")
    expected = reversal(sale.parts, sale.refunded, p["amount"], sale.total)
    if p["token_reversal"] != expected:
        raise c.refuse("wrong_reversal", f"a refund of {p['amount']} takes back {expected}, not {p['token_reversal']}")
    sale.refunded += p["amount"]
    sale.refunds += 1
    c.st.pending_refund = {"refund_id": p["refund_id"], "sale_id": p["sale_id"], "parts": expected}


def _token_reversal(c: _Ctx, p: dict[str, Any]) -> None:
    refund = c.st.pending_refund
    if refund is None or (p["refund_id"], p["sale_id"], p["parts"]) != (refund["refund_id"], refund["sale_id"],
                                                                        refund["parts"]):
        raise c.refuse("wrong_reversal", "a token_reversal repeats the refund right before it")
    c.st.pending_refund = None


_RULES: dict[str, Callable[[_Ctx, dict[str, Any]], None]] = {
    "terminal_initialized": _initialized, "menu_loaded": _menu_loaded, "policy_received": _policy_received,
    "enrolled": _enrolled, "user_created": _user_created, "user_changed": _user_changed,
    "shift_opened": _shift_opened, "cash_moved": _cash_moved,
    "shift_closed": _shift_closed, "sale": _sale, "token_mint": _token_mint, "order_status": _order_status,
    "refund": _refund, "token_reversal": _token_reversal,
}
RULE_REASONS = ("bad_time", "wrong_identity", "menu_not_issued", "wrong_menu_version", "wrong_price", "wrong_option",
                "bad_menu",
                "unknown_policy", "wrong_policy_version", "wrong_node_type", "duplicate_id", "unknown_user",
                "not_owner", "foreign_id", "wrong_check_id", "wrong_address", "bad_arithmetic", "wrong_mint",
                "bad_transition", "over_refund", "wrong_reversal")
