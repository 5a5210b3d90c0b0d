"""Blocks: the doc's worked example byte for byte, the Merkle tree against RFC 6962, and verify_block's verdicts."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sync.protocol.blocks import (
    GENESIS_PREV_HASH,
    BadRecord,
    BadSignature,
    Block,
    BrokenLink,
    HashMismatch,
    HeightGap,
    MalformedBlock,
    MerkleMismatch,
    build_block,
    decode_block,
    leaf_hash,
    merkle_root,
    verify_block,
)
from sync.protocol.records import Record, encode_record
from terminal.wallet.hd import Wallet, new_mnemonic

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
WALLET = Wallet(" ".join(["abandon"] * 23 + ["art"]))
TID = "7K2MQX4P"
SHIFT = "019a8c5e-0000-7000-8000-000000000001"


def vector(name: str) -> str:
    match = re.search(rf"<!-- vector:{name} -->\n```\n(.*?)\n```", DOC, re.S)
    assert match
    return match.group(1)


def _records() -> list[bytes]:
    shift = "019a8c5e-0000-7000-8000-000000000001"
    return [
        encode_record(Record(TID, 1, "shift_opened", 1795651200000,
                             {"shift_id": shift, "user": "გიორგი", "float": 20000})),
        encode_record(Record(TID, 2, "cash_moved", 1795651260000,
                             {"shift_id": shift, "direction": "in", "amount": 5000,
                              "reason": "change from bank, \"small notes\"", "user": "Giorgi"})),
    ]


def test_worked_example_byte_for_byte() -> None:
    records = _records()
    assert [leaf_hash(r).hex() for r in records] == vector("block-leaves").splitlines()
    block = build_block(terminal_id=TID, height=0, prev_hash=GENESIS_PREV_HASH, created_at_ms=1795651300000,
                        first_seq=1, records=records, sign=WALLET.signer.sign_digest)
    assert block.header.encode() == vector("block-header").encode()
    assert block.hash.hex() == vector("block-hash")
    assert block.signature.hex() == vector("block-signature")
    assert block.encode() == vector("block-wire").encode()
    parsed, stated = decode_block(vector("block-wire").encode())
    assert parsed == block and stated == block.hash
    verify_block(parsed, WALLET.signer.public_key, None, stated_hash=stated)


def _rfc6962(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962(leaves[:k]) + _rfc6962(leaves[k:])).digest()


def test_merkle_root_is_rfc6962() -> None:
    for n in range(1, 70):
        leaves = [leaf_hash(str(i).encode()) for i in range(n)]
        assert merkle_root(leaves) == _rfc6962(leaves), n
    assert merkle_root([]) == hashlib.sha256(b"").digest()


def _chain(n_blocks: int = 3, per_block: int = 4, wallet: Wallet = WALLET) -> list[Block]:
    blocks: list[Block] = []
    seq = 1
    for h in range(n_blocks):
        recs = [encode_record(Record(TID, seq + i, "cash_moved", 1_000 + seq + i, {
            "shift_id": SHIFT, "direction": "in", "amount": seq + i, "reason": "float", "user": "Giorgi"}))
            for i in range(per_block)]
        blocks.append(build_block(terminal_id=TID, height=h, prev_hash=blocks[-1].hash if blocks else
                                  GENESIS_PREV_HASH, created_at_ms=10_000 + h, first_seq=seq, records=recs,
                                  sign=wallet.signer.sign_digest))
        seq += per_block
    return blocks


def _verify_all(blocks: list[Block], key: bytes = WALLET.signer.public_key,
                stated: dict[int, bytes] | None = None) -> None:
    """Verify in order; `stated` holds the hashes stored beside the blocks (as the terminal's database does)."""
    previous = None
    for block in blocks:
        verify_block(block, key, previous, stated_hash=(stated or {}).get(block.height, block.hash))
        previous = block.header


def _resign(block: Block, **changes: object) -> Block:
    header = replace(block.header, **changes)  # type: ignore[arg-type]
    return Block(header, WALLET.signer.sign_digest(header.hash()), block.records)


def test_a_good_chain_verifies() -> None:
    _verify_all(_chain())


def test_tampering_is_caught_and_names_the_height() -> None:
    chain = _chain()
    b1 = chain[1]
    recs = list(b1.records)
    cases: dict[str, tuple[list[Block], type[Exception]]] = {}
    changed = recs[1].replace(b'"amount":6', b'"amount":7')
    cases["byte changed"] = ([chain[0], Block(b1.header, b1.signature, (recs[0], changed, *recs[2:])), chain[2]],
                             MerkleMismatch)
    cases["record deleted"] = ([chain[0], Block(b1.header, b1.signature, tuple(recs[:2] + recs[3:])), chain[2]],
                               BadRecord)
    cases["records swapped"] = ([chain[0], Block(b1.header, b1.signature, (recs[1], recs[0], *recs[2:])), chain[2]],
                                BadRecord)
    other = Wallet(new_mnemonic())
    cases["other terminal's key"] = ([chain[0], Block(b1.header, other.signer.sign_digest(b1.hash), b1.records),
                                      chain[2]], BadSignature)
    cases["prev hash edited"] = ([chain[0], Block(replace(b1.header, prev_hash=bytes(32)), b1.signature,
                                                  b1.records), chain[2]], HashMismatch)
    resigned_records = (recs[0], changed, *recs[2:])
    from sync.protocol.blocks import merkle_root as mr

    resigned = _resign(Block(b1.header, b1.signature, resigned_records),
                       merkle_root=mr([leaf_hash(r) for r in resigned_records]))
    resigned = Block(resigned.header, resigned.signature, resigned_records)
    cases["re-signed with the right key"] = ([chain[0], resigned, chain[2]], BrokenLink)
    cases["height skipped"] = ([chain[0], chain[2]], HeightGap)
    for name, (blocks, error) in cases.items():
        stated = {b.height: b.hash for b in chain}
        if name == "re-signed with the right key":  # whoever re-signed it also rewrote the stored hash
            stated[1] = resigned.hash
        with pytest.raises(error) as exc:
            _verify_all(blocks, stated=stated)
        expected_height = 2 if name == "re-signed with the right key" else (2 if name == "height skipped" else 1)
        assert exc.value.height == expected_height, name
        assert f"block {expected_height}" in str(exc.value)


def test_truncation_is_not_detectable_locally() -> None:
    """Documented limit: dropping the newest blocks leaves a valid, shorter chain. HQ receipts catch it."""
    _verify_all(_chain()[:2])


@pytest.mark.parametrize("line", [
    b"not json", b"{}", b'{"hash":"00","header":{},"records":[],"signature":"00"}',
])
def test_malformed_wire_blocks_are_refused(line: bytes) -> None:
    with pytest.raises(MalformedBlock):
        decode_block(line)


def test_wire_block_with_bad_fields_is_refused() -> None:
    good = _chain(1)[0].encode().decode()
    for bad in (good.replace('"height":0', '"height":-1'), good.replace('"signature":"3', '"signature":"zz'),
                good.replace('"records":["', '"records":["!!')):
        with pytest.raises(MalformedBlock):
            decode_block(bad.encode())
