"""Public keys, signatures and claim addresses as both ends check them (docs/protocol.md, "Keys")."""

from __future__ import annotations

import base64
import hashlib

import coincurve

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ADDRESS_PREFIX = "HP"


_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def _base32(data: bytes) -> str:
    """Crockford base32 of a whole number of 5-byte groups (RFC 4648's encoder, Crockford's alphabet)."""
    if len(data) % 5:
        raise ValueError("base32 here encodes whole 5-byte groups")
    return base64.b32encode(data).translate(_FROM_RFC4648).decode("ascii")


def claim_address(public_key: bytes) -> str:
    """'HP' + Crockford base32 of the first 20 bytes of SHA-256("hotpot/address/v1" || 0x00 || compressed key)."""
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        raise ValueError("a claim address is made from a 33-byte compressed secp256k1 public key")
    return ADDRESS_PREFIX + _base32(hashlib.sha256(b"hotpot/address/v1\x00" + public_key).digest()[:20])


def verify_signature(public_key: bytes, digest: bytes, signature_der: bytes) -> bool:
    """secp256k1 ECDSA over a 32-byte digest; False for any malformed key or signature."""
    try:
        return bool(coincurve.PublicKey(public_key).verify(signature_der, digest, hasher=None))
    except (ValueError, TypeError):
        return False
