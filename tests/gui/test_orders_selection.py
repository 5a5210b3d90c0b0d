"""The kitchen queue (issue 20, item 4): after an order moves to Completed and leaves the list, nothing is selected,
so a second tap on the big button does not move the next order; the selection stays on the order it was on while
that order moves through its statuses; the Completed tab, and waiting times coloured past their thresholds."""

from __future__ import annotations

import time
from typing import Any

from terminal.core.orders import Tender
from terminal.gui.kitchen import WAIT_COLORS
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import Qt
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

    # The Completed tab shows what was handed over (to look at: the buttons do nothing to it).
    orders.tabs.setCurrentIndex(orders.tabs.count() - 1)
    assert orders.table.rowCount() == 1 and orders.table.item(0, 0).text() == f"#{first.sale.check.number}"
    assert orders.tabs.tabText(orders.tabs.count() - 1) == "Completed (1)"
    orders.table.selectRow(0)
    assert not orders.advance_button.isEnabled() and not orders.cancel_button.isEnabled()

    # An order waiting past 20 minutes turns red, past 10 amber; a fresh one stays uncoloured.
    orders.tabs.setCurrentIndex(0)
    late = term.sell(cashier, [("greens", 1)], [Tender("cash")])
    ago = int(time.time() * 1000) - 25 * 60_000  # the second order: 25 min; the late one 5, then 14
    term.store.conn.execute("UPDATE sales SET created_at_ms = ? WHERE id = ?", (ago, second.sale.id))
    term.store.conn.execute("UPDATE sales SET created_at_ms = ? WHERE id = ?", (ago + 20 * 60_000, late.sale.id))
    orders.refresh()
    colours = {orders.table.item(r, 0).text(): orders.table.item(r, 3).data(Qt.ItemDataRole.UserRole + 1)
               for r in range(orders.table.rowCount())}
    assert colours == {f"#{second.sale.check.number}": WAIT_COLORS[0][1], f"#{late.sale.check.number}": None}
    term.store.conn.execute("UPDATE sales SET created_at_ms = ? WHERE id = ?", (ago + 11 * 60_000, late.sale.id))
    orders.refresh()
    assert orders.table.item(1, 3).data(Qt.ItemDataRole.UserRole + 1) == WAIT_COLORS[1][1]
