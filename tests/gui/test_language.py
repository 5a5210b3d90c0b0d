"""The language menu: readable (every entry of its list in strong contrast), and each user's choice remembered at
this till, across logins and restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terminal.gui.i18n import language, money, set_language
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QApplication, QColor, QPushButton, Qt, QWidget
from tests.gui.helpers import click, dispose, login, on_modal, type_into


def contrast(image: Any, x0: int, y0: int, x1: int, y1: int) -> float:
    x1, y1 = min(x1, image.width() - 2), min(y1, image.height() - 2)  # inside the picture, away from its border
    values = [QColor(image.pixel(x, y)).lightness() for x in range(x0 + 2, x1, 2) for y in range(y0, y1, 2)]
    return max(values) - min(values)


def test_language_list_is_readable_and_each_user_keeps_their_choice(qtbot: Any, data_dir: Path) -> None:
    win = MainWindow(data_dir, demo=True)
    win.resize(1024, 768)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        login(qtbot, win, "Nino", "2222")
        win.lang.showPopup()
        QApplication.processEvents()
        view = win.lang.view()
        shot = view.grab().toImage()
        for row in range(win.lang.count()):
            rect = view.visualRect(win.lang.model().index(row, 0))
            band = rect.height() // 3  # the row's middle: its text, not the edge of a neighbour
            assert contrast(shot, rect.left(), rect.top() + band, rect.right(), rect.bottom() - band) > 110, row
        win.lang.hidePopup()

        win.lang.setCurrentIndex(win.lang.findData("ka"))
        assert win.nav_buttons["sell"].text() == "გაყიდვა"
        win.switch_user()
        login(qtbot, win, "Giorgi", "3333")  # no choice of his own yet: the screen stays as it was
        assert language() == "ka"
        win.lang.setCurrentIndex(win.lang.findData("ru"))
        win.switch_user()
        login(qtbot, win, "Nino", "2222")
        assert language() == "ka" and win.lang.currentData() == "ka" and win.nav_buttons["sell"].text() == "გაყიდვა"
        win.switch_user()
        login(qtbot, win, "Giorgi", "3333")
        assert language() == "ru" and win.nav_buttons["sell"].text() == "Продажа"
    finally:
        dispose(win)

    set_language("en")  # a restart: the app starts in English, and the user's login brings theirs back
    again = MainWindow(data_dir)
    again.resize(1024, 768)
    again.show()
    again.start()
    try:
        login(qtbot, again, "Nino", "2222")
        assert language() == "ka" and again.lang.currentData() == "ka"
    finally:
        dispose(again)
        set_language("en")


def test_the_cores_errors_are_shown_in_the_screens_language(qtbot: Any, window: MainWindow) -> None:
    """Errors carry an English template and parameters (sync.protocol.errors); the counter app shows them in the
    screen's language, filled in."""
    win = window
    win.lang.setCurrentIndex(win.lang.findData("ru"))
    try:
        click(qtbot, win.login.user_buttons["Giorgi"])
        for digit in "9999":
            click(qtbot, next(b for b in win.login.findChildren(QPushButton) if b.text() == digit))
        qtbot.keyClick(win.login.pin, Qt.Key.Key_Return)
        assert win.login.error.text() == "Неверный PIN. До блокировки Giorgi осталось попыток: 2."
        win.lang.setCurrentIndex(win.lang.findData("ka"))
        login(qtbot, win, "Giorgi", "3333")
        type_into(qtbot, win.views["shift"].float_edit, "100")
        click(qtbot, win.views["shift"].open_button)
        click(qtbot, win.sell.item_buttons["shrimp"])  # 26.00

        def short(dialog: QWidget) -> None:
            type_into(qtbot, dialog.cash, "20")  # type: ignore[attr-defined]
            qtbot.keyClick(dialog.cash, Qt.Key.Key_Return)  # type: ignore[attr-defined]
            seen["error"] = dialog.error.text()  # type: ignore[attr-defined]
            dialog.reject()  # type: ignore[attr-defined]

        seen: dict[str, str] = {}
        on_modal(short)
        click(qtbot, win.sell.pay_button)
        assert seen["error"] == (f"მიღებული {money(2_000)} ნაკლებია ჯამზე {money(2_600)}; "
                                  f"დარჩა გადასახდელი {money(600)}.")
    finally:
        set_language("en")
