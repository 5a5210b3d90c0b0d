"""Closing the shift (Z) at the till: the drawer counted note by note and coin by coin fills the counted cash; Z asks
before it closes, saying what will be recorded and which orders are still open; "Keep the shift open" changes
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terminal.core.orders import Tender
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QLineEdit, QPushButton, QWidget
from terminal.store import repos
from tests.gui.helpers import button_named, click, login, on_modal, type_into


def test_count_by_denomination_then_z_asks_and_warns_about_open_orders(qtbot: Any, window: MainWindow,
                                                                      tmp_path: Path) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    shift = win.views["shift"]
    type_into(qtbot, shift.float_edit, "200")
    click(qtbot, shift.open_button)
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    term.sell(cashier, [("udon", 2)], [Tender("cash")])  # an order the kitchen has not finished
    win.session.changed()
    click(qtbot, win.nav_buttons["shift"])  # opening the shift went on to Sell
    expected = term.x_report()["expected_cash"]

    def count(dialog: QWidget) -> None:
        assert dialog.objectName() == "denominations"
        counts = {e.objectName(): e for e in dialog.findChildren(QLineEdit)}
        type_into(qtbot, counts["count-10000"], "2")  # two 100 ₾ notes (typed over the 0)
        click(qtbot, [b for b in dialog.findChildren(QPushButton) if b.text() == "+"][4])  # a 10 ₾ note, by +
        counts["count-50"].setText("3")  # three 50 tetri coins
        assert "211.50" in dialog.total_label.text()  # type: ignore[attr-defined]
        dialog.grab().save(str(tmp_path / "denominations.png"))
        click(qtbot, button_named(dialog, "Use this total"))

    on_modal(count)
    click(qtbot, shift.count_button)
    assert shift.counted.value() == 21_150

    asked: dict[str, str] = {}

    def keep_open(box: QWidget) -> None:
        asked["text"] = box.text()  # type: ignore[attr-defined]
        box.grab().save(str(tmp_path / "confirm-z.png"))
        click(qtbot, button_named(box, "Keep the shift open"))

    on_modal(keep_open)
    click(qtbot, shift.close_button)
    assert "211.50" in asked["text"] and "1 order(s) are still open" in asked["text"], asked["text"]
    difference = 21_150 - expected
    assert (f"{abs(difference) // 100}.{abs(difference) % 100:02d}" in asked["text"])
    assert term.current_shift() is not None and shift.last_z is None  # nothing closed

    on_modal(lambda box: click(qtbot, button_named(box, "Close shift")))
    click(qtbot, shift.close_button)
    assert term.current_shift() is None
    assert shift.last_z is not None and shift.last_z["counted_cash"] == 21_150
    assert shift.last_z["variance"] == difference
