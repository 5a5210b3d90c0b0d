"""Privacy on every frame, live and recorded alike: faces blurred (Haar cascade shipped with OpenCV) on
customer_table cameras unless a table consent is active, and per-camera rectangle masks painted over."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from camera.config import CameraConfig

MAX_CONSENT_S = 30 * 60
_CASCADE = "haarcascade_frontalface_default.xml"


class FaceFinder:
    """Finds frontal faces. One classifier per thread: OpenCV's CascadeClassifier is not safe to share."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _classifier(self) -> cv2.CascadeClassifier:
        classifier = getattr(self._local, "classifier", None)
        if classifier is None:
            classifier = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE)  # type: ignore[attr-defined]
            if classifier.empty():
                raise RuntimeError(f"OpenCV's {_CASCADE} did not load")
            self._local.classifier = classifier
        return classifier

    def find(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        gray = cv2.equalizeHist(gray)
        side = max(24, min(gray.shape[:2]) // 12)
        found = self._classifier().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(side, side))
        return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]


def blur_regions(image: np.ndarray, boxes: list[tuple[int, int, int, int]], margin: float = 0.25) -> np.ndarray:
    """Blur each box (grown by `margin` so hair and chin go too) beyond recognition."""
    out = image.copy()
    height, width = image.shape[:2]
    for x, y, w, h in boxes:
        dx, dy = int(w * margin), int(h * margin)
        x0, y0, x1, y1 = max(0, x - dx), max(0, y - dy), min(width, x + w + dx), min(height, y + h + dy)
        roi = out[y0:y1, x0:x1]
        if roi.size == 0:
            continue
        # Down to a 5x5 mosaic, then smoothed: no eyes, nose or mouth survive (a face finder no longer sees one).
        small = cv2.resize(roi, (5, 5), interpolation=cv2.INTER_AREA)
        block = max(1, min(x1 - x0, y1 - y0) // 5)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST),
                                             (0, 0), block / 2)
    return out


def apply_masks(image: np.ndarray, masks: tuple[tuple[int, int, int, int], ...], size: tuple[int, int]) -> np.ndarray:
    """Paint the configured rectangles (in the configured width x height) black on a frame of any size."""
    if not masks:
        return image
    out = image.copy()
    height, width = image.shape[:2]
    sx, sy = width / size[0], height / size[1]
    for x, y, w, h in masks:
        out[int(y * sy):int((y + h) * sy), int(x * sx):int((x + w) * sx)] = 0
    return out


@dataclass
class TableConsent:
    """Guests at a table agreed to be seen unblurred, for at most 30 minutes; recorded by the caller."""

    camera_id: str
    given_at: float
    until: float
    by: str

    def active(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.until


def consent(camera_id: str, minutes: int, by: str, now: float | None = None) -> TableConsent:
    if not 1 <= minutes <= MAX_CONSENT_S // 60:
        raise ValueError(f"a table consent lasts 1-{MAX_CONSENT_S // 60} minutes, not {minutes}")
    start = time.time() if now is None else now
    return TableConsent(camera_id, start, start + minutes * 60, by)


class Privacy:
    """What a camera's frames go through before anyone sees or records them."""

    def __init__(self, config: CameraConfig, faces: FaceFinder | None = None) -> None:
        self.config = config
        self.faces = faces or FaceFinder()
        self.consent: TableConsent | None = None

    def apply(self, image: np.ndarray, now: float | None = None) -> np.ndarray:
        out = image
        if self.config.blurs_faces and not (self.consent is not None and self.consent.active(now)):
            boxes = self.faces.find(out)
            if boxes:
                out = blur_regions(out, boxes)
        return apply_masks(out, self.config.masks, (self.config.width, self.config.height))
