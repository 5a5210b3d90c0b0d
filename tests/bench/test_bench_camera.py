"""Benchmark: what camera streams cost. 1 and 4 cameras (640x360, 15 fps, a looping demo file each), each read,
motion-checked, privacy-masked and recorded; and one customer_table camera with face detection on every frame.
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

SECONDS = float(os.environ.get("BENCH_CAMERA_S", "6"))


def _run(tmp: Path, video: Path, count: int, kind: str = "security") -> str:
    configs = [parse_camera_config({"id": f"cam-{i}", "name": f"Cam {i}", "kind": kind, "source": str(video),
                                    "loop": True, "width": 640, "height": 360, "fps": 15, "segment_s": 60,
                                    "masks": [[0, 0, 64, 36]]}) for i in range(count)]
    hub = CameraHub(tmp / f"rec-{count}-{kind}")
    hub.start(configs)
    try:
        assert hub.wait_live(10)
        time.sleep(1.0)  # warm-up
        before = {s.camera_id: s for s in hub.statuses()}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(SECONDS)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        after = hub.statuses()
    finally:
        hub.stop()
    frames = sum(s.frames - before[s.camera_id].frames for s in after) / wall
    dropped = sum(s.dropped - before[s.camera_id].dropped for s in after)
    return (f"{count} x {kind}: CPU {cpu / wall:.2f} cores ({cpu / wall / count:.2f} per camera), "
            f"{frames / count:.1f} fps per camera read and processed, {dropped} dropped in {wall:.0f} s")


def test_bench_camera_streams(tmp_path: Path) -> None:
    video = write_demo_video(tmp_path / "counter.avi", "counter")
    print()
    for count in (1, 4):
        print(f"[bench camera] {_run(tmp_path, video, count)}")
    print(f"[bench camera] {_run(tmp_path, video, 1, 'customer_table')} (face detection on every frame)")
