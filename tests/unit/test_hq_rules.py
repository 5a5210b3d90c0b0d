"""HQ's business rules against the terminal's own code: every sale the terminal's core produces passes them, and
changing any one number in it makes HQ refuse it (property tests); HQ's split and reversal agree with the
terminal's; claim addresses derived at HQ equal the wallet's."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.hq.books import rules_terminal
from sync.hq.rules import ChainState, Lookups, Refusal, check_block, reversal, split
from sync.protocol.records import Record
from terminal.core.checks import new_claim_ticket
from terminal.core.demo_menu import DEMO_MENU
from terminal.core.orders import Tender
from terminal.core.sales import DiscountRequest, Sale, prepare_sale
from terminal.core.tokens import DEFAULT_POLICY, reversal_parts, split_tokens
from terminal.core.users import Role, User
from terminal.wallet.hd import Account, Wallet

WALLET = Wallet(" ".join(["abandon"] * 23 + ["art"]))
ACCOUNT = Account(WALLET.account_xpub)
TID = "7K2MQX4P"
SHIFT = "019a8c5e-0000-7000-8000-000000000001"
NOW = 1795651200000
MENU = {item.id: item for item in DEMO_MENU}
VERSION = 42
CASHIER = User(1, "Giorgi", Role.CASHIER, "x")
MANAGER = User(2, "Nino", Role.MANAGER, "x")
TICKET = new_claim_ticket()  # the claim hash is not a business number: one ticket serves every example


def _terminal(node_type: str = "franchise") -> Any:
    return rules_terminal({"id": TID, "node_type": node_type, "account_xpub": WALLET.account_xpub,
                           "signing_public_key": WALLET.signer.public_key, "served_seq": VERSION})


def _state() -> ChainState:
    return ChainState(enrolled=True, local_node_type="franchise", menu_version=VERSION, policy_version=1,
                      last_check_number=0, users={"Giorgi": "cashier", "Nino": "manager"}, first_record_ms=NOW)


def _lookups() -> Lookups:
    menu = {i.id: (i.price, True) for i in DEMO_MENU}
    groups = {i.id: [dict(g) for g in i.modifiers] for i in DEMO_MENU if i.modifiers}
    return Lookups({1: DEFAULT_POLICY.to_dict()}, lambda v: menu, {}, {SHIFT}, {SHIFT}, lambda v: groups)


def _records(sale: Sale) -> list[Record]:
    return [Record(TID, 100, "sale", NOW, sale.record_payload()), Record(TID, 101, "token_mint", NOW,
                                                                         sale.mint_payload())]


@st.composite
def sales(draw: st.DrawFn) -> Sale:
    items = draw(st.lists(st.tuples(st.sampled_from(sorted(MENU)), st.integers(1, 12)), min_size=1, max_size=6,
                          unique_by=lambda x: x[0]))
    lines = []
    subtotal = 0
    for item_id, quantity in items:  # with options where the item has groups: within each group's min and max
        item = MENU[item_id]
        picked: list[tuple[str, str]] = []
        price = item.price
        for group in item.modifiers:
            options = draw(st.lists(st.sampled_from([o["id"] for o in group["options"]]), min_size=group["min"],
                                    max_size=group["max"], unique=True))
            picked += [(group["id"], o) for o in options]
            price += sum(o["price"] for o in group["options"] if o["id"] in options)
        lines.append((item_id, quantity, picked, draw(st.sampled_from(["", "no coriander"]))))
        subtotal += price * quantity
    discount = None
    if draw(st.booleans()):
        amount = draw(st.integers(1, subtotal))
        discount = DiscountRequest(amount, "regular", MANAGER if amount * 10 > subtotal else None)
    total = subtotal - (discount.amount if discount else 0)
    tenders: list[Tender] = []
    if total > 0:
        kind = draw(st.sampled_from(["cash", "cash_over", "card", "split"]))
        if kind == "cash":
            tenders = [Tender("cash")]
        elif kind == "cash_over":
            tenders = [Tender("cash", total + draw(st.integers(1, 20_000)))]
        elif kind == "card":
            tenders = [Tender("card", None, "AUTH-1")]
        else:
            part = draw(st.integers(1, total))
            tenders = [Tender("card", part, "AUTH-2"), Tender("cash", total - part + draw(st.integers(0, 5000)))]
            if total - part == 0:
                tenders = tenders[:1]
    number = draw(st.integers(1, 5000))
    return prepare_sale(menu=MENU, stock=None, wanted=lines, tenders=tenders, cashier=CASHIER, discount=discount,
                        node_type="franchise", policy=DEFAULT_POLICY, terminal_id=TID, shift_id=SHIFT,
                        check_number=number, now_ms=NOW, claim_base_url="https://hq.example", ticket=TICKET,
                        claim_address=ACCOUNT.claim_address(number), menu_version=VERSION)


@settings(max_examples=150, deadline=None)
@given(sales())
def test_every_sale_the_terminal_makes_passes_hqs_rules(sale: Sale) -> None:
    outcome = check_block(_terminal(), _state(), _records(sale), _lookups(), NOW)
    assert outcome.state.last_check_number == sale.check.number and outcome.state.pending_sale is None


def _numbers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _numbers(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _numbers(v, (*path, i))]
    return [path] if isinstance(value, int) and not isinstance(value, bool) else []


# Numbers that are not business facts HQ re-derives: the claim hash's stretch is checked when a claim is made.
NOT_BUSINESS = {("check", "claim_hash_iterations")}


@settings(max_examples=150, deadline=None)
@given(sales(), st.data())
def test_changing_any_one_number_of_a_sale_makes_hq_refuse_it(sale: Sale, data: st.DataObject) -> None:
    records = _records(sale)
    which = data.draw(st.sampled_from([0, 1]))
    paths = [p for p in _numbers(records[which].payload) if p not in NOT_BUSINESS]
    path = data.draw(st.sampled_from(paths))
    delta = data.draw(st.sampled_from([1, -1]))
    payload = copy.deepcopy(records[which].payload)
    holder = payload
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] += delta
    records[which] = Record(TID, records[which].seq, records[which].type, NOW, payload)
    try:
        check_block(_terminal(), _state(), records, _lookups(), NOW)
    except Refusal:
        return
    raise AssertionError(f"HQ accepted {records[which].type} with {'.'.join(map(str, path))} changed by {delta}")


@given(st.integers(0, 10**9), st.sampled_from(["own", "franchise"]))
def test_hqs_split_is_the_terminals(minted: int, node_type: str) -> None:
    shares = DEFAULT_POLICY.shares[node_type]
    assert split(minted, shares) == split_tokens(minted, shares)


@given(st.integers(1, 10**7), st.data())
def test_hqs_reversal_is_the_terminals(total: int, data: st.DataObject) -> None:
    parts = {k: v for k, v in split_tokens(total, DEFAULT_POLICY.shares["franchise"]).items() if v}
    before = data.draw(st.integers(0, total - 1))
    now = data.draw(st.integers(1, total - before))
    assert reversal(parts, before, now, total) == reversal_parts(parts, before, now, total)


def test_claim_addresses_derived_at_hq_are_the_wallets() -> None:
    claims = _terminal().claims
    for n in (1, 2, 77, 4096, 2**31 - 1):
        assert claims.address(n) == ACCOUNT.claim_address(n)


def test_every_rule_reason_is_documented_and_every_documented_one_is_used() -> None:
    import re
    from pathlib import Path

    from sync.hq.rules import RULE_REASONS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 9. HQ's business rules"):]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert documented == set(RULE_REASONS)
    source = (Path(__file__).resolve().parents[2] / "sync" / "hq" / "rules.py").read_text(encoding="utf-8")
    used = set(re.findall(r'Refusal\("([a-z_]+)"|refuse\("([a-z_]+)"', source))
    assert {a or b for a, b in used} == set(RULE_REASONS)


def test_a_deactivated_user_can_no_longer_sell_until_reactivated_by_a_manager() -> None:
    def change(name: str, by: str, what: str, seq: int) -> Record:
        return Record(TID, seq, "user_changed", NOW, {"name": name, "by": by, "change": what})

    sale = prepare_sale(menu=MENU, stock=None, wanted=[("udon", 1)], tenders=[Tender("cash")], cashier=CASHIER,
                        discount=None, node_type="franchise", policy=DEFAULT_POLICY, terminal_id=TID,
                        shift_id=SHIFT, check_number=7, now_ms=NOW, claim_base_url="https://hq.example",
                        ticket=TICKET, claim_address=ACCOUNT.claim_address(7), menu_version=VERSION)
    with pytest.raises(Refusal) as refused:
        check_block(_terminal(), _state(), [change("Giorgi", "Nino", "deactivated", 99), *_records(sale)],
                    _lookups(), NOW)
    assert refused.value.reason == "unknown_user"
    back = check_block(_terminal(), _state(), [change("Giorgi", "Nino", "deactivated", 98),
                                               change("Giorgi", "Nino", "reactivated", 99), *_records(sale)],
                       _lookups(), NOW)
    assert back.state.users["Giorgi"] == "cashier" and not back.state.inactive_users
    for record in (change("Nino", "Giorgi", "pin", 99),  # a cashier changes nobody
                   change("Nobody", "Nino", "deactivated", 99)):
        with pytest.raises(Refusal) as refused:
            check_block(_terminal(), _state(), [record], _lookups(), NOW)
        assert refused.value.reason == "unknown_user"
