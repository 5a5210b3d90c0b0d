"""Reading a camera: one thread per camera reads frames into a bounded queue. A full queue drops the frame and counts
it (the reader never waits on a slow consumer); a watchdog reconnects a dead source with paced backoff and reports
the state: starting, live, reconnecting, failed (still retrying, slowly), stopped."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from camera.config import CameraConfig

logger = logging.getLogger(__name__)

STARTING, LIVE, RECONNECTING, FAILED, STOPPED = "starting", "live", "reconnecting", "failed", "stopped"
FAILED_AFTER = 5  # consecutive failed connects before the state says failed (retries go on at the slowest pace)
STALL_S = 5.0  # no frame for this long from a live source: reconnect
NETWORK_TIMEOUT_MS = 3000


def backoff_s(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """0.5, 1, 2, 4 ... up to 30 s between reconnects."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    at: float  # time.time() when read
    number: int


@dataclass(frozen=True)
class CaptureStats:
    camera_id: str
    state: str
    fps: float
    frames: int
    dropped: int
    reconnects: int
    last_error: str


def open_capture(config: CameraConfig) -> cv2.VideoCapture:
    kind = config.source_kind()
    if kind == "usb":
        cap = cv2.VideoCapture(int(config.source[4:]))
    elif kind in ("rtsp", "http"):
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
        # A dead server must fail a read in seconds, not FFmpeg's default of much longer.
        cap = cv2.VideoCapture(config.source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, NETWORK_TIMEOUT_MS,
                                                               cv2.CAP_PROP_READ_TIMEOUT_MSEC, NETWORK_TIMEOUT_MS])
    else:
        cap = cv2.VideoCapture(config.source)
    if kind in ("usb", "rtsp", "http"):
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # live sources: the newest frame, not a backlog
    return cap


class CaptureThread:
    """Reads one camera on its own thread into `frames` (bounded). Use start(), stats(), stop()."""

    def __init__(self, config: CameraConfig, *, queue_size: int = 4,
                 on_state: Callable[[str, str], None] | None = None,
                 opener: Callable[[CameraConfig], cv2.VideoCapture] = open_capture) -> None:
        self.config = config
        self.frames: queue.Queue[Frame] = queue.Queue(maxsize=queue_size)
        self._on_state = on_state
        self._opener = opener
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = STARTING
        self._frames = 0
        self._dropped = 0
        self._reconnects = 0
        self._last_error = ""
        self._times: deque[float] = deque(maxlen=60)

    # --- control ---

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.config.id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._set_state(STOPPED, "")

    def stats(self) -> CaptureStats:
        with self._lock:
            times = list(self._times)
            fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
            return CaptureStats(self.config.id, self._state, round(fps, 1), self._frames, self._dropped,
                                self._reconnects, self._last_error)

    @property
    def state(self) -> str:
        return self._state

    # --- the reader ---

    def _set_state(self, state: str, error: str) -> None:
        with self._lock:
            changed = state != self._state
            self._state = state
            if error:
                self._last_error = error
        if changed:
            logger.info("camera %s: %s %s", self.config.id, state, error)
            if self._on_state is not None:
                self._on_state(state, error)

    def _run(self) -> None:
        """The reader thread: a fault of ours in it must not leave the camera 'starting' for ever."""
        try:
            self._run_reading()
        except Exception as exc:  # noqa: BLE001 - the thread's last word: say the camera failed, and why
            logger.exception("camera %s: reader thread died", self.config.id)
            self._set_state(FAILED, f"{self._describe()} stopped on a fault: {type(exc).__name__}: {exc}")

    def _run_reading(self) -> None:
        failures = 0
        while not self._stop.is_set():
            cap = self._opener(self.config)
            if not cap.isOpened():
                cap.release()
                failures += 1
                self._set_state(FAILED if failures >= FAILED_AFTER else RECONNECTING,
                                f"cannot open {self._describe()}")
                self._stop.wait(backoff_s(failures))
                continue
            ended = self._read(cap)
            cap.release()
            if self._stop.is_set():
                break
            if ended and self.config.source_kind() == "file" and self.config.loop:
                continue  # a demo file: round again at once
            failures = 1 if self._state == LIVE else failures + 1
            with self._lock:
                self._reconnects += 1
            self._set_state(FAILED if failures >= FAILED_AFTER else RECONNECTING,
                            f"{self._describe()} stopped sending frames")
            self._stop.wait(backoff_s(failures))

    def _read(self, cap: cv2.VideoCapture) -> bool:
        """Read until the source fails or stops; True when a file ended normally."""
        is_file = self.config.source_kind() == "file"
        period = 1.0 / self.config.fps
        next_at = time.monotonic()
        last_frame = time.monotonic()
        while not self._stop.is_set():
            ok, image = cap.read()
            now = time.monotonic()
            if not ok or image is None:
                return is_file and now - last_frame < STALL_S
            last_frame = now
            self._set_state(LIVE, "")
            with self._lock:
                self._frames += 1
                self._times.append(now)
                number = self._frames
            try:
                self.frames.put_nowait(Frame(image, time.time(), number))
            except queue.Full:
                with self._lock:
                    self._dropped += 1
            if is_file:  # a file plays at its camera's pace, not as fast as it decodes
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.monotonic()
        return False

    def _describe(self) -> str:
        kind = self.config.source_kind()
        return f"camera {self.config.id} ({kind} source)"


def grab_frame(config: CameraConfig, timeout_s: float = 8.0) -> np.ndarray:
    """One picture from a camera's source, to see that the settings reach it (the editor's "test connection").
    Raises OSError saying what went wrong."""
    deadline = time.monotonic() + timeout_s
    cap = open_capture(config)
    try:
        if not cap.isOpened():
            raise OSError(f"cannot open {config.source}")
        while time.monotonic() < deadline:
            ok, image = cap.read()
            if ok and image is not None:
                return image
            time.sleep(0.05)
        raise OSError(f"no picture from {config.source} within {timeout_s:.0f} s")
    finally:
        cap.release()
