"""An RTSP camera for real (issue 21, item 8): GStreamer's RTSP server from Debian's packages on 127.0.0.1, serving
generated video; the camera goes live, the server is killed (the camera says it is reconnecting and keeps trying),
started again on the same port, and the camera is live again by itself, its frames real decoded pictures."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera.config import parse_camera_config
from camera.hub import CameraHub
from tests.hqkit import free_port

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "rtsp_server.py"


def start_server(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(["/usr/bin/python3", str(SERVER), str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        pytest.fail(f"the RTSP server did not start ({line.strip() or 'no output'}): run scripts/test-deps.sh")
    return proc


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_an_rtsp_camera_reconnects_after_its_server_dies(port: int, tmp_path: Path) -> None:
    server = start_server(port)
    config = parse_camera_config({"id": "door", "name": "Door", "kind": "security",
                                  "source": f"rtsp://127.0.0.1:{port}/cam", "width": 320, "height": 240,
                                  "fps": 15, "recording": False})
    hub = CameraHub(tmp_path / "recordings")
    try:
        hub.start([config])
        runner = hub.runners["door"]
        assert wait(lambda: runner.status().state == "live", 20), runner.status()
        image, _at = runner.latest()
        assert image is not None and image.shape[:2] == (240, 320) and image.std() > 5  # a picture, not a blank

        server.kill()
        server.wait(timeout=10)
        assert wait(lambda: runner.status().state in ("reconnecting", "failed"), 30), runner.status()
        down = runner.status()
        assert down.last_error  # it says why

        server = start_server(port)
        assert wait(lambda: runner.status().state == "live", 60), runner.status()
        back = runner.status()
        assert back.reconnects >= 1 and back.fps > 0
        _, before = runner.latest()
        assert wait(lambda: runner.latest()[1] > before, 5)  # fresh frames again
    finally:
        hub.stop()
        server.kill()
        server.wait(timeout=10)
