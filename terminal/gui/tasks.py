"""The one way the counter app runs work off the GUI thread (Anki's pattern).

`tasks.run(op, on_done, on_failed)` runs `op()` on a worker thread; the callbacks then run on the GUI thread, through
a queued signal. An op never touches a widget. A failure without its own handler goes to the app's error handler
(a UserFacingError's text is shown as is; anything else is a fault, logged with its trace)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from terminal.gui.qt import QApplication, QElapsedTimer, QObject, Signal

logger = logging.getLogger(__name__)


class Tasks(QObject):
    _finished = Signal(object)  # a closure to call on the GUI thread
    idle = Signal()

    def __init__(self, on_error: Callable[[BaseException], None], workers: int = 2) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="gui-task")
        self._on_error = on_error
        self._pending = 0
        self._finished.connect(self._deliver)

    @property
    def pending(self) -> int:
        return self._pending

    def run(self, op: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_failed: Callable[[BaseException], None] | None = None) -> None:
        self._pending += 1

        def work() -> None:
            try:
                result = op()
            except BaseException as exc:  # delivered to the GUI thread, never lost on a worker
                if not isinstance(exc, Exception):
                    logger.exception("task interrupted")
                handler = on_failed or self._on_error
                self._finished.emit(lambda e=exc: handler(e))
                return
            self._finished.emit(lambda: on_done(result) if on_done is not None else None)

        self._pool.submit(work)

    def _deliver(self, callback: Callable[[], None]) -> None:
        self._pending -= 1
        try:
            callback()
        except Exception as exc:  # a callback's fault must not kill the event loop
            self._on_error(exc)
        if self._pending == 0:
            self.idle.emit()

    def wait_idle(self, timeout_ms: int = 10_000) -> bool:
        """Process events until every task has delivered (tests and shutdown)."""
        clock = QElapsedTimer()
        clock.start()
        while self._pending and clock.elapsed() < timeout_ms:
            QApplication.processEvents()
            time.sleep(0.005)
        return self._pending == 0

    def shutdown(self) -> None:
        self.wait_idle(15_000)
        self._pool.shutdown(wait=True)
