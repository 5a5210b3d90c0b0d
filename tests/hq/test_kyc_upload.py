"""KYC envelopes reach HQ over a signed terminal call: stored by the SHA-256 of their bytes, answered with a signed
receipt, idempotent, refused when malformed, foreign or unsigned; HQ's KYC key (and only it) opens what was stored."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable

import psycopg
import requests

from sync.hq.keys import load_or_create_keys
from sync.hq.kyc import cid
from sync.protocol.kyc import open_envelope, seal
from sync.protocol.messages import verify_receipt
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, signed_headers


def _put(till: Till, case_id: str, data: bytes, *, signed: bool = True) -> requests.Response:
    path = f"/api/v1/terminals/{till.id}/kyc/{case_id}"
    headers = {"content-type": "application/octet-stream"}
    if signed:
        headers.update(signed_headers(till.wallet, till.id, "PUT", path, data))
    return requests.put(till.hq.url + path, data=data, headers=headers, timeout=30)


def _envelope(till: Till, case_id: str, plaintext: bytes) -> bytes:
    header = {"case_id": case_id, "terminal_id": till.id, "level": "basic", "created_at_ms": int(time.time() * 1000)}
    return seal(plaintext, header, bytes.fromhex(till.enrollment["hq_kyc_public_key"])).encode()


def test_a_sealed_case_is_stored_received_and_opens_only_at_hq(make_till: Callable[..., Till],
                                                                hq: HQServer) -> None:
    till = make_till()
    case_id = str(uuid.uuid4())
    plaintext = json.dumps({"details": {"surname": "ERIKSSON", "document_number": "L898902C3"},
                            "images": {"front": "/9j/4AAQSkZJRgABAQ"}}).encode()
    data = _envelope(till, case_id, plaintext)
    first = _put(till, case_id, data)
    assert first.status_code == 200, first.text
    receipt, signature = first.json()["receipt"], first.json()["receipt_signature"]
    sha = hashlib.sha256(data).hexdigest()
    assert receipt["sha256"] == sha and receipt["case_id"] == case_id and receipt["purpose"] == "hotpot/kyc-receipt/v1"
    assert verify_receipt(receipt, signature, bytes.fromhex(till.enrollment["hq_receipt_public_key"]))
    again = _put(till, case_id, data)  # the sync service retries: same answer, nothing new
    assert again.status_code == 200 and again.json()["receipt"] == receipt
    assert sql(hq.database_url, "SELECT count(*), min(sha256) FROM kyc_cases WHERE terminal_id = %s",
               (till.id,)) == [(1, sha)]
    [(name,)] = sql(hq.database_url, "SELECT blob FROM kyc_cases WHERE case_id = %s", (case_id,))
    assert name == cid(data) and name.startswith("bafkrei")  # content-addressed: a CIDv1 of the bytes
    stored = (hq.kyc_dir / name).read_bytes()
    assert stored == data and (hq.kyc_dir / name).stat().st_mode & 0o777 == 0o600
    assert b"ERIKSSON" not in stored and b"L898902C3" not in stored
    header, opened = open_envelope(stored, load_or_create_keys(hq.key_dir).kyc)
    assert opened == plaintext and header["case_id"] == case_id


def test_bad_foreign_conflicting_and_unsigned_uploads_are_refused(make_till: Callable[..., Till],
                                                                  hq: HQServer) -> None:
    till, other = make_till(), make_till()
    case_id = str(uuid.uuid4())
    data = _envelope(till, case_id, b"case")
    assert _put(till, case_id, data, signed=False).status_code == 401
    r = _put(till, case_id, b"not an envelope")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_envelope"
    r = _put(other, case_id, data)  # another terminal's envelope under its own name
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_envelope"
    r = _put(till, str(uuid.uuid4()), data)  # the header names another case than the path
    assert r.status_code == 422
    assert _put(till, case_id, data).status_code == 200
    r = _put(till, case_id, _envelope(till, case_id, b"something else"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_conflict"
    assert _put(till, "not-a-uuid", data).status_code == 422
    assert sql(hq.database_url, "SELECT count(*) FROM kyc_cases WHERE terminal_id IN (%s, %s)",
               (till.id, other.id)) == [(1,)]


def test_the_case_store_names_files_by_cidv1() -> None:
    # The well-known ids of IPFS's raw blocks (`ipfs add --cid-version 1 --raw-leaves`)
    assert cid(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert cid(b"hello world") == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def test_an_upload_must_be_the_envelope_the_terminal_ledger_recorded(make_till: Callable[..., Till],
                                                                     hq: HQServer) -> None:
    from terminal.kyc import submit_case
    from terminal.syncing import SyncService
    from tests.hq.test_kyc_desk import DETAILS, IMAGES

    till = make_till()
    manager = till.term.login("Nino", "2222")
    first = submit_case(till.term, manager, DETAILS, IMAGES)
    second = submit_case(till.term, manager, DETAILS, IMAGES)
    forged = _envelope(till, first["case_id"], b'{"details": {"surname": "SOMEONE ELSE"}}')
    assert _put(till, first["case_id"], forged).status_code == 200  # before the block, HQ cannot tell
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        service.run_once()
    finally:
        service.stop()
    # The chain's kyc_submitted record names another envelope than the one HQ holds: someone must look.
    [(detail,)] = sql(hq.database_url, "SELECT detail FROM alerts WHERE kind = 'kyc_mismatch' AND terminal_id = %s",
                      (till.id,))
    assert detail["case_id"] == first["case_id"] and detail["recorded"] == first["sha256"]
    # Once the record is in, an upload under a recorded case must be the recorded envelope.
    with psycopg.connect(hq.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM kyc_cases WHERE case_id = %s", (second["case_id"],))
    r = _put(till, second["case_id"], _envelope(till, second["case_id"], b"{}"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_conflict"
    assert "ledger" in r.json()["error"]["message"]
