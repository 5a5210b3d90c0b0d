"""Recording: fixed-length segments per camera and day, each finished segment's SHA-256 handed to a callback (the
terminal seals it into the ledger); retention by age and by disk quota deletes the oldest first and never stops
recording; snapshots on demand."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

import cv2
import numpy as np

from camera.config import CameraConfig

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".avi"  # Motion-JPEG in AVI: written and read by every OpenCV build, seekable per frame
SEALED_SUFFIX = ".hpv"  # a sealed segment: JPEG frames in our own framing, encrypted as they are written
SUFFIXES = (SEGMENT_SUFFIX, SEALED_SUFFIX)
FOURCC = "MJPG"
FRAMES_MAGIC = b"HPVID001"  # the plaintext of a sealed segment: magic, fps, width, height, then the frames
FRAME_HEAD = struct.Struct(">IQ")  # each frame: its JPEG's length and its time (ms), then the JPEG
JPEG_QUALITY = 85


class Sink(Protocol):
    """Where a sealed segment's plaintext goes: it encrypts what it is given as it goes (a crash loses at most the
    chunk being filled) and seals the end on close."""

    def write(self, data: bytes) -> int: ...

    def close(self) -> None: ...


Sealer = Callable[[BinaryIO], Sink]  # given the open file, the encrypting writer over it
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
    """A camera's segment files, oldest first (the names sort by time: DAY/HHMMSS-mmm.avi or .hpv)."""
    return sorted((p for suffix in SUFFIXES for p in folder.glob(f"*/*{suffix}")),
                  key=lambda p: (p.parent.name, p.name))


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
                 *, on_deleted: Callable[[list[Path]], None] | None = None, sealer: Sealer | None = None) -> None:
        self.config = config
        self.folder = Path(root) / config.id
        _private_folder(self.folder)
        self.on_segment = on_segment
        self.on_deleted = on_deleted
        self.sealer = sealer  # with one, segments are sealed as they are written; no plaintext touches the disk
        self._file: BinaryIO | None = None
        self._sink: Sink | None = None
        self._writer: cv2.VideoWriter | None = None
        self._path: Path | None = None
        self._started = 0.0
        self._last = 0.0
        self._frames = 0

    @property
    def current(self) -> Path | None:
        return self._path

    def write(self, image: np.ndarray, at: float) -> None:
        if self._path is None or at - self._started >= self.config.segment_s:
            self._rotate(at)
        size = (self.config.width, self.config.height)
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size)
        if self._sink is not None:
            ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise OSError("cannot encode a frame")
            data = jpeg.tobytes()
            self._sink.write(FRAME_HEAD.pack(len(data), int(at * 1000)) + data)
        else:
            assert self._writer is not None
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
        suffix = SEALED_SUFFIX if self.sealer is not None else SEGMENT_SUFFIX
        path = day / f"{stamp:%H%M%S}-{int(at * 1000) % 1000:03d}{suffix}"
        if self.sealer is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = os.fdopen(fd, "wb")
            self._sink = self.sealer(self._file)
            self._sink.write(FRAMES_MAGIC + struct.pack(">HHH", self.config.fps, self.config.width,
                                                        self.config.height))
        else:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), float(self.config.fps),
                                     (self.config.width, self.config.height))
            if not writer.isOpened():
                raise OSError(f"cannot write a recording to {path}")
            os.chmod(path, 0o600)  # footage of people: the owner's only, whatever the umask
            self._writer = writer
        self._path, self._started, self._last, self._frames = path, at, at, 0

    def _finish(self) -> Segment | None:
        if self._path is None:
            return None
        if self._sink is not None and self._file is not None:
            self._sink.close()  # the last chunk, sealed as the last
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        elif self._writer is not None:
            self._writer.release()
        path, frames = self._path, self._frames
        self._writer, self._sink, self._file, self._path = None, None, None, None
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


def parse_frames(plain: bytes) -> tuple[tuple[int, int, int], list[tuple[int, int, int]]]:
    """A sealed segment's plaintext: (fps, width, height) and each whole frame's (offset, length, ms). A frame cut
    short (the chunk a crash lost) is left out."""
    if not plain.startswith(FRAMES_MAGIC) or len(plain) < len(FRAMES_MAGIC) + 6:
        raise OSError("not a HotPot Spot recording")
    fps, width, height = struct.unpack_from(">HHH", plain, len(FRAMES_MAGIC))
    frames, at = [], len(FRAMES_MAGIC) + 6
    while at + FRAME_HEAD.size <= len(plain):
        size, ms = FRAME_HEAD.unpack_from(plain, at)
        start = at + FRAME_HEAD.size
        if start + size > len(plain):
            break
        frames.append((start, size, ms))
        at = start + size
    return (fps, width, height), frames


def write_playable(plaintext: bytes, target: Path) -> int:
    """A sealed segment's frames (decrypted) as a Motion-JPEG AVI any player opens (an exported clip); returns the
    frames written."""
    (fps, width, height), frames = parse_frames(plaintext)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*FOURCC), float(fps or 15), (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write {target}")
    try:
        for start, size, _ms in frames:
            image = cv2.imdecode(np.frombuffer(plaintext, np.uint8, size, start), cv2.IMREAD_COLOR)
            if image is not None:
                writer.write(image)
    finally:
        writer.release()
    return len(frames)


class SegmentPlayer:
    """Plays back a recorded segment frame by frame (the recordings browser pulls frames at the segment's fps).
    A sealed segment (.hpv) is given as its decrypted plaintext, held in memory only."""

    def __init__(self, path: Path, plaintext: bytes | None = None) -> None:
        self.path = Path(path)
        self._cap: cv2.VideoCapture | None = None
        self._plain = plaintext
        if plaintext is not None:
            (fps, _w, _h), self._index = parse_frames(plaintext)
            self.fps = float(fps) or 15.0
            self.frames = len(self._index)
        else:
            self._cap = cv2.VideoCapture(str(path))
            if not self._cap.isOpened():
                raise OSError(f"cannot play {path}")
            self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 15.0
            self.frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.position = 0

    def read(self) -> np.ndarray | None:
        if self._plain is not None:
            if self.position >= len(self._index):
                return None
            start, size, _ms = self._index[self.position]
            image = cv2.imdecode(np.frombuffer(self._plain, np.uint8, size, start), cv2.IMREAD_COLOR)
            self.position += 1
            return image
        assert self._cap is not None
        ok, image = self._cap.read()
        if not ok:
            return None
        self.position += 1
        return image

    def seek(self, frame: int) -> None:
        """Go to a frame (the next read returns it); clamped to the segment."""
        frame = max(0, min(frame, max(0, self.frames - 1)))
        if self._cap is not None:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        self.position = frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._plain = None
