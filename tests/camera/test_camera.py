"""The camera package against real decoded video: files written with OpenCV, an MJPEG server on 127.0.0.1 that
dies and returns, a real photograph for face blur. No mock of cv2."""

from __future__ import annotations

import time
from datetime import time as dtime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from camera.capture import FAILED, LIVE, RECONNECTING, CaptureThread, backoff_s
from camera.config import CameraConfig, CameraConfigError, parse_camera_config
from camera.hub import CameraHub
from camera.motion import MotionDetector, MotionEvent
from camera.privacy import FaceFinder, Privacy, apply_masks, consent
from camera.recorder import Recorder, Segment, enforce_retention, file_sha256, segments, snapshot
from tests.camera.conftest import MjpegServer, scene, wait_for


def config(**over: Any) -> CameraConfig:
    base = {"id": "counter", "name": "Counter", "kind": "security", "source": "usb:0", "width": 320, "height": 240,
            "fps": 15}
    return parse_camera_config({**base, **over})


# --- settings ---

@pytest.mark.parametrize(("change", "named"), [
    ({"colour": "red"}, "'colour'"),
    ({"kind": "bathroom"}, "'kind'"),
    ({"fps": 0}, "'fps'"),
    ({"fps": "15"}, "'fps'"),
    ({"recording": "yes"}, "'recording'"),
    ({"masks": [[300, 200, 50, 50]]}, "'masks'"),
    ({"masks": [[1, 2, 3]]}, "'masks'"),
    ({"privacy": "pixelate"}, "'privacy'"),
    ({"opening_hours": "9-23"}, "'opening_hours'"),
    ({"roles": ["cashier"]}, "'roles'"),
    ({"source": "usb:front"}, "'source'"),
    ({"id": "Counter Cam"}, "'id'"),
])
def test_bad_settings_are_refused_naming_the_key(change: dict[str, Any], named: str) -> None:
    with pytest.raises(CameraConfigError, match=named):
        config(**change)


def test_settings_round_trip_and_opening_hours_past_midnight() -> None:
    cam = config(kind="customer_table", opening_hours="10:00-02:00", masks=[[0, 0, 32, 24]], loop=True)
    assert cam.blurs_faces and cam.source_kind() == "usb"
    assert parse_camera_config(cam.to_dict()) == cam
    hours = cam.opening_hours
    assert hours is not None and hours.is_open(dtime(23, 30)) and hours.is_open(dtime(1, 0))
    assert not hours.is_open(dtime(3, 0)) and not hours.is_open(dtime(9, 59))
    with pytest.raises(CameraConfigError, match="'id' is required"):
        parse_camera_config({"name": "x", "kind": "kitchen", "source": "a.avi"})


# --- motion ---

def run_motion(video: Path, **over: Any) -> list[MotionEvent]:
    cam = config(source=str(video), motion_min_area=800, motion_cooldown_s=0, **over)
    detector = MotionDetector(cam)
    cap = cv2.VideoCapture(str(video))
    events = []
    i = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        event = detector.process(image, 1_000.0 + i / 15)
        if event:
            events.append(event)
        i += 1
    cap.release()
    assert i == 90  # every frame of the file was decoded
    return events


def test_motion_is_seen_in_a_moving_scene_and_not_in_a_static_one(moving_video: Path, static_video: Path) -> None:
    moving = run_motion(moving_video)
    assert len(moving) > 30 and all(e.area >= 800 for e in moving)
    x, y, w, h = moving[10].boxes[0]
    assert 90 <= y <= 110 and 60 <= h <= 100  # the box that moves, not the furniture
    assert run_motion(static_video) == []


def test_motion_cooldown_and_alert_outside_opening_hours(moving_video: Path) -> None:
    cam = config(source=str(moving_video), motion_min_area=800, motion_cooldown_s=2,
                 opening_hours="00:00-00:01")  # closed all day but a minute
    alerts: list[MotionEvent] = []
    detector = MotionDetector(cam, alerts.append)
    cap = cv2.VideoCapture(str(moving_video))
    start = time.mktime((2026, 11, 26, 3, 0, 0, 0, 0, -1))  # 03:00, the restaurant is closed
    for i in range(90):
        ok, image = cap.read()
        assert ok
        detector.process(image, start + i / 15)
    cap.release()
    assert 1 <= len(alerts) <= 3  # 6 s of motion, one event per 2 s cooldown at most
    assert all(a.after_hours for a in alerts)


# --- capture ---

def test_a_full_queue_drops_frames_and_never_blocks_the_reader(moving_video: Path) -> None:
    cam = config(source=str(moving_video), fps=60, loop=True)
    capture = CaptureThread(cam, queue_size=2)
    capture.start()
    try:
        assert wait_for(lambda: capture.stats().frames >= 60)
        stats = capture.stats()
        assert stats.state == LIVE and stats.dropped >= stats.frames - 2 - 1
        assert capture.frames.qsize() == 2
        first = capture.frames.get_nowait()
        assert first.image.shape == (240, 320, 3)
    finally:
        capture.stop()


def test_file_source_plays_at_the_camera_pace(moving_video: Path) -> None:
    capture = CaptureThread(config(source=str(moving_video), fps=15, loop=True), queue_size=1000)
    capture.start()
    try:
        time.sleep(2.0)
        stats = capture.stats()
        assert 20 <= stats.frames <= 40 and 10 <= stats.fps <= 20
    finally:
        capture.stop()


def test_mjpeg_camera_that_dies_is_reconnected(mjpeg_server: MjpegServer) -> None:
    states: list[str] = []
    capture = CaptureThread(config(source=mjpeg_server.url), on_state=lambda s, e: states.append(s))
    capture.start()
    try:
        assert wait_for(lambda: capture.stats().state == LIVE and capture.stats().frames > 10)
        frame = capture.frames.get(timeout=5)
        assert frame.image.shape == (240, 320, 3)
        mjpeg_server.stop()
        assert wait_for(lambda: capture.stats().state in (RECONNECTING, FAILED), timeout=20)
        assert "stopped sending" in capture.stats().last_error or "cannot open" in capture.stats().last_error
        mjpeg_server.start()
        before = capture.stats().frames
        assert wait_for(lambda: capture.stats().state == LIVE and capture.stats().frames > before + 5, timeout=40)
        assert capture.stats().reconnects >= 1
        assert states[:1] == [LIVE] and RECONNECTING in states and states[-1] == LIVE
    finally:
        capture.stop()


def test_a_source_that_never_opens_is_reported_failed(tmp_path: Path) -> None:
    capture = CaptureThread(config(source=str(tmp_path / "missing.avi")))
    capture.start()
    try:
        assert wait_for(lambda: capture.stats().state == RECONNECTING, timeout=5)
        assert "cannot open" in capture.stats().last_error
    finally:
        capture.stop()
    assert [backoff_s(n) for n in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, 30.0]


# --- privacy ---

@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def test_faces_are_blurred_on_table_cameras_and_nothing_else_changes(astronaut: np.ndarray) -> None:
    faces = FaceFinder().find(astronaut)
    assert len(faces) == 1
    x, y, w, h = faces[0]
    cam = config(kind="customer_table", width=512, height=512)
    out = Privacy(cam).apply(astronaut)
    face_before = astronaut[y:y + h, x:x + w].astype(int)
    face_after = out[y:y + h, x:x + w].astype(int)
    assert np.abs(face_before - face_after).mean() > 8  # the face is no longer the face
    assert FaceFinder().find(out) == []
    mask = np.ones(astronaut.shape[:2], bool)
    mask[max(0, y - h // 4 - 1):y + h + h // 4 + 1, max(0, x - w // 4 - 1):x + w + w // 4 + 1] = False
    assert np.array_equal(out[mask], astronaut[mask])  # outside the face, every pixel is as it was
    security = Privacy(config(kind="security", width=512, height=512)).apply(astronaut)
    assert np.array_equal(security, astronaut)


def _table_scene(astronaut: np.ndarray, frames: int = 75) -> list[np.ndarray]:
    """A 640x480 table: a seated guest's face (still, breathing in the sensor noise) and another walking past, two
    grey levels of noise on every frame as a real sensor has."""
    x, y, w, h = FaceFinder().find(astronaut)[0]
    face = astronaut[max(0, y - 40):y + h + 40, max(0, x - 40):x + w + 40]
    rng = np.random.default_rng(7)
    background = np.full((480, 640, 3), (70, 90, 110), np.uint8)
    background[300:] = (40, 60, 120)  # the table
    out = []
    for i in range(frames):
        image = background.copy()
        image[20:20 + face.shape[0], 420:420 + face.shape[1]] = face  # seated
        if 10 <= i < 70:  # walks past, from the left, 6 px a frame
            left = 6 * (i - 10)
            image[150:150 + face.shape[0], left:left + face.shape[1]] = face
        noise = rng.integers(-2, 3, image.shape, dtype=np.int16)
        out.append(np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return out


def test_change_gated_detection_blurs_every_face_a_whole_search_finds_at_less_cost(astronaut: np.ndarray) -> None:
    """Issue 21, item 7: on a table camera the detector searches only what changed since it last looked (and the
    whole picture once a second), yet no frame leaves a face that a search of the whole frame finds unblurred."""
    cam = config(kind="customer_table", width=640, height=480)
    privacy, finder = Privacy(cam), FaceFinder()
    shares, walker_frames = [], 0
    for image in _table_scene(astronaut):
        whole = finder.find(image)
        out = privacy.apply(image)
        shares.append(privacy.gate.searched_share)
        assert finder.find(out) == []  # nothing a whole search finds is left in what is shown and recorded
        for fx, fy, fw, fh in whole:  # and every face it finds was found by the gated search too
            assert any(abs(fx - gx) <= fw // 4 and abs(fy - gy) <= fh // 4 for gx, gy, _, _ in privacy.gate._boxes)
        walker_frames += len(whole) == 2
    assert walker_frames >= 55  # the scene does hold two faces while the guest walks past (60 frames)
    assert sum(shares) / len(shares) < 0.6  # and the detector searched well under the whole picture


def test_table_consent_shows_faces_for_at_most_30_minutes(astronaut: np.ndarray) -> None:
    privacy = Privacy(config(kind="customer_table", width=512, height=512))
    privacy.consent = consent("counter", 30, by="Nino", now=1_000.0)
    assert np.array_equal(privacy.apply(astronaut, now=1_000.0 + 29 * 60), astronaut)
    assert not np.array_equal(privacy.apply(astronaut, now=1_000.0 + 31 * 60), astronaut)
    with pytest.raises(ValueError, match="1-30 minutes"):
        consent("counter", 31, by="Nino")


def test_masks_black_out_their_rectangles_only() -> None:
    image = scene(3)
    out = apply_masks(image, ((10, 20, 100, 50),), (320, 240))
    assert (out[20:70, 10:110] == 0).all()
    rest = np.ones(image.shape[:2], bool)
    rest[20:70, 10:110] = False
    assert np.array_equal(out[rest], image[rest])
    big = cv2.resize(image, (640, 480))  # masks follow the frame's real size
    assert (apply_masks(big, ((10, 20, 100, 50),), (320, 240))[40:140, 20:220] == 0).all()


# --- recording ---

def test_segments_rotate_and_their_sha256_matches_the_file(tmp_path: Path) -> None:
    done: list[Segment] = []
    cam = config(segment_s=5, fps=10)
    recorder = Recorder(cam, tmp_path / "rec", done.append)
    start = time.time()
    for i in range(120):  # 12 s of video
        recorder.write(scene(i), start + i / 10)
    recorder.close()
    assert [s.frames for s in done] == [50, 50, 20]
    for seg in done:
        assert seg.sha256 == file_sha256(seg.path) and seg.bytes == seg.path.stat().st_size
        cap = cv2.VideoCapture(str(seg.path))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == seg.frames
        ok, image = cap.read()
        assert ok and image.shape == (240, 320, 3)
        cap.release()
    assert segments(tmp_path / "rec" / "counter") == [s.path for s in done]
    shot = snapshot(scene(1), tmp_path, "counter")
    assert cv2.imread(str(shot)).shape == (240, 320, 3)


def test_quota_deletes_the_oldest_while_recording_goes_on(tmp_path: Path) -> None:
    done: list[Segment] = []
    deleted: list[Path] = []
    cam = config(segment_s=5, fps=10, quota_mb=10, width=640, height=480)
    recorder = Recorder(cam, tmp_path / "rec", done.append, on_deleted=deleted.extend)
    rng = np.random.default_rng(7)
    noise = [rng.integers(0, 255, (480, 640, 3), dtype=np.uint8) for _ in range(4)]  # JPEG cannot shrink noise
    start = time.time()
    for i in range(600):  # 60 s, ~12 segments of ~2 MB+
        recorder.write(noise[i % 4], start + i / 10)
    recorder.close()
    folder = tmp_path / "rec" / "counter"
    kept = segments(folder)
    assert deleted and deleted[0] == done[0].path  # the oldest went first
    assert kept == [s.path for s in done if s.path not in deleted]  # the newest ones stay, in order
    assert done[-1].path in kept and done[-1].ended_at >= start + 59  # recording never stopped
    assert sum(p.stat().st_size for p in kept) <= 10 * 1024 * 1024 + max(s.bytes for s in done)


def test_retention_by_age(tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    for day, name in (("2026-01-01", "100000-000.avi"), ("2026-11-25", "100000-000.avi")):
        (folder / day).mkdir(parents=True)
        (folder / day / name).write_bytes(b"x" * 10)
    old = folder / "2026-01-01" / "100000-000.avi"
    old_time = time.time() - 30 * 86_400
    import os

    os.utime(old, (old_time, old_time))
    gone = enforce_retention(folder, retention_days=14, quota_bytes=10**9, now=time.time(), min_free_bytes=0)
    assert gone == [old] and not (folder / "2026-01-01").exists()
    assert segments(folder) == [folder / "2026-11-25" / "100000-000.avi"]


def test_hub_runs_two_cameras_with_privacy_and_recording(tmp_path: Path, moving_video: Path) -> None:
    done: list[Segment] = []
    motions: list[MotionEvent] = []
    hub = CameraHub(tmp_path / "rec", on_segment=done.append, on_motion=motions.append)
    cams = [config(id="door", source=str(moving_video), loop=True, segment_s=5, motion_cooldown_s=1,
                   motion_min_area=800),
            config(id="kitchen", kind="kitchen", source=str(moving_video), loop=True, recording=False,
                   masks=[[0, 0, 320, 60]])]
    hub.start(cams)
    try:
        assert hub.wait_live(10)
        assert wait_for(lambda: all(r.latest()[0] is not None for r in hub.runners.values()))
        time.sleep(1.5)
        kitchen, _ = hub.runners["kitchen"].latest()
        assert kitchen is not None and (kitchen[:60] == 0).all()
        statuses = {s.camera_id: s for s in hub.statuses()}
        assert statuses["door"].recording and not statuses["kitchen"].recording
        assert all(s.state == "live" and s.frames > 10 for s in statuses.values())
    finally:
        hub.stop()
    assert done and done[-1].camera_id == "door" and done[-1].sha256 == file_sha256(done[-1].path)
    assert motions
