"""Claim tickets (a check's one-time claim secret and its slow hash) made ahead of time, off the sale's path."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from terminal.core.checks import ClaimTicket, new_claim_ticket


class ClaimTicketPool:
    """Claim tickets made ahead of time on a background thread, so the stretched hash is off the sale's path.

    Tickets live only in memory (a secret never touches the disk); an empty pool just makes one on the spot.
    hashlib releases the GIL while hashing, so the pool uses the machine's other core. Between tickets the same
    thread runs `between` (the terminal uses it to derive the next checks' claim addresses ahead of time).
    """

    def __init__(self, size: int = 64, between: Callable[[], None] | None = None) -> None:
        self._queue: queue.Queue[ClaimTicket] = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._between = between

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._fill, name="claim-tickets", daemon=True)
            self._thread.start()

    def _fill(self) -> None:
        while not self._stop.is_set():
            if self._between is not None:
                self._between()
            ticket = new_claim_ticket()
            while not self._stop.is_set():
                try:
                    self._queue.put(ticket, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def take(self) -> ClaimTicket:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return new_claim_ticket()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
