"""Typed schemas of every record type's payload, shared by both ends: a terminal checks a payload before it records
it (and again before it seals), HQ checks every record of a block before it looks at its numbers. Fields, types,
ranges, enums and lengths; an unknown field is refused. A problem names the field (msgspec's `$.path`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from sync.protocol.vocabulary import MAX_MODIFIER_GROUPS, MAX_MODIFIER_OPTIONS, MAX_NOTE_LENGTH, MAX_PRICE

MAX_MONEY = 10**12  # tetri: far above any real bill, far below where a number stops being a number
MAX_MS = 2**53  # milliseconds since the epoch (JSON-safe)

Money = Annotated[int, Meta(ge=0, le=MAX_MONEY)]
SignedMoney = Annotated[int, Meta(ge=-MAX_MONEY, le=MAX_MONEY)]  # variances and net figures may be negative
Tokens = Annotated[int, Meta(ge=0, le=MAX_MONEY)]
Count = Annotated[int, Meta(ge=0, le=2**31)]
Millis = Annotated[int, Meta(ge=0, le=MAX_MS)]
Quantity = Annotated[int, Meta(ge=1, le=999)]
Price = Annotated[int, Meta(ge=1, le=MAX_PRICE)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=1000)]
Uuid = Annotated[str, Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
CheckId = Annotated[str, Meta(pattern=r"^[0-9A-Z]{4,32}-[0-9]{1,12}$")]
ItemId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Hex = Annotated[str, Meta(pattern=r"^[0-9a-f]+$", max_length=256)]
Address = Annotated[str, Meta(pattern=r"^HP[0-9A-HJKMNP-TV-Z]{32}$")]  # "HP" + Crockford base32 (keys.py)
Xpub = Annotated[str, Meta(min_length=100, max_length=120)]
PublicKeyHex = Annotated[str, Meta(pattern=r"^0[23][0-9a-f]{64}$")]
CameraId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Party = Literal["owner", "franchisee", "charity", "customer"]
NodeType = Literal["own", "franchise"]
OrderStatus = Literal["pending", "confirmed", "in_progress", "ready", "completed", "cancelled"]
Role = Literal["cashier", "manager", "owner"]
Parts = dict[Party, Tokens]


class Payload(Struct, forbid_unknown_fields=True):
    """A record payload: exactly these fields, of these types."""


class LineModifier(Payload):
    group: ItemId
    option: ItemId
    price: Annotated[int, Meta(ge=-MAX_PRICE, le=MAX_PRICE)]  # added to the item's price (tetri)


class SaleLine(Payload):
    item_id: ItemId
    name: Name
    quantity: Quantity
    unit_price: Price  # the item's price with its options' (vocabulary.modified_price)
    total: Money
    # Both absent on a plain line (as before modifiers existed: old records stay byte for byte the same).
    modifiers: Annotated[list[LineModifier], Meta(max_length=MAX_MODIFIER_GROUPS * MAX_MODIFIER_OPTIONS)] = []
    note: Annotated[str, Meta(max_length=MAX_NOTE_LENGTH)] = ""


class SaleDiscount(Payload):
    amount: Money
    reason: Text
    approved_by: Name | None


class SalePayment(Payload):
    kind: Literal["cash", "card"]
    amount: Money
    tendered: Money
    change: Money
    reference: Text


class SaleCheck(Payload):
    id: CheckId
    number: Annotated[int, Meta(ge=1, le=10**12)]
    claim_hash: Hex
    claim_salt: Hex
    claim_hash_alg: Name
    claim_hash_iterations: Annotated[int, Meta(ge=1, le=10**7)]
    claim_address: Address


class Sale(Payload):
    sale_id: Uuid
    shift_id: Uuid
    cashier: Name
    lines: Annotated[list[SaleLine], Meta(min_length=1, max_length=200)]
    subtotal: Money
    discount: SaleDiscount | None
    total: Money
    payments: Annotated[list[SalePayment], Meta(max_length=20)]  # none when a discount makes the total 0
    change: Money
    status: Literal["pending"]
    menu_version: Annotated[int, Meta(ge=0, le=2**53)]
    check: SaleCheck


class TokenMint(Payload):
    sale_id: Uuid
    check_id: CheckId
    node_type: NodeType
    policy_version: Annotated[int, Meta(ge=1, le=2**31)]
    minted: Tokens
    parts: Parts
    customer_address: Address


class OrderStatusChange(Payload):
    sale_id: Uuid
    from_: OrderStatus = msgspec.field(name="from")
    to: OrderStatus
    user: Name
    reason: Text | None = None


class Refund(Payload):
    refund_id: Uuid
    sale_id: Uuid
    shift_id: Uuid
    amount: Annotated[int, Meta(ge=1, le=MAX_MONEY)]
    method: Literal["cash", "card"]
    reason: Text
    approved_by: Name
    token_reversal: Parts


class TokenReversal(Payload):
    refund_id: Uuid
    sale_id: Uuid
    parts: Parts


class TerminalInitialized(Payload):
    franchise: Name
    terminal_name: Name
    node_type: NodeType
    account_xpub: Xpub
    signing_public_key: PublicKeyHex


class MenuLoaded(Payload):
    source: Literal["demo", "hq"]
    version: Annotated[int, Meta(ge=0, le=2**53)]  # HQ's update cursor; 0 for the terminal's own (demo) menu
    prices: Annotated[dict[ItemId, Price], Meta(max_length=10_000)]  # the items loaded, with their prices
    # The terminal's own menu (source demo): the modifier groups of the items that have any, for HQ's price check.
    modifiers: Annotated[dict[ItemId, list[dict[str, Any]]], Meta(max_length=10_000)] = {}


class UserCreated(Payload):
    name: Name
    role: Role
    by: Name


class UserChanged(Payload):
    name: Name
    by: Name
    change: Literal["pin", "deactivated", "reactivated"]


class UserEvent(Payload):
    user: Name


class ShiftOpened(Payload):
    shift_id: Uuid
    user: Name
    float: Money


class CashMoved(Payload):
    shift_id: Uuid
    direction: Literal["in", "out"]
    amount: Annotated[int, Meta(ge=1, le=MAX_MONEY)]
    reason: Text
    user: Name


class ShiftClosed(Payload):
    shift_id: Uuid
    user: Name
    float_amount: Money
    sales_count: Count
    gross_sales: Money
    discounts: Money
    cash_sales: Money
    card_sales: Money
    refunds_count: Count
    cash_refunds: Money
    card_refunds: Money
    cash_in: Money
    cash_out: Money
    net_sales: SignedMoney
    expected_cash: SignedMoney
    counted_cash: Money
    variance: SignedMoney


class WalletBackedUp(Payload):
    positions: Annotated[list[Annotated[int, Meta(ge=1, le=24)]], Meta(min_length=1, max_length=24)]


class PolicyReceived(Payload):
    version: Annotated[int, Meta(ge=1, le=2**31)]
    rate_num: Annotated[int, Meta(ge=0, le=1_000_000)]
    rate_den: Annotated[int, Meta(ge=1, le=1_000_000)]
    shares: dict[NodeType, dict[Party, Annotated[int, Meta(ge=0, le=10_000)]]]


class Enrolled(Payload):
    hq_url: Annotated[str, Meta(pattern=r"^https?://", max_length=500)]
    node_type: NodeType


class QuarantineResolved(Payload):
    height: Annotated[int, Meta(ge=0, le=2**53)]
    user: Name
    note: Text


class WalletRestored(Payload):
    account_xpub: Xpub


class CameraConfigured(Payload):
    camera_id: CameraId
    user: Name
    config: dict[str, Any]  # camera.config's settings; the terminal validated them with its camera rules


class CameraRemoved(Payload):
    camera_id: CameraId
    user: Name


class CameraSegment(Payload):
    camera_id: CameraId
    file: Name
    day: Annotated[str, Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    started_at_ms: Millis
    ended_at_ms: Millis
    frames: Count
    bytes: Annotated[int, Meta(ge=0, le=2**53)]
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]


class CameraAlert(Payload):
    alert_id: Annotated[int, Meta(ge=1, le=2**53)]
    camera_id: CameraId
    kind: Literal["motion_after_hours", "camera_failed"]
    at_ms: Millis
    area: Annotated[int, Meta(ge=0, le=2**31)] | None = None
    error: Text | None = None


class CameraAlertAcknowledged(Payload):
    alert_id: Annotated[int, Meta(ge=1, le=2**53)]
    user: Name
    note: Text = ""  # absent when the manager wrote none


class TableConsent(Payload):
    camera_id: CameraId
    minutes: Annotated[int, Meta(ge=1, le=30)]
    until_ms: Millis
    user: Name


class UpdateRefused(Payload):
    what: Annotated[str, Meta(min_length=1, max_length=200)]
    problem: Text


class KycSubmitted(Payload):
    case_id: Uuid
    level: Literal["basic", "enhanced"]
    account: Annotated[str, Meta(min_length=1, max_length=100)] | None
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Meta(ge=1, le=10 * 1024 * 1024)]
    user: Name


SCHEMAS: dict[str, type[Payload]] = {
    "kyc_submitted": KycSubmitted,
    "update_refused": UpdateRefused,
    "terminal_initialized": TerminalInitialized,
    "menu_loaded": MenuLoaded,
    "user_created": UserCreated,
    "user_changed": UserChanged,
    "login": UserEvent,
    "login_failed": UserEvent,
    "user_locked": UserEvent,
    "shift_opened": ShiftOpened,
    "cash_moved": CashMoved,
    "shift_closed": ShiftClosed,
    "sale": Sale,
    "token_mint": TokenMint,
    "order_status": OrderStatusChange,
    "refund": Refund,
    "token_reversal": TokenReversal,
    "wallet_backed_up": WalletBackedUp,
    "policy_received": PolicyReceived,
    "enrolled": Enrolled,
    "quarantine_resolved": QuarantineResolved,
    "wallet_restored": WalletRestored,
    "camera_configured": CameraConfigured,
    "camera_removed": CameraRemoved,
    "camera_segment": CameraSegment,
    "camera_alert": CameraAlert,
    "camera_alert_acknowledged": CameraAlertAcknowledged,
    "table_consent": TableConsent,
}


def payload_problem(record_type: str, payload: Any) -> str | None:
    """What is wrong with a payload of this record type (naming the field), or None."""
    schema = SCHEMAS.get(record_type)
    if schema is None:
        return f"unknown record type {record_type!r}"
    try:
        msgspec.convert(payload, schema, strict=True)
    except msgspec.ValidationError as exc:
        return str(exc).replace("`$", "`payload")
    return None


def _record_decoder(record_type: str, schema: type[Payload]) -> msgspec.json.Decoder[Any]:
    """A whole stored record of one type, payload included, checked in one pass (its `type` must be this one)."""
    envelope = msgspec.defstruct(f"{schema.__name__}Record", [
        ("v", Literal[1]), ("terminal_id", str), ("seq", int), ("created_at_ms", int), ("payload", schema)],
        tag_field="type", tag=record_type, forbid_unknown_fields=True)
    return msgspec.json.Decoder(envelope)


_RECORD_DECODERS = {name: _record_decoder(name, schema) for name, schema in SCHEMAS.items()}


def stored_record_problem(body: bytes, record_type: str) -> str | None:
    """What is wrong with a stored record of this type, or None: the check a terminal runs on every record before
    sealing it, one msgspec pass straight into the schema (no intermediate dicts)."""
    decoder = _RECORD_DECODERS.get(record_type)
    if decoder is None:
        return f"unknown record type {record_type!r}"
    try:
        decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return str(exc).replace("`$.payload", "`payload").replace("`$", "`record")
    return None
