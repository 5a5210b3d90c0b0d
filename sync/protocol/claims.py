"""Claim secrets as both ends compute them (docs/protocol.md section 4): the short code printed under a check's QR is
derived from the 16-byte secret, and only a salted PBKDF2 hash of the short code is ever recorded and synced. The
terminal makes them; HQ checks a claim against them. ValueError for a code that is not one."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sync.protocol.keys import _CROCKFORD

SECRET_BYTES = 16
SHORT_CODE_CHARS = 12  # 60 bits in Crockford base32, printed as three groups of four
CLAIM_HASH_ALG = "pbkdf2-sha256"
_DECODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def short_code_for(secret: bytes) -> str:
    digest = hashlib.sha256(b"hotpot/short-code/v1\x00" + secret).digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * SHORT_CODE_CHARS)  # the digest's first 60 bits
    code = "".join(_CROCKFORD[(bits >> (5 * (SHORT_CODE_CHARS - 1 - i))) & 31] for i in range(SHORT_CODE_CHARS))
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


def normalize_short_code(text: str) -> str:
    code = text.strip().upper().translate(_DECODE_ALIASES)
    if len(code) != SHORT_CODE_CHARS or any(c not in _CROCKFORD for c in code):
        raise ValueError(f"A short code has {SHORT_CODE_CHARS} letters and digits, like 7K2M-QX4P-93TB.")
    return "-".join(code[i:i + 4] for i in range(0, SHORT_CODE_CHARS, 4))


def secret_from_token(token: str) -> bytes:
    """The secret in a claim link's fragment (unpadded base64url); ValueError when it is not one."""
    if not isinstance(token, str) or not token.isascii() or len(token) > 64:
        raise ValueError("That claim link is damaged.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise ValueError("That claim link is damaged.") from None
    if len(raw) != SECRET_BYTES:
        raise ValueError("That claim link is damaged.")
    return raw


def claim_hash(short_code: str, salt: bytes, iterations: int) -> str:
    """The stretched hash of a check's short code with the check's own random salt; hex."""
    code = normalize_short_code(short_code)
    return hashlib.pbkdf2_hmac("sha256", code.encode(), b"hotpot/claim/v1\x00" + salt, iterations).hex()


def claim_matches(short_code: str, salt: bytes, stored_hash: str, iterations: int) -> bool:
    return hmac.compare_digest(claim_hash(short_code, salt, iterations), stored_hash)
