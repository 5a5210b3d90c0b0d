"""All of a terminal's cameras: per camera a capture thread and a processing thread (privacy, motion, recording),
the newest processed frame for whoever shows it, and the statistics. Callbacks report segments and motion; they run
on the camera's processing thread and must be quick (hand off, do not block)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from camera.capture import CaptureStats, CaptureThread
from camera.config import CameraConfig
from camera.motion import MotionDetector, MotionEvent
from camera.privacy import Privacy, TableConsent
from camera.recorder import Recorder, Sealer, Segment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraStatus:
    camera_id: str
    name: str
    state: str
    fps: float
    frames: int
    dropped: int
    reconnects: int
    recording: bool
    last_error: str


class CameraRunner:
    def __init__(self, config: CameraConfig, recordings: Path, *, on_segment: Callable[[Segment], None] | None = None,
                 on_motion: Callable[[MotionEvent], None] | None = None,
                 on_state: Callable[[str, str, str], None] | None = None, sealer: Sealer | None = None) -> None:
        self.config = config
        self.capture = CaptureThread(config, on_state=(lambda s, e: on_state(config.id, s, e)) if on_state else None)
        self.privacy = Privacy(config)
        self.motion = MotionDetector(config, on_motion)
        self.recorder = Recorder(config, recordings, on_segment, sealer=sealer) if config.recording else None
        self._latest: np.ndarray | None = None
        self._latest_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def start(self) -> None:
        self.capture.start()
        self._thread = threading.Thread(target=self._process, name=f"camera-{self.config.id}-work", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.capture.stop()
        if self._thread is not None:
            self._thread.join(10)
        if self.recorder is not None:
            self.recorder.close()

    def latest(self) -> tuple[np.ndarray | None, float]:
        with self._lock:
            return self._latest, self._latest_at

    def set_consent(self, consent: TableConsent | None) -> None:
        self.privacy.consent = consent

    def status(self) -> CameraStatus:
        s: CaptureStats = self.capture.stats()
        return CameraStatus(self.config.id, self.config.name, s.state, s.fps, s.frames, s.dropped, s.reconnects,
                            self.recorder is not None, s.last_error)

    def _process(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.capture.frames.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.motion.process(frame.image, frame.at)
                shown = self.privacy.apply(frame.image, frame.at)
                if self.recorder is not None:
                    self.recorder.write(shown, frame.at)
            except Exception:  # one bad frame or a full disk must not end the camera
                self.errors += 1
                logger.exception("camera %s: processing a frame failed", self.config.id)
                continue
            with self._lock:
                self._latest, self._latest_at = shown, frame.at


class CameraHub:
    def __init__(self, recordings: Path, *, sealer: Sealer | None = None, **callbacks: Callable[..., None]) -> None:
        self.recordings = Path(recordings)
        self.callbacks: dict[str, Any] = {**callbacks, "sealer": sealer}
        self.runners: dict[str, CameraRunner] = {}

    def start(self, configs: Iterable[CameraConfig]) -> None:
        for config in configs:
            runner = CameraRunner(config, self.recordings, **self.callbacks)
            self.runners[config.id] = runner
            runner.start()

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        self.runners.clear()

    def apply(self, config: CameraConfig) -> None:
        """New settings for one camera, taken at once: its runner stops (closing the segment it was writing) and
        one with the new settings starts; the other cameras go on untouched."""
        old = self.runners.pop(config.id, None)
        if old is not None:
            old.stop()
        runner = CameraRunner(config, self.recordings, **self.callbacks)
        self.runners[config.id] = runner
        runner.start()

    def remove(self, camera_id: str) -> None:
        """A camera taken off: its runner stops (closing its segment); the others go on."""
        runner = self.runners.pop(camera_id, None)
        if runner is not None:
            runner.stop()

    def still(self, camera_id: str, max_age_s: float = 2.0) -> np.ndarray:
        """A copy of the camera's newest frame, as every viewer sees it (privacy applied), for the KYC desk: taken
        from the running stream, never by opening the device a second time. LookupError when the camera is not
        running or has shown nothing for `max_age_s`."""
        runner = self.runners.get(camera_id)
        if runner is None:
            raise LookupError(f"camera {camera_id} is not running")
        frame, at = runner.latest()
        if frame is None or time.time() - at > max_age_s:
            raise LookupError(f"camera {camera_id} has no live picture")
        return frame.copy()

    def statuses(self) -> list[CameraStatus]:
        return [r.status() for r in self.runners.values()]

    def wait_live(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(r.status().state == "live" for r in self.runners.values()):
                return True
            time.sleep(0.05)
        return False
