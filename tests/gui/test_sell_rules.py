"""Selling needs an open shift, said up front on the Sell screen with a way to open one; quick tender fills the
amount in on the first tap and takes it on the second; a payment error clears once the cashier corrects it."""

from __future__ import annotations

from typing import Any

from terminal.gui.mainwindow import MainWindow
from terminal.gui.payment import PaymentDialog
from terminal.gui.qt import QWidget
from terminal.store import repos
from tests.gui.helpers import click, login, on_modal, type_into


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
