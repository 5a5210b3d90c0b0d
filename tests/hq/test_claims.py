"""Claims over real HTTP and PostgreSQL: a terminal sells and syncs, a customer's key (P-256, as a browser makes it)
claims the check's share exactly once, with the QR's token or the printed short code; every refusal of
docs/protocol.md section 11 answers its code; the receipt is an entry of HQ's signed, hash-chained token ledger."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol import accounts
from sync.protocol.canonical import canonical_json
from terminal.core.orders import Tender
from terminal.services import SaleResult
from terminal.store import repos
from terminal.syncing import SyncService
from tests.hq.conftest import Till, age_sales, sql
from tests.hqkit import HQServer


class Phone:
    """A customer's account key, signing requests as the claim page does."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.account = accounts.account_of(self.key)
        self.id = accounts.account_id(self.account)

    def signed(self, body: dict[str, Any], *, ts: int | None = None, nonce: str | None = None) -> dict[str, Any]:
        doc = {**body, "account": self.account, "nonce": nonce or accounts.b64url(os.urandom(16)),
               "ts": ts if ts is not None else int(time.time() * 1000)}
        doc["signature"] = accounts.sign(self.key, doc)
        return doc

    def claim(self, hq: HQServer, check_id: str, **secret: str) -> requests.Response:
        return requests.post(f"{hq.url}/api/v1/claims", json=self.signed({"check_id": check_id, **secret}),
                             timeout=30)


def _sell(till: Till, n: int = 1) -> list[SaleResult]:
    cashier = repos.get_user(till.term.store, "Giorgi")
    assert cashier is not None
    return [till.term.sell(cashier, [("udon", 2), ("tofu", 1)], [Tender("cash")]) for _ in range(n)]


def _sync(till: Till) -> None:
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        assert service.run_once().ok
    finally:
        service.stop()


@pytest.fixture
def synced(make_till: Callable[..., Till]) -> tuple[Till, list[SaleResult]]:
    till = make_till()
    sales = _sell(till, 4)
    _sync(till)
    return till, sales


def _verify_entry(receipt: dict[str, Any], hq_key: bytes) -> None:
    entry = receipt["entry"]
    digest = hashlib.sha256(canonical_json(entry)).hexdigest()
    assert digest == receipt["hash"]
    Ed25519PublicKey.from_public_bytes(hq_key).verify(bytes.fromhex(receipt["signature"]), bytes.fromhex(digest))


def test_a_check_is_claimed_once_by_its_link(synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    till, sales = synced
    sale = sales[0]
    phone = Phone()
    answer = phone.claim(hq, sale.sale.check.id, token=sale.secret.token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    share = sale.sale.parts["customer"]
    assert body["amount"] == share > 0 and body["balance"] == share and body["account_id"] == phone.id
    hq_key = bytes.fromhex(till.enrollment["hq_receipt_public_key"])
    _verify_entry(body["receipt"], hq_key)
    entry = body["receipt"]["entry"]
    assert entry["kind"] == "claim" and entry["moves"] == [["unclaimed", -share], [phone.id, share]]
    again = Phone().claim(hq, sale.sale.check.id, token=sale.secret.token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_claimed"
    view = requests.get(f"{hq.url}/api/v1/accounts/{phone.id}", timeout=10).json()
    assert view["balance"] == share and [e["entry"]["kind"] for e in view["entries"]] == ["claim"]
    for item in view["entries"]:
        _verify_entry(item, hq_key)
    assert sql(hq.database_url, "SELECT claimed_to FROM checks WHERE check_id = %s", (sale.sale.check.id,)) == \
        [(phone.id,)]


def test_the_printed_short_code_claims_too_and_wrong_codes_lock_the_check(
        synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    _, sales = synced
    phone = Phone()
    code = sales[1].secret.short_code.lower().replace("-", " ")  # typed as a person types it
    answer = phone.claim(hq, sales[1].sale.check.id, short_code=code)
    assert answer.status_code == 200, answer.text
    target = sales[2].sale.check.id
    for left in (4, 3, 2, 1):
        wrong = phone.claim(hq, target, short_code="0000-0000-0000")
        assert wrong.status_code == 403 and wrong.json()["error"] == {
            "code": "wrong_code", "message": "That code does not belong to this check.", "attempts_left": left}
    fifth = phone.claim(hq, target, short_code="0000-0000-0000")
    assert fifth.status_code == 429 and fifth.json()["error"]["code"] == "locked"
    right = phone.claim(hq, target, token=sales[2].secret.token)  # even the right secret waits out the hour
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 3000


def test_a_check_hq_has_not_received_yet(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    [sale] = _sell(till)  # sold, not synced
    answer = Phone().claim(hq, sale.sale.check.id, token=sale.secret.token)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_synced"
    assert int(answer.headers["Retry-After"]) > 0
    _sync(till)
    assert Phone().claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200


def test_signatures_nonces_and_clocks(synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    _, sales = synced
    sale = sales[3]
    phone, other = Phone(), Phone()
    url = f"{hq.url}/api/v1/claims"
    doc = phone.signed({"check_id": sale.sale.check.id, "token": sale.secret.token})
    forged = {**doc, "account": other.account}  # someone else's key on this signature
    assert requests.post(url, json=forged, timeout=10).json()["error"]["code"] == "bad_signature"
    changed = {**doc, "check_id": sales[0].sale.check.id}
    assert requests.post(url, json=changed, timeout=10).status_code == 401
    stale = phone.signed({"check_id": sale.sale.check.id, "token": sale.secret.token},
                         ts=int(time.time() * 1000) - 10 * 60 * 1000)
    assert requests.post(url, json=stale, timeout=10).json()["error"]["code"] == "stale"
    nonce = accounts.b64url(b"\x01" * 16)
    first = requests.post(url, json=phone.signed({"check_id": "ZZZZ-1", "short_code": "0000-0000-0000"},
                                                 nonce=nonce), timeout=10)
    assert first.status_code == 404  # not at HQ (and the nonce is spent)
    replay = requests.post(url, json=phone.signed({"check_id": sale.sale.check.id, "token": sale.secret.token},
                                                  nonce=nonce), timeout=10)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "replayed"
    for bad in ({**doc, "extra": 1}, {k: v for k, v in doc.items() if k != "nonce"}, {**doc, "ts": "now"},
                {**doc, "account": "not-a-key"}, [doc], {**doc, "short_code": "X"}):
        answer = requests.post(url, json=bad, timeout=10)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request", (bad, answer.text)
    assert phone.claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200


def test_two_racing_claims_one_wins(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    sales = _sell(till, 3)
    _sync(till)
    def go(s: SaleResult, barrier: threading.Barrier, results: list[int]) -> None:
        phone = Phone()
        barrier.wait()
        results.append(phone.claim(hq, s.sale.check.id, token=s.secret.token).status_code)

    for sale in sales:
        results: list[int] = []
        barrier = threading.Barrier(4)
        threads = [threading.Thread(target=go, args=(sale, barrier, results)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 409, 409, 409], results
        assert sql(hq.database_url, "SELECT count(*) FROM claims WHERE check_id = %s", (sale.sale.check.id,)) == \
            [(1,)]


def test_an_expired_share(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    [sale] = _sell(till)
    _sync(till)
    age_sales(hq.database_url, "terminal_id = %s", (till.id,))  # the sale, 366 days on
    answer = Phone().claim(hq, sale.sale.check.id, token=sale.secret.token)
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "expired"


def test_the_ledger_chains_and_adds_up(synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    _, sales = synced
    for sale in sales[:2]:
        assert Phone().claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200
    rows = sql(hq.database_url, "SELECT seq, body, hash FROM token_ledger ORDER BY seq")
    prev = "0" * 64
    from sync.protocol.canonical import decode_canonical
    for seq, body, digest in rows:
        entry = decode_canonical(bytes(body))
        assert entry["seq"] == seq and entry["prev"] == prev and hashlib.sha256(bytes(body)).hexdigest() == digest
        prev = digest
    ledgered = sql(hq.database_url, "SELECT coalesce(sum(minted), 0) FROM token_mints WHERE ledger_seq IS NOT NULL")
    balances = sql(hq.database_url, "SELECT coalesce(sum(balance), 0) FROM token_balances")
    assert balances == ledgered and ledgered[0][0] > 0


def test_transfers_wait_for_kyc(synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    _, sales = synced
    sender, receiver = Phone(), Phone()
    assert sender.claim(hq, sales[0].sale.check.id, token=sales[0].secret.token).status_code == 200
    url = f"{hq.url}/api/v1/transfers"
    doc = sender.signed({"to": receiver.id, "amount": 100})
    answer = requests.post(url, json=doc, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "kyc_required"
    assert requests.post(url, json=doc, timeout=10).json()["error"]["code"] == "replayed"
    for bad in ({**doc, "amount": 0}, {**doc, "amount": 1.5}, {**doc, "to": "nobody"}):
        assert requests.post(url, json=bad, timeout=10).status_code == 422
    assert requests.post(url, json={**doc, "amount": 99}, timeout=10).json()["error"]["code"] == "bad_signature"
    assert sql(hq.database_url, "SELECT balance FROM token_balances WHERE holder = %s", (receiver.id,)) == []


def test_verify_ledger_rederives_everything_and_names_what_was_tampered(
        synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    from tests.hqkit import hq as hq_cli

    _, sales = synced
    phone = Phone()
    for sale in sales[:3]:
        assert phone.claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200
    env = {"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)}
    ok = hq_cli(hq.database_url, "verify-ledger", env=env)
    assert "Token ledger OK" in ok.stdout, ok.stdout
    with psycopg.connect(hq.database_url, autocommit=True) as conn:
        conn.execute("UPDATE token_balances SET balance = balance + 1 WHERE holder = %s", (phone.id,))
        bad = hq_cli(hq.database_url, "verify-ledger", env=env, check=False)
        assert bad.returncode == 1 and phone.id in bad.stdout, bad.stdout
        conn.execute("UPDATE token_balances SET balance = balance - 1 WHERE holder = %s", (phone.id,))
        [(seq, body)] = conn.execute("SELECT seq, body FROM token_ledger WHERE kind = 'claim' ORDER BY seq "
                                     "LIMIT 1").fetchall()
        forged = bytes(body).replace(b'"amount":', b'"amount":1', 1)
        conn.execute("UPDATE token_ledger SET body = %s WHERE seq = %s", (forged, seq))
        bad = hq_cli(hq.database_url, "verify-ledger", env=env, check=False)
        assert bad.returncode == 1 and f"entry {seq}" in bad.stdout, bad.stdout
        conn.execute("UPDATE token_ledger SET body = %s WHERE seq = %s", (bytes(body), seq))
    assert "Token ledger OK" in hq_cli(hq.database_url, "verify-ledger", env=env).stdout


def test_the_terminal_hears_which_checks_were_claimed(synced: tuple[Till, list[SaleResult]], hq: HQServer) -> None:
    till, sales = synced
    assert Phone().claim(hq, sales[1].sale.check.id, token=sales[1].secret.token).status_code == 200
    _sync(till)  # the pull brings the claim back with the updates
    claimed = {s["check_id"]: s["claimed_at_ms"] for s in till.term.recent_sales()}
    assert claimed[sales[1].sale.check.id] is not None
    assert [c for c, at in claimed.items() if at is not None] == [sales[1].sale.check.id]
    cursor = int(till.term.store.meta("claims_cursor") or 0)
    assert cursor > 0
    _sync(till)  # nothing new: the cursor stays
    assert int(till.term.store.meta("claims_cursor") or 0) == cursor


def test_unclaimed_shares_expire_into_the_redistribution_pool_once(make_till: Callable[..., Till],
                                                                   hq: HQServer) -> None:
    from tests.hqkit import hq as hq_cli

    till = make_till()
    old, fresh = _sell(till, 2)
    _sync(till)
    age_sales(hq.database_url, "check_id = %s", (old.sale.check.id,))  # the first sale, 366 days on
    env = {"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)}
    assert "Expired " in hq_cli(hq.database_url, "tokens", "expire", env=env).stdout
    assert "Expired 0 " in hq_cli(hq.database_url, "tokens", "expire", env=env).stdout  # once only
    from sync.protocol.canonical import decode_canonical
    [(seq,)] = sql(hq.database_url, "SELECT expired_seq FROM checks WHERE check_id = %s", (old.sale.check.id,))
    [(body,)] = sql(hq.database_url, "SELECT body FROM token_ledger WHERE seq = %s", (seq,))
    share = old.sale.parts["customer"]
    assert decode_canonical(bytes(body))["moves"] == [["unclaimed", -share], ["redistribution", share]]
    assert sql(hq.database_url, "SELECT expired_seq FROM checks WHERE check_id = %s", (fresh.sale.check.id,)) == \
        [(None,)]
    answer = Phone().claim(hq, old.sale.check.id, token=old.secret.token)
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "expired"
    assert Phone().claim(hq, fresh.sale.check.id, token=fresh.secret.token).status_code == 200
    assert "Token ledger OK" in hq_cli(hq.database_url, "verify-ledger", env=env).stdout

    # The year's redistribution pays the pool out to holders within their caps, once.
    hq_cli(hq.database_url, "tokens", "enter", env=env)  # every synced mint in: the server's job adds none meanwhile
    pool = sql(hq.database_url, "SELECT balance FROM token_balances WHERE holder = 'redistribution'")[0][0]
    before = dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances"))
    out = hq_cli(hq.database_url, "tokens", "redistribute", "--year", "2026", env=env).stdout
    assert "Redistributed" in out, out
    after = dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances"))
    paid = pool - after["redistribution"]
    assert paid > 0 and sum(after.values()) == sum(before.values())  # moved, not made
    assert sum(after[h] - before.get(h, 0) for h in after if h != "redistribution") == paid
    again = hq_cli(hq.database_url, "tokens", "redistribute", "--year", "2026", env=env).stdout
    assert "already" in again and dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances")) == after
    assert hq_cli(hq.database_url, "tokens", "redistribute", "--year", "26", env=env, check=False).returncode == 2
    assert "Token ledger OK" in hq_cli(hq.database_url, "verify-ledger", env=env).stdout


def test_refunds_take_tokens_back_but_never_what_a_customer_already_claimed(make_till: Callable[..., Till],
                                                                            hq: HQServer) -> None:
    from sync.protocol.canonical import decode_canonical
    from tests.hqkit import hq as hq_cli

    till = make_till()
    # Five more sales in circulation: one account may hold at most 49 % of it, and this test must not depend on
    # what earlier tests minted at the same HQ
    claimed_first, refunded_first, half_refunded, *_ = _sell(till, 8)
    _sync(till)
    phone = Phone()
    assert phone.claim(hq, claimed_first.sale.check.id, token=claimed_first.secret.token).status_code == 200
    manager = repos.get_user(till.term.store, "Nino")
    assert manager is not None
    till.term.refund(manager, claimed_first.sale.id, "cold udon")  # after its claim: the customer keeps the share
    till.term.refund(manager, refunded_first.sale.id, "wrong order")  # before any claim: nothing left to claim
    till.term.refund(manager, half_refunded.sale.id, "one udon less", half_refunded.sale.total // 2)
    _sync(till)
    env = {"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)}
    out = hq_cli(hq.database_url, "tokens", "enter", env=env).stdout
    assert "refund reversal(s)" in out, out  # the command or the server's own job (every 10 s) entered them
    assert sql(hq.database_url, "SELECT count(*) FROM refunds WHERE terminal_id = %s AND ledger_seq IS NOT NULL",
               (till.id,)) == [(3,)]
    assert "0 refund reversal(s)" in hq_cli(hq.database_url, "tokens", "enter", env=env).stdout  # once only

    rows = sql(hq.database_url, "SELECT r.sale_id::text, l.body FROM refunds r JOIN token_ledger l ON "
                                "l.seq = r.ledger_seq")
    entries = {sale: decode_canonical(bytes(body)) for sale, body in rows}
    first = entries[claimed_first.sale.id]
    parts = claimed_first.sale.parts
    assert first["kind"] == "reversal" and first["customer_kept"] == parts["customer"]
    assert dict(first["moves"])["reversed"] == first["reversed"] == parts["owner"] + parts["franchisee"] + \
        parts.get("charity", 0)
    assert "unclaimed" not in dict(first["moves"])
    whole = entries[refunded_first.sale.id]
    assert whole["customer_kept"] == 0 and dict(whole["moves"])["unclaimed"] == -refunded_first.sale.parts["customer"]
    assert whole["reversed"] == refunded_first.sale.minted
    answer = Phone().claim(hq, refunded_first.sale.check.id, token=refunded_first.secret.token)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "nothing_to_claim"

    half = entries[half_refunded.sale.id]
    left = half_refunded.sale.parts["customer"] + dict(half["moves"])["unclaimed"]
    assert 0 < left < half_refunded.sale.parts["customer"] and half["customer_kept"] == 0
    late = phone.claim(hq, half_refunded.sale.check.id, token=half_refunded.secret.token)
    assert late.status_code == 200 and late.json()["amount"] == left, late.text
    assert phone.id in dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances"))
    report = hq_cli(hq.database_url, "verify-ledger", env=env).stdout
    assert "Token ledger OK" in report, report
    minted = sql(hq.database_url, "SELECT minted, reversed FROM token_ledger_head")[0]
    assert sum(dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances")).values()) == minted[0]
    assert minted[1] == sum(e["reversed"] for e in entries.values())
