"""The GUI benchmarks' event-loop probe: a timer on the GUI thread every 10 ms; how late each tick comes is a stall."""

from __future__ import annotations

from terminal.gui.qt import QElapsedTimer, QTimer


class StallProbe:
    def __init__(self, interval_ms: int = 10) -> None:
        self.interval_ms = interval_ms
        self.gaps: list[float] = []  # ms between ticks beyond the interval (may be slightly negative)
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6 - self.interval_ms)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> list[float]:
        """Stop, and the stalls seen (ms, never below zero)."""
        self._timer.stop()
        return [max(0.0, g) for g in self.gaps]
