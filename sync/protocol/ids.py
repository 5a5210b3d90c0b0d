"""Ids bound to the terminal that minted them: a sale's id is a UUIDv7 (RFC 9562: time-ordered) whose 74 random bits
are instead SHA-256("hotpot/id/v1" || 0x00 || terminal id || 0x00 || what it names) — for a sale, "sale" and its check
number; for a refund, "refund", the sale id and how many refunds of that sale came before. Anyone can check that an
id belongs to the terminal that uses it, so an id read off another terminal's check is refused for whoever copies it
and can never block its owner (docs/protocol.md, "Ids")."""

from __future__ import annotations

import hashlib
import uuid

_RAND_BITS = 74
_RAND_MASK = (1 << 80) - 1 ^ (0xF << 76) ^ (0b11 << 62)  # every bit below the timestamp but version and variant


def _bits(terminal_id: str, parts: tuple[str, ...]) -> int:
    digest = hashlib.sha256("\x00".join(("hotpot/id/v1", terminal_id, *parts)).encode()).digest()
    return int.from_bytes(digest[:10], "big") >> (80 - _RAND_BITS)


def _layout(rand: int) -> int:
    """The 80 bits below a UUIDv7's timestamp: version 7, 12 bits, variant 10, 62 bits."""
    return 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & ((1 << 62) - 1)


def bound_uuid7(now_ms: int, terminal_id: str, *parts: str) -> str:
    return str(uuid.UUID(int=(now_ms & ((1 << 48) - 1)) << 80 | _layout(_bits(terminal_id, parts))))


def is_bound(value: str, terminal_id: str, *parts: str) -> bool:
    """Is `value` the id this terminal mints for `parts` (at any time)?"""
    try:
        got = uuid.UUID(value).int
    except ValueError:
        return False
    return got & _RAND_MASK == _layout(_bits(terminal_id, parts)) & _RAND_MASK


def sale_id_parts(check_number: int) -> tuple[str, ...]:
    return ("sale", str(check_number))


def refund_id_parts(sale_id: str, refunds_before: int) -> tuple[str, ...]:
    return ("refund", sale_id, str(refunds_before))
