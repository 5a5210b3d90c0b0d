"""State read fresh (issue 20, item 10): a shift opened or closed by another process (the CLI) while the counter app
runs is what the app shows at the next login and the next change of screen.

Not fixed yet, and marked so (strict: it fails loudly once fixed): after a login that lands on Sell because a shift
is open, the window's own database connection keeps reading the snapshot of that moment — a shift closed by the CLI
afterwards still shows open, and so does anything else another process writes — while the status bar, which has a
connection of its own, shows the truth. Narrowed down so far: it starts with the statements of
Terminal.current_shift() run from MainWindow._logged_in; Terminal alone in a script, and the same statements in plain
sqlite3, do not pin a snapshot; no cursor of that connection is alive after gc.collect()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from terminal.gui.mainwindow import MainWindow
from tests.gui.helpers import click, login

ROOT = Path(__file__).resolve().parents[2]


def _cli(data_dir: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data_dir), "--user", "Giorgi",
                           "--pin", "3333", *args], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.xfail(strict=True, reason="issue 20 item 10: the window's connection keeps a stale read snapshot")
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
