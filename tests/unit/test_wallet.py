"""Known-answer tests for BIP32/BIP39 and our scheme, and the keystore's behaviour on good and bad input."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import coincurve
import pytest
from bip32 import BIP32

from sync.protocol.keys import claim_address, verify_signature
from terminal.wallet.backup import backup_answers_match, backup_challenge
from terminal.wallet.errors import (
    BadMnemonic,
    KeystoreDamaged,
    KeystoreForeign,
    KeystoreUnsupported,
    WalletError,
    WrongPassphrase,
)
from terminal.wallet.hd import Account, Wallet, new_mnemonic, normalize_mnemonic
from terminal.wallet.keystore import (
    decrypt_keystore,
    encrypt_keystore,
    keystore_path,
    load_keystore,
    save_keystore,
    unlock_with_retries,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
ABANDON_ART = " ".join(["abandon"] * 23 + ["art"])


def doc_vector(name: str) -> dict[str, str]:
    body = re.search(rf"<!-- vector:{name} -->\n```\n(.*?)\n```", DOC, re.S)
    assert body
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in body.group(1).splitlines())


# BIP32 test vector 1 (seed 000102...0f): (path, xpub, xprv) straight from the BIP.
BIP32_TV1 = [
    ("m",
     "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
     "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"),
    ("m/0'",
     "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
     "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7"),
    ("m/0'/1",
     "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
     "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs"),
    ("m/0'/1/2'",
     "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
     "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"),
    ("m/0'/1/2'/2",
     "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
     "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334"),
    ("m/0'/1/2'/2/1000000000",
     "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
     "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76"),
]


@pytest.mark.parametrize(("path", "xpub", "xprv"), BIP32_TV1, ids=[p for p, _, _ in BIP32_TV1])
def test_bip32_test_vector_1(path: str, xpub: str, xprv: str) -> None:
    root = BIP32.from_seed(bytes.fromhex("000102030405060708090a0b0c0d0e0f"))
    assert root.get_xpub_from_path(path) == xpub
    assert root.get_xpriv_from_path(path) == xprv


def test_bip39_abandon_about_vector() -> None:
    words = " ".join(["abandon"] * 11 + ["about"])
    from mnemonic import Mnemonic

    root = BIP32.from_seed(Mnemonic.to_seed(normalize_mnemonic(words), ""))
    assert root.get_pubkey_from_path("m/44'/0'/0'/0/0").hex() == (
        "03aaeb52dd7494c361049de67cc680e83ebcbbbdbeb13637d92cd845f70308af5e")


def test_our_scheme_vectors_from_the_doc() -> None:
    v = doc_vector("keys")
    wallet = Wallet(v["mnemonic"])
    assert wallet.account_xpub == v["account xpub"]
    assert wallet.signer.public_key.hex() == v["signing key"]
    public = Account(v["account xpub"])  # HQ's view: the xpub alone gives the same public keys
    assert public.signing_public_key().hex() == v["signing key"]
    for n in (0, 1):
        assert public.claim_public_key(n).hex() == v[f"claim key {n}"]
        assert public.claim_address(n) == v[f"claim address {n}"] == claim_address(public.claim_public_key(n))
        secret = wallet.claim_private_key(n)
        assert coincurve.PrivateKey(secret).public_key.format().hex() == v[f"claim key {n}"]


def test_signatures_are_deterministic_and_verify() -> None:
    wallet = Wallet(ABANDON_ART)
    digest = bytes(range(32))
    sig = wallet.signer.sign_digest(digest)
    assert sig == wallet.signer.sign_digest(digest)  # RFC 6979
    assert verify_signature(wallet.signer.public_key, digest, sig)
    assert not verify_signature(wallet.signer.public_key, bytes(32), sig)
    assert not verify_signature(Wallet(new_mnemonic()).signer.public_key, digest, sig)
    assert not verify_signature(b"\x02" + bytes(32), digest, sig)  # not a point: False, not a crash
    with pytest.raises(ValueError):
        wallet.signer.sign_digest(b"short")


def test_mnemonics() -> None:
    words = new_mnemonic()
    assert len(words.split()) == 24 and normalize_mnemonic(words.upper().replace(" ", "  ")) == words
    with pytest.raises(BadMnemonic, match="checksum"):
        normalize_mnemonic(" ".join(["abandon"] * 24))  # all-abandon x24 has a bad checksum
    with pytest.raises(BadMnemonic, match="not a word"):
        normalize_mnemonic(ABANDON_ART.replace("art", "artt"))
    with pytest.raises(BadMnemonic, match="24 words"):
        normalize_mnemonic("abandon abandon")


def test_restore_from_words_reproduces_every_key() -> None:
    original = Wallet(new_mnemonic())
    restored = Wallet(" ".join(original.mnemonic.upper().split()))
    assert restored.account_xpub == original.account_xpub
    assert restored.signer.public_key == original.signer.public_key
    assert all(restored.claim_private_key(n) == original.claim_private_key(n) for n in (1, 2, 977))


def test_keystore_round_trip_and_file_mode(tmp_path: Path) -> None:
    wallet = Wallet(new_mnemonic())
    path = save_keystore(tmp_path, wallet, "7K2MQX4P", "open sesame")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = path.read_bytes()
    assert wallet.mnemonic.encode() not in raw
    assert load_keystore(tmp_path, "open sesame", terminal_id="7K2MQX4P").account_xpub == wallet.account_xpub
    with pytest.raises(WalletError, match="already exists"):
        save_keystore(tmp_path, wallet, "7K2MQX4P", "another pass")
    assert path.read_bytes() == raw  # nothing overwritten
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_keystore_errors_are_distinct(tmp_path: Path) -> None:
    wallet = Wallet(ABANDON_ART)
    data = encrypt_keystore(wallet, "7K2MQX4P", "open sesame")
    with pytest.raises(WrongPassphrase):
        decrypt_keystore(data, "open sesamE")
    with pytest.raises(KeystoreForeign, match="belongs to terminal 7K2MQX4P"):
        decrypt_keystore(data, "open sesame", terminal_id="OTHER123")
    doc = json.loads(data)
    flipped = dict(doc, ciphertext=doc["ciphertext"][:10] + ("A" if doc["ciphertext"][10] != "A" else "B")
                   + doc["ciphertext"][11:])
    with pytest.raises(KeystoreDamaged, match="checksum"):
        decrypt_keystore(json.dumps(flipped).encode(), "open sesame")
    from terminal.wallet.keystore import _checksum

    flipped["checksum"] = _checksum(flipped)  # damage that the checksum cannot see: the cipher's tag does
    with pytest.raises(KeystoreDamaged, match="does not decrypt"):
        decrypt_keystore(json.dumps(flipped).encode(), "open sesame")
    with pytest.raises(KeystoreDamaged, match="not readable"):
        decrypt_keystore(data[: len(data) // 2], "open sesame")
    newer = dict(doc, version=2)
    with pytest.raises(KeystoreUnsupported, match="version 2"):
        decrypt_keystore(json.dumps(newer).encode(), "open sesame")
    with pytest.raises(KeystoreDamaged, match="not a HotPot Spot"):
        decrypt_keystore(b'{"hello": "world"}', "open sesame")
    with pytest.raises(WalletError, match="at least 8"):
        encrypt_keystore(wallet, "7K2MQX4P", "short")


def test_keystore_kdf_parameters_are_stored_and_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTPOT_KEYSTORE_SCRYPT_N", "16")  # below the floor: the floor wins
    doc = json.loads(encrypt_keystore(Wallet(ABANDON_ART), "T", "open sesame"))
    assert doc["kdf"]["n"] == 4096 and len(bytes.fromhex(doc["kdf"]["salt"])) == 16
    monkeypatch.delenv("HOTPOT_KEYSTORE_SCRYPT_N")
    from terminal.wallet.keystore import DEFAULT_SCRYPT_N, _scrypt_n

    assert _scrypt_n() == DEFAULT_SCRYPT_N == 2**17


def test_three_tries_then_a_clear_message(tmp_path: Path) -> None:
    save_keystore(tmp_path, Wallet(ABANDON_ART), "T", "open sesame")
    asked: list[int] = []

    def ask(attempt: int) -> str:
        asked.append(attempt)
        return "nope nope nope"

    with pytest.raises(WrongPassphrase, match="3 times; nothing was changed"):
        unlock_with_retries(lambda p: load_keystore(tmp_path, p), ask)
    assert asked == [1, 2, 3]
    answers = iter(["wrong one!", "open sesame"])
    wallet = unlock_with_retries(lambda p: load_keystore(tmp_path, p), lambda n: next(answers))
    assert wallet.account_xpub == Wallet(ABANDON_ART).account_xpub
    keystore_path(tmp_path).write_text("{}")
    with pytest.raises(KeystoreDamaged):  # not a wrong passphrase: no second try
        unlock_with_retries(lambda p: load_keystore(tmp_path, p), ask)


def test_backup_check() -> None:
    words = ABANDON_ART
    positions = backup_challenge()
    assert len(set(positions)) == 3 and all(1 <= p <= 24 for p in positions) and positions == sorted(positions)
    answers = [words.split()[p - 1] for p in positions]
    assert backup_answers_match(words, positions, answers)
    assert backup_answers_match(words, positions, [a.upper() + " " for a in answers])
    assert not backup_answers_match(words, [24, 1, 2], ["abandon", "abandon", "abandon"])
    assert not backup_answers_match(words, [1, 1, 2], ["abandon"] * 3)
    assert not backup_answers_match(words, [1, 2], ["abandon"] * 2)
