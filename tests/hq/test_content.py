"""A signature proves who said something, not that it is well-formed: malformed content in a correctly signed block
is refused as `invalid` / `bad_content` naming the record and the field, never a 5xx, and the terminal's own next
push is accepted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from sync.protocol.blocks import GENESIS_PREV_HASH, build_block
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload

SHIFT = "019a8c5e-0000-7000-8000-000000000001"


def _raw_record(terminal_id: str, seq: int, type_: str, payload: str) -> bytes:
    """Record bytes written by hand (canonical key order), so that they can hold what our encoder refuses."""
    return (f'{{"created_at_ms":1795651200000,"payload":{payload},"seq":{seq},"terminal_id":"{terminal_id}",'
            f'"type":"{type_}","v":1}}').encode()


CASES = {
    "a string where a number belongs": ("shift_opened", f'{{"float":"100","shift_id":"{SHIFT}","user":"Giorgi"}}',
                                        "payload.float"),
    "a list for an object": ("token_reversal", f'{{"parts":[1,2],"refund_id":"{SHIFT}","sale_id":"{SHIFT}"}}',
                             "payload.parts"),
    "a payload that is a list": ("shift_opened", "[1,2,3]", "payload must be an object"),
    "a 5,000-digit integer": ("shift_opened", f'{{"float":1{"0" * 5000},"shift_id":"{SHIFT}","user":"Giorgi"}}',
                              "out of range"),
    "100,000 nested brackets": ("shift_opened", f'{{"float":{"[" * 100_000}{"]" * 100_000},"shift_id":"{SHIFT}",'
                                                f'"user":"Giorgi"}}', "does not decode"),
    "an unknown field": ("shift_opened", f'{{"float":100,"shift_id":"{SHIFT}","tip":5,"user":"Giorgi"}}', "tip"),
    "a negative amount": ("shift_opened", f'{{"float":-100,"shift_id":"{SHIFT}","user":"Giorgi"}}', "payload.float"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_signed_content_is_bad_content_never_a_fault(make_till: Callable[..., Till], hq: HQServer,
                                                               case: str) -> None:
    till = make_till()
    record_type, payload, named = CASES[case]
    block = build_block(terminal_id=till.id, height=0, prev_hash=GENESIS_PREV_HASH, created_at_ms=1795651300000,
                        first_seq=1, records=[_raw_record(till.id, 1, record_type, payload)],
                        sign=till.wallet.signer.sign_digest)
    r = till.push([json.loads(block.encode())])
    assert r.status_code == 422, r.text
    [result] = r.json()["results"]
    assert result["status"] == "invalid" and result["reason"] == "bad_content", result
    assert "record 1" in result["detail"] and named in result["detail"], result["detail"]
    assert sql(hq.database_url, "SELECT count(*) FROM blocks WHERE terminal_id = %s", (till.id,)) == [(0,)]
    [(kind, detail)] = sql(hq.database_url, "SELECT kind, detail FROM alerts WHERE terminal_id = %s", (till.id,))
    assert kind == "invalid_block" and detail["reason"] == "bad_content"
    # The terminal's own, honest chain is accepted after it.
    till.sell(2)
    till.seal()
    r = till.push(blocks_payload(till.term))
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"accepted"}, r.text


def test_a_header_with_an_impossible_height_is_malformed_not_a_fault(make_till: Callable[..., Till]) -> None:
    till = make_till()
    till.sell(1)
    till.seal()
    wire = blocks_payload(till.term)[0]
    wire["header"]["height"] = 2**60
    header = json.dumps(wire["header"], sort_keys=True, separators=(",", ":")).encode()
    wire["hash"] = hashlib.sha256(header).hexdigest()
    wire["signature"] = till.wallet.signer.sign_digest(hashlib.sha256(header).digest()).hex()
    r = till.push([wire])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "malformed_block" and "height" in r.json()["error"]["message"]
