"""Ledger records: the typed business facts a terminal appends, and their canonical byte form (docs/protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.protocol.canonical import CanonicalError, canonical_json, decode_canonical
from sync.protocol.schemas import payload_problem

RECORD_VERSION = 1
RECORD_TYPES = frozenset({
    "terminal_initialized",
    "menu_loaded",
    "user_created",
    "user_changed",
    "login",
    "login_failed",
    "user_locked",
    "shift_opened",
    "cash_moved",
    "shift_closed",
    "sale",
    "token_mint",
    "order_status",
    "refund",
    "token_reversal",
    "wallet_backed_up",
    "policy_received",
    "enrolled",
    "quarantine_resolved",
    "wallet_restored",
    "camera_configured",
    "camera_removed",
    "camera_segment",
    "camera_alert",
    "camera_alert_acknowledged",
    "table_consent",
    "update_refused",
    "kyc_submitted",
})


class RecordError(ValueError):
    """Record bytes that do not decode into a valid record."""


class ContentError(RecordError):
    """A well-formed record whose payload breaks its type's schema (a field missing, of the wrong type, out of
    range, or unknown)."""


@dataclass(frozen=True)
class Record:
    terminal_id: str
    seq: int
    type: str
    created_at_ms: int
    payload: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"v": RECORD_VERSION, "terminal_id": self.terminal_id, "seq": self.seq, "type": self.type,
                "created_at_ms": self.created_at_ms, "payload": self.payload}


def encode_record(record: Record) -> bytes:
    """The canonical bytes of a record: what is stored, hashed into the Merkle tree and sent to HQ."""
    if record.type not in RECORD_TYPES:
        raise RecordError(f"unknown record type {record.type!r}")
    if record.seq < 1:
        raise RecordError("record seq starts at 1")
    problem = payload_problem(record.type, record.payload)
    if problem:
        raise ContentError(f"record {record.seq} ({record.type}): {problem}")
    try:
        return canonical_json(record.to_wire())
    except CanonicalError as exc:
        raise RecordError(f"record {record.type} #{record.seq}: {exc}") from None


def decode_record(data: bytes) -> Record:
    try:
        wire = decode_canonical(data)
    except CanonicalError as exc:
        raise RecordError(str(exc)) from None
    if not isinstance(wire, dict) or set(wire) != {"v", "terminal_id", "seq", "type", "created_at_ms", "payload"}:
        raise RecordError("a record has exactly the fields v, terminal_id, seq, type, created_at_ms, payload")
    if wire["v"] != RECORD_VERSION:
        raise RecordError(f"unsupported record version {wire['v']!r}")
    if wire["type"] not in RECORD_TYPES:
        raise RecordError(f"unknown record type {wire['type']!r}")
    if not isinstance(wire["seq"], int) or isinstance(wire["seq"], bool) or wire["seq"] < 1:
        raise RecordError("record seq must be a positive integer")
    if not isinstance(wire["created_at_ms"], int) or not isinstance(wire["terminal_id"], str):
        raise RecordError("record created_at_ms must be an integer and terminal_id a string")
    if not isinstance(wire["payload"], dict):
        raise RecordError("record payload must be an object")
    problem = payload_problem(wire["type"], wire["payload"])
    if problem:
        raise ContentError(f"record {wire['seq']} ({wire['type']}): {problem}")
    return Record(wire["terminal_id"], wire["seq"], wire["type"], wire["created_at_ms"], wire["payload"])
