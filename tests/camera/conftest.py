"""Camera sources without a camera: video files written with OpenCV, and an MJPEG-over-HTTP server on 127.0.0.1
that can die and come back on the same port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest


def scene(i: int, width: int = 320, height: int = 240, moving: bool = True) -> np.ndarray:
    """A dim room with a bright box crossing it (or standing still)."""
    image = np.full((height, width, 3), 40, np.uint8)
    cv2.rectangle(image, (20, 20), (80, 60), (90, 90, 90), -1)  # furniture
    x = (10 + i * 6) % (width - 60) if moving else 120
    cv2.rectangle(image, (x, 100), (x + 50, 180), (230, 230, 230), -1)
    return image


def write_video(path: Path, frames: int, *, moving: bool, fps: int = 15, size: tuple[int, int] = (320, 240)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(scene(i, *size, moving=moving))
    writer.release()
    return path


@pytest.fixture
def moving_video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "moving.avi", 90, moving=True)


@pytest.fixture
def static_video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "static.avi", 90, moving=False)


class MjpegServer:
    """multipart/x-mixed-replace JPEG frames at ~20 fps, like an IP camera; stop() kills it, start() brings it back
    on the same port."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/video.mjpg"
        self._server: ThreadingHTTPServer | None = None
        self._alive = threading.Event()

    def start(self) -> None:
        alive = self._alive
        alive.set()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while alive.is_set():
                        ok, jpeg = cv2.imencode(".jpg", scene(i))
                        assert ok
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg.tobytes() + b"\r\n")
                        i += 1
                        time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._alive.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._alive = threading.Event()


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    server = MjpegServer()
    server.start()
    yield server
    server.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
