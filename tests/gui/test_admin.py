"""Managing the till (issue 20, item 9): a manager adds a cashier (the PIN typed twice), sets a new PIN, deactivates
them (off the PIN screen, refused at login); on a terminal not enrolled, adds a menu item that is on Sell at once;
changes the settings. A cashier never sees the page."""

from __future__ import annotations

from typing import Any

import pytest

from terminal.core.errors import NotAllowed
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QMessageBox, QWidget
from tests.gui.helpers import button_named, click, login, on_modal, type_into


def test_staff_menu_and_settings_at_the_till(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    assert not win.nav_buttons["admin"].isVisible()  # a cashier does not manage
    win.switch_user()
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["admin"])
    admin = win.views["admin"]

    def add(dialog: QWidget) -> None:
        type_into(qtbot, dialog.name, "Tamar")  # type: ignore[attr-defined]
        type_into(qtbot, dialog.pin, "5555")  # type: ignore[attr-defined]
        type_into(qtbot, dialog.again, "5556")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))
        assert "differ" in dialog.error.text() and dialog.isVisible()  # type: ignore[attr-defined]
        type_into(qtbot, dialog.again, "5555")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))

    on_modal(add)
    click(qtbot, admin.add_user)
    names = [admin.staff.item(r, 0).text() for r in range(admin.staff.rowCount())]
    assert "Tamar" in names and term.login("Tamar", "5555").name == "Tamar"

    admin.staff.selectRow(names.index("Tamar"))

    def new_pin(dialog: QWidget) -> None:
        type_into(qtbot, dialog.pin, "7777")  # type: ignore[attr-defined]
        type_into(qtbot, dialog.again, "7777")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))

    on_modal(new_pin)
    click(qtbot, admin.new_pin)
    assert term.login("Tamar", "7777").name == "Tamar"

    def confirm(box: QWidget) -> None:
        assert isinstance(box, QMessageBox) and "no longer be able to log in" in box.text()
        click(qtbot, button_named(box, "Deactivate"))

    on_modal(confirm)
    click(qtbot, admin.toggle_user)
    with pytest.raises(NotAllowed, match="disabled"):
        term.login("Tamar", "7777")
    assert admin.staff.item(names.index("Tamar"), 2).text() == "deactivated"
    assert admin.toggle_user.text() == "Reactivate"
    win.switch_user()
    assert "Tamar" not in win.login.user_buttons
    login(qtbot, win, "Nino", "2222")

    # The menu, on this demo terminal that is not enrolled: a new item is on Sell at once.
    click(qtbot, win.nav_buttons["admin"])
    click(qtbot, admin.tab_buttons[1])

    def item(dialog: QWidget) -> None:
        type_into(qtbot, dialog.item_id, "miso-soup")  # type: ignore[attr-defined]
        for lang, name in (("ka", "მისო სუპი"), ("en", "Miso soup"), ("ru", "Мисо суп")):
            dialog.names[lang].setText(name)  # type: ignore[attr-defined]  # (QTest cannot type Georgian keys)
        type_into(qtbot, dialog.price, "6.50")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))

    on_modal(item)
    click(qtbot, admin.add_item)
    assert term.menu()["miso-soup"].price == 650
    click(qtbot, win.nav_buttons["sell"])
    assert "miso-soup" in win.sell.item_buttons and "6.50" in win.sell.item_buttons["miso-soup"].text()
    record = term.store.one("SELECT body FROM ledger_records WHERE type = 'menu_loaded' ORDER BY seq DESC LIMIT 1")
    assert b'"miso-soup":650' in bytes(record[0])  # HQ will price its sales from this record

    click(qtbot, win.nav_buttons["admin"])
    click(qtbot, admin.tab_buttons[2])
    admin.receipt.setCurrentIndex(admin.receipt.findData(58))
    type_into(qtbot, admin.variance, "15")
    admin.display.setCurrentIndex(admin.display.findData("off"))
    click(qtbot, admin.save_settings)
    assert (term.receipt_width_mm(), term.z_variance_limit(), term.customer_display()) == (58, 1_500, "off")
    assert admin.settings_saved.text().startswith("Saved")
