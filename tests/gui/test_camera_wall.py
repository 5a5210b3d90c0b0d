"""The manager's camera wall over the demo cameras (generated video decoded by OpenCV): cashiers are refused in code,
tiles show live frames and their state, click to focus, recordings play and match the hash sealed in the ledger,
after-hours motion raises an alert the manager acknowledges."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from terminal.core.errors import NotAllowed
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QPoint, Qt, QWidget
from tests.gui.helpers import button_named, click, login, on_modal, type_into


def ledger(win: MainWindow, kind: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(win.data_dir / "terminal.db")
    try:
        rows = conn.execute("SELECT body FROM ledger_records WHERE type = ? ORDER BY seq", (kind,)).fetchall()
    finally:
        conn.close()
    return [json.loads(r[0])["payload"] for r in rows]


def test_a_cashier_cannot_open_any_camera(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Giorgi", "3333")
    assert not win.nav_buttons["cameras"].isVisible()
    win.go("cameras")
    assert win.current_page() != "cameras"
    cashier = win.session.user
    with pytest.raises(NotAllowed, match="managers and owners only"):
        win.cameras.visible_to(cashier)
    with pytest.raises(NotAllowed):
        win.cameras.runner(cashier, "counter")
    with pytest.raises(NotAllowed):
        win.cameras.alerts(cashier)
    with pytest.raises(NotAllowed):
        win.views["cameras"].refresh()


def test_manager_sees_the_wall_live_and_focuses_a_tile(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["cameras"])
    view = win.views["cameras"]
    assert win.current_page() == "cameras"
    tiles = [t for t in view.tiles if t.isVisible()]
    assert [t.camera_id for t in tiles] == ["counter", "kitchen"]
    qtbot.waitUntil(lambda: all(t.picture.pixmap() is not None and not t.picture.pixmap().isNull() for t in tiles)
                    and all("Live" in t.caption.text() for t in tiles), timeout=20_000)
    assert "fps" in tiles[0].caption.text() and "dropped" in tiles[0].caption.text()
    qtbot.mouseClick(tiles[1], qtbot_button())
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["kitchen"]
    qtbot.mouseClick(view.tiles[0], qtbot_button())
    assert len([t for t in view.tiles if t.isVisible()]) == 2
    click(qtbot, view.grid_buttons[1])
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["counter"]
    click(qtbot, view.grid_buttons[9])
    assert len([t for t in view.tiles if t.isVisible()]) == 2


def qtbot_button() -> Any:
    from terminal.gui.qt import Qt

    return Qt.MouseButton.LeftButton


def test_recordings_are_sealed_played_and_checked_and_alerts_acknowledged(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Nino", "2222")
    manager = win.session.user
    cams = win.cameras
    source = str(Path(win.data_dir) / "demo-video" / "counter.avi")
    closed = datetime.now() + timedelta(hours=2)  # the restaurant "opens" in two hours: now is after hours
    hours = f"{closed:%H}:00-{(closed + timedelta(hours=1)):%H}:00"
    cams.stop()
    cams.save(manager, {"id": "counter", "name": "Counter", "kind": "security", "source": source, "loop": True,
                        "width": 640, "height": 360, "fps": 15, "segment_s": 5, "motion_min_area": 500,
                        "motion_cooldown_s": 60, "opening_hours": hours})
    cams.start()
    qtbot.waitUntil(lambda: bool(ledger(win, "camera_segment")), timeout=30_000)
    record = ledger(win, "camera_segment")[0]
    files = cams.recordings_of(manager, "counter")
    assert files and files[-1]["sha256"] == record["sha256"]

    click(qtbot, win.nav_buttons["cameras"])
    view = win.views["cameras"]
    view.tabs.setCurrentIndex(1)
    view.rec_camera.setCurrentIndex(view.rec_camera.findData("counter"))
    view.load_recordings()
    assert view.rec_table.rowCount() >= 1
    view.rec_table.selectRow(view.rec_table.rowCount() - 1)  # the oldest: the one in the record above
    assert "matches" in view.verdict.text()  # checked as soon as it is chosen, and shown all along
    # The controls on a full segment (the first may be a short one, cut when the camera was set up again).
    qtbot.waitUntil(lambda: any(f["frames"] >= 30 for f in cams.recordings_of(manager, "counter")), timeout=30_000)
    view.load_recordings()
    files = cams.recordings_of(manager, "counter")
    full = next(i for i, f in enumerate(files) if f["frames"] >= 30)
    view.rec_table.selectRow(full)
    assert view.selected_file() == files[full]["file"] and "matches" in view.verdict.text()
    click(qtbot, view.play_button)
    qtbot.waitUntil(lambda: view.playback.pixmap() is not None and not view.playback.pixmap().isNull(),
                    timeout=10_000)
    assert view.play_button.text() == "Pause"
    click(qtbot, view.play_button)  # pause
    paused_at = view.player.position
    qtbot.wait(300)
    assert view.player.position == paused_at and "matches" in view.verdict.text()
    click(qtbot, view.forward_button)
    assert view.player.position == paused_at + 1
    click(qtbot, view.back_button)
    assert view.player.position == paused_at
    view.seek_to(view.player.frames // 2)  # the slider, dragged half way
    assert view.player.position == view.player.frames // 2 + 1 and view.position.value() == view.player.frames // 2
    view.speed.setCurrentIndex(view.speed.findData(4.0))
    click(qtbot, view.play_button)
    assert view.play_timer.interval() <= 1000 // 60 + 1  # 15 fps at 4×
    qtbot.waitUntil(lambda: "Played" in view.play_status.text(), timeout=20_000)

    out = Path(win.data_dir).parent / "usb-stick"
    out.mkdir()
    from terminal.gui.qt import QFileDialog

    original = QFileDialog.getExistingDirectory
    QFileDialog.getExistingDirectory = staticmethod(lambda *_a, **_k: str(out))  # the folder a manager picks
    try:
        click(qtbot, view.export_button)
    finally:
        QFileDialog.getExistingDirectory = original
    clip = next(out.glob("counter-*.hpv"))  # the sealed file as recorded: its hash is the ledger's
    proof = json.loads(clip.with_suffix(clip.suffix + ".proof.json").read_text())
    import hashlib

    import cv2

    assert proof["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest() == files[full]["sha256"]
    assert proof["camera_id"] == "counter" and proof["record_seq"] >= 1 and "Exported" in view.play_status.text()
    playable = cv2.VideoCapture(str(out / proof["playable_copy"]))  # and a copy any player opens
    ok, frame = playable.read()
    playable.release()
    assert ok and frame.shape[:2] == (360, 640)

    # Footage is sealed at rest: not one JPEG frame anywhere in the recordings folder.
    jfif = b"\xff\xd8\xff\xe0\x00\x10JFIF"
    recorded = [p for p in (Path(win.data_dir) / "recordings").rglob("*") if p.is_file()]
    assert recorded and all(p.suffix == ".hpv" for p in recorded)
    assert not any(jfif in p.read_bytes() for p in recorded)

    path = Path(view.selected_file())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # somebody edits the footage
    path.write_bytes(bytes(data))
    click(qtbot, view.verify_button)
    assert "does NOT match" in view.verdict.text()

    qtbot.waitUntil(lambda: bool(cams.alerts(manager)), timeout=20_000)
    win.status.show_status()
    assert win.status.alerts.isVisible() and "Camera alerts" in win.status.alerts.text()
    click(qtbot, win.nav_buttons["history"])
    click(qtbot, win.status.alerts)  # the status bar takes the manager to the alerts
    assert win.current_page() == "cameras" and view.tabs.currentIndex() == 2
    assert view.alert_table.rowCount() >= 1 and "Motion after hours" in view.alert_table.item(0, 2).text()
    assert view.tabs.tabText(2).startswith("Alerts (")
    assert view.alert_table.item(0, 4).text() == "—"  # HQ has not asked for its footage
    if view.incidents[0]["segments"]:  # HQ asks for it (as its updates would): the list says so
        from terminal.store import repos

        with cams.store.transaction() as conn:
            repos.want_evidence(conn, [view.incidents[0]["segments"][0]["sha256"]], "requested", 0)
        view.load_alerts()
        assert view.alert_table.item(0, 4).text() == "HQ asked for it: sending"
        win.status.status = None
        win.status.refresh()  # the status bar counts what waits to go
        qtbot.waitUntil(lambda: "footage for HQ: 1" in win.status.pending.text(), timeout=5_000)
        size = view.incidents[0]["segments"][0]["bytes"]
        assert (f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(1, size // 1024)} KB") in \
            win.status.pending.text()
        shots = Path(os.environ.get("HOTPOT_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "screenshots")
        win.grab().save(str(shots / "21-camera-alerts.png"))
        shots = Path(os.environ.get("HOTPOT_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "screenshots")
        win.grab().save(str(shots / "21-camera-alerts.png"))
    view.alert_table.selectRow(0)
    incident = view.selected_incidents()[0]
    if incident["segments"]:  # the footage that covers it, opened at its moment
        click(qtbot, view.footage_button)
        assert view.tabs.currentIndex() == 1 and view.selected_file() is not None
        qtbot.waitUntil(lambda: view.playback.pixmap() is not None and not view.playback.pixmap().isNull(),
                        timeout=10_000)
        view.tabs.setCurrentIndex(2)
    view.alert_table.selectAll()

    def note(dialog: QWidget) -> None:
        assert dialog.objectName() == "alert-note"
        type_into(qtbot, dialog.note, "test pattern, not a person")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Acknowledge"))

    on_modal(note)
    click(qtbot, view.ack_button)
    assert cams.alerts(manager) == [] and view.alert_table.rowCount() == 0
    assert ledger(win, "camera_alert")[0]["kind"] == "motion_after_hours"
    acks = ledger(win, "camera_alert_acknowledged")
    assert acks[0]["user"] == "Nino" and acks[0]["note"] == "test pattern, not a person"


def test_table_consent_unblurs_a_table_camera_for_30_minutes_and_is_recorded(qtbot: Any, window: MainWindow) -> None:
    win = window
    login(qtbot, win, "Nino", "2222")
    cams = win.cameras
    source = str(Path(win.data_dir) / "demo-video" / "counter.avi")
    cams.stop()
    cams.save(win.session.user, {"id": "table-1", "name": "Table 1", "kind": "customer_table", "source": source,
                                 "loop": True, "recording": False})
    cams.start()
    click(qtbot, win.nav_buttons["cameras"])
    view = win.views["cameras"]
    assert not view.consent_button.isVisible()
    tile = next(t for t in view.tiles if t.camera_id == "table-1")
    qtbot.mouseClick(tile, qtbot_button())
    assert view.consent_button.isVisible()
    click(qtbot, view.consent_button)
    assert "Consent until" in view.consent_button.text()
    runner = cams.runner(win.session.user, "table-1")
    assert runner.privacy.consent is not None and runner.privacy.consent.active()
    [record] = ledger(win, "table_consent")
    assert record["camera_id"] == "table-1" and record["minutes"] == 30 and record["user"] == "Nino"


def test_the_wall_keeps_its_controls_on_live_steps_through_cameras_and_remembers_the_layout(
        qtbot: Any, window: MainWindow) -> None:
    """Issue 21, item 3: grid buttons only on Live; in single view ◀ ▶ move round the cameras; tiles say the
    camera's name; each manager's layout is kept for their next visit."""
    win = window
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["cameras"])
    view = win.views["cameras"]
    assert all(b.isVisible() for b in view.grid_buttons.values())
    assert not view.prev_button.isVisible()  # two cameras on the wall: nothing to step through
    view.tabs.setCurrentIndex(1)
    assert not any(b.isVisible() for b in view.grid_buttons.values())
    view.tabs.setCurrentIndex(0)
    click(qtbot, view.grid_buttons[1])
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["counter"]
    click(qtbot, view.next_button)
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["kitchen"]
    click(qtbot, view.next_button)  # round the wall
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["counter"]
    click(qtbot, view.prev_button)
    shown = [t for t in view.tiles if t.isVisible()]
    assert [t.camera_id for t in shown] == ["kitchen"]
    qtbot.waitUntil(lambda: shown[0].caption.text().startswith("Kitchen"), timeout=20_000)

    win.switch_user()
    login(qtbot, win, "Owner", "1111")  # another manager's wall is their own
    click(qtbot, win.nav_buttons["cameras"])
    assert len([t for t in view.tiles if t.isVisible()]) == 2
    win.switch_user()
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["cameras"])
    assert [t.camera_id for t in view.tiles if t.isVisible()] == ["kitchen"]  # as she left it


def test_the_settings_editor_tests_the_source_and_applies_without_a_restart(qtbot: Any, window: MainWindow) -> None:
    """Issue 21, item 4: a manager edits a camera at the till; "Test connection" shows a picture from the source;
    a refused setting says why and saves nothing; a saved one is running at once, the other camera untouched."""
    win = window
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["cameras"])
    view = win.views["cameras"]
    hub = win.cameras.hub
    assert hub is not None and hub.wait_live(20)
    kitchen = hub.runners["kitchen"]
    click(qtbot, view.grid_buttons[1])  # the counter alone: its settings are one tap away
    assert view.settings_button.isVisible()

    def edit(dialog: QWidget) -> None:
        assert dialog.objectName() == "camera-settings"
        click(qtbot, dialog.test_button)  # type: ignore[attr-defined]
        canvas = dialog.preview  # type: ignore[attr-defined]
        assert canvas.image is not None and canvas.image.width() == 640  # the source's picture, to draw masks on
        area = canvas._area()  # a mask dragged over the picture's top-left quarter
        start = QPoint(int(area.x() + 2), int(area.y() + 2))
        end = QPoint(int(area.x() + area.width() / 2), int(area.y() + area.height() / 2))
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        qtbot.mouseMove(canvas, end)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        assert len(canvas.masks) == 1 and "1 privacy masks" in dialog.masks_label.text()  # type: ignore
        x, y, w, h = canvas.masks[0]
        fw, fh = canvas.frame_size  # in the camera's configured pixels (the demo's 640x360)
        assert x <= 4 and y <= 4 and abs(w - fw / 2) <= 6 and abs(h - fh / 2) <= 6
        grab = canvas.grab().toImage()  # drawn filled, as the recording will show it
        middle = grab.pixelColor(int((start.x() + end.x()) / 2), int((start.y() + end.y()) / 2))
        assert (middle.red(), middle.green(), middle.blue()) == (0, 0, 0)
        dialog.privacy.setCurrentIndex(dialog.privacy.findData("blur_faces"))  # type: ignore[attr-defined]
        dialog.upload_all.setChecked(True)  # type: ignore[attr-defined]
        shots = Path(os.environ.get("HOTPOT_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "screenshots")
        shots.mkdir(exist_ok=True)
        dialog.grab().save(str(shots / "21-camera-settings.png"))
        dialog.fields["opening_hours"].setText("25:00-26:00")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))
        assert "opening_hours" in dialog.error.text() and dialog.isVisible()  # type: ignore[attr-defined]
        dialog.fields["opening_hours"].setText("09:00-22:00")  # type: ignore[attr-defined]
        dialog.fields["name"].setText("Front counter")  # type: ignore[attr-defined]
        dialog.numbers["fps"].setValue(10)  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))

    records = len(ledger(win, "camera_configured"))
    on_modal(edit)
    click(qtbot, view.settings_button)
    assert len(ledger(win, "camera_configured")) == records + 1  # the refused try wrote nothing
    running = hub.runners["counter"].config
    assert (running.name, running.fps, f"{running.opening_hours.opens:%H:%M}") == ("Front counter", 10, "09:00")
    assert (len(running.masks), running.privacy, running.upload_all) == (1, "blur_faces", True)
    assert hub.runners["kitchen"] is kitchen  # the other camera went on as it was
    qtbot.waitUntil(lambda: hub.wait_live(1) and "Front counter" in next(
        t for t in view.tiles if t.isVisible()).caption.text(), timeout=20_000)

    def add(dialog: QWidget) -> None:
        dialog.fields["id"].setText("door")  # type: ignore[attr-defined]
        dialog.fields["name"].setText("Door")  # type: ignore[attr-defined]
        dialog.fields["source"].setText("/etc/passwd")  # type: ignore[attr-defined]
        click(qtbot, dialog.test_button)  # type: ignore[attr-defined]
        assert "video file source" in dialog.error.text()  # type: ignore[attr-defined]
        dialog.fields["source"].setText(str(Path(win.data_dir) / "demo-video" / "kitchen.avi"))  # type: ignore
        dialog.fields["opening_hours"].setText("")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Save"))

    on_modal(add)
    click(qtbot, view.add_camera_button)
    assert "door" in hub.runners and [t.camera_id for t in view.tiles if t.isVisible()] == ["door"]
    view.tabs.setCurrentIndex(1)  # its recordings: none yet, and the list says why
    view.rec_camera.setCurrentIndex(view.rec_camera.findData("door"))
    view.load_recordings()
    assert view.rec_table.rowCount() == 0 and "No recordings of Door yet" in view.verdict.text()
    view.tabs.setCurrentIndex(0)

    def remove(dialog: QWidget) -> None:  # the door camera is taken off again, after a question
        on_modal(lambda box: click(qtbot, button_named(box, "Remove")))
        click(qtbot, dialog.remove_button)  # type: ignore[attr-defined]

    on_modal(remove)
    click(qtbot, view.settings_button)
    assert "door" not in hub.runners and "door" not in {c.id for c in win.cameras.configs()}
    assert ledger(win, "camera_removed")[-1] == {"camera_id": "door", "user": "Nino"}
    qtbot.waitUntil(lambda: "door" not in [t.camera_id for t in view.tiles if t.isVisible()], timeout=5_000)
