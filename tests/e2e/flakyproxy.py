"""A TCP proxy on 127.0.0.1 that misbehaves like bad Wi-Fi: refused connections, delays, connections reset in the
middle of a request or of an answer, and answers cut short. Faults are rolled per chunk, so a keep-alive connection
meets them too. Bounded: it serves only while its owner runs it, and only on loopback."""

from __future__ import annotations

import random
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class FaultCounts:
    connections: int = 0
    refused: int = 0
    delayed: int = 0
    reset_request: int = 0
    reset_answer: int = 0
    truncated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("connections", "refused", "delayed", "reset_request",
                                              "reset_answer", "truncated")}


class FlakyProxy:
    def __init__(self, target_port: int, seed: int = 7, scale: float = 1.0) -> None:
        self.target_port = target_port
        self.rng = random.Random(seed)
        self.scale = scale
        self.counts = FaultCounts()
        # Each kind of fault happens at least once, early, whatever the random rolls do afterwards.
        self._forced = ["refused", "truncated", "reset_answer"]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=5)

    def _roll(self, p: float) -> bool:
        with self.counts.lock:
            return self.rng.random() < p * self.scale

    def _take(self, fault: str) -> bool:
        """The next forced fault, if it is this one (in order: refused, truncated, reset_answer)."""
        with self.counts.lock:
            if self._forced and self._forced[0] == fault:
                self._forced.pop(0)
                return True
            return False

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        self.counts.add("connections")
        if self._take("refused") or self._roll(0.1):
            self.counts.add("refused")
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        done = threading.Event()
        new_request = threading.Event()  # set when an answer went out: the next request chunk starts a request
        new_request.set()
        threading.Thread(target=self._pump, args=(client, upstream, True, done, new_request), daemon=True).start()
        self._pump(upstream, client, False, done, new_request)

    def _reset(self, *socks: socket.socket) -> None:
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)  # wakes the other direction's thread blocked in recv
            except OSError:
                pass
            s.close()

    def _pump(self, src: socket.socket, dst: socket.socket, request: bool, done: threading.Event,
              new_request: threading.Event) -> None:
        """Faults are rolled once per request and once per answer chunk, not per request chunk: a big request is
        no likelier to die than a small one (the line's quality does not depend on what the terminal sends)."""
        try:
            src.settimeout(90)
            while not self._stop.is_set() and not done.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if request and new_request.is_set():
                    new_request.clear()
                    if self._roll(0.06):  # the line dies while the request is on its way
                        self.counts.add("reset_request")
                        break
                if not request:
                    if self._roll(0.12):
                        self.counts.add("delayed")
                        self._stop.wait(self.rng.uniform(0.1, 1.5))
                    if self._take("reset_answer") or self._roll(0.08):  # HQ may well have acted on the request
                        self.counts.add("reset_answer")
                        break
                    if self._take("truncated") or self._roll(0.08):
                        self.counts.add("truncated")
                        dst.sendall(data[: self.rng.randint(0, max(0, len(data) - 1))])
                        break
                dst.sendall(data)
                if not request:
                    new_request.set()
        except OSError:
            pass
        finally:
            done.set()
            self._reset(src, dst)
