"""Camera alerts a manager can act on (issue 21, item 1): motion from generated video, through the real detector, at
03:00 with the restaurant closed. Repeats from one camera join one incident (how many, from when to when, one alert
id in every ledger record); while a shift is open the same motion raises nothing; an incident links to the segments
that hold its footage; acknowledging one or all carries a note into the ledger."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2

from camera.config import parse_camera_config
from camera.motion import MotionDetector
from terminal.cameras import Cameras
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from tests.camera.conftest import write_video
from tests.conftest import TEST_PASSPHRASE

THREE_AM = time.mktime((2026, 11, 26, 3, 0, 0, 0, 0, -1))


def motion_at_night(cams: Cameras, video: Path, start: float, seconds: int = 12) -> None:
    """The camera's configuration, its real motion detector fed a video of something moving, events to Cameras."""
    config = parse_camera_config({"id": "door", "name": "Door", "kind": "security", "source": str(video),
                                  "motion_min_area": 800, "motion_cooldown_s": 2, "opening_hours": "10:00-23:00"})
    detector = MotionDetector(config, cams._motion)  # what the hub wires up for a running camera
    frames = 0
    while frames < seconds * 15:
        cap = cv2.VideoCapture(str(video))
        while frames < seconds * 15:
            ok, image = cap.read()
            if not ok:
                break
            detector.process(image, start + frames / 15)
            frames += 1
        cap.release()


def ledger(term: Terminal, kind: str) -> list[dict[str, object]]:
    from sync.protocol.records import decode_record

    rows = term.store.all("SELECT body FROM ledger_records WHERE type = ? ORDER BY seq", (kind,))
    return [decode_record(bytes(r[0])).payload for r in rows]


def test_after_hours_motion_groups_into_one_incident_and_an_open_shift_silences_it(data_dir: Path) -> None:
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="C1", demo=True, passphrase=TEST_PASSPHRASE)
    manager = repos.get_user(term.store, "Nino")
    video = write_video(data_dir / "moving.avi", 90, moving=True)
    cams = Cameras(data_dir)
    try:
        motion_at_night(cams, video, THREE_AM)
        incidents = cams.alerts(manager)
        events = ledger(term, "camera_alert")
        assert len(incidents) == 1 and len(events) >= 3  # a cooldown of 2 s over 12 s of motion
        incident = incidents[0]
        assert incident["count"] == len(events) and {e["alert_id"] for e in events} == {incident["id"]}
        assert incident["at_ms"] == events[0]["at_ms"] and incident["last_at_ms"] == events[-1]["at_ms"]

        # Its footage: the segment that covers it (recorded by the camera; here its row and file as the recorder
        # leaves them), and not one from the afternoon.
        day = cams.recordings / "door" / "2026-11-26"
        day.mkdir(parents=True)
        for name, start_ms in (("0300.mjpeg", int(THREE_AM * 1000) - 60_000), ("1500.mjpeg", int(THREE_AM * 1000)
                                                                              + 12 * 3_600_000)):
            (day / name).write_bytes(b"footage")
            with term.store.transaction() as conn:
                repos.insert_camera_segment(conn, f"door/2026-11-26/{name}", "door", start_ms, start_ms + 120_000,
                                            10, 7, "00" * 32)
        assert [s["path"] for s in cams.alerts(manager)[0]["segments"]] == ["door/2026-11-26/0300.mjpeg"]

        # Three hours later: a new incident (more than 30 minutes since the last event).
        motion_at_night(cams, video, THREE_AM + 3 * 3600, seconds=4)
        assert [i["count"] >= 1 for i in cams.alerts(manager)] == [True, True]

        # A shift is open (staff in early): the same motion raises nothing.
        before = len(ledger(term, "camera_alert"))
        term.open_shift(manager, 0)  # type: ignore[arg-type]
        motion_at_night(cams, video, THREE_AM + 4 * 3600)
        assert len(ledger(term, "camera_alert")) == before

        latest = cams.alerts(manager)[0]
        cams.acknowledge(manager, latest["id"], "cleaner, expected")
        assert cams.acknowledge_all(manager, "checked the footage") == 1
        assert cams.alerts(manager) == []
        acks = ledger(term, "camera_alert_acknowledged")
        assert [(a["alert_id"], a["note"]) for a in acks] == [(latest["id"], "cleaner, expected"),
                                                             (incident["id"], "checked the footage")]
        kept = {r["id"]: r["note"] for r in cams.alerts(manager, include_acknowledged=True)}
        assert kept == {latest["id"]: "cleaner, expected", incident["id"]: "checked the footage"}
        assert json.dumps(acks)  # plain data, as sealed
    finally:
        cams.close()
        term.close()
