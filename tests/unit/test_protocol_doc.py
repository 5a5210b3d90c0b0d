"""docs/protocol.md's test vectors, checked against the code that implements them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.canonical import CanonicalError, canonical_json, decode_canonical
from sync.protocol.records import Record, RecordError, decode_record, encode_record
from terminal.core.checks import ClaimSecret, claim_hash, claim_matches, normalize_short_code

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def vector(name: str) -> str:
    match = re.search(rf"<!-- vector:{name} -->\n```\n(.*?)\n```", DOC, re.S)
    assert match, f"vector {name} missing from docs/protocol.md"
    return match.group(1)


VECTOR_RECORD = Record("7K2MQX4P", 1, "shift_opened", 1795651200000, {
    "shift_id": "019a8c5e-0000-7000-8000-000000000001", "user": "გიორგი", "float": 20000})


def test_record_vector_bytes_and_hash() -> None:
    encoded = encode_record(VECTOR_RECORD)
    assert encoded == vector("record-bytes").encode("utf-8")
    assert hashlib.sha256(encoded).hexdigest() == vector("record-sha256")
    assert decode_record(encoded) == VECTOR_RECORD


def test_claim_vector() -> None:
    fields = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in vector("claim").splitlines())
    secret = ClaimSecret(bytes.fromhex(fields["secret (hex)"]))
    assert secret.token == fields["token"]
    assert secret.short_code == fields["short code"]
    salt = bytes.fromhex(fields["claim_salt"])
    assert claim_hash(secret.short_code, salt, int(fields["iterations"])) == fields["claim_hash"]
    assert ClaimSecret.from_token(secret.token) == secret
    # A customer typing the code sloppily still matches; a wrong code does not.
    assert claim_matches("qjs8 4dqg gjsw", salt, fields["claim_hash"], int(fields["iterations"]))
    assert not claim_matches("QJS8-4DQG-GJSX", salt, fields["claim_hash"], int(fields["iterations"]))
    assert normalize_short_code("QJS8-4DQG-GJSW") == "QJS8-4DQG-GJSW"


def test_claim_secret_never_shows_in_repr() -> None:
    secret = ClaimSecret.new()
    assert secret.token not in repr(secret) and secret.raw.hex() not in repr(secret)


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value", [1.5, {"a": float("nan")}, {1: "x"}, 2**53, object(), _nested(40)])
def test_canonical_refuses_what_has_no_single_form(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_json(value)


@pytest.mark.parametrize("data", [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1.0}', b'\xff', b'{"a":1e3}',
                                  b'{"a":9007199254740992}', b'[' * 40 + b']' * 40, b'{"a":1,"a":2}',
                                  b'{"a":"\\u0041"}', b'{"a":-0}', b'{"a":NaN}', b'{"a":"x"} '])
def test_decoder_refuses_non_canonical_bytes(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode_canonical(data)


def test_canonical_escapes() -> None:
    assert canonical_json({"z": "\u0001\t", "a": [True, None, -3]}) == b'{"a":[true,null,-3],"z":"\\u0001\\t"}'


@pytest.mark.parametrize("data", [
    b'{"created_at_ms":1,"payload":{},"seq":1,"terminal_id":"T","type":"bogus","v":1}',
    b'{"created_at_ms":1,"payload":{},"seq":0,"terminal_id":"T","type":"sale","v":1}',
    b'{"created_at_ms":1,"payload":{},"seq":1,"terminal_id":"T","type":"sale","v":2}',
    b'{"created_at_ms":1,"payload":[],"seq":1,"terminal_id":"T","type":"sale","v":1}',
    b'{"created_at_ms":1,"extra":1,"payload":{},"seq":1,"terminal_id":"T","type":"sale","v":1}',
])
def test_bad_records_refused(data: bytes) -> None:
    with pytest.raises(RecordError):
        decode_record(data)


def test_hq_message_vectors() -> None:
    import json as _json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.protocol.keys import verify_signature
    from sync.protocol.messages import receipt_digest_input, request_digest, verify_receipt
    from terminal.wallet.hd import Wallet

    v = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in vector("messages").splitlines())
    wallet = Wallet(" ".join(["abandon"] * 23 + ["art"]))
    digest = request_digest("GET", "/api/v1/terminals/7K2MQX4P/updates?cursor=0", b"", 1795651300000,
                            "n0nce-n0nce-n0nce-01", "7K2MQX4P")
    assert digest.hex() == v["request digest"]
    assert wallet.signer.sign_digest(digest).hex() == v["request signature"]
    assert verify_signature(wallet.signer.public_key, digest, bytes.fromhex(v["request signature"]))
    hq = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hq private seed"]))
    public = hq.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public.hex() == v["hq public key"]
    receipt = _json.loads(v["receipt"])
    assert receipt_digest_input(receipt).decode() == v["receipt"]
    assert hq.sign(receipt_digest_input(receipt)).hex() == v["receipt signature"]
    assert verify_receipt(receipt, v["receipt signature"], public)
    assert not verify_receipt(dict(receipt, height=1), v["receipt signature"], public)


def test_bound_ids_vector() -> None:
    from sync.protocol.ids import bound_uuid7, is_bound, refund_id_parts, sale_id_parts

    sale_id = bound_uuid7(1795651200000, "7K2MQX4P", *sale_id_parts(5))
    refund_id = bound_uuid7(1795651260000, "7K2MQX4P", *refund_id_parts(sale_id, 0))
    assert [sale_id, refund_id] == vector("ids").splitlines()
    assert is_bound(sale_id, "7K2MQX4P", *sale_id_parts(5))
    assert not is_bound(sale_id, "7K2MQX4Q", *sale_id_parts(5)) and not is_bound(sale_id, "7K2MQX4P", "sale", "6")
    assert not is_bound(refund_id, "7K2MQX4P", *refund_id_parts(sale_id, 1))


def _json_dumps_canonical(value: object) -> bytes:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_canonical_bytes_are_json_dumps_bytes_for_every_code_point() -> None:
    """The encoder is msgspec for speed; the rule (section 1) is json.dumps's output. Every code point agrees."""
    chars = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    for start in range(0, len(chars), 4096):
        value = {chars[start:start + 4096]: chars[start:start + 4096], "n": [start, -start, None, True]}
        encoded = canonical_json(value)
        assert encoded == _json_dumps_canonical(value)
        assert decode_canonical(encoded) == value


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=20))
def test_canonical_bytes_are_json_dumps_bytes(value: object) -> None:
    assert canonical_json(value) == _json_dumps_canonical(value)


def test_kyc_envelope_vector_opens_and_seals_round_trip() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from sync.protocol.kyc import Envelope, EnvelopeError, decode, open_envelope, seal

    lines = {line[:19].strip(): line[19:].strip() for line in vector("kyc-envelope").splitlines()}
    key = X25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public.hex() == lines["recipient public"]
    envelope = bytes.fromhex(lines["envelope (hex)"])
    header, plaintext = open_envelope(envelope, key)
    assert plaintext.decode() == lines["plaintext"] and header["terminal_id"] == "7K2MQX4P"
    # Our own seal opens the same way; the header cannot be moved onto another ciphertext; another key opens nothing.
    mine = seal(b"case bytes", dict(header, case_id="019a8c5e-0000-7000-8000-00000000000a"), public).encode()
    assert open_envelope(mine, key)[1] == b"case bytes"
    moved = Envelope(decode(mine).header, decode(envelope).ciphertext).encode()  # another case's header
    with pytest.raises(EnvelopeError):
        open_envelope(moved, key)
    with pytest.raises(EnvelopeError):
        open_envelope(envelope, X25519PrivateKey.generate())
    with pytest.raises(EnvelopeError):
        decode(b"not an envelope")


def _fields(name: str) -> dict[str, str]:
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in vector(name).splitlines())


def test_account_vector() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from sync.protocol import accounts
    from sync.protocol.canonical import decode_canonical as decode

    f = _fields("account")
    key = ec.derive_private_key(int(f["private d (hex)"], 16), ec.SECP256R1())
    assert int(f["private d (hex)"], 16) == int.from_bytes(hashlib.sha256(b"hotpot/vector/account").digest(), "big")
    assert accounts.account_of(key) == f["account"]
    assert accounts.account_id(f["account"]) == f["account_id"]
    body = decode(f["signed bytes"].encode())
    assert accounts.signed_bytes({**body, "signature": "x"}) == f["signed bytes"].encode()
    assert accounts.verify(f["account"], {**body, "signature": f["signature"]})
    assert not accounts.verify(f["account"], {**body, "ts": body["ts"] + 1, "signature": f["signature"]})


def test_ledger_entry_vector() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    f = _fields("ledger-entry")
    data = f["entry bytes"].encode()
    assert canonical_json(decode_canonical(data)) == data
    assert hashlib.sha256(data).hexdigest() == f["entry hash"]
    entry = decode_canonical(data)
    assert sum(delta for _, delta in entry["moves"]) == 0
    seed = hashlib.sha256(b"hotpot/vector/hq-receipt").digest()
    assert seed.hex() == f["hq key seed"]
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert key.sign(bytes.fromhex(f["entry hash"])).hex() == f["signature"]
