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
    video = write_video(tmp_path / "v.avi", 30, moving=True)
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
