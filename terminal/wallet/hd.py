"""The terminal's HD wallet: BIP39 words -> BIP32 keys, and our derivation scheme (docs/protocol.md, "Keys").

    m / 7714' / 0'            the terminal's account; its xpub goes to HQ at enrollment
    m / 7714' / 0' / 0 / 0    the block-signing key
    m / 7714' / 0' / 1 / n    the claim key of check number n (1 <= n < 2**31)
    m / 7714' / 1'            local secrets (hardened: the account xpub does not reach it): the key of the
                              terminal's backups

Everything below the account is derived without hardening, so HQ can derive and check every public key from the
account xpub alone and never holds a private key.
"""

from __future__ import annotations

import threading
import unicodedata

import coincurve
from bip32 import BIP32
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from mnemonic import Mnemonic

from sync.protocol.keys import claim_address
from terminal.wallet.errors import BadMnemonic

PURPOSE = 7714  # "HotPot Spot"; not a registered coin type, this is not a coin
ACCOUNT_PATH = f"m/{PURPOSE}'/0'"
LOCAL_SECRETS_PATH = f"m/{PURPOSE}'/1'"
SIGNING_CHAIN, SIGNING_INDEX = 0, 0
CLAIM_CHAIN = 1
MNEMONIC_WORDS = 24
_HARDENED = 2**31
_WORDLIST = Mnemonic("english")


def new_mnemonic() -> str:
    return _WORDLIST.generate(strength=256)


def normalize_mnemonic(words: str) -> str:
    """Lower-case, single-spaced, NFKD words; refuses unknown words and a bad checksum with a clear message."""
    cleaned = " ".join(unicodedata.normalize("NFKD", words).lower().split())
    parts = cleaned.split(" ") if cleaned else []
    if len(parts) not in (12, 15, 18, 21, 24):
        raise BadMnemonic("A recovery phrase has 24 words; this one has {count}.", count=len(parts))
    unknown = [w for w in parts if w not in _WORDLIST.wordlist]
    if unknown:
        raise BadMnemonic("'{word}' is not a word of the recovery word list; check its spelling.", word=unknown[0])
    if not _WORDLIST.check(cleaned):
        raise BadMnemonic("The recovery words do not add up (checksum failed): a word is wrong or out of order.")
    return cleaned


def seed_from_mnemonic(words: str, bip39_passphrase: str = "") -> bytes:
    return Mnemonic.to_seed(normalize_mnemonic(words), bip39_passphrase)


class Account:
    """Public derivation from the account xpub: what any process (and HQ) can do without the passphrase."""

    def __init__(self, account_xpub: str) -> None:
        self.xpub = account_xpub
        node = BIP32.from_xpub(account_xpub)
        self._claim_chain = _child_node(node, CLAIM_CHAIN)
        self._signing_chain = _child_node(node, SIGNING_CHAIN)
        self._claim_cache: dict[int, str] = {}
        self._lock = threading.Lock()

    def signing_public_key(self) -> bytes:
        return bytes(self._signing_chain.get_pubkey_from_path([SIGNING_INDEX]))

    def claim_public_key(self, check_number: int) -> bytes:
        _check_index(check_number)
        return bytes(self._claim_chain.get_pubkey_from_path([check_number]))

    def claim_address(self, check_number: int) -> str:
        """Cached: a derivation costs ~80 us, and the sale path asks for each check's address once."""
        address = self._claim_cache.get(check_number)
        if address is None:
            address = claim_address(self.claim_public_key(check_number))
            with self._lock:
                if len(self._claim_cache) > 4096:
                    self._claim_cache.clear()
                self._claim_cache[check_number] = address
        return address

    def prefetch_claim_addresses(self, first: int, count: int) -> None:
        for n in range(first, first + count):
            if n not in self._claim_cache:
                self.claim_address(n)


def _child_node(node: BIP32, index: int) -> BIP32:
    chaincode, pubkey = node.get_extended_pubkey_from_path([index])
    return BIP32(chaincode, pubkey=pubkey, depth=node.depth + 1, index=index, fingerprint=node.get_fingerprint())


def _check_index(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < _HARDENED:
        raise ValueError(f"key index {n!r} out of range")


class Wallet:
    """The unlocked wallet: private keys, held in memory only while the terminal runs."""

    def __init__(self, mnemonic: str, bip39_passphrase: str = "") -> None:
        self.mnemonic = normalize_mnemonic(mnemonic)
        self._root = BIP32.from_seed(Mnemonic.to_seed(self.mnemonic, bip39_passphrase))
        self.account_xpub: str = self._root.get_xpub_from_path(ACCOUNT_PATH)
        self.account = Account(self.account_xpub)
        signing_secret = self._root.get_privkey_from_path(f"{ACCOUNT_PATH}/{SIGNING_CHAIN}/{SIGNING_INDEX}")
        self.signer = Signer(coincurve.PrivateKey(signing_secret))

    def __repr__(self) -> str:
        return f"Wallet(account={self.account_xpub[:16]}...)"

    def backup_key(self) -> bytes:
        """The 32-byte key the terminal's backups are encrypted with: from the words, so a backup opens wherever the
        wallet is restored, and from a hardened path, so nothing HQ holds can derive it."""
        secret = bytes(self._root.get_privkey_from_path(LOCAL_SECRETS_PATH))
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"hotpot-terminal backup v1").derive(secret)

    def recording_key(self) -> bytes:
        """The 32-byte X25519 private key camera footage is sealed to (each segment under a key of its own, wrapped
        to this key's public half, which the terminal keeps: recording needs no unlocked wallet, playback does)."""
        secret = bytes(self._root.get_privkey_from_path(LOCAL_SECRETS_PATH))
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"hotpot-terminal recording v1").derive(secret)

    def claim_private_key(self, check_number: int) -> bytes:
        _check_index(check_number)
        return bytes(self._root.get_privkey_from_path(f"{ACCOUNT_PATH}/{CLAIM_CHAIN}/{check_number}"))


class Signer:
    """The one signing path: secp256k1 ECDSA over a 32-byte digest, deterministic nonces (RFC 6979), DER out."""

    def __init__(self, key: coincurve.PrivateKey) -> None:
        self._key = key
        self.public_key: bytes = key.public_key.format(compressed=True)

    def __repr__(self) -> str:
        return f"Signer(public_key={self.public_key.hex()})"

    def sign_digest(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("sign_digest takes a 32-byte digest")
        return bytes(self._key.sign(digest, hasher=None))


def recording_public_key(private: bytes) -> bytes:
    """The raw 32-byte X25519 public key of a recording key."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
