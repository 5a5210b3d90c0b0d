"""The manager's camera wall: live tiles in a 1, 4 or 9 grid (click a tile to focus it, click again to go back),
each with its state, frame rate and dropped frames; the recordings browser that plays a segment and checks it
against its ledger hash; the alerts list with acknowledge. Frames arrive from the camera threads; the screen only
reads the newest one on a timer and never waits on a camera."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from camera.config import KINDS, CameraConfig
from camera.recorder import SEALED_SUFFIX, SegmentPlayer
from terminal.cameras import Cameras, require_camera_access
from terminal.core.errors import UserFacingError
from terminal.gui.i18n import tr, tr_error
from terminal.gui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QImage,
    QLabel,
    QLineEdit,
    QPixmap,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    Qt,
    QTabBar,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from terminal.gui.session import Session
from terminal.gui.widgets import button, dialog_buttons, form_layout, label, panel, row_table, show_error

LAYOUTS = (1, 4, 9)
KIND_NAMES = {"security": "Security", "kitchen": "Kitchen", "customer_table": "Customer table"}
SPEEDS = (0.5, 1.0, 2.0, 4.0)
STATE_NAMES = {"starting": "Starting", "live": "Live", "reconnecting": "Reconnecting", "failed": "Failed",
               "stopped": "Stopped"}


def to_pixmap(image: np.ndarray, width: int, height: int) -> QPixmap:
    h, w = image.shape[:2]
    qimage = QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888).copy()
    return QPixmap.fromImage(qimage).scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation)


class Tile(QWidget):
    clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.camera_id = ""
        self.shown_at = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.picture = QLabel()
        self.picture.setObjectName("tile")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(160, 90)
        self.caption = label("", "subtitle")
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)

    def mousePressEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        if self.camera_id:
            self.clicked.emit(self.camera_id)


class NoteDialog(QDialog):
    """A note for an acknowledgement (what it was, what was done); it may stay empty."""

    def __init__(self, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.setObjectName("alert-note")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.addWidget(label(title, "title"))
        self.note = QLineEdit()
        self.note.setObjectName("alert-note-text")
        self.note.setMaxLength(200)
        self.note.setPlaceholderText(tr("What it was, what was done (optional)"))
        layout.addWidget(self.note)
        layout.addWidget(dialog_buttons(self, tr("Acknowledge"), self.accept))


class CameraSettingsDialog(QDialog):
    """A camera's settings as a manager edits them: checked by the same rules as `hotpot-terminal camera set`,
    tried on the source before saving ("Test connection" shows a picture), applied to the running wall at once.
    Privacy masks and extra settings the form does not show are kept as they were."""

    def __init__(self, parent: QWidget | None, view: CameraView, config: CameraConfig | None) -> None:
        super().__init__(parent)
        self.setObjectName("camera-settings")
        self.setWindowTitle(tr("Camera settings"))
        self.view, self.config = view, config
        current: dict[str, Any] = config.to_dict() if config is not None else {
            "id": "", "name": "", "kind": "security", "source": "", "width": 640, "height": 480, "fps": 15,
            "recording": True, "segment_s": 60, "retention_days": 14, "quota_mb": 2048, "motion_min_area": 1500,
            "motion_cooldown_s": 30, "opening_hours": "", "roles": ["manager", "owner"]}
        self.base = current
        root = QHBoxLayout(self)
        form = form_layout()
        self.fields: dict[str, QLineEdit] = {}
        for key, name in (("id", tr("Code")), ("name", tr("Name")), ("source", tr("Source")),
                          ("opening_hours", tr("Opening hours"))):
            edit = QLineEdit(str(current.get(key) or ""))
            edit.setObjectName(f"camera-{key}")
            self.fields[key] = edit
            form.addRow(name, edit)
        self.fields["id"].setReadOnly(config is not None)
        self.fields["source"].setPlaceholderText("rtsp://10.0.0.7/live · usb:0 · /…/video/door.avi")
        self.fields["opening_hours"].setPlaceholderText("10:00-23:00")
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(tr(KIND_NAMES[kind]), kind)
        self.kind.setCurrentIndex(max(0, self.kind.findData(current["kind"])))
        form.addRow(tr("Kind"), self.kind)
        self.numbers: dict[str, QSpinBox] = {}
        for key, name, low, high in (("width", tr("Width"), 64, 7680), ("height", tr("Height"), 48, 4320),
                                     ("fps", tr("Frames a second"), 1, 60),
                                     ("segment_s", tr("Segment length (s)"), 5, 3600),
                                     ("retention_days", tr("Keep recordings (days)"), 1, 365),
                                     ("quota_mb", tr("Disk quota (MB)"), 10, 10_000_000),
                                     ("motion_min_area", tr("Smallest motion (pixels)"), 0, 10_000_000),
                                     ("motion_cooldown_s", tr("Quiet after motion (s)"), 0, 86_400)):
            box = QSpinBox()
            box.setRange(low, high)
            box.setValue(int(current.get(key) or low))
            box.setObjectName(f"camera-{key}")
            self.numbers[key] = box
            form.addRow(name, box)
        self.recording = QCheckBox(tr("Record"))
        self.recording.setChecked(bool(current.get("recording", True)))
        form.addRow("", self.recording)
        self.owner_only = QCheckBox(tr("Owners only"))
        self.owner_only.setChecked(list(current.get("roles") or []) == ["owner"])
        form.addRow("", self.owner_only)
        left = QVBoxLayout()
        left.addLayout(form)
        self.error = label("", "error", wrap=True)
        left.addWidget(self.error)
        left.addWidget(dialog_buttons(self, tr("Save"), self.save))
        root.addLayout(left, 3)
        right = QVBoxLayout()
        self.preview = QLabel()
        self.preview.setObjectName("tile")
        self.preview.setMinimumSize(320, 200)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right.addWidget(self.preview, 1)
        self.test_button = button(tr("Test connection"), "", self.test)
        self.test_button.setMinimumHeight(44)
        right.addWidget(self.test_button)
        root.addLayout(right, 2)
        self.saved: CameraConfig | None = None

    def settings(self) -> dict[str, Any]:
        out = {**self.base, **{k: e.text().strip() for k, e in self.fields.items()},
               **{k: b.value() for k, b in self.numbers.items()}, "kind": self.kind.currentData(),
               "recording": self.recording.isChecked(),
               "roles": ["owner"] if self.owner_only.isChecked() else ["manager", "owner"]}
        if not out["opening_hours"]:
            out.pop("opening_hours")
        return out

    def test(self) -> None:
        self.error.clear()
        try:
            image = self.view.cameras.test_source(self.view.session.user, self.settings())
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            self.preview.clear()
            return
        self.preview.setPixmap(to_pixmap(image, self.preview.width(), self.preview.height()))

    def save(self) -> None:
        try:
            self.saved = self.view.cameras.save(self.view.session.user, self.settings())
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.accept()


class CameraView(QWidget):
    def __init__(self, session: Session, cameras: Cameras) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.cameras = cameras
        self.layout_size = 4
        self.focused: str | None = None
        self.player: SegmentPlayer | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        head = QHBoxLayout()
        self.title = label("", "title")
        head.addWidget(self.title)
        self.tabs = QTabBar()
        for _ in range(3):
            self.tabs.addTab("")
        self.tabs.currentChanged.connect(self._tab)
        head.addWidget(self.tabs)
        head.addStretch(1)
        self.consent_button = button("", "small", self.grant_consent)
        head.addWidget(self.consent_button)
        self.add_camera_button = button("", "small", lambda: self.edit_camera(None))
        self.settings_button = button("", "small", self.edit_shown_camera)
        for b in (self.add_camera_button, self.settings_button):
            b.setMinimumHeight(40)
            head.addWidget(b)
        head.addSpacing(12)
        self.prev_button = button("◀", "small", lambda: self.step(-1))
        self.next_button = button("▶", "small", lambda: self.step(+1))
        for b in (self.prev_button, self.next_button):
            b.setMinimumSize(48, 40)
            head.addWidget(b)
        self.grid_buttons = {}
        for n in LAYOUTS:
            b = button(f"{n}", "small", lambda n=n: self.set_layout(n))
            b.setCheckable(True)
            b.setMinimumSize(44, 40)
            self.grid_buttons[n] = b
            head.addWidget(b)
        self.pref_user: int | None = None  # whose remembered layout is applied
        root.addLayout(head)
        self.pages = QStackedWidget()
        root.addWidget(self.pages, 1)

        wall = QWidget()
        self.grid = QGridLayout(wall)
        self.grid.setSpacing(8)
        self.tiles = [Tile() for _ in range(9)]
        for tile in self.tiles:
            tile.clicked.connect(self.toggle_focus)
        self.empty = label("", "subtitle", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid.addWidget(self.empty, 0, 0)
        self.pages.addWidget(wall)

        rec = QWidget()
        rl = QHBoxLayout(rec)
        left = QVBoxLayout()
        self.rec_camera = QComboBox()
        self.rec_camera.currentIndexChanged.connect(lambda _i: self.load_recordings())
        left.addWidget(self.rec_camera)
        self.rec_table = row_table(4, "recordings")
        self.rec_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.rec_table.itemSelectionChanged.connect(self._segment_chosen)
        left.addWidget(self.rec_table, 1)
        rl.addLayout(left, 2)
        box, pl = panel()
        self.playback = QLabel()
        self.playback.setObjectName("tile")
        self.playback.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.playback.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.playback.setMinimumSize(320, 180)
        pl.addWidget(self.playback, 1)
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setObjectName("seek")
        self.position.setEnabled(False)
        self.position.sliderMoved.connect(self.seek_to)
        pl.addWidget(self.position)
        self.play_status = label("", "subtitle", wrap=True)  # where playback is
        pl.addWidget(self.play_status)
        self.verdict = label("", "subtitle", wrap=True)  # the ledger check of the selected file, always shown
        self.verdict.setObjectName("verdict")
        pl.addWidget(self.verdict)
        controls = QHBoxLayout()
        self.back_button = button("◀▮", "", lambda: self.step_frame(-1))
        self.play_button = button("", "primary", self.play_or_pause)
        self.forward_button = button("▮▶", "", lambda: self.step_frame(+1))
        self.speed = QComboBox()
        for factor in SPEEDS:
            self.speed.addItem(f"{factor:g}×", factor)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda _i: self._pace())
        for w in (self.back_button, self.play_button, self.forward_button):
            w.setMinimumHeight(44)
            controls.addWidget(w, 2 if w is self.play_button else 1)
        controls.addWidget(self.speed)
        pl.addLayout(controls)
        row = QHBoxLayout()
        self.verify_button = button("", "", self.verify_selected)
        self.export_button = button("", "", self.export_selected)
        row.addWidget(self.verify_button)
        row.addWidget(self.export_button)
        pl.addLayout(row)
        rl.addWidget(box, 3)
        self.pages.addWidget(rec)

        alerts = QWidget()
        al = QVBoxLayout(alerts)
        self.alert_table = row_table(4, "alerts", single=False)
        self.alert_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.alert_table.itemSelectionChanged.connect(self._alert_buttons)
        al.addWidget(self.alert_table, 1)
        alert_row = QHBoxLayout()
        self.footage_button = button("", "", self.play_alert_footage)
        self.ack_button = button("", "primary", self.acknowledge_selected)
        self.ack_all_button = button("", "", self.acknowledge_all)
        for b in (self.footage_button, self.ack_button, self.ack_all_button):
            b.setMinimumHeight(48)
            alert_row.addWidget(b)
        al.addLayout(alert_row)
        self.pages.addWidget(alerts)
        self.incidents: list[dict[str, Any]] = []

        self.timer = QTimer(self)
        self.timer.setInterval(100)  # 10 pictures a second per tile is plenty for a wall
        self.timer.timeout.connect(self.tick)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self.play_tick)
        self.retranslate()

    # --- live wall ---

    def visible(self) -> list[Any]:
        return self.cameras.visible_to(self.session.user)

    def refresh(self) -> None:
        require_camera_access(self.session.user)  # a cashier never gets this far, whatever the screen
        cams = self.visible()
        user = self.session.user
        if user is not None and user.id != self.pref_user:  # each manager's wall as they left it
            self.pref_user = user.id
            saved = self.session.term.user_pref(user, "camera_wall") or ""
            kind, _, value = saved.partition(":")
            self.layout_size, self.focused = 4, None  # unless they left it otherwise
            if kind == "grid" and value.isdigit() and int(value) in LAYOUTS:
                self.layout_size, self.focused = int(value), None
            elif kind == "focus" and any(c.id == value for c in cams):
                self.focused = value
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.hide()
        self.empty.setVisible(not cams)
        shown = [c for c in cams if c.id == self.focused] if self.focused else cams[: self.layout_size]
        side = 1 if len(shown) <= 1 else (2 if len(shown) <= 4 else 3)
        for i, cam in enumerate(shown):
            tile = self.tiles[i]
            tile.camera_id = cam.id
            tile.shown_at = 0.0
            self.grid.addWidget(tile, i // side, i % side)
            tile.show()
        for n, b in self.grid_buttons.items():
            b.setChecked(n == self.layout_size and self.focused is None)
        focused = next((c for c in cams if c.id == self.focused), None)
        live = self.tabs.currentIndex() == 0
        self.consent_button.setVisible(live and focused is not None and focused.kind == "customer_table")
        single = len(shown) == 1 and len(cams) > 1  # one camera on the wall: the others one tap away
        for b in (self.prev_button, self.next_button):
            b.setVisible(live and single)
        self.add_camera_button.setVisible(live)
        self.settings_button.setVisible(live and len(shown) == 1)
        for b in self.grid_buttons.values():
            b.setVisible(live)
        self.rec_camera.blockSignals(True)
        current = self.rec_camera.currentData()
        self.rec_camera.clear()
        for cam in cams:
            self.rec_camera.addItem(cam.name, cam.id)
        if current is not None and self.rec_camera.findData(current) >= 0:
            self.rec_camera.setCurrentIndex(self.rec_camera.findData(current))
        self.rec_camera.blockSignals(False)
        self.load_alerts()
        self.tick()

    def set_layout(self, n: int) -> None:
        self.layout_size = n
        self.focused = None
        self._remember()
        self.refresh()

    def toggle_focus(self, camera_id: str) -> None:
        self.focused = None if self.focused == camera_id else camera_id
        self._remember()
        self.refresh()

    def edit_shown_camera(self) -> None:
        shown = [t.camera_id for t in self.tiles if t.isVisible()]
        config = next((c for c in self.visible() if shown and c.id == shown[0]), None)
        if config is not None:
            self.edit_camera(config)

    def edit_camera(self, config: CameraConfig | None) -> None:
        dialog = CameraSettingsDialog(self, self, config)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved is not None:
            self.focused = dialog.saved.id
            self._remember()
            self.refresh()

    def step(self, by: int) -> None:
        """In single view, the next (or previous) camera, round the wall."""
        cams = self.visible()
        if not cams:
            return
        current = self.focused or next((t.camera_id for t in self.tiles if t.isVisible()), cams[0].id)
        ids = [c.id for c in cams]
        index = ids.index(current) if current in ids else 0
        self.focused = ids[(index + by) % len(ids)]
        self._remember()
        self.refresh()

    def _remember(self) -> None:
        user = self.session.user
        if user is not None:
            value = f"focus:{self.focused}" if self.focused else f"grid:{self.layout_size}"
            self.session.term.set_user_pref(user, "camera_wall", value)

    def grant_consent(self) -> None:
        """The guests at the focused table agree to be seen unblurred for 30 minutes (recorded in the ledger)."""
        if self.focused is None:
            return
        try:
            given = self.cameras.grant_consent(self.session.user, self.focused, 30)
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.consent_button.setText(tr("Consent until {time}", time=datetime.fromtimestamp(given.until)
                                       .strftime("%H:%M")))

    def tick(self) -> None:
        if not self.isVisible() or self.session.user is None:
            return
        statuses = {s.camera_id: s for s in self.cameras.statuses(self.session.user)}
        for tile in self.tiles:
            if not tile.isVisible() or not tile.camera_id:
                continue
            status = statuses.get(tile.camera_id)
            runner = self.cameras.hub.runners.get(tile.camera_id) if self.cameras.hub else None
            if runner is not None:
                image, at = runner.latest()
                if image is not None and at != tile.shown_at:
                    tile.picture.setPixmap(to_pixmap(image, tile.picture.width(), tile.picture.height()))
                    tile.shown_at = at
            if status is None:
                name = next((c.name for c in self.cameras.configs() if c.id == tile.camera_id), tile.camera_id)
                tile.caption.setText(tr("{name}: not running", name=name))
                continue
            text = tr("{name} · {state} · {fps} fps · dropped {dropped}", name=status.name,
                      state=tr(STATE_NAMES.get(status.state, status.state)), fps=f"{status.fps:.0f}",
                      dropped=status.dropped)
            if status.recording:
                text += " · ● " + tr("recording")
            tile.caption.setText(text)

    # --- recordings ---

    def load_recordings(self) -> None:
        camera_id = self.rec_camera.currentData()
        rows = [] if camera_id is None else self.cameras.recordings_of(self.session.user, str(camera_id))
        self.rec_table.setRowCount(len(rows))
        for r, seg in enumerate(rows):
            start = datetime.fromtimestamp(seg["started_at_ms"] / 1000)
            length = (seg["ended_at_ms"] - seg["started_at_ms"]) / 1000
            for c, text in enumerate((f"{start:%Y-%m-%d %H:%M:%S}", f"{length:.0f} s",
                                      f"{seg['bytes'] / 1e6:.1f} MB", seg["sha256"][:12])):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, seg["file"])
                self.rec_table.setItem(r, c, cell)
        if rows:
            self.rec_table.selectRow(0)
        for b in (self.play_button, self.verify_button, self.export_button, self.back_button, self.forward_button):
            b.setEnabled(bool(rows))
        if not rows:
            self.verdict.setText("")

    def selected_file(self) -> str | None:
        rows = self.rec_table.selectionModel().selectedRows()
        return None if not rows else str(self.rec_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))

    def _segment_chosen(self) -> None:
        """Another segment: it is checked against the ledger at once, and plays if something was playing."""
        playing = self.play_timer.isActive()
        self.stop_playing()
        if self.selected_file() is None:
            return
        self.verify_selected()
        if playing:
            self.play_selected()

    def _open(self) -> bool:
        path = self.selected_file()
        if path is None:
            return False
        if self.player is not None and str(self.player.path) == path:
            return True
        self.stop_playing()
        try:
            plaintext = None
            if path.endswith(SEALED_SUFFIX):  # sealed at rest: decrypted here, in memory only
                plaintext = self.cameras.open_recording(self.session.user, path, self.session.wallet)
            self.player = SegmentPlayer(Path(path), plaintext)
        except UserFacingError as exc:
            self.play_status.setText(tr_error(exc))
            return False
        except OSError as exc:
            self.play_status.setText(str(exc))
            return False
        self.position.setRange(0, max(0, self.player.frames - 1))
        self.position.setEnabled(True)
        return True

    def play_selected(self, at_ms: int = 0) -> None:
        self.stop_playing()
        if not self._open():
            return
        assert self.player is not None
        if at_ms:
            self.player.seek(int(at_ms / 1000 * self.player.fps))
        self._pace()
        self.play_timer.start()
        self.play_button.setText(tr("Pause"))

    def play_or_pause(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self.play_button.setText(tr("Play"))
        elif self.player is not None and self.player.position < self.player.frames:
            self._pace()
            self.play_timer.start()
            self.play_button.setText(tr("Pause"))
        else:
            self.play_selected()

    def _pace(self) -> None:
        if self.player is not None:
            factor = float(self.speed.currentData() or 1.0)
            self.play_timer.setInterval(max(1, int(1000 / (self.player.fps * factor))))

    def step_frame(self, by: int) -> None:
        """One frame on or back, paused."""
        if not self._open():
            return
        assert self.player is not None
        self.play_timer.stop()
        self.play_button.setText(tr("Play"))
        if by < 0:
            self.player.seek(self.player.position - 2)  # the frame before the one on screen
        self._show_next()

    def seek_to(self, frame: int) -> None:
        if self.player is None:
            return
        self.player.seek(frame)
        self._show_next()

    def _show_next(self) -> bool:
        assert self.player is not None
        image = self.player.read()
        if image is None:
            return False
        self.playback.setPixmap(to_pixmap(image, self.playback.width(), self.playback.height()))
        self.play_status.setText(tr("Frame {n} of {total}", n=self.player.position, total=self.player.frames))
        self.position.blockSignals(True)
        self.position.setValue(self.player.position - 1)
        self.position.blockSignals(False)
        return True

    def play_tick(self) -> None:
        if self.player is None:
            return
        if not self._show_next():
            self.play_status.setText(tr("Played {n} frames.", n=self.player.position))
            self.play_timer.stop()
            self.play_button.setText(tr("Play"))

    def stop_playing(self) -> None:
        self.play_timer.stop()
        self.play_button.setText(tr("Play"))
        self.position.setEnabled(False)
        if self.player is not None:
            self.player.close()
            self.player = None

    def export_selected(self) -> None:
        """The clip and its proof (hash, ledger record, block) to a folder or a USB stick."""
        path = self.selected_file()
        if path is None:
            return
        folder = QFileDialog.getExistingDirectory(self, tr("Export the clip to…"))
        if not folder:
            return
        try:
            target = self.cameras.export_segment(self.session.user, path, Path(folder), self.session.wallet)
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.play_status.setText(tr("Exported {file} with its proof.", file=target.name))

    def verify_selected(self) -> None:
        path = self.selected_file()
        if path is None:
            return
        ok = self.cameras.verify_segment(self.session.user, path)
        self.verdict.setText(tr("The file matches the hash sealed in the ledger.") if ok else
                             tr("The file does NOT match the hash sealed in the ledger."))
        self.verdict.setObjectName("ok" if ok else "error")
        self.verdict.setStyleSheet("")

    # --- alerts ---

    def load_alerts(self) -> None:
        """Open incidents, newest first: when (first and last event), the camera by name, what, how many times."""
        self.incidents = self.cameras.alerts(self.session.user)
        names = {c.id: c.name for c in self.cameras.configs()}
        self.alert_table.setRowCount(len(self.incidents))
        for r, alert in enumerate(self.incidents):
            first = datetime.fromtimestamp(alert["at_ms"] / 1000)
            last = datetime.fromtimestamp((alert["last_at_ms"] or alert["at_ms"]) / 1000)
            when = f"{first:%Y-%m-%d %H:%M}" + (f"–{last:%H:%M}" if last - first >= timedelta(minutes=1) else "")
            kind = tr("Motion after hours") if alert["kind"] == "motion_after_hours" else tr("Camera failed")
            times = tr("{n} times", n=alert["count"]) if alert["count"] > 1 else tr("once")
            for c, text in enumerate((when, names.get(alert["camera_id"], alert["camera_id"]), kind, times)):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, alert["id"])
                self.alert_table.setItem(r, c, cell)
        self.tabs.setTabText(2, tr("Alerts ({n})", n=len(self.incidents)))
        self._alert_buttons()

    def selected_incidents(self) -> list[dict[str, Any]]:
        rows = sorted({i.row() for i in self.alert_table.selectionModel().selectedRows()})
        return [self.incidents[r] for r in rows if r < len(self.incidents)]

    def _alert_buttons(self) -> None:
        chosen = self.selected_incidents()
        self.ack_button.setEnabled(bool(chosen))
        self.ack_all_button.setEnabled(bool(self.incidents))
        self.footage_button.setEnabled(len(chosen) == 1 and bool(chosen[0]["segments"]))

    def _note(self, title: str) -> str | None:
        dialog = NoteDialog(self, title)
        return dialog.note.text() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def acknowledge_selected(self) -> None:
        chosen = self.selected_incidents()
        if not chosen:
            return
        note = self._note(tr("Acknowledge {n} alert(s)", n=len(chosen)))
        if note is None:
            return
        try:
            for incident in chosen:
                self.cameras.acknowledge(self.session.user, int(incident["id"]), note)
        except UserFacingError as exc:
            show_error(self, exc)
        self.load_alerts()

    def acknowledge_all(self) -> None:
        note = self._note(tr("Acknowledge all {n} alerts", n=len(self.incidents)))
        if note is None:
            return
        try:
            self.cameras.acknowledge_all(self.session.user, note)
        except UserFacingError as exc:
            show_error(self, exc)
        self.load_alerts()

    def play_alert_footage(self) -> None:
        """The recording that holds the incident's first event, opened at that moment."""
        chosen = self.selected_incidents()
        if len(chosen) != 1 or not chosen[0]["segments"]:
            return
        incident = chosen[0]
        segment = next((s for s in incident["segments"] if s["started_at_ms"] <= incident["at_ms"]),
                       incident["segments"][0])
        self.tabs.setCurrentIndex(1)  # the Recordings tab (loads the list)
        self.rec_camera.setCurrentIndex(self.rec_camera.findData(incident["camera_id"]))
        self.load_recordings()
        for r in range(self.rec_table.rowCount()):
            if self.rec_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == segment["file"]:
                self.rec_table.selectRow(r)
                break
        self.play_selected(at_ms=max(0, incident["at_ms"] - segment["started_at_ms"] - 2_000))

    def _tab(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        for b in (*self.grid_buttons.values(), self.prev_button, self.next_button, self.consent_button,
                  self.add_camera_button, self.settings_button):
            b.setVisible(False)  # the wall's own controls: on Live only (refresh shows the ones that apply)
        if index == 0 and self.session.user is not None:
            self.refresh()
        if index == 1:
            self.load_recordings()
        elif index == 2:
            self.load_alerts()
        else:
            self.stop_playing()

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.timer.start()

    def hideEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        self.stop_playing()

    def retranslate(self) -> None:
        self.title.setText(tr("Cameras"))
        self.tabs.setTabText(0, tr("Live"))
        self.tabs.setTabText(1, tr("Recordings"))
        self.tabs.setTabText(2, tr("Alerts"))
        self.empty.setText(tr("No cameras are set up on this terminal."))
        self.rec_table.setHorizontalHeaderLabels([tr("Started"), tr("Length"), tr("Size"), tr("SHA-256")])
        self.alert_table.setHorizontalHeaderLabels([tr("Time"), tr("Camera"), tr("Alert"), tr("How often")])
        self.footage_button.setText(tr("Play the footage"))
        self.ack_all_button.setText(tr("Acknowledge all…"))
        self.play_button.setText(tr("Play"))
        self.verify_button.setText(tr("Check against the ledger"))
        self.export_button.setText(tr("Export the clip…"))
        self.ack_button.setText(tr("Acknowledge…"))
        self.consent_button.setText(tr("Table consent: 30 min"))
        self.add_camera_button.setText(tr("Add a camera…"))
        self.settings_button.setText(tr("Camera settings…"))
