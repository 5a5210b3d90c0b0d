"""State read fresh (issue 20, item 10): a shift opened or closed by another process (the CLI) while the counter app
runs is what the app shows at the next login and the next change of screen. (It did not: the window's connection
kept reading an orphaned snapshot after another of the app's connections had checked the database file's header
with a plain open and close, dropping the process's SQLite locks; terminal/store/db.py says how.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from terminal.gui.mainwindow import MainWindow
from tests.gui.helpers import click, login

ROOT = Path(__file__).resolve().parents[2]


def _cli(data_dir: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data_dir), "--user", "Giorgi",
                           "--pin", "3333", *args], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_shift_opened_and_closed_elsewhere_is_what_the_app_shows(qtbot: Any, window: MainWindow) -> None:
    win = window
    data_dir = win.session.term.data_dir
    login(qtbot, win, "Giorgi", "3333")
    assert win.current_page() == "shift" and win.views["shift"].pages.currentIndex() == 0
    win.switch_user()

    _cli(data_dir, "shift", "open", "--float", "15000")  # tetri, as the CLI takes amounts
    login(qtbot, win, "Giorgi", "3333")
    assert win.current_page() == "sell"  # the shift the CLI opened
    click(qtbot, win.nav_buttons["shift"])
    shift = win.views["shift"]
    assert shift.pages.currentIndex() == 1 and "150.00" in shift.x_rows["float_amount"].value.text()

    _cli(data_dir, "shift", "close", "--counted", "15000")
    click(qtbot, win.nav_buttons["sell"])
    click(qtbot, win.nav_buttons["shift"])
    assert shift.pages.currentIndex() == 0  # closed elsewhere: the next screen change shows it
    win.switch_user()
    login(qtbot, win, "Giorgi", "3333")
    assert win.current_page() == "shift"
