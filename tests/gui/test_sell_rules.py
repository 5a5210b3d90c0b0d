"""Selling needs an open shift, said up front on the Sell screen with a way to open one; quick tender fills the
amount in on the first tap and takes it on the second; a payment error clears once the cashier corrects it; orders
parked and recalled; Z above the variance limit needs a manager."""

from __future__ import annotations

from typing import Any

import pytest

from terminal.core.errors import ManagerApprovalRequired
from terminal.gui.mainwindow import MainWindow
from terminal.gui.payment import PaymentDialog
from terminal.gui.qt import QPushButton, QWidget
from terminal.services import Terminal
from terminal.store import repos
from tests.gui.helpers import approve_as, button_named, click, login, on_modal, type_into


def test_sell_without_a_shift_shows_a_banner_and_opens_one(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    click(qtbot, win.nav_buttons["sell"])
    sell = win.sell
    assert sell.no_shift.isVisible() and "No shift is open" in sell.no_shift_text.text()
    click(qtbot, sell.item_buttons["udon"])
    assert sell.cart.lines == []  # nothing is rung up without a shift
    assert not sell.pay_button.isEnabled()

    click(qtbot, sell.open_shift_button)
    assert win.current_page() == "shift"
    type_into(qtbot, win.views["shift"].float_edit, "150")
    click(qtbot, win.views["shift"].open_button)
    assert win.current_page() == "sell"  # back to selling as soon as the shift is open
    assert not sell.no_shift.isVisible()
    click(qtbot, sell.item_buttons["udon"])
    assert [(ln.item.id, ln.quantity) for ln in sell.cart.lines] == [("udon", 1)]
    assert sell.pay_button.isEnabled()

    # Closed from another process (the CLI) while the screen is open: the next tap finds out and refuses.
    manager = repos.get_user(term.store, "Nino")
    assert manager is not None
    term.close_shift(manager, term.x_report()["expected_cash"])
    click(qtbot, sell.pay_button)  # no payment dialog opens: the banner says why
    assert sell.no_shift.isVisible() and not sell.pay_button.isEnabled()
    click(qtbot, sell.clear_button)
    click(qtbot, sell.item_buttons["greens"])
    assert sell.cart.lines == []


def test_quick_tender_takes_two_taps_and_errors_clear(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Giorgi", "3333")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    click(qtbot, win.sell.item_buttons["broth-duo"])  # 24.00
    seen: dict[str, Any] = {}

    def pay(dialog: QWidget) -> None:
        assert isinstance(dialog, PaymentDialog)
        assert [b.property("amount") for b in dialog.quick_buttons] == [2_400, 2_500, 3_000, 4_000]
        forty, thirty = dialog.quick_buttons[3], dialog.quick_buttons[2]
        click(qtbot, forty)
        assert dialog.result_sale is None and dialog.isVisible()  # one tap: filled in, not taken
        assert dialog.cash.text() == "40.00" and "16.00" in dialog.change_label.text()
        assert forty.objectName() == "quick-armed" and "Tap again" in forty.text()
        click(qtbot, thirty)  # changed their mind: the other note is filled in, the first is no longer armed
        assert forty.objectName() == "quick" and thirty.objectName() == "quick-armed"
        type_into(qtbot, dialog.cash, "abc")
        click(qtbot, dialog.complete_button)
        seen["error"] = dialog.error.text()
        assert dialog.result_sale is None
        type_into(qtbot, dialog.cash, "5")  # correcting it clears the complaint
        assert dialog.error.text() == ""
        assert thirty.objectName() == "quick"  # typing disarms
        click(qtbot, forty)
        click(qtbot, forty)
        seen["sale"] = dialog.result_sale

    on_modal(pay)
    click(qtbot, win.sell.pay_button)
    assert seen["error"]
    assert seen["sale"] is not None and seen["sale"].sale.change == 1_600


def test_park_and_recall_an_order_survives_a_restart_and_z_warns(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    sell = win.sell
    assert not sell.recall_button.isEnabled() and sell.recall_button.text() == "Recall (0)"
    type_into(qtbot, sell.label_edit, "Table 4")
    for item in ("udon", "udon", "tofu"):
        click(qtbot, sell.item_buttons[item])
    click(qtbot, sell.park_button)
    assert sell.cart.lines == [] and sell.label_edit.text() == ""  # ready for the next customer
    assert sell.recall_button.text() == "Recall (1)" and sell.recall_button.isEnabled()
    # On disk, not in memory: another process (a second Terminal here) sees it.
    other = Terminal.open(term.data_dir)
    try:
        assert [(c["label"], c["parked_by"], c["lines"]) for c in other.parked_carts()] == [
            ("Table 4", "Giorgi", [{"item_id": "udon", "quantity": 2, "options": [], "note": ""},
                                   {"item_id": "tofu", "quantity": 1, "options": [], "note": ""}])]
    finally:
        other.close()

    click(qtbot, sell.item_buttons["greens"])
    assert not sell.recall_button.isEnabled()  # a cart on screen: park or clear it first
    click(qtbot, sell.clear_button)

    def pick(dialog: QWidget) -> None:
        assert dialog.objectName() == "choice"
        option = next(b for b in dialog.findChildren(QPushButton) if "Table 4" in b.text())
        assert "2× Udon noodles" in option.text()
        click(qtbot, option)

    on_modal(pick)
    click(qtbot, sell.recall_button)
    assert [(ln.item.id, ln.quantity) for ln in sell.cart.lines] == [("udon", 2), ("tofu", 1)]
    assert sell.label_edit.text() == "Table 4" and term.parked_carts() == []

    click(qtbot, sell.park_button)  # parked again, and the shift closes with it parked: Z says so
    click(qtbot, win.nav_buttons["shift"])
    shift = win.views["shift"]
    type_into(qtbot, shift.counted, "100")
    asked: dict[str, str] = {}

    def keep(box: QWidget) -> None:
        asked["text"] = box.text()  # type: ignore[attr-defined]
        click(qtbot, button_named(box, "Keep the shift open"))

    on_modal(keep)
    click(qtbot, shift.close_button)
    assert "1 parked order(s) were never paid" in asked["text"]
    assert term.current_shift() is not None


def test_a_large_drawer_variance_needs_a_manager_to_close(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    owner = term.owner()
    term.set_z_variance_limit(owner, 500)  # 5.00 GEL
    login(qtbot, win, "Giorgi", "3333")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    with pytest.raises(ManagerApprovalRequired, match="8.00 ₾ short: above 5.00 ₾ a manager"):
        term.close_shift(cashier, 9_200)
    assert term.current_shift() is not None  # nothing was closed
    click(qtbot, win.nav_buttons["shift"])
    shift = win.views["shift"]
    type_into(qtbot, shift.counted, "92")
    on_modal(lambda box: (click(qtbot, button_named(box, "Close shift")),
                          on_modal(approve_as(qtbot, "Nino", "2222"))))
    click(qtbot, shift.close_button)
    qtbot.waitUntil(lambda: term.current_shift() is None, timeout=10_000)
    closed = term.store.one("SELECT closed_by, variance FROM shifts ORDER BY opened_at_ms DESC LIMIT 1")
    assert (closed["closed_by"], closed["variance"]) == ("Nino", -800)
    # Within the limit the cashier closes alone.
    term.open_shift(cashier, 10_000)
    assert term.close_shift(cashier, 9_700)["variance"] == -300
