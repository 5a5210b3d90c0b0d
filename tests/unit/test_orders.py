"""Order lines, discounts, payments and the kitchen status machine."""

from __future__ import annotations

import pytest

from terminal.core.demo_menu import DEMO_MENU
from terminal.core.errors import InvalidInput, ManagerApprovalRequired, NotFound, WrongState
from terminal.core.menu import index_menu
from terminal.core.orders import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    IN_PROGRESS,
    PENDING,
    READY,
    Tender,
    build_lines,
    check_transition,
    make_discount,
    next_status,
    settle,
)
from terminal.core.users import Role, User

MENU = index_menu(DEMO_MENU)
CASHIER = User(1, "Giorgi", Role.CASHIER, "x")
MANAGER = User(2, "Nino", Role.MANAGER, "x")


def test_lines_are_priced_from_the_menu_and_merged() -> None:
    lines = build_lines(MENU, [("udon", 2), ("tofu", 1), ("udon", 1)])
    assert [(ln.item_id, ln.quantity, ln.unit_price, ln.total) for ln in lines] == [
        ("udon", 3, 700, 2100), ("tofu", 1, 800, 800)]


@pytest.mark.parametrize(("wanted", "error", "text"), [
    ([("nope", 1)], NotFound, "no menu item 'nope'"),
    ([("udon", 0)], InvalidInput, "at least 1"),
    ([("udon", -2)], InvalidInput, "at least 1"),
    ([("udon", 1000)], InvalidInput, "more than 999"),
    ([("udon", 600), ("udon", 600)], InvalidInput, "more than 999"),
    ([("udon", 501)], WrongState, "Only 500"),
    ([], InvalidInput, "at least one item"),
])
def test_bad_lines(wanted: list[tuple[str, int]], error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        build_lines(MENU, wanted, {i.id: i.available for i in DEMO_MENU})


def test_inactive_item_cannot_be_sold() -> None:
    from dataclasses import replace

    menu = {**MENU, "udon": replace(MENU["udon"], active=False)}
    with pytest.raises(WrongState, match="not on sale"):
        build_lines(menu, [("udon", 1)])


def test_cash_change_card_and_split_tender() -> None:
    [cash] = settle(2200, [Tender("cash", 5000)])
    assert (cash.amount, cash.tendered, cash.change) == (2200, 5000, 2800)
    [card] = settle(2200, [Tender("card", None, "AUTH-1")])
    assert (card.amount, card.change, card.reference) == (2200, 0, "AUTH-1")
    card, cash = settle(3800, [Tender("card", 2000, "A"), Tender("cash", 2000)])
    assert (card.amount, cash.amount, cash.change) == (2000, 1800, 200)
    assert settle(0, []) == []


@pytest.mark.parametrize(("total", "tenders", "text"), [
    (2200, [Tender("cash", 2000)], "less than the total"),
    (2200, [], "take a payment"),
    (2200, [Tender("card", 3000, "A")], "more than the"),
    (2200, [Tender("cash", 0)], "more than zero"),
    (2200, [Tender("bitcoin", 2200)], "Unknown payment kind"),
    (2200, [Tender("cash", 2200), Tender("cash", 100)], "More payments"),
])
def test_bad_payments(total: int, tenders: list[Tender], text: str) -> None:
    with pytest.raises(InvalidInput, match=text):
        settle(total, tenders)


def test_discount_limit_needs_a_manager() -> None:
    assert make_discount(10_000, 1000, "birthday", CASHIER, None).approved_by is None  # exactly 10 %: cashier's call
    with pytest.raises(ManagerApprovalRequired):
        make_discount(10_000, 1001, "regular", CASHIER, None)
    with pytest.raises(ManagerApprovalRequired):
        make_discount(10_000, 5000, "regular", CASHIER, User(3, "Other", Role.CASHIER, "x"))
    assert make_discount(10_000, 5000, "regular", CASHIER, MANAGER).approved_by == "Nino"
    assert make_discount(10_000, 5000, "staff meal", MANAGER, None).approved_by == "Nino"
    with pytest.raises(InvalidInput, match="reason"):
        make_discount(10_000, 500, "  ", CASHIER, None)
    with pytest.raises(InvalidInput, match="more than the subtotal"):
        make_discount(10_000, 10_001, "x", MANAGER, None)


def test_status_machine() -> None:
    chain = [PENDING]
    while chain[-1] != COMPLETED:
        chain.append(next_status(chain[-1]))
    assert chain == [PENDING, CONFIRMED, IN_PROGRESS, READY, COMPLETED]
    for status in (PENDING, CONFIRMED, IN_PROGRESS, READY):
        check_transition(status, CANCELLED)
    with pytest.raises(WrongState):
        check_transition(COMPLETED, CANCELLED)
    with pytest.raises(WrongState):
        check_transition(CANCELLED, CANCELLED)
    with pytest.raises(WrongState):
        check_transition(PENDING, READY)
    with pytest.raises(WrongState):
        next_status(COMPLETED)
