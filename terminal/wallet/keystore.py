"""The encrypted keystore file: the recovery words under the owner's passphrase (scrypt + AES-256-GCM).

Format (JSON, docs/protocol.md "Keystore"): header fields in the clear (format, version, terminal id, account xpub,
KDF and cipher parameters) bound to the ciphertext as associated data; a verifier that tells a wrong passphrase from
a damaged file; a checksum over everything else that tells a damaged file before any key is derived. Written
atomically: a temp file created 0600 in the same folder, fsync'ed, then os.replace, then the folder fsync'ed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync.protocol.canonical import canonical_json
from terminal.wallet.errors import (
    BadMnemonic,
    KeystoreDamaged,
    KeystoreForeign,
    KeystoreMissing,
    KeystoreUnsupported,
    WalletError,
    WrongPassphrase,
)
from terminal.wallet.hd import Wallet, normalize_mnemonic

FORMAT = "hotpot-keystore"
VERSION = 1
KEYSTORE_FILENAME = "wallet.keystore"
# scrypt N: 2**17 (128 MiB, ~0.5 s here) makes each passphrase guess expensive. Tests may lower it with
# HOTPOT_KEYSTORE_SCRYPT_N (never below 2**12); the value used is stored in the file, so any file opens.
DEFAULT_SCRYPT_N = 2**17
MIN_SCRYPT_N = 2**12
MIN_PASSPHRASE = 8
_VERIFIER_LABEL = b"hotpot/keystore/verifier/v1"


def _scrypt_n() -> int:
    wanted = int(os.environ.get("HOTPOT_KEYSTORE_SCRYPT_N", DEFAULT_SCRYPT_N))
    return max(MIN_SCRYPT_N, wanted)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**30)


def check_passphrase_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise WalletError("The wallet passphrase must have at least {min_passphrase} characters.",
                          min_passphrase=MIN_PASSPHRASE)


@dataclass(frozen=True)
class KeystoreInfo:
    """What the file says in the clear: enough to recognise it without the passphrase."""

    terminal_id: str
    account_xpub: str
    version: int


def _checksum(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: v for k, v in doc.items() if k != "checksum"})).hexdigest()


def _header(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("format", "version", "terminal_id", "account_xpub", "kdf", "cipher")}


def encrypt_keystore(wallet: Wallet, terminal_id: str, passphrase: str, bip39_passphrase: str = "") -> bytes:
    check_passphrase_strength(passphrase)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    n, r, p = _scrypt_n(), 8, 1
    key = _derive(passphrase, salt, n, r, p)
    doc: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "terminal_id": terminal_id, "account_xpub": wallet.account_xpub,
        "kdf": {"name": "scrypt", "n": n, "r": r, "p": p, "salt": salt.hex()},
        "cipher": {"name": "aes-256-gcm", "nonce": nonce.hex()},
    }
    plaintext = canonical_json({"mnemonic": wallet.mnemonic, "bip39_passphrase": bip39_passphrase})
    doc["verifier"] = hmac.new(key, _VERIFIER_LABEL, hashlib.sha256).hexdigest()
    doc["ciphertext"] = base64.b64encode(AESGCM(key).encrypt(nonce, plaintext, canonical_json(_header(doc)))).decode()
    doc["checksum"] = _checksum(doc)
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"


def _parse(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeystoreDamaged("The wallet keystore file is damaged (not readable JSON). Restore it from the recovery "
                              "words.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeystoreDamaged("This file is not a HotPot Spot wallet keystore.")
    if doc.get("version") != VERSION:
        raise KeystoreUnsupported("This keystore is version {found!r}; this terminal reads version {version}. Update "
                                  "the terminal software or restore from the recovery words.",
                                  found=doc.get("version"), version=VERSION)
    try:
        if doc["checksum"] != _checksum(doc):
            raise KeystoreDamaged("The wallet keystore file is damaged (checksum mismatch). Restore it from the "
                                  "recovery words.")
        _header(doc)
    except (KeyError, TypeError, ValueError):  # a field missing, or of a kind no keystore holds (a float, say)
        raise KeystoreDamaged("The wallet keystore file is damaged (fields missing or of the wrong kind). Restore "
                              "it from the recovery words.") from None
    return doc


def read_info(data: bytes) -> KeystoreInfo:
    doc = _parse(data)
    return KeystoreInfo(doc["terminal_id"], doc["account_xpub"], doc["version"])


def decrypt_keystore(data: bytes, passphrase: str, *, terminal_id: str | None = None) -> Wallet:
    doc = _parse(data)
    if terminal_id is not None and doc["terminal_id"] != terminal_id:
        raise KeystoreForeign("This keystore belongs to terminal {owner}, not to {terminal_id}.",
                              owner=doc["terminal_id"], terminal_id=terminal_id)
    try:
        kdf, cipher = doc["kdf"], doc["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "aes-256-gcm":
            raise KeystoreUnsupported("This keystore uses a KDF or cipher this terminal does not know.")
        key = _derive(passphrase, bytes.fromhex(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        if not hmac.compare_digest(hmac.new(key, _VERIFIER_LABEL, hashlib.sha256).hexdigest(), doc["verifier"]):
            raise WrongPassphrase("Wrong wallet passphrase.")
        plaintext = AESGCM(key).decrypt(bytes.fromhex(cipher["nonce"]), base64.b64decode(doc["ciphertext"]),
                                        canonical_json(_header(doc)))
        secret = json.loads(plaintext)
        wallet = Wallet(secret["mnemonic"], secret.get("bip39_passphrase", ""))
    except (BadMnemonic, InvalidTag, KeyError, TypeError, ValueError):
        raise KeystoreDamaged("The wallet keystore file is damaged (it does not decrypt). Restore it from the "
                              "recovery words.") from None
    if wallet.account_xpub != doc["account_xpub"]:
        raise KeystoreDamaged("The wallet keystore file is damaged (its keys do not match its account).")
    return wallet


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file created 0600 (never readable by others, not even for a moment), fsync, rename, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def keystore_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEYSTORE_FILENAME


def save_keystore(data_dir: Path, wallet: Wallet, terminal_id: str, passphrase: str, *,
                  overwrite: bool = False, bip39_passphrase: str = "") -> Path:
    path = keystore_path(data_dir)
    if path.exists() and not overwrite:
        raise WalletError("A wallet keystore already exists at {path}; nothing was overwritten.", path=path)
    write_atomically(path, encrypt_keystore(wallet, terminal_id, passphrase, bip39_passphrase))
    return path


def keystore_intact(path: Path) -> bool:
    """Whether the file reads as a keystore (checksum and all), without needing the passphrase."""
    try:
        read_info(path.read_bytes())
    except (OSError, WalletError):
        return False
    return True


def load_keystore(data_dir: Path, passphrase: str, *, terminal_id: str | None = None) -> Wallet:
    path = keystore_path(data_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeystoreMissing("There is no wallet keystore at {path}. Restore it from the recovery words.",
                              path=path) from None
    except OSError as exc:  # a folder in its place, no permission, an I/O error
        raise KeystoreDamaged("The wallet keystore {path} cannot be read ({strerror}). Move it aside and restore the "
                              "wallet from its recovery words.",
                              path=path, strerror=exc.strerror) from None
    return decrypt_keystore(data, passphrase, terminal_id=terminal_id)


def restore_wallet(words: str, bip39_passphrase: str = "") -> Wallet:
    return Wallet(normalize_mnemonic(words), bip39_passphrase)


def unlock_with_retries(load: Callable[[str], Wallet], ask: Callable[[int], str], tries: int = 3) -> Wallet:
    """Ask for the passphrase up to `tries` times; any error other than a wrong passphrase stops at once."""
    for attempt in range(1, tries + 1):
        try:
            return load(ask(attempt))
        except WrongPassphrase:
            if attempt == tries:
                raise WrongPassphrase("Wrong wallet passphrase {tries} times; nothing was changed. If it is lost, "
                                      "restore the wallet from its 24 recovery words.",
                                      tries=tries) from None
    raise AssertionError("unreachable")
