"""Benchmark: what camera streams cost. 1 and 4 cameras (640x480, 15 fps, a looping demo file each), each read,
motion-checked, privacy-masked and recorded; one customer_table camera with face detection (change-gated, and the
whole frame every frame for the ratio), on the demo and on a table scene with faces; 4 security + 1 table.
Prints CPU (fraction of one core) and frame rates kept / dropped. Issue 7 sets no figure; these are for the note.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_camera.py -s)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from camera.config import parse_camera_config
from camera.demo import write_demo_video
from camera.hub import CameraHub
from camera.privacy import ChangeGatedFaces
from camera.recorder import Sealer
from terminal.cameras import Cameras
from terminal.setup import create_terminal
from tests.conftest import TEST_PASSPHRASE

SECONDS = float(os.environ.get("BENCH_CAMERA_S", "6"))


def _table_video(path: Path) -> Path:
    """A table camera's picture, 640x480: a seated guest and one walking past (faces from skimage's astronaut)."""
    import cv2
    from skimage import data

    from tests.camera.test_camera import _table_scene

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15.0, (640, 480))
    for image in _table_scene(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)):
        writer.write(image)
    writer.release()
    return path


def _run(tmp: Path, video: Path, count: int, kind: str = "security", sealer: Sealer | None = None,
         tables: int = 0, table_video: Path | None = None) -> str:
    configs = [parse_camera_config({"id": f"cam-{i}", "name": f"Cam {i}", "kind": kind, "source": str(video),
                                    "loop": True, "width": 640, "height": 480, "fps": 15, "segment_s": 60,
                                    "masks": [[0, 0, 64, 48]]}) for i in range(count)]
    configs += [parse_camera_config({"id": f"table-{i}", "name": f"Table {i}", "kind": "customer_table",
                                     "source": str(table_video or video), "loop": True, "width": 640,
                                     "height": 480, "fps": 15, "segment_s": 60}) for i in range(tables)]
    count += tables
    hub = CameraHub(tmp / f"rec-{count}-{kind}-{sealer is not None}", sealer=sealer)
    hub.start(configs)
    try:
        assert hub.wait_live(10)
        time.sleep(1.0)  # warm-up
        before = {s.camera_id: s for s in hub.statuses()}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        ages: list[float] = []  # how old the picture the wall would show is: now minus when its frame was read
        end = time.perf_counter() + SECONDS
        while time.perf_counter() < end:
            now = time.time()
            ages += [now - runner.latest()[1] for runner in hub.runners.values()]
            time.sleep(0.02)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        after = hub.statuses()
    finally:
        hub.stop()
    frames = sum(s.frames - before[s.camera_id].frames for s in after) / wall
    dropped = sum(s.dropped - before[s.camera_id].dropped for s in after)
    ages.sort()
    p95 = ages[int(0.95 * (len(ages) - 1))] * 1000
    return (f"{count} x {kind}: CPU {cpu / wall:.2f} cores ({cpu / wall / count:.2f} per camera), "
            f"{frames / count:.1f} fps per camera read and processed, {dropped} dropped in {wall:.0f} s, "
            f"frame age p95 {p95:.0f} ms")


def test_bench_camera_streams(tmp_path: Path) -> None:
    video = write_demo_video(tmp_path / "counter.avi", "counter", size=(640, 480))
    table = _table_video(tmp_path / "table.avi")
    term, _ = create_terminal(tmp_path / "term", franchise="Bench", terminal_name="C1", demo=True,
                              passphrase=TEST_PASSPHRASE)
    term.close()
    cameras = Cameras(tmp_path / "term")  # its sealer: footage encrypted as it is written, as the app records
    print()
    try:
        for count in (1, 4):
            print(f"[bench camera] {_run(tmp_path, video, count)} (recorded as plain AVI)")
            print(f"[bench camera] {_run(tmp_path, video, count, sealer=cameras._seal)} (recorded sealed)")
        for source, what in ((video, "the demo counter, no faces"), (table, "a table with two guests' faces")):
            print(f"[bench camera] {_run(tmp_path, source, 1, 'customer_table', cameras._seal)} "
                  f"(face detection change-gated, sealed; {what})")
            gated_every = ChangeGatedFaces.FULL_EVERY
            ChangeGatedFaces.FULL_EVERY = 1  # the whole picture searched on every frame, as before item 7
            try:
                print(f"[bench camera] {_run(tmp_path, source, 1, 'customer_table', cameras._seal)} "
                      f"(face detection over the whole frame, every frame, sealed; {what})")
            finally:
                ChangeGatedFaces.FULL_EVERY = gated_every
        print(f"[bench camera] {_run(tmp_path, video, 4, sealer=cameras._seal, tables=1, table_video=table)} "
              "(4 security + 1 customer_table with faces, all sealed)")
    finally:
        cameras.close()


def test_bench_face_search_whole_versus_change_gated() -> None:
    """Issue 21, item 7: the face search of a table camera, per frame, searching the whole picture (as before) and
    only what changed (ChangeGatedFaces), on the same 640x480 table scene with a guest walking past."""
    import cv2
    from skimage import data

    from camera.privacy import FaceFinder
    from tests.camera.test_camera import _table_scene

    frames = _table_scene(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)) * 2  # a guest walks past 4 s in 5
    finder = FaceFinder()
    t0 = time.process_time()
    for image in frames:
        finder.find(image)
    whole = (time.process_time() - t0) / len(frames)
    gate = ChangeGatedFaces(FaceFinder())
    shares = []
    t0 = time.process_time()
    for image in frames:
        gate.find(image)
        shares.append(gate.searched_share)
    gated = (time.process_time() - t0) / len(frames)
    print(f"\n[bench camera] face search per 640x480 frame: whole {whole * 1000:.1f} ms, change-gated "
          f"{gated * 1000:.1f} ms ({gated / whole:.2f} of it; {sum(shares) / len(shares):.2f} of the pixels searched "
          f"on average); at 15 fps that is {whole * 15:.2f} vs {gated * 15:.2f} of a core")
