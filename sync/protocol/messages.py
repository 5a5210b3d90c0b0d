"""HTTP messages between terminal and HQ that both ends sign or check (docs/protocol.md, "HQ messages").

- A request signature: the terminal's signing key over SHA-256 of a canonical request description, sent in the
  `X-Hotpot-Signature` header as `TIMESTAMP_MS.NONCE.SIGNATURE_HEX`.
- A receipt: HQ's Ed25519 key over the canonical receipt {terminal_id, height, block_hash, received_at_ms}.
- An enrollment proof: the terminal's signature over the enrollment request's canonical fields.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol.canonical import canonical_json

SIGNATURE_HEADER = "X-Hotpot-Signature"
BACKLOG_HEADER = "X-Hotpot-Backlog"  # records a terminal has not had acknowledged yet; for HQ's monitoring
REQUEST_WINDOW_MS = 5 * 60 * 1000
_HEADER_RE = re.compile(r"^([0-9]{1,15})\.([A-Za-z0-9_-]{16,64})\.([0-9a-f]{16,200})$")


def request_digest(method: str, path: str, body: bytes, timestamp_ms: int, nonce: str, terminal_id: str) -> bytes:
    """What a terminal signs for an authenticated call: method, path (with query), body hash, time, nonce, id."""
    return hashlib.sha256(canonical_json({
        "method": method.upper(), "path": path, "body_sha256": hashlib.sha256(body).hexdigest(),
        "timestamp_ms": timestamp_ms, "nonce": nonce, "terminal_id": terminal_id,
    })).digest()


@dataclass(frozen=True)
class SignatureHeader:
    timestamp_ms: int
    nonce: str
    signature: bytes

    def encode(self) -> str:
        return f"{self.timestamp_ms}.{self.nonce}.{self.signature.hex()}"


def parse_signature_header(value: str) -> SignatureHeader | None:
    match = _HEADER_RE.match(value.strip())
    if not match:
        return None
    return SignatureHeader(int(match.group(1)), match.group(2), bytes.fromhex(match.group(3)))


def receipt_payload(terminal_id: str, height: int, block_hash: str, received_at_ms: int) -> dict[str, Any]:
    return {"terminal_id": terminal_id, "height": height, "block_hash": block_hash, "received_at_ms": received_at_ms}


def kyc_receipt_payload(terminal_id: str, case_id: str, sha256: str, received_at_ms: int) -> dict[str, Any]:
    """HQ's receipt for a KYC envelope it stored (signed like a block receipt; `purpose` keeps the two apart)."""
    return {"purpose": "hotpot/kyc-receipt/v1", "terminal_id": terminal_id, "case_id": case_id, "sha256": sha256,
            "received_at_ms": received_at_ms}


def evidence_receipt_payload(terminal_id: str, sha256: str, cid: str, stored_at_ms: int) -> dict[str, Any]:
    """HQ's receipt for a camera segment it verified against the ledger's hash and can open (docs/protocol.md)."""
    return {"purpose": "hotpot/evidence-receipt/v1", "terminal_id": terminal_id, "sha256": sha256, "cid": cid,
            "stored_at_ms": stored_at_ms}


def receipt_digest_input(receipt: dict[str, Any]) -> bytes:
    return canonical_json(receipt)


def verify_receipt(receipt: dict[str, Any], signature_hex: str, hq_public_key: bytes) -> bool:
    """HQ's receipt for a block: Ed25519 over the canonical receipt."""
    try:
        Ed25519PublicKey.from_public_bytes(hq_public_key).verify(bytes.fromhex(signature_hex),
                                                                 receipt_digest_input(receipt))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def enrollment_digest(code: str, terminal_id: str, account_xpub: str, signing_public_key: str) -> bytes:
    """What the terminal signs when it enrolls: proof that it holds the key it registers."""
    return hashlib.sha256(canonical_json({"code": code, "terminal_id": terminal_id, "account_xpub": account_xpub,
                                          "signing_public_key": signing_public_key,
                                          "purpose": "hotpot/enroll/v1"})).digest()
