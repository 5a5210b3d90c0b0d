"""Privacy on every frame, live and recorded alike: faces blurred (Haar cascade shipped with OpenCV) on
customer_table cameras unless a table consent is active, and per-camera rectangle masks painted over."""

from __future__ import annotations

import threading
import time
from collections import deque
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

    @staticmethod
    def min_side(gray: np.ndarray) -> int:
        """The smallest face searched: a twelfth of the picture's shorter side (24 px at least)."""
        return max(24, int(min(gray.shape[:2])) // 12)

    def find(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        return self.find_in(gray, min_side=self.min_side(gray))

    def find_in(self, gray: np.ndarray, *, min_side: int) -> list[tuple[int, int, int, int]]:
        """Faces in a grey picture or a part of one. No histogram equalisation: it is global, so a change anywhere
        would change what is found everywhere (the cascade normalises each window's contrast itself)."""
        if min(gray.shape[:2]) < min_side:
            return []
        found = self._classifier().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4,
                                                    minSize=(min_side, min_side))
        return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]


Box = tuple[int, int, int, int]


class ChangeGatedFaces:
    """Face detection for one camera's stream at a fraction of the cost of searching every frame whole, with the
    same outcome: each frame, only the parts of the picture that changed since the detector last looked at them are
    searched again (each grown by a margin, so a face that moved is searched whole); a face found
    before in a part that did not change is still there, pixel for pixel within the noise threshold, and stays
    blurred. The whole frame is searched once a second, and whenever most of it changed.

    The comparison is against what the detector last saw of each part (not the previous frame), so a slow drift adds
    up until it is searched. Every face found stays blurred for HOLD frames more (Haar's detector misses a face in
    one frame that it finds in the next, whether it searches a part or the whole). A part is "unchanged" when no
    pixel of the 4x-downscaled grey picture (a mean of 16 pixels, so sensor noise averages out) moved by more than
    `threshold` grey levels."""

    SCALE = 4
    FULL_EVERY = 15  # frames: one whole search a second at 15 fps
    FULL_ABOVE = 0.5  # changed share of the frame above which one whole search is cheaper
    HOLD = 8  # frames a face found stays blurred: the Haar detector misses a face in one frame and finds it next

    def __init__(self, finder: FaceFinder, threshold: int = 12) -> None:
        self.finder, self.threshold = finder, threshold
        self._seen: np.ndarray | None = None  # the small grey picture as the detector last saw each part
        self._boxes: list[Box] = []
        self._held: deque[list[Box]] = deque(maxlen=self.HOLD)
        self._count = 0
        self.searched_share = 0.0  # of the last frame's pixels (for the benchmark's profile)

    def find(self, image: np.ndarray) -> list[Box]:
        """The faces to blur in this frame: those found now, and those found in the frames just before."""
        found = self._search(image)
        shown = list(found)
        for earlier in self._held:
            shown += [b for b in earlier if b not in shown]
        self._held.append(found)
        return shown

    def _search(self, image: np.ndarray) -> list[Box]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        height, width = gray.shape[:2]
        small = cv2.resize(gray, (max(1, width // self.SCALE), max(1, height // self.SCALE)),
                           interpolation=cv2.INTER_AREA)
        self._count += 1
        regions = None if self._seen is None or self._seen.shape != small.shape or \
            self._count % self.FULL_EVERY == 0 else self._changed(small, width, height)
        if regions is None or sum(w * h for _, _, w, h in regions) > self.FULL_ABOVE * width * height:
            self._boxes = self.finder.find(gray)
            self._seen = small
            self.searched_share = 1.0
            return list(self._boxes)
        if not regions:
            self.searched_share = 0.0
            return list(self._boxes)
        # A face the new search saw whole is decided by it; one it saw only in part stays until the next whole search.
        kept = [b for b in self._boxes if not any(_inside(b, r) for r in regions)]
        found: list[Box] = []
        seen, s = self._seen, self.SCALE
        assert seen is not None
        for x, y, w, h in regions:
            found += [(x + fx, y + fy, fw, fh) for fx, fy, fw, fh in
                      self.finder.find_in(gray[y:y + h, x:x + w], min_side=self.finder.min_side(gray))]
            seen[y // s:(y + h) // s, x // s:(x + w) // s] = small[y // s:(y + h) // s, x // s:(x + w) // s]
        self._boxes = kept + found
        self.searched_share = sum(w * h for _, _, w, h in regions) / (width * height)
        return list(self._boxes)

    def _changed(self, small: np.ndarray, width: int, height: int) -> list[Box]:
        """The changed parts, in full-size pixels, each grown by the largest face size and clipped to the frame."""
        assert self._seen is not None
        moved = (cv2.absdiff(small, self._seen) > self.threshold).astype(np.uint8)
        if not moved.any():
            return []
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(moved, connectivity=8)
        # A face that moved changed its own pixels: the change covers it, and this margin the edges a uniform cheek
        # or background left unchanged (an eighth of the picture's shorter side, 60 px at 480).
        grow = min(height, width) // 8
        s, out = self.SCALE, []
        for x, y, w, h, _area in stats[1:count]:
            x0, y0 = max(0, x * s - grow), max(0, y * s - grow)
            x1, y1 = min(width, (x + w) * s + grow), min(height, (y + h) * s + grow)
            out.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
        return _merge(out)


def _inside(a: Box, b: Box) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _merge(boxes: list[Box]) -> list[Box]:
    """Overlapping boxes joined into their bounding box, until none overlap (a face is never cut in two)."""
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlap(boxes[i], boxes[j]):
                    a, b = boxes[i], boxes[j]
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                    boxes[i] = (x0, y0, x1 - x0, y1 - y0)
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


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
        # Down to a 5x5 mosaic, then stretched back smoothly: no eyes, nose or mouth survive (a face finder no longer
        # sees one). Interpolating the mosaic costs a fraction of a millisecond; a wide Gaussian over it cost ~5 ms a
        # face, and a face held for HOLD frames is blurred once per frame it is held.
        small = cv2.resize(roi, (5, 5), interpolation=cv2.INTER_AREA)
        out[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
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
        self.gate = ChangeGatedFaces(self.faces)
        self.consent: TableConsent | None = None

    def apply(self, image: np.ndarray, now: float | None = None) -> np.ndarray:
        out = image
        if self.config.blurs_faces and not (self.consent is not None and self.consent.active(now)):
            boxes = self.gate.find(out)
            if boxes:
                out = blur_regions(out, boxes)
        return apply_masks(out, self.config.masks, (self.config.width, self.config.height))
