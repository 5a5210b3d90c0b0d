"""HQ's own keys: Ed25519 to sign receipts, X25519 for KYC envelopes. Files in the key folder, created 0600 once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

RECEIPT_KEY = "receipt-ed25519.pem"
KYC_KEY = "kyc-x25519.pem"


@dataclass(frozen=True)
class HQKeys:
    receipt: Ed25519PrivateKey
    kyc: X25519PrivateKey

    @property
    def receipt_public(self) -> bytes:
        return self.receipt.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def kyc_public(self) -> bytes:
        return self.kyc.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign_receipt(self, data: bytes) -> bytes:
        return self.receipt.sign(data)


def write_new_secret_file(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only (0600 from the first byte); FileExistsError if it is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def load_or_create_keys(key_dir: Path) -> HQKeys:
    """Load HQ's keys; create any that are missing (first start). Existing keys are never replaced."""
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = []
    for name, make in ((RECEIPT_KEY, Ed25519PrivateKey.generate), (KYC_KEY, X25519PrivateKey.generate)):
        path = key_dir / name
        if not path.exists():
            pem = make().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
            try:
                write_new_secret_file(path, pem)
            except FileExistsError:  # another worker made it first: use theirs
                pass
        keys.append(serialization.load_pem_private_key(path.read_bytes(), password=None))
    receipt, kyc = keys
    if not isinstance(receipt, Ed25519PrivateKey) or not isinstance(kyc, X25519PrivateKey):
        raise SystemExit(f"hotpot-hq: the key files in {key_dir} are not an Ed25519 and an X25519 key")
    return HQKeys(receipt, kyc)
