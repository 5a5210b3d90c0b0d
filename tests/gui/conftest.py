"""GUI fixtures (Vorta's way): the session's QApplication with our stylesheet, a fresh terminal data folder per
test, the real main window. The helpers that act on it by clicks and keys are in tests/gui/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal.gui.app import make_app
from terminal.gui.i18n import set_language
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QPushButton, Qt
from tests.gui.helpers import dispose


@pytest.fixture(autouse=True)
def gui_env(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    make_app()
    monkeypatch.setenv("HOTPOT_PRINTER", "pdf")
    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def window(qtbot: Any, data_dir: Path) -> Iterator[MainWindow]:
    """A fresh demo terminal, made through the wizard's demo button, showing the PIN screen."""
    win = MainWindow(data_dir)
    win.resize(1280, 800)
    win.show()
    win.start()
    assert win.wizard is not None
    demo = next(b for b in win.wizard.findChildren(QPushButton) if b.property("choice") == "demo")
    qtbot.mouseClick(demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
    qtbot.waitUntil(lambda: win.session.wallet is not None, timeout=20_000)
    win.activateWindow()  # shortcuts (F12, Ctrl+1...) go to the active window
    qtbot.waitUntil(win.isActiveWindow)
    yield win
    dispose(win)
