"""A sale end to end in pure logic: priced lines, discount, payments, the token mint and split, and the check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.protocol.ids import bound_uuid7, refund_id_parts, sale_id_parts
from terminal.core.checks import CLAIM_HASH_ALG, CLAIM_HASH_ITERATIONS, ClaimTicket, claim_url
from terminal.core.errors import InvalidInput, WrongState
from terminal.core.menu import MenuItem
from terminal.core.money import Tetri, check_amount, format_gel
from terminal.core.orders import (
    CASH,
    PENDING,
    Discount,
    OrderLine,
    Payment,
    Tender,
    Wanted,
    build_lines,
    clean_text,
    make_discount,
    settle,
)
from terminal.core.tokens import TokenPolicy, reversal_parts, split_tokens
from terminal.core.users import Role, User, require_role


@dataclass(frozen=True)
class DiscountRequest:
    amount: Tetri
    reason: str
    approver: User | None = None  # a manager who entered their PIN, when the cashier is not one


@dataclass(frozen=True)
class CheckInfo:
    id: str
    number: int
    short_code: str
    claim_url: str
    claim_hash: str
    claim_salt: str
    claim_address: str  # the one-time address the customer's ST share is minted to

    def public_dict(self) -> dict[str, Any]:
        """What a cashier and the CLI may see: the short code and link are printed on the check anyway."""
        return {"id": self.id, "number": self.number, "short_code": self.short_code, "claim_url": self.claim_url,
                "claim_address": self.claim_address}


@dataclass(frozen=True)
class Sale:
    id: str
    terminal_id: str
    shift_id: str
    cashier: str
    created_at_ms: int
    lines: tuple[OrderLine, ...]
    discount: Discount | None
    payments: tuple[Payment, ...]
    node_type: str
    policy_version: int
    minted: int
    parts: Mapping[str, int]
    check: CheckInfo
    menu_version: int = 0  # HQ's menu version (its update cursor) the prices came from; 0: the terminal's own menu

    @property
    def subtotal(self) -> Tetri:
        return sum(line.total for line in self.lines)

    @property
    def discount_amount(self) -> Tetri:
        return self.discount.amount if self.discount else 0

    @property
    def total(self) -> Tetri:
        return self.subtotal - self.discount_amount

    @property
    def change(self) -> Tetri:
        return sum(p.change for p in self.payments)

    def cash_amount(self) -> Tetri:
        return sum(p.amount for p in self.payments if p.kind == CASH)

    def record_payload(self) -> dict[str, Any]:
        """The ledger record of the sale. It carries the claim hash, never the secret or the short code."""
        return {
            "sale_id": self.id,
            "shift_id": self.shift_id,
            "cashier": self.cashier,
            "lines": [line.to_dict() for line in self.lines],
            "subtotal": self.subtotal,
            "discount": self.discount.to_dict() if self.discount else None,
            "total": self.total,
            "payments": [p.to_dict() for p in self.payments],
            "change": self.change,
            "status": PENDING,
            "menu_version": self.menu_version,
            "check": {"id": self.check.id, "number": self.check.number, "claim_hash": self.check.claim_hash,
                      "claim_salt": self.check.claim_salt, "claim_hash_alg": CLAIM_HASH_ALG,
                      "claim_hash_iterations": CLAIM_HASH_ITERATIONS, "claim_address": self.check.claim_address},
        }

    def mint_payload(self) -> dict[str, Any]:
        return {"sale_id": self.id, "check_id": self.check.id, "node_type": self.node_type,
                "policy_version": self.policy_version, "minted": self.minted, "parts": dict(self.parts),
                "customer_address": self.check.claim_address}


def prepare_sale(
    *,
    menu: Mapping[str, MenuItem],
    stock: Mapping[str, int] | None,
    wanted: Sequence[Wanted | Sequence[Any]],
    tenders: Sequence[Tender],
    cashier: User,
    discount: DiscountRequest | None,
    node_type: str,
    policy: TokenPolicy,
    terminal_id: str,
    shift_id: str | None,
    check_number: int,
    now_ms: int,
    claim_base_url: str,
    ticket: ClaimTicket,
    claim_address: str,
    menu_version: int = 0,
) -> Sale:
    """Validate and compute a whole sale. Raises a UserFacingError and computes nothing partial on bad input."""
    if shift_id is None:
        raise WrongState("Open a shift before selling.")
    lines = build_lines(menu, wanted, stock)
    subtotal = sum(line.total for line in lines)
    disc = (make_discount(subtotal, discount.amount, discount.reason, cashier, discount.approver)
            if discount else None)
    total = subtotal - (disc.amount if disc else 0)
    payments = settle(total, tenders)
    minted = policy.mint_for(total)
    parts = split_tokens(minted, policy.shares_for(node_type))
    check_id = f"{terminal_id}-{check_number}"
    check = CheckInfo(
        id=check_id, number=check_number, short_code=ticket.secret.short_code,
        claim_url=claim_url(claim_base_url, check_id, ticket.secret), claim_hash=ticket.hash,
        claim_salt=ticket.salt.hex(), claim_address=claim_address,
    )
    return Sale(
        id=bound_uuid7(now_ms, terminal_id, *sale_id_parts(check_number)), terminal_id=terminal_id,
        shift_id=shift_id, cashier=cashier.name, created_at_ms=now_ms,
        lines=tuple(lines), discount=disc, payments=tuple(payments), node_type=node_type,
        policy_version=policy.version, minted=minted, parts=parts, check=check, menu_version=menu_version,
    )


REFUND_METHODS = ("cash", "card")


@dataclass(frozen=True)
class Refund:
    id: str
    sale_id: str
    shift_id: str
    amount: Tetri
    method: str
    reason: str
    approved_by: str
    created_at_ms: int
    token_reversal: Mapping[str, int]

    def record_payload(self) -> dict[str, Any]:
        return {"refund_id": self.id, "sale_id": self.sale_id, "shift_id": self.shift_id, "amount": self.amount,
                "method": self.method, "reason": self.reason, "approved_by": self.approved_by,
                "token_reversal": dict(self.token_reversal)}


def prepare_refund(
    *,
    sale_id: str,
    sale_total: Tetri,
    sale_parts: Mapping[str, int],
    refunded_before: Tetri,
    amount: Tetri | None,
    method: str,
    reason: str,
    user: User,
    shift_id: str | None,
    now_ms: int,
    terminal_id: str,
    refunds_before: int,
) -> Refund:
    """A refund is a manager's act against one sale; it reverses the sale's tokens in proportion."""
    require_role(user, Role.MANAGER, "refund a sale")
    if shift_id is None:
        raise WrongState("Open a shift before refunding: the refund's cash must belong to a shift.")
    if method not in REFUND_METHODS:
        raise InvalidInput("Refund method must be cash or card, not {method!r}.", method=method)
    remaining = sale_total - refunded_before
    if remaining <= 0:
        raise WrongState("This sale has already been refunded in full.")
    amount = remaining if amount is None else check_amount(amount, "refund amount", allow_zero=False)
    if amount > remaining:
        raise InvalidInput("Only {remaining} of this sale can still be refunded.", remaining=format_gel(remaining))
    reason = clean_text(reason, "reason for the refund")
    reversal = reversal_parts(sale_parts, refunded_before, amount, sale_total)
    refund_id = bound_uuid7(now_ms, terminal_id, *refund_id_parts(sale_id, refunds_before))
    return Refund(refund_id, sale_id, shift_id, amount, method, reason, user.name, now_ms, reversal)


def check_text(sale: Sale, *, franchise: str, terminal_name: str, width: int = 44) -> str:
    """The check as plain text (a 58 mm receipt printer's 32-48 columns, a terminal, a log)."""

    def row(label: str, amount: Tetri) -> str:
        money = format_gel(amount)
        return f"{label[: width - len(money) - 1]:<{width - len(money)}}{money}"

    rule = "-" * width
    out = [franchise.center(width), terminal_name.center(width), rule]
    for line in sale.lines:
        out.append(row(f"{line.quantity} x {line.name}", line.total))
        if line.quantity > 1:
            out.append(f"    @ {format_gel(line.unit_price)}")
    out.append(rule)
    if sale.discount:
        out += [row("Subtotal", sale.subtotal), row(f"Discount: {sale.discount.reason}", -sale.discount.amount)]
    out.append(row("TOTAL", sale.total))
    for p in sale.payments:
        out.append(row(f"{p.kind.capitalize()}{' ' + p.reference if p.reference else ''}", p.tendered))
    if sale.change:
        out.append(row("Change", sale.change))
    out += [rule, f"Check {sale.check.id}", f"Sale {sale.id}",
            f"You earned {sale.parts.get('customer', 0)} ST. Claim them at:", sale.check.claim_url,
            f"or with check {sale.check.id}", f"and code {sale.check.short_code}"]
    return "\n".join(out)
