"""Motion by background subtraction (MOG2): foreground blobs larger than the minimum area count as motion; after
an event the detector stays quiet for the cooldown. Outside opening hours, motion is an alert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from camera.config import CameraConfig

WARM_UP_FRAMES = 15  # the background model learns the scene first
WORK_WIDTH = 320  # detection runs on a small copy: cheap, and noise averages out


@dataclass(frozen=True)
class MotionEvent:
    camera_id: str
    at: float
    area: int  # pixels of the configured picture size
    boxes: tuple[tuple[int, int, int, int], ...]
    after_hours: bool


class MotionDetector:
    def __init__(self, config: CameraConfig, on_event: Callable[[MotionEvent], None] | None = None) -> None:
        self.config = config
        self.on_event = on_event
        self._subtractor = cv2.createBackgroundSubtractorMOG2(history=200, varThreshold=32, detectShadows=False)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._seen = 0
        self._last_event = float("-inf")

    def process(self, image: np.ndarray, at: float) -> MotionEvent | None:
        height, width = image.shape[:2]
        scale = WORK_WIDTH / width if width > WORK_WIDTH else 1.0
        small = cv2.resize(image, (int(width * scale), int(height * scale))) if scale != 1.0 else image
        gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        mask = self._subtractor.apply(gray)
        self._seen += 1
        if self._seen <= WARM_UP_FRAMES or at - self._last_event < self.config.motion_cooldown_s:
            return None
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        to_config = (self.config.width / small.shape[1]) * (self.config.height / small.shape[0])
        boxes, area = [], 0
        for contour in contours:
            blob = cv2.contourArea(contour) * to_config
            if blob >= self.config.motion_min_area:
                x, y, w, h = cv2.boundingRect(contour)
                boxes.append((int(x / scale), int(y / scale), int(w / scale), int(h / scale)))
                area += int(blob)
        if not boxes:
            return None
        self._last_event = at
        hours = self.config.opening_hours
        after = hours is not None and not hours.is_open(datetime.fromtimestamp(at).time())
        event = MotionEvent(self.config.id, at, area, tuple(boxes), after)
        if self.on_event is not None:
            self.on_event(event)
        return event
