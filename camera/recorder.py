"""Recording: fixed-length segments per camera and day, each finished segment's SHA-256 handed to a callback (the
terminal seals it into the ledger); retention by age and by disk quota deletes the oldest first and never stops
recording; snapshots on demand."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from camera.config import CameraConfig

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".avi"  # Motion-JPEG in AVI: written and read by every OpenCV build, seekable per frame
FOURCC = "MJPG"
MIN_FREE_BYTES = 256 * 1024 * 1024  # below this much free disk, the oldest footage goes first


@dataclass(frozen=True)
class Segment:
    camera_id: str
    path: Path
    started_at: float
    ended_at: float
    frames: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {"camera_id": self.camera_id, "file": self.path.name, "day": self.path.parent.name,
                "started_at": self.started_at, "ended_at": self.ended_at, "frames": self.frames,
                "bytes": self.bytes, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def segments(folder: Path) -> list[Path]:
    """A camera's segment files, oldest first (the names sort by time: DAY/HHMMSS-mmm.avi)."""
    return sorted(folder.glob(f"*/*{SEGMENT_SUFFIX}"), key=lambda p: (p.parent.name, p.name))


def enforce_retention(folder: Path, *, retention_days: int, quota_bytes: int, now: float,
                      keep: Path | None = None, min_free_bytes: int = MIN_FREE_BYTES) -> list[Path]:
    """Delete segments older than the retention, then the oldest while over the quota or the disk is nearly full.
    `keep` (the segment being written) is never deleted. Returns what was deleted, oldest first."""
    deleted: list[Path] = []
    files = [p for p in segments(folder) if p != keep]
    sizes = {p: p.stat().st_size for p in files}
    total = sum(sizes.values()) + (keep.stat().st_size if keep is not None and keep.exists() else 0)
    cutoff = now - retention_days * 86_400
    for path in list(files):
        too_old = path.stat().st_mtime < cutoff
        over_quota = total > quota_bytes
        low_disk = shutil.disk_usage(folder).free < min_free_bytes
        if not (too_old or over_quota or low_disk):
            break
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        total -= sizes[path]
        files.remove(path)
        deleted.append(path)
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
    if deleted:
        logger.info("retention: deleted %d segment(s) of %s", len(deleted), folder.name)
    return deleted


def _private_folder(path: Path) -> None:
    """A folder (and any missing parents) readable by its owner only, whatever the umask."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, 0o700)


class Recorder:
    """Writes one camera's processed frames into segments. Not thread-safe: one processing thread calls it."""

    def __init__(self, config: CameraConfig, root: Path, on_segment: Callable[[Segment], None] | None = None,
                 *, on_deleted: Callable[[list[Path]], None] | None = None) -> None:
        self.config = config
        self.folder = Path(root) / config.id
        _private_folder(self.folder)
        self.on_segment = on_segment
        self.on_deleted = on_deleted
        self._writer: cv2.VideoWriter | None = None
        self._path: Path | None = None
        self._started = 0.0
        self._last = 0.0
        self._frames = 0

    @property
    def current(self) -> Path | None:
        return self._path

    def write(self, image: np.ndarray, at: float) -> None:
        if self._writer is None or at - self._started >= self.config.segment_s:
            self._rotate(at)
        assert self._writer is not None
        size = (self.config.width, self.config.height)
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size)
        self._writer.write(image)
        self._frames += 1
        self._last = at

    def close(self) -> Segment | None:
        return self._finish()

    def _rotate(self, at: float) -> None:
        self._finish()
        deleted = enforce_retention(self.folder, retention_days=self.config.retention_days,
                                    quota_bytes=self.config.quota_mb * 1024 * 1024, now=at)
        if deleted and self.on_deleted is not None:
            self.on_deleted(deleted)
        stamp = datetime.fromtimestamp(at)
        day = self.folder / stamp.strftime("%Y-%m-%d")
        _private_folder(day)
        path = day / f"{stamp:%H%M%S}-{int(at * 1000) % 1000:03d}{SEGMENT_SUFFIX}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), float(self.config.fps),
                                 (self.config.width, self.config.height))
        if not writer.isOpened():
            raise OSError(f"cannot write a recording to {path}")
        os.chmod(path, 0o600)  # footage of people: the owner's only, whatever the umask
        self._writer, self._path, self._started, self._last, self._frames = writer, path, at, at, 0

    def _finish(self) -> Segment | None:
        if self._writer is None or self._path is None:
            return None
        self._writer.release()
        path, frames = self._path, self._frames
        self._writer, self._path = None, None
        if frames == 0 or not path.exists():
            path.unlink(missing_ok=True)
            return None
        segment = Segment(self.config.id, path, self._started, max(self._last, self._started), frames,
                          path.stat().st_size, file_sha256(path))
        if self.on_segment is not None:
            self.on_segment(segment)
        return segment


def snapshot(image: np.ndarray, folder: Path, camera_id: str, at: float | None = None) -> Path:
    """Save one frame as a JPEG in folder/snapshots/; returns its path."""
    at = time.time() if at is None else at
    target = Path(folder) / "snapshots"
    _private_folder(target)
    path = target / f"{camera_id}-{datetime.fromtimestamp(at):%Y%m%d-%H%M%S}-{int(at * 1000) % 1000:03d}.jpg"
    if not cv2.imwrite(str(path), image):
        raise OSError(f"cannot write the snapshot {path}")
    os.chmod(path, 0o600)
    return path


class SegmentPlayer:
    """Plays back a recorded segment frame by frame (the recordings browser pulls frames at the segment's fps)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise OSError(f"cannot play {path}")
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 15.0
        self.frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.position = 0

    def read(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        if not ok:
            return None
        self.position += 1
        return image

    def seek(self, frame: int) -> None:
        """Go to a frame (the next read returns it); clamped to the segment."""
        frame = max(0, min(frame, max(0, self.frames - 1)))
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        self.position = frame

    def close(self) -> None:
        self._cap.release()
