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
from terminal.cameras import DEFAULT_RETENTION_DAYS, Cameras, require_camera_access
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
    QPainter,
    QPen,
    QPixmap,
    QPointF,
    QRectF,
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
from terminal.gui.widgets import (
    button,
    confirm,
    dialog_buttons,
    label,
    panel,
    row_table,
    show_error,
)

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


class MaskCanvas(QWidget):
    """The test picture with the privacy masks on it: drag to draw a rectangle, right-click one to take it away.
    Masks are kept in the camera's configured pixels, whatever size the picture is shown at."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mask-canvas")
        self.setMinimumSize(320, 240)
        self.image: QImage | None = None
        self.frame_size = (640, 480)
        self.masks: list[tuple[int, int, int, int]] = []
        self._start: QPointF | None = None
        self._now: QPointF | None = None
        self.hint = ""

    def set_picture(self, image: np.ndarray | None, width: int, height: int) -> None:
        self.frame_size = (width, height)
        if image is None:
            self.image = None
        else:
            h, w = image.shape[:2]
            self.image = QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888).copy()
        self.update()

    def _area(self) -> QRectF:
        """Where the picture sits in the widget (its aspect kept, centred)."""
        fw, fh = self.frame_size
        scale = min(self.width() / fw, self.height() / fh)
        w, h = fw * scale, fh * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _to_frame(self, point: QPointF) -> tuple[int, int]:
        area, (fw, fh) = self._area(), self.frame_size
        x = (point.x() - area.x()) * fw / area.width()
        y = (point.y() - area.y()) * fh / area.height()
        return int(min(max(x, 0), fw)), int(min(max(y, 0), fh))

    def _to_widget(self, mask: tuple[int, int, int, int]) -> QRectF:
        area, (fw, fh) = self._area(), self.frame_size
        x, y, w, h = mask
        return QRectF(area.x() + x * area.width() / fw, area.y() + y * area.height() / fh, w * area.width() / fw,
                      h * area.height() / fh)

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if self.image is None:
            return
        if event.button() == Qt.MouseButton.RightButton:
            point = event.position()
            hit = [m for m in self.masks if self._to_widget(m).contains(point)]
            if hit:
                self.masks.remove(hit[-1])
                self.changed.emit()
                self.update()
            return
        self._start = self._now = event.position()

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if self._start is not None:
            self._now = event.position()
            self.update()

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if self._start is None:
            return
        (x1, y1), (x2, y2) = self._to_frame(self._start), self._to_frame(event.position())
        self._start = self._now = None
        x, y, w, h = min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)
        if w >= 4 and h >= 4:  # a click is not a mask
            self.masks.append((x, y, w, h))
            self.changed.emit()
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        area = self._area()
        if self.image is None:
            painter.setPen(Qt.GlobalColor.lightGray)
            painter.drawText(self.rect().adjusted(16, 16, -16, -16),
                             int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.hint)
        else:
            painter.drawImage(area, self.image)
        painter.setPen(QPen(Qt.GlobalColor.white, 1))
        for mask in self.masks:  # as the recording will show it: filled
            painter.fillRect(self._to_widget(mask), Qt.GlobalColor.black)
            painter.drawRect(self._to_widget(mask))
        if self._start is not None and self._now is not None:
            painter.setPen(QPen(Qt.GlobalColor.yellow, 2, Qt.PenStyle.DashLine))
            painter.drawRect(QRectF(self._start, self._now).normalized())
        painter.end()


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
        self.setMinimumWidth(980)
        outer = QVBoxLayout(self)
        root = QHBoxLayout()
        outer.addLayout(root, 1)
        grid = QGridLayout()  # label, field, label, field: every setting on one screen of a 1024x768 till
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        self.fields: dict[str, QLineEdit] = {}
        for key in ("id", "name", "source", "opening_hours"):
            edit = QLineEdit(str(current.get(key) or ""))
            edit.setObjectName(f"camera-{key}")
            self.fields[key] = edit
        self.fields["id"].setReadOnly(config is not None)
        self.fields["source"].setPlaceholderText("rtsp://10.0.0.7/live · usb:0 · /…/video/door.avi")
        self.fields["opening_hours"].setPlaceholderText("10:00-23:00")
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(tr(KIND_NAMES[kind]), kind)
        self.kind.setCurrentIndex(max(0, self.kind.findData(current["kind"])))
        self.numbers: dict[str, QSpinBox] = {}
        for key, low, high in (("width", 64, 7680), ("height", 48, 4320), ("fps", 1, 60), ("segment_s", 5, 3600),
                               ("retention_days", 1, 365), ("quota_mb", 10, 10_000_000),
                               ("motion_min_area", 0, 10_000_000), ("motion_cooldown_s", 0, 86_400)):
            box = QSpinBox()
            box.setRange(low, high)
            box.setValue(int(current.get(key) or low))
            box.setObjectName(f"camera-{key}")
            self.numbers[key] = box
        self.privacy = QComboBox()
        self.privacy.setObjectName("camera-privacy")
        for mode, name in (("off", tr("No blurring")), ("blur_faces", tr("Blur faces"))):
            self.privacy.addItem(name, mode)
        self.privacy.setCurrentIndex(max(0, self.privacy.findData(current.get("privacy", "off"))))
        self.recording = QCheckBox(tr("Record"))
        self.recording.setChecked(bool(current.get("recording", True)))
        self.owner_only = QCheckBox(tr("Owners only"))
        self.owner_only.setChecked(list(current.get("roles") or []) == ["owner"])
        self.upload_all = QCheckBox(tr("Send every recording to HQ"))
        self.upload_all.setObjectName("camera-upload-all")
        self.upload_all.setChecked(bool(current.get("upload_all", False)))
        rows: list[tuple[tuple[str, QWidget], tuple[str, QWidget] | None]] = [
            ((tr("Code"), self.fields["id"]), (tr("Name"), self.fields["name"])),
            ((tr("Source"), self.fields["source"]), None),
            ((tr("Kind"), self.kind), (tr("Opening hours"), self.fields["opening_hours"])),
            ((tr("Width"), self.numbers["width"]), (tr("Height"), self.numbers["height"])),
            ((tr("Frames a second"), self.numbers["fps"]), (tr("Segment length (s)"), self.numbers["segment_s"])),
            ((tr("Keep recordings (days)"), self.numbers["retention_days"]),
             (tr("Disk quota (MB)"), self.numbers["quota_mb"])),
            ((tr("Smallest motion (pixels)"), self.numbers["motion_min_area"]),
             (tr("Quiet after motion (s)"), self.numbers["motion_cooldown_s"])),
            ((tr("Privacy"), self.privacy), None)]
        for r, (first, second) in enumerate(rows):
            grid.addWidget(label(first[0], wrap=True), r, 0)
            grid.addWidget(first[1], r, 1, 1, 1 if second else 3)
            if second:
                grid.addWidget(label(second[0], wrap=True), r, 2)
                grid.addWidget(second[1], r, 3)
        checks = QHBoxLayout()
        for check in (self.recording, self.owner_only):
            checks.addWidget(check)
        checks.addStretch(1)
        grid.addLayout(checks, len(rows), 0, 1, 4)
        grid.addWidget(self.upload_all, len(rows) + 1, 0, 1, 4)
        for column in (0, 2):  # room for a label in two lines, even in Georgian
            grid.setColumnMinimumWidth(column, 150)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        left = QVBoxLayout()
        left.addLayout(grid)
        left.addStretch(1)
        root.addLayout(left, 3)
        right = QVBoxLayout()
        self.preview = MaskCanvas()
        self.preview.hint = tr("Test the connection to see the camera's picture; then drag on it to hide parts of it "
                               "(privacy masks).")
        self.preview.masks = [(m[0], m[1], m[2], m[3]) for m in current.get("masks") or []]
        self.preview.set_picture(None, int(current["width"]), int(current["height"]))
        self.preview.changed.connect(self._masks_changed)
        right.addWidget(self.preview, 1)
        self.masks_label = label("", "muted", wrap=True)
        self.masks_label.setMinimumHeight(self.masks_label.fontMetrics().lineSpacing() * 2 + 8)  # never squeezed
        right.addWidget(self.masks_label)
        tools = QHBoxLayout()
        self.test_button = button(tr("Test connection"), "", self.test)
        self.test_button.setMinimumHeight(44)
        self.clear_masks = button(tr("Clear masks"), "", self._clear_masks)
        tools.addWidget(self.test_button, 2)
        tools.addWidget(self.clear_masks, 1)
        right.addLayout(tools)
        root.addLayout(right, 2)
        self.error = label("", "error", wrap=True)
        outer.addWidget(self.error)
        bottom = QHBoxLayout()
        if config is not None:
            self.remove_button = button(tr("Remove this camera"), "danger", self.remove)
            bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(dialog_buttons(self, tr("Save"), self.save))
        outer.addLayout(bottom)
        self.saved: CameraConfig | None = None
        self._masks_changed()
        self.removed = False

    def settings(self) -> dict[str, Any]:
        out = {**self.base, **{k: e.text().strip() for k, e in self.fields.items()},
               **{k: b.value() for k, b in self.numbers.items()}, "kind": self.kind.currentData(),
               "recording": self.recording.isChecked(), "privacy": self.privacy.currentData(),
               "upload_all": self.upload_all.isChecked(), "masks": [list(m) for m in self.preview.masks],
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
            self.preview.set_picture(None, self.numbers["width"].value(), self.numbers["height"].value())
            return
        self.preview.set_picture(image, self.numbers["width"].value(), self.numbers["height"].value())

    def _masks_changed(self) -> None:
        n = len(self.preview.masks)
        self.masks_label.setText(tr("{n} privacy masks: blacked out live and in recordings. Right-click one to take "
                                    "it away.", n=n) if n else tr("No privacy masks."))
        self.clear_masks.setEnabled(bool(n))

    def _clear_masks(self) -> None:
        self.preview.masks.clear()
        self.preview.update()
        self._masks_changed()

    def remove(self) -> None:
        assert self.config is not None
        if not confirm(self, tr("Remove camera {name}?", name=self.config.name),
                       tr("It stops now. Its recordings stay for {days} days, for evidence.",
                          days=DEFAULT_RETENTION_DAYS), tr("Remove"), "confirm-remove-camera"):
            return
        try:
            self.view.cameras.remove(self.view.session.user, self.config.id)
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.removed = True
        self.accept()

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
        self.alert_table = row_table(5, "alerts", single=False)
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
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if dialog.saved is not None:
            self.focused = dialog.saved.id
        elif dialog.removed:
            self.focused = None  # back to the wall of the cameras left
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
        if not rows:  # say why the list is empty, and what will fill it
            config = next((c for c in self.cameras.configs() if c.id == camera_id), None)
            if config is None:
                text = tr("There is no camera to show recordings of.")
            elif not config.recording:
                text = tr("{name} does not record (see its settings on the Live tab).", name=config.name)
            else:
                text = tr("No recordings of {name} yet: each appears here when it is finished, every {seconds} s.",
                          name=config.name, seconds=config.segment_s)
            self.verdict.setText(text)
            self.verdict.setObjectName("")
            self.verdict.setStyleSheet("")

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
            at_hq = {"sending": tr("HQ asked for it: sending"), "sent": tr("At HQ, verified"),
                     "refused": tr("HQ refused it: differs from the ledger")}.get(alert.get("hq") or "", "—")
            for c, text in enumerate((when, names.get(alert["camera_id"], alert["camera_id"]), kind, times, at_hq)):
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
        self.alert_table.setHorizontalHeaderLabels([tr("Time"), tr("Camera"), tr("Alert"), tr("How often"),
                                                    tr("Footage at HQ")])
        self.footage_button.setText(tr("Play the footage"))
        self.ack_all_button.setText(tr("Acknowledge all…"))
        self.play_button.setText(tr("Play"))
        self.verify_button.setText(tr("Check against the ledger"))
        self.export_button.setText(tr("Export the clip…"))
        self.ack_button.setText(tr("Acknowledge…"))
        self.consent_button.setText(tr("Table consent: 30 min"))
        self.add_camera_button.setText(tr("Add a camera…"))
        self.settings_button.setText(tr("Camera settings…"))
