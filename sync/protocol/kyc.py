"""The KYC envelope: a case sealed to HQ's KYC key before it leaves the terminal's memory (docs/protocol.md,
"KYC envelope"). HPKE (RFC 9180) in base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM; the
header travels in the clear and is bound to the ciphertext as HPKE's `info`, so it cannot be swapped onto another
case. Only HQ's compliance key opens it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync.protocol.canonical import CanonicalError, canonical_json, decode_canonical

MAGIC = b"HPKYC1\n"
MAX_ENVELOPE = 10 * 1024 * 1024  # a case with three photographs fits well inside
HEADER_FIELDS = frozenset({"case_id", "terminal_id", "level", "created_at_ms"})
_INFO = b"hotpot/kyc/v1\x00"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class EnvelopeError(ValueError):
    """Bytes that are not a KYC envelope, or one that does not open with this key."""


@dataclass(frozen=True)
class Envelope:
    header: dict[str, Any]
    ciphertext: bytes  # HPKE's enc (32 bytes) || AES-256-GCM ciphertext and tag

    def encode(self) -> bytes:
        head = canonical_json(self.header)
        return MAGIC + len(head).to_bytes(2, "big") + head + self.ciphertext

    @property
    def sha256(self) -> str:
        """What the ledger and HQ's store name the case's ciphertext by."""
        return hashlib.sha256(self.encode()).hexdigest()


def _check_header(header: object) -> dict[str, Any]:
    if not isinstance(header, dict) or set(header) != HEADER_FIELDS:
        raise EnvelopeError(f"a KYC envelope's header has exactly: {', '.join(sorted(HEADER_FIELDS))}")
    return header


def seal(plaintext: bytes, header: dict[str, Any], hq_kyc_public_key: bytes) -> Envelope:
    """Seal a case's bytes to HQ's X25519 KYC key (32 raw bytes, as HQ hands it out at enrollment)."""
    _check_header(header)
    try:
        key = X25519PublicKey.from_public_bytes(hq_kyc_public_key)
    except ValueError:
        raise EnvelopeError("HQ's KYC key is not a 32-byte X25519 public key") from None
    return Envelope(dict(header), _SUITE.encrypt(plaintext, key, _INFO + canonical_json(header)))


def decode(data: bytes) -> Envelope:
    if not data.startswith(MAGIC) or len(data) > MAX_ENVELOPE:
        raise EnvelopeError("not a KYC envelope (or larger than 10 MB)")
    size = int.from_bytes(data[len(MAGIC):len(MAGIC) + 2], "big")
    start = len(MAGIC) + 2
    try:
        header = _check_header(decode_canonical(data[start:start + size]))
    except CanonicalError as exc:
        raise EnvelopeError(f"the envelope's header is not canonical JSON: {exc}") from None
    ciphertext = data[start + size:]
    if len(ciphertext) < 32 + 16:
        raise EnvelopeError("the envelope is cut short")
    return Envelope(header, ciphertext)


def open_envelope(data: bytes, hq_kyc_private_key: X25519PrivateKey) -> tuple[dict[str, Any], bytes]:
    """The header and the case's bytes; EnvelopeError when the key or the header does not match."""
    envelope = decode(data)
    try:
        plaintext = _SUITE.decrypt(envelope.ciphertext, hq_kyc_private_key,
                                   _INFO + canonical_json(envelope.header))
    except InvalidTag:
        raise EnvelopeError("the envelope does not open with this key (or its header was changed)") from None
    return envelope.header, plaintext
