"""HQ believes nothing it can check. An enrolled terminal signs, with its own key, blocks whose business facts are
false: HQ refuses each (invalid, the rule's reason, an alert against the sender), the victim's books do not change,
and both terminals' honest next pushes are accepted."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sync.protocol.blocks import GENESIS_PREV_HASH, build_block
from sync.protocol.records import Record, decode_record, encode_record
from terminal.core.orders import Tender
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload

Edit = Callable[[list[Record]], list[Record]]


def _unsealed(till: Till) -> list[Record]:
    top = till.term.head()
    rows = till.term.store.all("SELECT body FROM ledger_records WHERE seq > ? ORDER BY seq",
                               (top.last_seq if top else 0,))
    return [decode_record(bytes(r[0])) for r in rows]


def _forge(till: Till, records: list[Record]) -> dict[str, Any]:
    """The till's next block, holding these records, correctly signed with the till's own key."""
    top = till.term.head()
    block = build_block(terminal_id=till.id, height=top.height + 1 if top else 0,
                        prev_hash=bytes.fromhex(top.hash) if top else GENESIS_PREV_HASH,
                        created_at_ms=int(time.time() * 1000), first_seq=records[0].seq,
                        records=[encode_record(r) for r in records], sign=till.wallet.signer.sign_digest)
    wire: dict[str, Any] = json.loads(block.encode())
    return wire


def _edited(records: list[Record], type_: str, change: Callable[[dict[str, Any]], None], nth: int = 0) -> list[Record]:
    found = [r for r in records if r.type == type_]
    payload = json.loads(json.dumps(found[nth].payload))
    change(payload)
    return [Record(r.terminal_id, r.seq, r.type, r.created_at_ms, payload) if r is found[nth] else r for r in records]


def _synced(till: Till) -> None:
    till.seal()
    r = till.push(blocks_payload(till.term))
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} <= {"accepted", "duplicate"}, r.text


def _refused(hq: HQServer, till: Till, records: list[Record], reason: str) -> str:
    before = sql(hq.database_url, "SELECT count(*) FROM alerts WHERE terminal_id = %s", (till.id,))[0][0]
    r = till.push([*blocks_payload(till.term), _forge(till, records)])
    assert r.status_code == 422, r.text
    result = r.json()["results"][-1]
    assert (result["status"], result["reason"]) == ("invalid", reason), result
    alerts = sql(hq.database_url, "SELECT kind, detail FROM alerts WHERE terminal_id = %s ORDER BY id", (till.id,))
    assert len(alerts) == before + 1 and alerts[-1][0] == "invalid_block" and alerts[-1][1]["reason"] == reason
    return str(result["detail"])


def _books(hq: HQServer, terminal_id: str) -> list[tuple[Any, ...]]:
    return sql(hq.database_url, """
        SELECT s.sale_id, s.status, s.total, m.minted, m.owner, m.franchisee, m.charity, m.customer,
               (SELECT count(*) FROM refunds r WHERE r.terminal_id = s.terminal_id AND r.sale_id = s.sale_id),
               (SELECT count(*) FROM shifts h WHERE h.terminal_id = s.terminal_id AND h.closed_at IS NOT NULL)
        FROM sales s JOIN token_mints m USING (terminal_id, sale_id) WHERE s.terminal_id = %s ORDER BY 1""",
               (terminal_id,))


def _sale_by(till: Till) -> list[Record]:
    till.sell(1)
    return _unsealed(till)


def _scaled_mint(p: dict[str, Any]) -> None:
    p["minted"] = 10_000_000
    p["parts"] = {"owner": 2_500_000, "franchisee": 2_400_000, "charity": 300_000, "customer": 4_800_000}


ATTACKS: dict[str, tuple[Edit, str]] = {
    "a sale that mints 10,000,000 ST in policy proportion": (
        lambda rs: _edited(rs, "token_mint", _scaled_mint), "wrong_mint"),
    "every token to the owner": (
        lambda rs: _edited(rs, "token_mint", lambda p: p.update(parts={"owner": p["minted"]})), "wrong_mint"),
    "a franchise terminal declaring node type own": (
        lambda rs: _edited(rs, "token_mint", lambda p: p.update(
            node_type="own", parts={"owner": p["minted"] * 48 // 100, "charity": p["minted"] * 3 // 100,
                                    "customer": p["minted"] - p["minted"] * 48 // 100 - p["minted"] * 3 // 100})),
        "wrong_node_type"),
    "policy version 999": (lambda rs: _edited(rs, "token_mint", lambda p: p.update(policy_version=999)),
                           "wrong_policy_version"),
    "an item not on the menu, 999 at 1 tetri": (
        lambda rs: _edited(rs, "sale", lambda p: p.update(
            lines=[{"item_id": "caviar", "name": "Caviar", "quantity": 999, "unit_price": 1, "total": 999}],
            subtotal=999, total=999, change=0,
            payments=[{"kind": "cash", "amount": 999, "tendered": 999, "change": 0, "reference": ""}])),
        "wrong_price"),
    "a menu item at a price HQ never set": (
        lambda rs: _edited(rs, "sale", lambda p: [ln.update(unit_price=1, total=ln["quantity"]) for ln in p["lines"]]),
        "wrong_price"),
    "a line total that is not quantity × price": (
        lambda rs: _edited(rs, "sale", lambda p: p["lines"][0].update(total=p["lines"][0]["total"] + 1)),
        "bad_arithmetic"),
    "change that does not add up": (
        lambda rs: _edited(rs, "sale", lambda p: p.update(change=p["change"] + 500)), "bad_arithmetic"),
    "a customer address not derived from the terminal's key": (
        lambda rs: _edited(rs, "sale", lambda p: p["check"].update(claim_address="HP" + "0" * 32)), "wrong_address"),
    "a sale dated an hour ahead of HQ's clock": (
        lambda rs: [Record(r.terminal_id, r.seq, r.type, r.created_at_ms + 3_600_000, r.payload) for r in rs],
        "bad_time"),
    "a discount above 10 % approved by a cashier": (
        lambda rs: _edited(rs, "sale", lambda p: p.update(
            discount={"amount": p["subtotal"] // 2, "reason": "friend", "approved_by": "Giorgi"},
            total=p["subtotal"] - p["subtotal"] // 2, change=0,
            payments=[{"kind": "card", "amount": p["subtotal"] - p["subtotal"] // 2,
                       "tendered": p["subtotal"] - p["subtotal"] // 2, "change": 0, "reference": "card"}])),
        "unknown_user"),
    "an option at a price HQ never set (a free egg)": (
        lambda rs: _edited(rs, "sale", lambda p: p["lines"][0].update(
            modifiers=[{"group": "extras", "option": "egg", "price": 0}])), "wrong_option"),
    "an option the item does not have": (
        lambda rs: _edited(rs, "sale", lambda p: p["lines"][0].update(
            modifiers=[{"group": "extras", "option": "truffle", "price": 0}])), "wrong_option"),
    "an option priced right but left out of the unit price": (
        lambda rs: _edited(rs, "sale", lambda p: p["lines"][0].update(
            modifiers=[{"group": "extras", "option": "egg", "price": 200}])), "wrong_price"),
    "a sale under a menu version it never loaded": (
        lambda rs: _edited(rs, "sale", lambda p: p.update(menu_version=p["menu_version"] + 1)),
        "wrong_menu_version"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_sale_that_lies_is_refused(make_till: Callable[..., Till], hq: HQServer, attack: str) -> None:
    till = make_till()
    _synced(till)
    edit, reason = ATTACKS[attack]
    _refused(hq, till, edit(_sale_by(till)), reason)
    _synced(till)  # the honest block at the same height goes through
    assert len(_books(hq, till.id)) == 1


def test_another_terminals_sales_shifts_and_check_ids_are_out_of_reach(make_till: Callable[..., Till],
                                                                       hq: HQServer) -> None:
    victim, attacker = make_till(), make_till()
    victim.sell(2)
    _synced(victim)
    _synced(attacker)
    books = _books(hq, victim.id)
    victim_sale = books[0][0]
    victim_shift = sql(hq.database_url, "SELECT shift_id FROM shifts WHERE terminal_id = %s", (victim.id,))[0][0]

    base = _sale_by(attacker)  # an honest sale, then one record that reaches for the victim
    # Cancel the victim's order.
    cancel = [Record(attacker.id, base[-1].seq + 1, "order_status", base[-1].created_at_ms,
                     {"sale_id": str(victim_sale), "from": "pending", "to": "cancelled", "reason": "x",
                      "user": "Giorgi"})]
    assert "not a sale of this terminal" in _refused(hq, attacker, base + cancel, "not_owner")
    # Close the victim's shift.
    close = base + [Record(attacker.id, base[-1].seq + 1, "shift_closed", base[-1].created_at_ms, {
        "shift_id": str(victim_shift), "user": "Giorgi", "float_amount": 0, "sales_count": 0, "gross_sales": 0,
        "discounts": 0, "cash_sales": 0, "card_sales": 0, "refunds_count": 0, "cash_refunds": 0, "card_refunds": 0,
        "cash_in": 0, "cash_out": 0, "net_sales": 0, "expected_cash": 0, "counted_cash": 0, "variance": 0})]
    _refused(hq, attacker, close, "not_owner")
    # Refund the victim's sale 5,000 times over, taking tokens back from its customer.
    refund = base + [Record(attacker.id, base[-1].seq + 1, "refund", base[-1].created_at_ms, {
        "refund_id": "019a8c5e-0000-7000-8000-0000000000aa", "sale_id": str(victim_sale),
        "shift_id": base[0].payload["shift_id"], "amount": books[0][2] * 5000, "method": "cash", "reason": "x",
        "approved_by": "Nino", "token_reversal": {"customer": 8_996_352}})]
    _refused(hq, attacker, refund, "not_owner")
    # Take the victim's next check ids.
    steal = _edited(base, "sale", lambda p: p["check"].update(id=f"{victim.id}-3", number=3))  # the victim's next
    assert "is not" in _refused(hq, attacker, steal, "wrong_check_id")
    # Reuse the victim's sale id.
    copy = _edited(base, "sale", lambda p: p.update(sale_id=str(victim_sale)))
    copy = _edited(copy, "token_mint", lambda p: p.update(sale_id=str(victim_sale)))
    _refused(hq, attacker, copy, "foreign_id")

    assert _books(hq, victim.id) == books  # the victim's books did not move
    victim.sell(1)
    _synced(victim)
    _synced(attacker)
    assert len(_books(hq, victim.id)) == 3


def test_a_copied_sale_id_pushed_first_never_blocks_its_owner(make_till: Callable[..., Till],
                                                              hq: HQServer) -> None:
    """The attacker reads a sale id off the victim's printed check and pushes it before the offline victim syncs:
    the id is bound to the victim's terminal and check number, so HQ refuses it for the attacker, and the victim's
    chain goes through."""
    victim, attacker = make_till(), make_till()
    victim.sell(1)
    stolen = victim.term.recent_sales()[0]["id"]
    _synced(attacker)
    copy = _edited(_sale_by(attacker), "sale", lambda p: p.update(sale_id=stolen))
    copy = _edited(copy, "token_mint", lambda p: p.update(sale_id=stolen))
    assert "is not this terminal's id" in _refused(hq, attacker, copy, "foreign_id")
    _synced(victim)
    assert [str(s[0]) for s in _books(hq, victim.id)] == [stolen]
    _synced(attacker)


def test_over_refund_and_a_reversal_that_takes_too_much(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    till.sell(1)
    _synced(till)
    sale = till.term.recent_sales()[0]
    manager = till.term.login("Nino", "2222")
    till.term.refund(manager, sale["id"], "cold", 100)
    honest = _unsealed(till)
    too_much = _edited(honest, "refund", lambda p: p.update(amount=sale["total"] + 1))
    _refused(hq, till, too_much, "over_refund")
    greedy = _edited(honest, "refund", lambda p: p["token_reversal"].update(
        customer=p["token_reversal"].get("customer", 0) + 50))
    _refused(hq, till, greedy, "wrong_reversal")
    _synced(till)
    [(refunded,)] = sql(hq.database_url, "SELECT sum(amount) FROM refunds WHERE terminal_id = %s", (till.id,))
    assert refunded == 100


def test_sales_made_before_enrollment_are_checked_against_the_chain_and_held(hq: HQServer, tmp_path: Any) -> None:
    """A demo terminal sells on its own menu, then enrolls: HQ checks those sales against the menu and policy in
    the terminal's own chain, books their mints held, and counts them only once an hq_admin confirms them."""
    from sync.hq.auth import hash_password
    from sync.hq.cli import enroll_code
    from terminal.core.orders import Tender
    from terminal.setup import create_terminal
    from terminal.syncing import enroll
    from tests.conftest import TEST_PASSPHRASE

    term, _ = create_terminal(tmp_path / "early", franchise="Early", terminal_name="C", demo=True,
                              passphrase=TEST_PASSPHRASE)
    try:
        cashier = term.login("Giorgi", "3333")
        term.open_shift(cashier, 10_000)
        for _ in range(2):
            term.sell(cashier, [("udon", 2), ("greens", 1)], [Tender("cash")])
        wallet = term.unlock(TEST_PASSPHRASE)
        enroll(term, wallet, hq.url, enroll_code(hq.database_url, "Early", "C", "Main", "franchise"))
        term.sell(cashier, [("udon", 1)], [Tender("card", None, "AUTH-1")])
        term.seal(wallet, force=True)
        r = requests.post(f"{hq.url}/api/v1/terminals/{term.terminal_id}/blocks",
                          json={"blocks": blocks_payload(term)}, timeout=30)
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"accepted"}, r.text
        held = sql(hq.database_url, "SELECT count(*) FILTER (WHERE NOT confirmed), count(*) FROM token_mints "
                                    "WHERE terminal_id = %s", (term.terminal_id,))
        assert held == [(2, 3)]
        sql(hq.database_url, "INSERT INTO staff_users (username, password_hash, role) VALUES ('early-admin', %s, "
                             "'hq_admin')", (hash_password("long enough pw"),))
        token = requests.post(f"{hq.url}/api/v1/staff/login", json={"username": "early-admin",
                                                                    "password": "long enough pw"}, timeout=10)
        admin = {"authorization": f"Bearer {token.json()['access_token']}"}
        franchisees = lambda: {f["franchise"]: f["st"] for f in requests.get(  # noqa: E731
            f"{hq.url}/api/v1/staff/reports/tokens", headers=admin, timeout=10).json()["franchisees"]}
        only_enrolled = franchisees()["Early"]
        r = requests.post(f"{hq.url}/api/v1/staff/terminals/{term.terminal_id}/confirm-mints", headers=admin,
                          timeout=10)
        assert r.status_code == 200 and r.json()["confirmed"] == 2
        assert franchisees()["Early"] > only_enrolled
        assert sql(hq.database_url, "SELECT count(*) FROM audit_log WHERE action = 'confirm_early_mints'") == [(1,)]
    finally:
        term.close()


def test_verify_chain_replays_the_business_rules(make_till: Callable[..., Till], hq: HQServer) -> None:
    from tests.hqkit import hq as hq_cli

    till = make_till()
    till.sell(3)
    _synced(till)
    assert "OK" in hq_cli(hq.database_url, "verify-chain", till.id).stdout
    # Had HQ's menu said another price for udon, these sales would break a rule: verify-chain finds the block.
    sql(hq.database_url, "UPDATE menu_item_history SET price = price + 1 WHERE item_id = 'udon'")
    try:
        r = hq_cli(hq.database_url, "verify-chain", till.id, check=False)
    finally:
        sql(hq.database_url, "UPDATE menu_item_history SET price = price - 1 WHERE item_id = 'udon'")
    assert r.returncode == 1 and "wrong_price" in r.stdout and "udon" in r.stdout, r.stdout + r.stderr


def test_a_sale_with_options_is_priced_by_hq_from_the_version_it_was_sold_under(make_till: Callable[..., Till],
                                                                              hq: HQServer) -> None:
    """Options travel with the menu from HQ; HQ re-prices each line with its options against its own history, so
    an option repriced at HQ after the till loaded its menu does not make the till's honest sale a lie."""
    from sync.hq.auth import hash_password
    from terminal.store import repos

    till = make_till()
    udon = till.term.menu()["udon"]
    assert udon.option("extras", "egg") == {"id": "egg", "name": {"ka": "კვერცხი", "en": "Egg", "ru": "Яйцо"},
                                            "price": 200}  # came from HQ at enrollment
    sql(hq.database_url, "INSERT INTO staff_users (username, password_hash, role) VALUES ('menu-admin', %s, "
                         "'hq_admin')", (hash_password("long enough pw"),))
    token = requests.post(f"{hq.url}/api/v1/staff/login", json={"username": "menu-admin",
                                                                "password": "long enough pw"}, timeout=10)
    admin = {"authorization": f"Bearer {token.json()['access_token']}"}
    item = udon.to_dict()
    item["modifiers"][0]["options"][0]["price"] = 300  # HQ makes the egg dearer; the till has not pulled yet
    r = requests.put(f"{hq.url}/api/v1/staff/menu/udon", headers=admin, timeout=10,
                     json={k: v for k, v in item.items() if k not in ("id", "total_kcal")})
    assert r.status_code == 200, r.text
    giorgi = repos.get_user(till.term.store, "Giorgi")
    assert giorgi is not None
    till.term.sell(giorgi, [("udon", 2, [("extras", "egg"), ("extras", "double")], "no spring onion"),
                            ("dumplings", 1, [("filling", "cheese")])], [Tender("cash")])
    _synced(till)
    rows = sql(hq.database_url, "SELECT item_id, quantity, unit_price FROM sale_items WHERE terminal_id = %s "
                                "ORDER BY line_no", (till.id,))
    assert [tuple(r) for r in rows] == [("udon", 2, 700 + 200 + 500), ("dumplings", 1, 1_500 + 100)]
