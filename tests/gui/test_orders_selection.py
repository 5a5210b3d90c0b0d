"""The kitchen queue (issue 20, item 4): after an order moves to Completed and leaves the list, nothing is selected,
so a second tap on the big button does not move the next order; the selection stays on the order it was on while
that order moves through its statuses."""

from __future__ import annotations

from typing import Any

from terminal.core.orders import Tender
from terminal.gui.mainwindow import MainWindow
from terminal.store import repos
from tests.gui.helpers import click, login, type_into


def test_completing_an_order_does_not_select_the_next_one(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    shift = win.views["shift"]
    type_into(qtbot, shift.float_edit, "100")
    click(qtbot, shift.open_button)
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    first = term.sell(cashier, [("udon", 1)], [Tender("cash")])
    second = term.sell(cashier, [("tofu", 1)], [Tender("cash")])
    win.session.changed()
    click(qtbot, win.nav_buttons["orders"])
    orders = win.views["orders"]
    assert orders.table.rowCount() == 2
    orders.select_check(first.sale.check.id)
    for expected in ("confirmed", "in_progress", "ready", "completed"):
        click(qtbot, orders.advance_button)  # the same order stays selected while it moves on
        assert term.sale_details(first.sale.id)["status"] == expected
    assert orders.table.rowCount() == 1
    # A double tap finds the button disabled: the next order is not touched.
    assert orders.selected() is None and not orders.advance_button.isEnabled()
    assert term.sale_details(second.sale.id)["status"] == "pending"
