"""What the counter app must refuse, and how: lockout, short tender, discounts and refunds that need a manager,
and the language switch."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from terminal.core.errors import NotAllowed
from terminal.core.orders import CASH, Tender
from terminal.gui.mainwindow import MainWindow
from terminal.gui.payment import PaymentDialog
from terminal.gui.qt import QLineEdit, QPushButton, Qt, QWidget
from terminal.gui.sell import DiscountDialog
from terminal.gui.widgets import ManagerApproval
from tests.gui.helpers import approve_as, button_named, click, login, on_modal, press, type_into


def open_shift_and_sell_screen(qtbot: Any, win: MainWindow, name: str = "Giorgi", pin: str = "3333") -> None:
    login(qtbot, win, name, pin)
    if win.session.term.current_shift() is None:
        type_into(qtbot, win.views["shift"].float_edit, "100")
        click(qtbot, win.views["shift"].open_button)
    click(qtbot, win.nav_buttons["sell"])


def count_sales(win: MainWindow) -> int:
    conn = sqlite3.connect(win.data_dir / "terminal.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0])
    finally:
        conn.close()


def test_three_wrong_pins_lock_the_user_and_say_until_when(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Giorgi", "0000")
    assert "2 attempts left" in win.login.error.text()
    login(qtbot, win, "Giorgi", "0001")
    login(qtbot, win, "Giorgi", "0002")
    assert "locked" in win.login.error.text()
    login(qtbot, win, "Giorgi", "3333")  # the right PIN does not help while locked
    text = win.login.error.text()
    assert "locked after 3 wrong PINs" in text and "Try again at" in text
    assert win.session.user is None and win.current_page() == "login"
    login(qtbot, win, "Nino", "2222")  # the lock is per user
    assert win.session.user.name == "Nino"


def test_tender_too_low_is_refused_and_nothing_is_recorded(qtbot: Any, window: MainWindow) -> None:
    win = window
    open_shift_and_sell_screen(qtbot, win)
    click(qtbot, win.sell.item_buttons["broth-spicy"])  # 18.00
    seen: dict[str, Any] = {}

    def pay(dialog: QWidget) -> None:
        assert isinstance(dialog, PaymentDialog)
        cash = dialog.findChild(QLineEdit, "cash-amount")
        qtbot.keyClicks(cash, "10")
        qtbot.keyClick(cash, Qt.Key.Key_Return)
        seen["error"] = dialog.error.text()
        seen["open"] = dialog.isVisible()
        dialog.reject()

    on_modal(pay)
    click(qtbot, win.sell.pay_button)
    assert "less than the total" in seen["error"] and "8.00" in seen["error"]
    assert seen["open"]
    assert count_sales(win) == 0
    assert len(win.sell.cart.lines) == 1  # the order is still there to pay properly


def test_split_tender_card_then_cash(qtbot: Any, window: MainWindow) -> None:
    win = window
    open_shift_and_sell_screen(qtbot, win)
    click(qtbot, win.sell.item_buttons["broth-duo"])  # 24.00

    def pay(dialog: QWidget) -> None:
        assert isinstance(dialog, PaymentDialog)
        qtbot.keyClicks(dialog.findChild(QLineEdit, "card-reference"), "AUTH-77")
        qtbot.keyClicks(dialog.findChild(QLineEdit, "card-amount"), "10")
        click(qtbot, dialog.card_button)
        assert dialog.remaining() == 1_400 and dialog.parts_list.count() == 1
        quick = [b for b in dialog.quick_buttons if b.property("amount") == 2_000]
        click(qtbot, quick[0])  # a 20 GEL note for the remaining 14.00: the first tap fills it in
        click(qtbot, quick[0])  # the second takes it

    on_modal(pay)
    click(qtbot, win.sell.pay_button)
    sale = win.session.term.sale_details(win.session.term.recent_sales()[0]["id"])
    assert sale["card_amount"] == 1_000 and sale["cash_amount"] == 1_400 and sale["change_given"] == 600
    assert [p["reference"] for p in sale["payments"] if p["kind"] == "card"] == ["AUTH-77"]


def discount_flow(qtbot: Any, win: MainWindow, approver: tuple[str, str] | None) -> None:
    def reason(dialog: QWidget) -> None:
        assert isinstance(dialog, DiscountDialog)
        qtbot.keyClicks(dialog.amount, "20")
        qtbot.keyClicks(dialog.reason, "birthday")
        on_modal(manager)
        click(qtbot, button_named(dialog, "OK"))

    def manager(dialog: QWidget) -> None:
        assert isinstance(dialog, ManagerApproval)
        if approver is None:
            dialog.reject()
            return
        approve_as(qtbot, *approver)(dialog)

    on_modal(reason)
    press(qtbot, win, win.sell.search, Qt.Key.Key_F9)


def test_discount_over_the_limit_needs_a_manager(qtbot: Any, window: MainWindow) -> None:
    win = window
    open_shift_and_sell_screen(qtbot, win)
    click(qtbot, win.sell.item_buttons["shrimp"])
    click(qtbot, win.sell.item_buttons["shrimp"])  # 52.00; 20.00 off is 38 %, over the 10 % limit
    discount_flow(qtbot, win, approver=None)
    assert win.sell.discount is None and "52.00" in win.sell.total_label.text()
    discount_flow(qtbot, win, approver=("Nino", "2222"))
    assert win.sell.discount is not None and win.sell.discount.approver.name == "Nino"
    assert "32.00" in win.sell.total_label.text()

    def pay(dialog: QWidget) -> None:
        click(qtbot, dialog.quick_buttons[0])  # exact cash, filled in
        click(qtbot, dialog.quick_buttons[0])  # and taken

    on_modal(pay)
    click(qtbot, win.sell.pay_button)
    sale = win.session.term.sale_details(win.session.term.recent_sales()[0]["id"])
    assert sale["discount"] == 2_000 and sale["discount_approved_by"] == "Nino" and sale["total"] == 3_200


def test_a_cashier_cannot_refund(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    open_shift_and_sell_screen(qtbot, win)
    cashier = win.session.user
    result = term.sell(cashier, [("udon", 1)], [Tender(CASH)])
    with pytest.raises(NotAllowed):
        term.refund(cashier, result.sale.id, "cold")  # the rule is in the service, not only the screen
    click(qtbot, win.nav_buttons["history"])
    history = win.views["history"]
    history.select_check(result.sale.check.id)
    assert history.refund.isEnabled()

    def refund(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.reason, "cold broth")
        on_modal(lambda manager: manager.reject())  # nobody with a manager's PIN comes over
        click(qtbot, button_named(dialog, "Refund"))

    on_modal(refund)
    click(qtbot, history.refund)
    assert term.sale_details(result.sale.id)["refunds"] == []

    def refund_approved(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.reason, "cold broth")
        on_modal(approve_as(qtbot, "Nino", "2222"))
        click(qtbot, button_named(dialog, "Refund"))

    on_modal(refund_approved)
    click(qtbot, history.refund)
    refunds = term.sale_details(result.sale.id)["refunds"]
    assert [(r["amount"], r["approved_by"]) for r in refunds] == [(700, "Nino")]
    assert not history.refund.isEnabled()  # refunded in full


def test_language_switch_changes_the_visible_words(qtbot: Any, window: MainWindow) -> None:
    win = window
    open_shift_and_sell_screen(qtbot, win)
    click(qtbot, win.sell.item_buttons["udon"])
    english = (win.nav_buttons["sell"].text(), win.sell.pay_button.text(), win.sell.item_buttons["udon"].text())
    assert english[0] == "Sell" and english[1].startswith("Pay")
    win.lang.setCurrentIndex(win.lang.findData("ka"))
    georgian = (win.nav_buttons["sell"].text(), win.sell.pay_button.text(), win.sell.item_buttons["udon"].text())
    assert georgian[0] == "გაყიდვა" and georgian[1].startswith("გადახდა")
    assert "უდონი" in georgian[2]  # the menu's own Georgian name
    assert win.sell.table.item(0, 0).text() != "Udon noodles"
    win.session.term.sell(win.session.user, [("udon", 2)], [Tender(CASH)])
    click(qtbot, win.nav_buttons["orders"])
    assert "2× უდონი" in win.views["orders"].table.item(0, 2).text()  # the kitchen reads the menu's own names
    win.lang.setCurrentIndex(win.lang.findData("ru"))
    assert "2× Лапша удон" in win.views["orders"].table.item(0, 2).text()
    click(qtbot, win.nav_buttons["sell"])
    assert win.nav_buttons["sell"].text() == "Продажа" and win.sell.pay_button.text().startswith("Оплата")
    win.lang.setCurrentIndex(win.lang.findData("en"))
    assert (win.nav_buttons["sell"].text(), win.sell.pay_button.text()) == english[:2]
    assert all(isinstance(b, QPushButton) for b in win.nav_buttons.values())


def test_cancel_a_paid_order_needs_a_manager_and_refunds_it(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    open_shift_and_sell_screen(qtbot, win)
    sale = term.sell(win.session.user, [("tofu", 1)], [Tender(CASH)]).sale
    click(qtbot, win.nav_buttons["orders"])
    orders = win.views["orders"]
    orders.select_check(sale.check.id)

    def reason(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.reason, "customer left")
        on_modal(approve_as(qtbot, "Nino", "2222"))
        click(qtbot, button_named(dialog, "OK"))

    on_modal(reason)
    click(qtbot, orders.cancel_button)
    details = term.sale_details(sale.id)
    assert details["status"] == "cancelled" and details["cancel_reason"] == "customer left"
    assert [(r["amount"], r["approved_by"]) for r in details["refunds"]] == [(800, "Nino")]
    assert orders.table.rowCount() == 0


def test_cash_in_and_out_with_a_reason_show_in_the_x_report(qtbot: Any, window: MainWindow) -> None:
    win = window
    open_shift_and_sell_screen(qtbot, win)  # float 100.00
    click(qtbot, win.nav_buttons["shift"])
    shift = win.views["shift"]

    def move(amount: str, reason: str) -> Any:
        def handle(dialog: QWidget) -> None:
            qtbot.keyClicks(dialog.amount, amount)
            if reason:
                qtbot.keyClicks(dialog.reason, reason)
            click(qtbot, button_named(dialog, "OK"))
            if not reason:  # refused in the dialog: no reason given
                assert "reason" in dialog.error.text()
                dialog.reject()

        return handle

    on_modal(move("50", "change from the bank"))
    click(qtbot, shift.cash_in)
    on_modal(move("20", ""))
    click(qtbot, shift.cash_out)
    on_modal(move("30", "supplier paid"))
    click(qtbot, shift.cash_out)
    x = win.session.term.x_report()
    assert (x["cash_in"], x["cash_out"], x["expected_cash"]) == (5_000, 3_000, 12_000)
    assert "120.00" in shift.x_rows["expected_cash"].value.text()


def test_percent_and_line_discounts_add_up_to_one_recorded_discount(qtbot: Any, window: MainWindow) -> None:
    """10 % off one line and 5 % off the order: the cart shows each, the sale records their sum with both reasons,
    and a cart that grows past the cashier's limit asks a manager at Pay."""
    win = window
    open_shift_and_sell_screen(qtbot, win)
    sell = win.sell
    click(qtbot, sell.item_buttons["shrimp"])  # 26.00
    click(qtbot, sell.item_buttons["tofu"])  # 8.00, selected

    def line_ten(dialog: QWidget) -> None:
        assert isinstance(dialog, DiscountDialog)
        click(qtbot, dialog.one_line)
        click(qtbot, dialog.quick[1])  # 10 %
        assert "0.80" in dialog.comes_to.text()
        qtbot.keyClicks(dialog.reason, "staff")
        click(qtbot, button_named(dialog, "OK"))

    on_modal(line_ten)
    press(qtbot, win, sell.search, Qt.Key.Key_F9)
    assert sell.table.item(1, 0).text() == "Silken tofu  [−10 %]" and "33.20" in sell.total_label.text()

    def order_five(dialog: QWidget) -> None:
        qtbot.keyClicks(dialog.percent, "5")  # typed: the whole order is the default
        qtbot.keyClicks(dialog.reason, "birthday")
        click(qtbot, button_named(dialog, "OK"))

    on_modal(order_five)
    press(qtbot, win, sell.search, Qt.Key.Key_F9)
    assert sell.discount is not None and sell.discount.amount == 80 + 170  # 5 % of 34.00 is 1.70
    assert sell.discount.reason == "Silken tofu −10 %: staff; −5 %: birthday"

    def pay(dialog: QWidget) -> None:
        click(qtbot, dialog.quick_buttons[0])
        click(qtbot, dialog.quick_buttons[0])

    on_modal(pay)
    click(qtbot, sell.pay_button)
    sale = win.session.term.sale_details(win.session.term.recent_sales()[0]["id"])
    assert (sale["discount"], sale["total"], sale["discount_reason"]) == (
        250, 3_150, "Silken tofu −10 %: staff; −5 %: birthday")
    assert sale["discount_approved_by"] is None  # 7.4 %: the cashier's call
