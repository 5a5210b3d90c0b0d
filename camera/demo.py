"""Demo footage for a terminal without cameras: short looping videos of a counter and a kitchen, drawn with OpenCV."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np


def _counter(i: int, w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (58, 66, 78)
    cv2.rectangle(img, (0, int(h * 0.62)), (w, h), (40, 70, 120), -1)  # the counter
    cv2.rectangle(img, (int(w * 0.08), int(h * 0.18)), (int(w * 0.32), int(h * 0.42)), (30, 30, 30), -1)  # menu
    for k in range(4):
        cv2.line(img, (int(w * 0.1), int(h * (0.23 + 0.05 * k))), (int(w * 0.28), int(h * (0.23 + 0.05 * k))),
                 (120, 200, 230), 2)
    x = int((w * 0.15) + (w * 0.6) * (0.5 + 0.5 * math.sin(i / 25)))  # a guest walking along the counter
    cv2.circle(img, (x, int(h * 0.33)), int(h * 0.07), (150, 170, 205), -1)
    cv2.rectangle(img, (x - int(h * 0.09), int(h * 0.41)), (x + int(h * 0.09), int(h * 0.62)), (60, 40, 150), -1)
    return img


def _kitchen(i: int, w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (70, 72, 70)
    cv2.rectangle(img, (0, int(h * 0.55)), (w, h), (110, 110, 115), -1)  # the range
    for k in range(3):
        cx = int(w * (0.2 + 0.3 * k))
        cv2.ellipse(img, (cx, int(h * 0.58)), (int(w * 0.1), int(h * 0.06)), 0, 0, 360, (30, 30, 30), -1)
        for s in range(3):  # steam rising
            y = int(h * 0.5 - ((i * 3 + 40 * s + 17 * k) % int(h * 0.45)))
            cv2.circle(img, (cx + int(10 * math.sin((i + 10 * s) / 6)), y), 8 + s * 3, (200, 200, 205), -1)
    return img


def write_demo_video(path: Path, kind: str, *, seconds: int = 12, fps: int = 15,
                     size: tuple[int, int] = (640, 360)) -> Path:
    """Write a looping demo clip (Motion-JPEG AVI) of a 'counter' or 'kitchen'; returns the path."""
    draw = {"counter": _counter, "kitchen": _kitchen}[kind]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.avi")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"MJPG"), float(fps), size)
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    for i in range(seconds * fps):
        writer.write(draw(i, *size))
    writer.release()
    tmp.replace(path)
    return path
