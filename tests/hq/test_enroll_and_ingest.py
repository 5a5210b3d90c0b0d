"""Enrollment and block ingest over real HTTP against `hotpot-hq serve` on a real PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import requests

from sync.hq.cli import enroll_code
from sync.protocol.messages import verify_receipt
from terminal.setup import create_terminal
from tests.conftest import TEST_PASSPHRASE
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload, enroll_body
from tests.hqkit import hq as hq_cli


def test_enrollment_returns_keys_policy_and_menu(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    e = till.enrollment
    assert e["terminal_id"] == till.id and e["node_type"] == "franchise"
    assert len(bytes.fromhex(e["hq_receipt_public_key"])) == 32 and len(bytes.fromhex(e["hq_kyc_public_key"])) == 32
    assert e["policy"]["shares"]["franchise"] == {"owner": 2500, "franchisee": 2400, "charity": 300,
                                                  "customer": 4800}
    [(xpub, status)] = sql(hq.database_url, "SELECT account_xpub, status FROM terminals WHERE id = %s", (till.id,))
    assert xpub == till.wallet.account_xpub and status == "active"


def test_enrollment_codes_are_one_time_and_expire(hq: HQServer, tmp_path: Any) -> None:
    term, _ = create_terminal(tmp_path / "t", franchise="F", terminal_name="C", passphrase=TEST_PASSPHRASE)
    wallet = term.unlock(TEST_PASSPHRASE)
    url = f"{hq.url}/api/v1/enroll"
    r = requests.post(url, json=enroll_body(wallet, term.terminal_id, "NOPE0-NOPE0-NOPE0-NOPE0"), timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_code"
    code = enroll_code(hq.database_url, "F", "C", "Main", "franchise")
    sql(hq.database_url, "UPDATE enrollment_codes SET expires_at = now() - interval '1 minute' "
                         "WHERE used_at IS NULL AND expires_at > now()")
    r = requests.post(url, json=enroll_body(wallet, term.terminal_id, code), timeout=10)
    assert r.status_code == 410 and r.json()["error"]["code"] == "code_expired"
    code = enroll_code(hq.database_url, "F", "C", "Main", "franchise")
    body = enroll_body(wallet, term.terminal_id, code)
    forged = dict(body, signature=body["signature"][:-4] + "0000")
    assert requests.post(url, json=forged, timeout=10).status_code == 401
    other = create_terminal(tmp_path / "o", franchise="F", terminal_name="C", passphrase=TEST_PASSPHRASE)[0]
    mismatch = dict(body, account_xpub=other.account.xpub)
    assert requests.post(url, json=mismatch, timeout=10).json()["error"]["code"] == "key_mismatch"
    assert requests.post(url, json=body, timeout=10).status_code == 200
    again = requests.post(url, json=body, timeout=10)
    assert again.status_code == 409 and again.json()["error"]["code"] == "code_used"
    term.close()
    other.close()


def _counts(url: str, terminal_id: str) -> tuple[int, ...]:
    return tuple(sql(url, """SELECT (SELECT count(*) FROM blocks WHERE terminal_id = %(t)s),
        (SELECT count(*) FROM records WHERE terminal_id = %(t)s), (SELECT count(*) FROM sales WHERE terminal_id =
        %(t)s), (SELECT count(*) FROM sale_items i JOIN sales s USING (sale_id) WHERE s.terminal_id = %(t)s),
        (SELECT count(*) FROM token_mints m JOIN sales s USING (sale_id) WHERE s.terminal_id = %(t)s)""",
                     {"t": terminal_id})[0])  # type: ignore[arg-type]


def test_ingest_materialises_and_resending_is_idempotent(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    till.sell(30)
    till.seal(per_block=25)
    blocks = blocks_payload(till.term)
    r = till.push(blocks)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted"] * len(blocks)
    hq_key = bytes.fromhex(till.enrollment["hq_receipt_public_key"])
    assert all(verify_receipt(x["receipt"], x["receipt_signature"], hq_key) for x in results)
    assert r.json()["head"]["height"] == len(blocks) - 1
    counts = _counts(hq.database_url, till.id)
    records = till.term.status()["records"]
    assert counts == (len(blocks), records, 30, 60, 30)
    [(parts_sum, minted)] = sql(hq.database_url, "SELECT sum(owner + franchisee + charity + customer), sum(m.minted) "
                                                 "FROM token_mints m JOIN sales s USING (sale_id) "
                                                 "WHERE s.terminal_id = %s", (till.id,))
    assert parts_sum == minted == 30 * 1500
    [(payload,)] = sql(hq.database_url, "SELECT payload FROM record_payloads WHERE terminal_id = %s AND type = "
                                        "'sale' ORDER BY seq LIMIT 1", (till.id,))
    assert payload["total"] == 1500 and payload["lines"][0]["item_id"] == "udon"
    [(total, minted)] = sql(hq.database_url, "SELECT sum(total), sum(minted) FROM sales WHERE terminal_id = %s",
                            (till.id,))
    assert total == minted == 30 * (700 + 800)
    again = till.push(blocks)
    assert again.status_code == 200 and {x["status"] for x in again.json()["results"]} == {"duplicate"}
    assert _counts(hq.database_url, till.id) == counts  # nothing written twice
    local = {r[0] for r in till.term.store.all("SELECT hash FROM blocks")}  # hex in the terminal
    remote = {bytes(r[0]).hex() for r in sql(hq.database_url, "SELECT hash FROM blocks WHERE terminal_id = %s",
                                             (till.id,))}
    assert local == remote


def test_gap_and_resend_from_head(make_till: Callable[..., Till]) -> None:
    till = make_till()
    till.sell(6)
    till.seal(per_block=4)
    blocks = blocks_payload(till.term)
    r = till.push(blocks[2:])
    assert r.status_code == 200
    assert r.json()["results"][0]["status"] == "gap" and r.json()["head"] is None
    assert [x["status"] for x in till.push(blocks).json()["results"]] == ["accepted"] * len(blocks)


def _tampered(blocks: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    import base64

    out = copy.deepcopy(blocks)
    b = out[1]
    if how == "byte changed":
        raw = base64.b64decode(b["records"][1]).replace(b'"quantity":1', b'"quantity":7')
        b["records"][1] = base64.b64encode(raw).decode()
    elif how == "record deleted":
        del b["records"][2]
    elif how == "records swapped":
        b["records"][0], b["records"][1] = b["records"][1], b["records"][0]
    elif how == "prev hash edited":
        b["header"]["prev_hash"] = "00" * 32
    elif how == "other terminal's signature":
        from terminal.wallet.hd import Wallet, new_mnemonic

        b["signature"] = Wallet(new_mnemonic()).signer.sign_digest(bytes.fromhex(b["hash"])).hex()
    return out


def test_every_tamper_case_is_refused_with_its_reason(make_till: Callable[..., Till], hq: HQServer) -> None:
    expected = {"byte changed": "merkle_mismatch", "record deleted": "bad_record", "records swapped": "bad_record",
                "prev hash edited": "hash_mismatch"}
    till = make_till()
    till.sell(8)
    till.seal(per_block=10)  # block 1 holds sales only
    blocks = blocks_payload(till.term)
    for how, reason in expected.items():
        r = till.push(_tampered(blocks, how))
        results = r.json()["results"]
        assert r.status_code == 422, (how, r.text)
        assert results[0]["status"] in ("accepted", "duplicate")
        assert (results[1]["status"], results[1]["reason"]) == ("invalid", reason), how
        assert all(x["status"] == "not_processed" for x in results[2:])
    r = till.push(_tampered(blocks, "other terminal's signature"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"  # not signed by this terminal
    [(n,)] = sql(hq.database_url, "SELECT count(*) FROM blocks WHERE terminal_id = %s", (till.id,))
    assert n == 1  # only the good first block


def test_fork_is_refused_with_409_and_an_alert(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    till.sell(3)
    till.seal()
    blocks = blocks_payload(till.term)
    assert till.push(blocks).status_code == 200
    forked = copy.deepcopy(blocks)
    from sync.protocol.blocks import block_from_wire, build_block

    block, _ = block_from_wire(forked[0])
    other = build_block(terminal_id=till.id, height=0, prev_hash=block.header.prev_hash,
                        created_at_ms=block.header.created_at_ms + 1, first_seq=1, records=block.records,
                        sign=till.wallet.signer.sign_digest)
    r = till.push([json.loads(other.encode())])
    assert r.status_code == 409 and r.json()["results"][0] == {
        "height": 0, "status": "conflict", "reason": "fork",
        "detail": "HQ already holds a different block at height 0"}
    [(kind, detail)] = sql(hq.database_url, "SELECT kind, detail FROM alerts WHERE terminal_id = %s", (till.id,))
    assert kind == "fork" and detail["offered_hash"] == other.hash.hex()


def test_a_second_machine_with_a_copied_terminal_id_is_refused(make_till: Callable[..., Till],
                                                               hq: HQServer) -> None:
    """Another machine signs a chain under this terminal's id with its own key: refused as unauthenticated (401),
    with no alert per request (anyone could flood them) and no word about the terminal's chain; a metric counts
    them, and a source that keeps trying is slowed down (429)."""
    from sync.protocol.blocks import GENESIS_PREV_HASH, build_block
    from sync.protocol.records import Record, encode_record
    from terminal.wallet.hd import Wallet, new_mnemonic

    till = make_till()
    till.sell(1)
    till.seal()
    assert till.push(blocks_payload(till.term)).status_code == 200  # HQ now holds a head it must not reveal
    forger = Wallet(new_mnemonic())
    records = [encode_record(Record(till.id, 1, "cash_moved", 1, {
        "shift_id": "019a8c5e-0000-7000-8000-000000000001", "amount": 100, "direction": "out", "reason": "x",
        "user": "Giorgi"}))]
    forged = build_block(terminal_id=till.id, height=0, prev_hash=GENESIS_PREV_HASH, created_at_ms=1, first_seq=1,
                         records=records, sign=forger.signer.sign_digest)
    before = _metric(hq, "hotpot_hq_unsigned_pushes_total")
    r = till.push([json.loads(forged.encode())])
    assert r.status_code == 401 and set(r.json()) == {"error"} and r.json()["error"]["code"] == "bad_signature"
    assert "head" not in r.text and "height" not in r.text
    assert sql(hq.database_url, "SELECT count(*) FROM alerts WHERE terminal_id = %s", (till.id,)) == [(0,)]
    assert sql(hq.database_url, "SELECT count(*) FROM blocks WHERE terminal_id = %s", (till.id,)) == [(1,)]
    assert _metric(hq, "hotpot_hq_unsigned_pushes_total") == before + 1


def _metric(hq: HQServer, name: str) -> float:
    for line in requests.get(f"{hq.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_unknown_and_revoked_terminals(make_till: Callable[..., Till], hq: HQServer) -> None:
    r = requests.post(f"{hq.url}/api/v1/terminals/NOSUCH99/blocks", json={"blocks": []}, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_terminal"
    till = make_till()
    till.sell(1)
    till.seal()
    sql(hq.database_url, "UPDATE terminals SET status = 'revoked' WHERE id = %s", (till.id,))
    r = till.push(blocks_payload(till.term))
    assert r.status_code == 403 and r.json()["error"]["code"] == "terminal_revoked"


def test_cli_enroll_code_uses_the_configured_lifetime_and_refuses_a_node_type_change(hq: HQServer) -> None:
    out = hq_cli(hq.database_url, "enroll-code", "--franchise", "Ttl", "--terminal", "C", "--node", "Hall",
                 env={"HOTPOT_HQ_ENROLL_CODE_TTL_S": "90"}).stdout.strip()
    assert len(out.replace("-", "")) == 20
    [(seconds,)] = sql(hq.database_url, "SELECT extract(epoch FROM e.expires_at - e.created_at)::int FROM "
                                        "enrollment_codes e JOIN nodes n ON n.id = e.node_id WHERE n.name = 'Hall'")
    assert 89 <= seconds <= 91
    refused = hq_cli(hq.database_url, "enroll-code", "--franchise", "Ttl", "--terminal", "C", "--node", "Hall",
                     "--node-type", "own", check=False)
    assert refused.returncode == 2 and "is a franchise node, not own" in refused.stderr
    assert sql(hq.database_url, "SELECT count(*) FROM enrollment_codes e JOIN nodes n ON n.id = e.node_id "
                                "WHERE n.name = 'Hall'") == [(1,)]


def test_a_source_that_keeps_pushing_unsigned_blocks_is_slowed_down(hq_db: str, tmp_path: Any) -> None:
    from sync.protocol.blocks import GENESIS_PREV_HASH, build_block
    from sync.protocol.records import Record, encode_record
    from terminal.syncing import enroll
    from terminal.wallet.hd import Wallet, new_mnemonic
    from tests.hqkit import running_hq

    with running_hq(hq_db, tmp_path / "hq", extra_env={"HOTPOT_HQ_PUBLIC_RATE": "3"}) as server:
        term, _ = create_terminal(tmp_path / "t", franchise="F", terminal_name="C", passphrase=TEST_PASSPHRASE)
        enroll(term, term.unlock(TEST_PASSPHRASE), server.url, enroll_code(hq_db, "F", "C", "Main", "franchise"))
        records = [encode_record(Record(term.terminal_id, 1, "login_failed", 1, {"user": "Giorgi"}))]
        forged = build_block(terminal_id=term.terminal_id, height=0, prev_hash=GENESIS_PREV_HASH, created_at_ms=1,
                             first_seq=1, records=records, sign=Wallet(new_mnemonic()).signer.sign_digest)
        url = f"{server.url}/api/v1/terminals/{term.terminal_id}/blocks"
        codes = [requests.post(url, json={"blocks": [json.loads(forged.encode())]}, timeout=10).status_code
                 for _ in range(5)]
        term.close()
    assert codes == [401, 401, 401, 429, 429]
