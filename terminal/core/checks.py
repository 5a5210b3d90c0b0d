"""Checks (receipts) and token claims: a one-time 128-bit claim secret, its printable short code, and its slow hash.

The claim secret leaves the terminal only on the printed check (QR). The short code is derived from the secret, so a
customer without a QR reader can claim with the check id and the code. What is stored and synced is one salted,
stretched hash of the short code (the weaker of the two claim paths, and so the one that needs stretching); HQ verifies
either path by deriving the short code first. A ticket (secret, salt, hash) does not depend on the sale, so tickets can
be made ahead of time, in memory only. See docs/protocol.md, "Claim secrets".
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from sync.protocol import claims
from terminal.core.errors import InvalidInput

SECRET_BYTES = claims.SECRET_BYTES
SHORT_CODE_CHARS = claims.SHORT_CODE_CHARS
CLAIM_HASH_ALG = claims.CLAIM_HASH_ALG
# Stretching cost. It runs once per sale on the sale's critical path (budget: p99 2 ms per sale), so it is modest;
# the short code's 60 bits and HQ's attempt limit carry the rest. Stored with every hash, so it can grow later.
CLAIM_HASH_ITERATIONS = 600


@dataclass(frozen=True)
class ClaimSecret:
    """The bearer secret printed on one check. Never stored, never logged, never synced."""

    raw: bytes

    def __repr__(self) -> str:  # keep it out of logs and tracebacks
        return "ClaimSecret(***)"

    @classmethod
    def new(cls) -> ClaimSecret:
        return cls(secrets.token_bytes(SECRET_BYTES))

    @property
    def token(self) -> str:
        """URL-safe text form for the QR link."""
        return base64.urlsafe_b64encode(self.raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> ClaimSecret:
        try:
            return cls(claims.secret_from_token(token))
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    @property
    def short_code(self) -> str:
        return short_code_for(self.raw)


def short_code_for(secret: bytes) -> str:
    return claims.short_code_for(secret)


def normalize_short_code(text: str) -> str:
    try:
        return claims.normalize_short_code(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


SALT_BYTES = 16


def claim_hash(short_code: str, salt: bytes, iterations: int = CLAIM_HASH_ITERATIONS) -> str:
    """The stretched hash of a check's short code with the check's own random salt; hex."""
    return claims.claim_hash(normalize_short_code(short_code), salt, iterations)


def claim_matches(short_code: str, salt: bytes, stored_hash: str, iterations: int = CLAIM_HASH_ITERATIONS) -> bool:
    return claims.claim_matches(normalize_short_code(short_code), salt, stored_hash, iterations)


@dataclass(frozen=True)
class ClaimTicket:
    """Everything a check needs for its claim: the secret (printed only) and its salted stretched hash (recorded)."""

    secret: ClaimSecret
    salt: bytes
    hash: str

    def __repr__(self) -> str:
        return f"ClaimTicket(hash={self.hash[:12]}...)"


def new_claim_ticket() -> ClaimTicket:
    secret = ClaimSecret.new()
    salt = secrets.token_bytes(SALT_BYTES)
    return ClaimTicket(secret, salt, claim_hash(secret.short_code, salt))


def claim_url(base_url: str, check_id: str, secret: ClaimSecret) -> str:
    return f"{base_url.rstrip('/')}/claim/{quote(check_id)}#{secret.token}"
