"""The customer-facing display (issue 20, item 8): set on, it follows the cart as the cashier rings it up, then
shows the change and a claim QR a phone can read (OpenCV's detector finds the claim link on the window's picture);
it goes back to its welcome when the next order starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from terminal.gui.i18n import money
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QImage, QWidget
from terminal.setup import create_terminal
from tests.conftest import TEST_PASSPHRASE
from tests.gui.helpers import click, dispose, login, on_modal, type_into


def picture(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return raw[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_the_customer_sees_the_order_the_change_and_the_claim_qr(qtbot: Any, tmp_path: Path) -> None:
    made, _ = create_terminal(tmp_path / "term", franchise="Vake", terminal_name="Counter 1", demo=True,
                              passphrase=TEST_PASSPHRASE)
    made.set_customer_display(made.owner(), "on")
    made.close()
    win = MainWindow(tmp_path / "term")
    win.resize(1280, 800)
    win.show()
    win.start()
    term = win.session.term
    try:
        display = win.customer
        assert display is not None and display.isVisible()
        assert "Welcome" in display.lines.text()
        login(qtbot, win, "Giorgi", "3333")
        type_into(qtbot, win.views["shift"].float_edit, "100")
        click(qtbot, win.views["shift"].open_button)
        click(qtbot, win.sell.item_buttons["shrimp"])
        click(qtbot, win.sell.item_buttons["udon"])
        assert "Tiger shrimp" in display.lines.text() and "Udon noodles" in display.lines.text()
        assert display.total.text() == f"Total {money(3_300)}"

        def pay(dialog: QWidget) -> None:
            type_into(qtbot, dialog.cash, "50")  # type: ignore[attr-defined]
            click(qtbot, dialog.complete_button)  # type: ignore[attr-defined]

        on_modal(pay)
        click(qtbot, win.sell.pay_button)
        sale = term.recent_sales()[0]
        assert f"Change: {money(1_700)}" in display.lines.text() and display.qr.isVisible()
        display.resize(1024, 600)
        shot = picture(display)
        cv2.imwrite("/tmp/customer-display.png", shot)
        found, _points, _ = cv2.QRCodeDetector().detectAndDecode(shot)
        assert found.startswith(term.claim_base_url) and sale["check_id"] in found
        win.last_check.accept()

        click(qtbot, win.sell.item_buttons["tofu"])  # the next customer's order replaces the thank-you
        assert not display.qr.isVisible() and "Silken tofu" in display.lines.text()
        click(qtbot, win.sell.clear_button)
        assert "Welcome" in display.lines.text()
    finally:
        dispose(win)


def test_auto_shows_no_second_window_on_a_single_screen(qtbot: Any, window: MainWindow) -> None:
    assert window.session.term.customer_display() == "auto" and window.customer is None
