"""The Qt binding itself: a long-running counter app emits signals forever, so their Python slots must not leak or
drop references. PySide6 6.12.0 drops one reference to None per slot call; on Python 3.11 (None is not immortal)
the process aborts after a few thousand signals. pyproject.toml keeps it out; this test keeps it out."""

from __future__ import annotations

import sys
from typing import Any

from terminal.gui.qt import QObject, Signal


class Ticker(QObject):
    ticked = Signal(bool)


def test_python_slots_keep_reference_counts(qtbot: Any) -> None:
    ticker = Ticker()
    calls = [0]

    def slot(on: bool) -> None:
        calls[0] += 1

    ticker.ticked.connect(slot)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for i in range(5_000):
        ticker.ticked.emit(bool(i % 2))
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert calls[0] == 5_000
    drift = [b - a for a, b in zip(before, after, strict=True)]
    assert all(abs(d) < 100 for d in drift), f"reference counts of None/True/False moved by {drift}"
