"""The terminal's camera service over a real terminal database: per-camera roles, refused settings change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.cameras import Cameras
from terminal.core.errors import InvalidInput, NotAllowed
from terminal.setup import create_terminal
from terminal.store import repos
from tests.camera.conftest import write_video
from tests.conftest import TEST_PASSPHRASE


def test_per_camera_roles_and_refused_settings(data_dir: Path, tmp_path: Path) -> None:
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="C1", demo=True, passphrase=TEST_PASSPHRASE)
    owner, manager = repos.get_user(term.store, "Owner"), repos.get_user(term.store, "Nino")
    cashier = repos.get_user(term.store, "Giorgi")
    (data_dir / "video").mkdir()
    video = write_video(data_dir / "video" / "v.avi", 30, moving=True)
    cams = Cameras(data_dir)
    try:
        cams.save(owner, {"id": "safe", "name": "Safe room", "kind": "security", "source": str(video),
                          "loop": True, "roles": ["owner"], "recording": False})
        cams.save(manager, {"id": "door", "name": "Door", "kind": "security", "source": str(video), "loop": True,
                            "recording": False})
        assert [c.id for c in cams.visible_to(owner)] == ["door", "safe"]
        assert [c.id for c in cams.visible_to(manager)] == ["door"]
        with pytest.raises(NotAllowed):
            cams.visible_to(cashier)
        with pytest.raises(NotAllowed):
            cams.save(cashier, {"id": "x", "name": "X", "kind": "kitchen", "source": str(video)})
        records = term.status()["records"]
        with pytest.raises(InvalidInput, match="'fps'"):
            cams.save(manager, {"id": "door", "name": "Door", "kind": "security", "source": str(video), "fps": 500})
        assert term.status()["records"] == records  # nothing written
        assert cams.configs()[0].fps == 15
        cams.start()
        assert cams.hub is not None and cams.hub.wait_live(10)
        assert cams.runner(owner, "safe").config.name == "Safe room"
        with pytest.raises(NotAllowed, match="may not watch camera safe"):
            cams.runner(manager, "safe")
    finally:
        cams.close()
        term.close()


@pytest.mark.parametrize(("source", "why"), [
    ("/etc/passwd", "full path inside"),
    ("{video}/../../../etc/passwd", "full path inside"),
    ("{video}/link.avi", "full path inside"),  # a link out of the video folder
    ("v.avi", "full path inside"),
    ("usb:999", "usb:N"),
    ("usb:\u0663", "usb:N"),
    ("videotestsrc ! appsink", "never a media pipeline"),
])
def test_camera_sources_are_kept_to_cameras_and_the_video_folder(data_dir: Path, source: str, why: str) -> None:
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="C1", demo=True, passphrase=TEST_PASSPHRASE)
    manager = repos.get_user(term.store, "Nino")
    video = data_dir / "video"
    video.mkdir()
    (video / "link.avi").symlink_to("/etc/passwd")
    cams = Cameras(data_dir)
    try:
        records = term.status()["records"]
        with pytest.raises(InvalidInput, match=why):
            cams.save(manager, {"id": "door", "name": "Door", "kind": "security",
                                "source": source.format(video=video)})
        assert term.status()["records"] == records and cams.configs() == []
    finally:
        cams.close()
        term.close()


def test_a_reader_thread_that_dies_on_a_fault_reports_the_camera_failed() -> None:
    """A fault in the reader (here the opener raising) leaves the camera failed with its reason, not 'starting'."""
    import time

    from camera.capture import FAILED, CaptureThread
    from camera.config import parse_camera_config

    def broken_opener(_: object) -> object:
        raise RuntimeError("driver fault")

    states: list[tuple[str, str]] = []
    config = parse_camera_config({"id": "door", "name": "Door", "kind": "security", "source": "usb:0"})
    thread = CaptureThread(config, on_state=lambda state, error: states.append((state, error)),
                           opener=broken_opener)  # type: ignore[arg-type]
    thread.start()
    deadline = time.monotonic() + 10
    while thread.state != FAILED and time.monotonic() < deadline:
        time.sleep(0.01)
    state = thread.state
    thread.stop()
    assert state == FAILED and (FAILED, states[0][1]) == states[0] and "driver fault" in states[0][1], states
