"""Modifiers and notes at the counter (issue 20, item 5): a required choice asks at the tap, optional ones through
Options…, each line priced with its options; the sale records them, the kitchen and the check show them; a scanned
barcode adds its item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader

from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QPushButton, Qt, QWidget
from tests.gui.helpers import click, login, on_modal, type_into


def option(dialog: QWidget, group: str, option_id: str) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton)
                if b.property("group") == group and b.property("option") == option_id)


def test_options_notes_and_a_scanned_code_from_tap_to_check(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Nino", "2222")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    sell = win.sell

    def filling(dialog: QWidget) -> None:
        assert dialog.objectName() == "options"
        assert not dialog.ok.isEnabled()  # type: ignore[attr-defined]  # a filling must be chosen
        click(qtbot, option(dialog, "filling", "mushroom"))
        click(qtbot, option(dialog, "filling", "cheese"))  # one to pick: the last tap wins
        assert not option(dialog, "filling", "mushroom").isChecked()
        assert "16.00" in dialog.price.text()  # type: ignore[attr-defined]  # 15.00 + 1.00 for cheese
        type_into(qtbot, dialog.note, "well done")  # type: ignore[attr-defined]
        click(qtbot, dialog.ok)  # type: ignore[attr-defined]

    on_modal(filling)
    click(qtbot, sell.item_buttons["dumplings"])
    assert [(ln.item.id, ln.options, ln.note, ln.total) for ln in sell.cart.lines] == [
        ("dumplings", (("filling", "cheese"),), "well done", 1_600)]
    assert sell.table.item(0, 0).text() == "Khinkali for the pot (Cheese) “well done”"

    click(qtbot, sell.item_buttons["udon"])  # optional extras: added at once, plain
    assert sell.cart.lines[-1].options == () and sell.cart.lines[-1].total == 700

    def extras(dialog: QWidget) -> None:
        click(qtbot, option(dialog, "extras", "egg"))
        click(qtbot, option(dialog, "extras", "double"))
        assert "14.00" in dialog.price.text()  # type: ignore[attr-defined]
        click(qtbot, dialog.ok)  # type: ignore[attr-defined]

    on_modal(extras)
    click(qtbot, sell.options_button)  # on the selected (last) line
    assert [ln.item.id for ln in sell.cart.lines] == ["dumplings", "udon"]
    assert sell.cart.lines[1].options == (("extras", "egg"), ("extras", "double"))
    click(qtbot, sell.item_buttons["udon"])  # a plain udon is a line of its own
    assert len(sell.cart.lines) == 3 and sell.cart.subtotal == 1_600 + 1_400 + 700

    sell.search.setFocus()
    qtbot.keyClicks(sell.search, "4860019001346")  # a keyboard-wedge scanner types the code and Enter
    qtbot.keyClick(sell.search, Qt.Key.Key_Return)
    assert sell.cart.lines[-1].item.id == "borjomi" and sell.search.text() == ""
    assert "41.00" in sell.total_label.text()  # 16 + 14 + 7 + 4

    def pay(dialog: QWidget) -> None:
        exact = dialog.quick_buttons[0]  # type: ignore[attr-defined]
        click(qtbot, exact)
        click(qtbot, exact)

    on_modal(pay)
    click(qtbot, sell.pay_button)
    sale = term.sale_details(term.recent_sales()[0]["id"])
    assert sale["total"] == 4_100
    assert [(ln["item_id"], ln.get("modifiers"), ln.get("note"), ln["unit_price"]) for ln in sale["lines"]] == [
        ("dumplings", [{"group": "filling", "option": "cheese", "price": 100}], "well done", 1_600),
        ("udon", [{"group": "extras", "option": "egg", "price": 200},
                  {"group": "extras", "option": "double", "price": 500}], None, 1_400),
        ("udon", None, None, 700), ("borjomi", None, None, 400)]
    record = bytes(term.store.one("SELECT body FROM ledger_records WHERE type = 'sale' ORDER BY seq DESC LIMIT 1")[0])
    assert b'"modifiers"' in record and b'"note":"well done"' in record  # in the signed record HQ re-checks

    check = win.last_check
    qtbot.waitUntil(lambda: check.last_print is not None, timeout=15_000)
    text = " ".join(PdfReader(check.last_print).pages[0].extract_text().split())
    assert "Khinkali for the pot (Cheese) “well done”" in text and "Udon noodles (Egg, Double portion)" in text
    check.accept()

    click(qtbot, win.nav_buttons["orders"])
    orders = win.views["orders"]
    assert "1× Khinkali for the pot (Cheese) “well done”" in orders.table.item(0, 2).text()
    Path(check.last_print).unlink()
