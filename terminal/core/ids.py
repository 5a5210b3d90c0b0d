"""Identifiers minted on the terminal: UUIDv7 (time-ordered, RFC 9562) so ids sort by creation and never collide."""

from __future__ import annotations

import secrets
import uuid

# Crockford's base32: no I, L, O or U, so what is printed can be typed back without confusion.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_terminal_id() -> str:
    """A terminal's id: 8 Crockford characters (40 random bits), short enough to print on every check id."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(8))


def uuid7(now_ms: int) -> str:
    rand = secrets.randbits(74)
    value = (now_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 62) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return str(uuid.UUID(int=value))
