"""Checks (receipts) and token claims: a one-time 128-bit claim secret, its printable short code, and its slow hash.

The claim secret leaves the terminal only on the printed check (QR). The short code is derived from the secret, so a
customer without a QR reader can claim with the check id and the code. What is stored and synced is one salted,
stretched hash of the short code (the weaker of the two claim paths, and so the one that needs stretching); HQ verifies
either path by deriving the short code first. A ticket (secret, salt, hash) does not depend on the sale, so tickets can
be made ahead of time, in memory only. See docs/protocol.md, "Claim secrets".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from terminal.core.errors import InvalidInput
from terminal.core.ids import CROCKFORD

SECRET_BYTES = 16
SHORT_CODE_CHARS = 12  # 60 bits in Crockford base32, printed as three groups of four
CLAIM_HASH_ALG = "pbkdf2-sha256"
# Stretching cost. It runs once per sale on the sale's critical path (budget: p99 2 ms per sale), so it is modest;
# the short code's 60 bits and HQ's attempt limit carry the rest. Stored with every hash, so it can grow later.
CLAIM_HASH_ITERATIONS = 600
_DECODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


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
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise InvalidInput("That claim link is damaged.") from None
        if len(raw) != SECRET_BYTES:
            raise InvalidInput("That claim link is damaged.")
        return cls(raw)

    @property
    def short_code(self) -> str:
        return short_code_for(self.raw)


def short_code_for(secret: bytes) -> str:
    digest = hashlib.sha256(b"hotpot/short-code/v1\x00" + secret).digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * SHORT_CODE_CHARS)  # the digest's first 60 bits
    code = "".join(CROCKFORD[(bits >> (5 * (SHORT_CODE_CHARS - 1 - i))) & 31] for i in range(SHORT_CODE_CHARS))
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


def normalize_short_code(text: str) -> str:
    code = text.strip().upper().translate(_DECODE_ALIASES)
    if len(code) != SHORT_CODE_CHARS or any(c not in CROCKFORD for c in code):
        raise InvalidInput(f"A short code has {SHORT_CODE_CHARS} letters and digits, like 7K2M-QX4P-93TB.")
    return "-".join(code[i:i + 4] for i in range(0, SHORT_CODE_CHARS, 4))


SALT_BYTES = 16


def claim_hash(short_code: str, salt: bytes, iterations: int = CLAIM_HASH_ITERATIONS) -> str:
    """The stretched hash of a check's short code with the check's own random salt; hex."""
    code = normalize_short_code(short_code)
    return hashlib.pbkdf2_hmac("sha256", code.encode(), b"hotpot/claim/v1\x00" + salt, iterations).hex()


def claim_matches(short_code: str, salt: bytes, stored_hash: str, iterations: int = CLAIM_HASH_ITERATIONS) -> bool:
    return hmac.compare_digest(claim_hash(short_code, salt, iterations), stored_hash)


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
