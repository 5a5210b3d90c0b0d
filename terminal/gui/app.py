"""Starts the counter app: one QApplication, the stylesheet, the main window."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from terminal.core.errors import UserFacingError
from terminal.gui.i18n import use_lari_sign
from terminal.gui.qt import (
    QApplication,
    QEvent,
    QFont,
    QFontMetrics,
    QMessageLogContext,
    QtMsgType,
    QWidget,
    qInstallMessageHandler,
)
from terminal.gui.style import STYLESHEET

logger = logging.getLogger(__name__)


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message.startswith("This plugin does not support propagateSizeHints"):
        return  # the offscreen platform (tests, benchmarks) says this for every window; it means nothing here
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    logger.log(level, "Qt: %s", message)


def make_app() -> QApplication:
    qInstallMessageHandler(_qt_message)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("HotPot Spot")
    app.setOrganizationName("HotPot Spot")
    app.setFont(QFont("DejaVu Sans", 11))
    app.setStyleSheet(STYLESHEET)
    use_lari_sign(QFontMetrics(app.font()).inFontUcs4(0x20BE))
    return app


def show_window(window: QWidget, app: QApplication, *, windowed: bool) -> None:
    """Full screen on the till's screen at its real size; windowed (a manager's laptop, development) at 1280x800 or
    what the screen has room for."""
    screen = app.primaryScreen()
    if windowed or screen is None:
        room = screen.availableGeometry() if screen is not None else None
        width, height = (1280, 800) if room is None else (min(1280, room.width()), min(800, room.height()))
        window.resize(width, height)
        window.show()
        return
    window.setGeometry(screen.geometry())
    window.showFullScreen()


def has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def run(data_dir: Path, *, demo: bool = False, windowed: bool = False) -> int:
    if not has_display():
        print("error: there is no display to show the counter app on (DISPLAY is not set). Run it on the "
              "terminal's screen, under xvfb-run, or use the CLI: hotpot-terminal --help", file=sys.stderr)
        return 2
    from terminal.gui.mainwindow import MainWindow

    app = make_app()
    window = MainWindow(data_dir, demo=demo)
    try:
        window.start()
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    show_window(window, app, windowed=windowed)
    if os.environ.get("HOTPOT_GUI_EXIT_AFTER_START"):  # the cold-start benchmark: stop once the PIN screen is up
        from terminal.gui.qt import QTimer

        def ready() -> None:
            mode = "full-screen" if window.isFullScreen() else "windowed"
            print(f"gui-ready {window.width()}x{window.height()} {mode}", flush=True)
            window.close()

        QTimer.singleShot(0, ready)
    code = app.exec()
    # Delete the window while Qt is still up: left to interpreter exit, PySide's clean-up deletes widgets in an
    # order that can crash (seen as a segfault after a clean close).
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    return code
