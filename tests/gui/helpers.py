"""Helpers that act on the counter app as a cashier would: by clicks and keys, on the touch keypad, and on modal
dialogs (whose exec() blocks the test's own code); and disposing of a window while Qt is alive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QApplication, QComboBox, QEvent, QLineEdit, QPushButton, Qt, QTimer, QWidget


def dispose(win: MainWindow) -> None:
    """Close and delete the window while Qt is alive (as app.run does), not at interpreter exit."""
    win.shutdown()
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QApplication.processEvents()


def click(qtbot: Any, widget: QWidget) -> None:
    assert widget.isVisible() and widget.isEnabled(), f"{widget} is not clickable"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot: Any, edit: QLineEdit, text: str, enter: bool = False) -> None:
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, text)
    if enter:
        qtbot.keyClick(edit, Qt.Key.Key_Return)


def login(qtbot: Any, win: MainWindow, name: str, pin: str) -> None:
    click(qtbot, win.login.user_buttons[name])
    for digit in pin:  # on the touch keypad, as at the counter
        key = next(b for b in win.login.findChildren(QPushButton) if b.objectName() == "key" and b.text() == digit)
        click(qtbot, key)
    qtbot.keyClick(win.login.pin, Qt.Key.Key_Return)


def press(qtbot: Any, win: QWidget, widget: QWidget, key: Qt.Key) -> None:
    """A key as the cashier presses it. The offscreen platform does not hand activation back to the window when a
    dialog closes (a window manager does), and shortcuts only reach the active window."""
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(widget, key)


def on_modal(handler: Callable[[QWidget], None], timeout_ms: int = 10_000) -> None:
    """Run handler on the next modal dialog once it is up (a dialog's exec() blocks the test's own code)."""
    waited = [0]

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            waited[0] += 10
            if waited[0] > timeout_ms:
                raise AssertionError("no modal dialog came up")
            QTimer.singleShot(10, poll)
            return
        try:
            handler(dialog)
        except BaseException:
            if dialog.isVisible():  # a failed step must not leave the test blocked in the dialog's exec()
                dialog.reject()  # type: ignore[attr-defined]
            raise

    QTimer.singleShot(0, poll)


def approve_as(qtbot: Any, name: str, pin: str) -> Callable[[QWidget], None]:
    """A manager-approval dialog handler: pick the manager, type the PIN, approve."""

    def handle(dialog: QWidget) -> None:
        who = dialog.findChild(QComboBox)
        who.setCurrentIndex(who.findData(name))
        qtbot.keyClicks(dialog.pin, pin)
        click(qtbot, button_named(dialog, "Approve"))

    return handle


def button_named(parent: QWidget, text: str) -> QPushButton:
    found = [b for b in parent.findChildren(QPushButton) if b.text() == text and b.isVisible()]
    assert found, f"no visible button {text!r} in {parent}"
    return found[0]


def clipped(window: QWidget, slack: int = 4) -> list[str]:
    """What the window shows cut off: a visible label or button narrower than its text needs, or lying partly
    outside the window. Labels that wrap, elide on purpose (an Ignored width) or scroll are not counted."""
    from terminal.gui.qt import QAbstractScrollArea, QLabel, QSizePolicy

    QApplication.processEvents()
    found = []
    area = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, (QLabel, QPushButton)) or not widget.text():
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or widget.pixmap() is not None
                                           and not widget.pixmap().isNull()):
            continue
        if widget.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored:
            continue
        parent = widget.parentWidget()
        inside_scroll = False
        while parent is not None and parent is not window:
            if isinstance(parent, QAbstractScrollArea):
                inside_scroll = True
                break
            parent = parent.parentWidget()
        name = f"{type(widget).__name__} {widget.objectName() or ''} {widget.text()!r}"
        if widget.width() + slack < widget.sizeHint().width() \
                or widget.height() + slack < widget.minimumSizeHint().height():
            found.append(f"{name}: {widget.width()}x{widget.height()} < {widget.sizeHint().width()}x"
                         f"{widget.minimumSizeHint().height()}")
            continue
        if not inside_scroll:
            box = widget.rect().translated(widget.mapTo(window, widget.rect().topLeft()))
            if not area.contains(box):
                found.append(f"{name}: at {box.x()},{box.y()} {box.width()}x{box.height()} outside the window")
    return found
