"""Customer accounts (docs/protocol.md section 11): an account is a P-256 public key that lives in the customer's
browser (WebCrypto) and never leaves it as a private key. Requests name it as base64url (no padding) of its 65-byte
uncompressed point; its id is 'HC' + Crockford base32 of the first 20 bytes of SHA-256 of that point. A request is
signed by that key: ECDSA P-256 with SHA-256, the raw 64-byte r‖s WebCrypto produces (base64url), over the
canonical JSON (section 1) of the request body without its `signature` field."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sync.protocol.canonical import canonical_json
from sync.protocol.keys import _base32

ACCOUNT_PREFIX = "HC"
POINT_BYTES = 65
SIGNATURE_BYTES = 64
NONCE_MIN_BYTES = 16
NONCE_MAX_BYTES = 64
CLOCK_SKEW_MS = 5 * 60 * 1000  # a signed request's ts may be this far from HQ's clock


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    """Unpadded base64url, strictly: ValueError for anything else (padding, other alphabets, stray characters)."""
    if not isinstance(text, str) or not text.isascii() or "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


def public_key(account: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key an `account` field names; ValueError when it is not a point on the curve."""
    point = unb64url(account)
    if len(point) != POINT_BYTES or point[0] != 4:
        raise ValueError("an account is a 65-byte uncompressed P-256 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def account_id(account: str) -> str:
    """'HC' + Crockford base32 of SHA-256(point)[:20] (32 characters after the prefix)."""
    point = unb64url(account)
    if len(point) != POINT_BYTES:
        raise ValueError("an account is a 65-byte uncompressed P-256 point")
    return ACCOUNT_PREFIX + _base32(hashlib.sha256(point).digest()[:20])


def signed_bytes(body: Mapping[str, Any]) -> bytes:
    """What an account signs: the canonical JSON of the body without its `signature` field."""
    return canonical_json({k: v for k, v in body.items() if k != "signature"})


def verify(account: str, body: Mapping[str, Any]) -> bool:
    """Whether body['signature'] is the account key's signature of the body; False for anything malformed."""
    try:
        key = public_key(account)
        raw = unb64url(body["signature"])
        if len(raw) != SIGNATURE_BYTES:
            return False
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, signed_bytes(body), ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False


def sign(private_key: ec.EllipticCurvePrivateKey, body: Mapping[str, Any]) -> str:
    """The raw r‖s signature a browser would make (for tests, scripts and other wallets)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(private_key.sign(signed_bytes(body), ec.ECDSA(hashes.SHA256())))
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def account_of(private_key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return b64url(private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def nonce_ok(nonce: object) -> bool:
    try:
        return isinstance(nonce, str) and NONCE_MIN_BYTES <= len(unb64url(nonce)) <= NONCE_MAX_BYTES
    except ValueError:
        return False
