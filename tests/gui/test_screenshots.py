"""A screenshot of every screen at 1024x768 and 1920x1080, into screenshots/ (not committed; HOTPOT_SCREENSHOTS
moves it). People look at them; the test checks that each one has real content."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from terminal.core.orders import CASH, Tender
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QApplication, QImage, QPushButton, QWidget
from terminal.gui.widgets import ManagerApproval
from tests.gui.helpers import button_named, click, clipped, dispose, login, on_modal, type_into

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1024, 768), (1920, 1080))


def shots_dir() -> Path:
    folder = Path(os.environ.get("HOTPOT_SCREENSHOTS") or ROOT / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(widget: QWidget, name: str) -> Path:
    QApplication.processEvents()
    path = shots_dir() / f"{name}.png"
    assert widget.grab().save(str(path)), path
    image = QImage(str(path))
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20, f"{name} looks empty"
    return path


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshot_every_screen(qtbot: Any, data_dir: Path, size: tuple[int, int]) -> None:
    w, h = size
    tag = f"{w}x{h}"
    win = MainWindow(data_dir)
    win.resize(w, h)
    win.show()
    win.start()
    try:
        wz = win.wizard
        save(win, f"01-wizard-welcome-{tag}")
        click(qtbot, next(b for b in wz.findChildren(QPushButton) if b.property("choice") == "new"))
        type_into(qtbot, wz.franchise, "Vake")
        save(win, f"02-wizard-details-{tag}")
        click(qtbot, next(b for b in wz.findChildren(QPushButton) if b.text() == "Back"))
        click(qtbot, next(b for b in wz.findChildren(QPushButton) if b.property("choice") == "demo"))
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        save(win, f"03-login-{tag}")
        login(qtbot, win, "Nino", "2222")
        save(win, f"04-shift-closed-{tag}")
        type_into(qtbot, win.views["shift"].float_edit, "200")
        click(qtbot, win.views["shift"].open_button)
        term = win.session.term
        user = win.session.user
        for wanted in ([("broth-duo", 1), ("beef-slices", 2)], [("shrimp", 1), ("udon", 2)], [("jasmine-tea", 1)]):
            term.sell(user, wanted, [Tender(CASH)])
        term.advance_order(user, term.recent_sales()[0]["id"])
        click(qtbot, win.nav_buttons["sell"])
        for item in ("broth-spicy", "beef-slices", "udon", "udon", "greens"):
            click(qtbot, win.sell.item_buttons[item])
        save(win, f"05-sell-{tag}")

        def payment(dialog: QWidget) -> None:
            dialog.resize(min(w - 100, 900), min(h - 100, 640))
            qtbot.keyClicks(dialog.cash, "100")
            save(dialog, f"06-payment-{tag}")
            dialog.complete()

        on_modal(payment)
        click(qtbot, win.sell.pay_button)
        check = win.last_check
        qtbot.waitUntil(lambda: check.last_print is not None, timeout=15_000)
        save(check, f"07-check-{tag}")
        check.accept()
        click(qtbot, win.nav_buttons["orders"])
        save(win, f"08-orders-{tag}")
        click(qtbot, win.nav_buttons["shift"])
        save(win, f"09-shift-x-report-{tag}")
        click(qtbot, win.nav_buttons["history"])
        win.views["history"].table.selectRow(1)
        save(win, f"10-history-{tag}")

        def approval(dialog: QWidget) -> None:
            save(dialog, f"11-manager-approval-{tag}")
            dialog.reject()

        on_modal(approval)
        dialog = ManagerApproval(win, term, "A discount above 10 % needs a manager.")
        dialog.exec()
        win.lang.setCurrentIndex(win.lang.findData("ka"))
        click(qtbot, win.nav_buttons["sell"])
        save(win, f"12-sell-georgian-{tag}")
        win.lang.setCurrentIndex(win.lang.findData("ru"))
        click(qtbot, win.nav_buttons["orders"])
        save(win, f"13-orders-russian-{tag}")
        win.lang.setCurrentIndex(win.lang.findData("en"))
        click(qtbot, win.nav_buttons["cameras"])
        cams = win.views["cameras"]
        qtbot.waitUntil(lambda: all(t.picture.pixmap() is not None and not t.picture.pixmap().isNull()
                                    and "Live" in t.caption.text() for t in cams.tiles if t.isVisible()),
                        timeout=20_000)
        save(win, f"15-cameras-{tag}")
        click(qtbot, win.nav_buttons["kyc"])
        save(win, f"16-kyc-desk-{tag}")
        win.lang.setCurrentIndex(win.lang.findData("ka"))
        save(win, f"17-kyc-desk-georgian-{tag}")
        # Every page in every language at this size: looked at, and nothing cut off or pushed off the screen.
        cut: list[str] = []
        for lang in ("en", "ka", "ru"):
            win.lang.setCurrentIndex(win.lang.findData(lang))
            for page in ("sell", "orders", "shift", "history", "cameras", "kyc", "admin"):
                click(qtbot, win.nav_buttons[page])
                save(win, f"20-{page}-{lang}-{tag}")
                cut += [f"{lang} {page}: {c}" for c in clipped(win)]
        assert (win.width(), win.height()) == (w, h)  # the layouts fit the screen; the window did not grow
        assert not cut, "\n".join(cut)
        win.lang.setCurrentIndex(win.lang.findData("en"))
        click(qtbot, win.nav_buttons["shift"])
        type_into(qtbot, win.views["shift"].counted, "300")
        on_modal(lambda box: click(qtbot, button_named(box, "Close shift")))
        click(qtbot, win.views["shift"].close_button)
        save(win, f"14-shift-z-report-{tag}")
    finally:
        dispose(win)
