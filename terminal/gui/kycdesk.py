"""The KYC desk (Ctrl+6; managers and owners): the customer's details typed or filled from the document's MRZ, a
live preview from a chosen camera with a capture (or an imported file) for the front, back and selfie, each shot's
quality checks under it, the MRZ compared field by field with what was typed, the face-match score with a plain
verdict, the consent the customer confirms, and submit. The heavy work (OCR, faces) runs in a worker process, so
the screen never stalls. After a submit the form is emptied; the list shows the terminal's cases with no personal
data. Nothing personal is ever written by this screen: the stills live in memory until the case is sealed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from camera.kyc import MATCH_THRESHOLD, ImageError, Shot, read_image_file, read_qr
from terminal import kyc
from terminal.cameras import Cameras
from terminal.core.errors import InvalidInput, UserFacingError
from terminal.core.kyc import DOCUMENT_TYPES, LEVELS, REQUIRED_IMAGES, Mrz, customer_details
from terminal.gui.cameras import to_pixmap
from terminal.gui.i18n import tr, tr_error
from terminal.gui.qt import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    Qt,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.session import Session
from terminal.gui.widgets import button, form_layout, label, panel, row_table, show_error

SHOTS = ("front", "back", "selfie", "proof_of_address", "bank_statement")
SHOT_NAMES = {"front": "Front side", "back": "Back side", "selfie": "Selfie",
              "proof_of_address": "Proof of address", "bank_statement": "Bank statement"}
FIELDS = ("surname", "given_names", "date_of_birth", "nationality", "phone", "document_number", "document_expiry")
FIELD_NAMES = {"surname": "Surname", "given_names": "Given names", "date_of_birth": "Date of birth",
               "nationality": "Nationality", "phone": "Phone", "document_number": "Document number",
               "document_expiry": "Document expiry", "document_type": "Document type"}
DOC_TYPE_NAMES = {"passport": "Passport", "id_card": "ID card"}
LEVEL_NAMES = {"basic": "Basic", "enhanced": "Enhanced"}
CONSENT = ("The customer agrees that HotPot Spot verifies their identity with these details and photos, sealed for "
           "HQ's compliance team only. Photos are deleted 90 days after the decision; the case is kept 5 years.")


def _restyle(widget: QLabel, name: str) -> None:
    """Give a label the stylesheet look named `name` (ok, error, subtitle) and apply it now."""
    widget.setObjectName(name)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class ShotCard(QFrame):
    """One still: its thumbnail, its checks, capture from the camera and import from a file."""

    def __init__(self, name: str, desk: KycDesk) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(4)
        self.title = label("", "")
        self.title.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.title)
        self.image: np.ndarray | None = None
        self.shot: Shot | None = None
        self.busy = False
        self.thumb = QLabel()
        self.thumb.setObjectName("tile")
        self.thumb.setFixedHeight(81)
        self.thumb.setMinimumWidth(96)
        self.thumb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.thumb)
        self.checks = label("", "subtitle", wrap=True)
        self.checks.setMinimumHeight(72)
        self.checks.setStyleSheet("font-size: 12px;")
        self.checks.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.checks, 1)
        self.capture = button("", "small", lambda: desk.capture(name))
        self.load = button("", "small", lambda: desk.import_file(name))
        for b in (self.capture, self.load):
            b.setStyleSheet("padding: 4px 4px;")  # the column is a thumbnail wide: the words need the room
            layout.addWidget(b)

    def show_still(self, image: np.ndarray | None) -> None:
        self.image = image
        if image is None:
            self.thumb.clear()
            self.thumb.setText("—")
        else:
            self.thumb.setPixmap(to_pixmap(image, max(96, self.thumb.width()), 81))

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.image is not None:
            self.thumb.setPixmap(to_pixmap(self.image, max(96, self.thumb.width()), 81))

    def show_checks(self, shot: Shot | None, busy: bool = False) -> None:
        self.shot, self.busy = shot, busy
        if busy:
            self.checks.setObjectName("subtitle")
            self.checks.setText(tr("Checking…"))
        elif shot is None:
            self.checks.setObjectName("subtitle")
            self.checks.setText(tr("Not taken yet."))
        else:
            lines = []
            if shot.kind == "document":
                lines.append(("✓ " if shot.document_found else "✗ ") + tr("document outline"))
                lines.append(("✓ " if shot.glare_ok else "✗ ") + tr("glare {pct}", pct=f"{shot.glare:.1%}"))
            lines.append(("✓ " if shot.sharp else "✗ ") + tr("sharpness {value}", value=f"{shot.sharpness:.0f}"))
            if shot.kind == "selfie" or self.name == "front":
                lines.append(("✓ " if len(shot.faces) == 1 else "✗ ") + tr("faces: {n}", n=len(shot.faces)))
            ok = not shot.problems() and (len(shot.faces) == 1 or self.name not in ("front", "selfie"))
            self.checks.setObjectName("ok" if ok else "error")
            self.checks.setText("\n".join(lines))
        _restyle(self.checks, self.checks.objectName())

    def retranslate(self) -> None:
        self.title.setText(tr(SHOT_NAMES[self.name]))
        self.capture.setText(tr("Capture"))
        self.load.setText(tr("From file…"))
        self.show_checks(self.shot, self.busy)


class KycDesk(QWidget):
    def __init__(self, session: Session, cameras: Cameras, worker: kyc.DeskWorker | None = None) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.cameras = cameras
        self.worker = worker or kyc.DeskWorker()
        self.stills: dict[str, np.ndarray] = {}
        self.shots: dict[str, Shot] = {}
        self.analysis: kyc.Analysis | None = None
        self.analysed: tuple[Any, ...] | None = None  # what the analysis was made of (details, stills)
        self.busy = 0
        self.last_case: dict[str, Any] | None = None
        root = QHBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        root.setSpacing(12)
        root.addWidget(self._customer_column(), 3)
        root.addLayout(self._camera_column(), 5)
        root.addWidget(self._results_column(), 4)
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.tick)
        session.user_changed.connect(self._user_changed)
        self.retranslate()
        self._level_changed()

    def _customer_column(self) -> QScrollArea:
        """The customer's details, the account to link, clear."""
        left_box, left = panel()
        self.title = label("", "title")
        left.addWidget(self.title)
        form = form_layout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # labels above: the fields get the column's width
        self.labels: dict[str, QLabel] = {}
        self.level = QComboBox()
        for level in LEVELS:
            self.level.addItem("", level)
        self.level.currentIndexChanged.connect(lambda _i: self._level_changed())
        self.labels["level"] = label()
        form.addRow(self.labels["level"], self.level)
        self.doc_type = QComboBox()
        for kind in DOCUMENT_TYPES:
            self.doc_type.addItem("", kind)
        self.doc_type.currentIndexChanged.connect(lambda _i: self._changed())
        self.labels["document_type"] = label()
        form.addRow(self.labels["document_type"], self.doc_type)
        self.fields: dict[str, QLineEdit] = {}
        for name in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"kyc-{name}")
            edit.setMinimumWidth(120)
            edit.textChanged.connect(lambda _t: self._changed())
            self.fields[name] = edit
            self.labels[name] = label()
            form.addRow(self.labels[name], edit)
        self.fields["date_of_birth"].setPlaceholderText("YYYY-MM-DD")
        self.fields["document_expiry"].setPlaceholderText("YYYY-MM-DD")
        self.fields["nationality"].setPlaceholderText("GEO")
        self.fields["nationality"].setMaxLength(3)
        self.fields["phone"].setPlaceholderText("+995 …")
        left.addLayout(form)
        self.fill_button = button("", "", self.fill_from_document)
        left.addWidget(self.fill_button)
        self.account_label = label("", "", wrap=True)
        left.addWidget(self.account_label)
        account_row = QHBoxLayout()
        self.account = QLineEdit()
        self.account.setObjectName("kyc-account")
        self.account.textChanged.connect(lambda _t: self._changed())
        account_row.addWidget(self.account, 1)
        self.scan_button = button("", "small", self.scan_account)
        account_row.addWidget(self.scan_button)
        left.addLayout(account_row)
        left.addStretch(1)
        self.clear_button = button("", "", self.clear)
        left.addWidget(self.clear_button)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left_box)
        scroll.setMinimumWidth(290)
        scroll.setMaximumWidth(360)
        return scroll

    def _camera_column(self) -> QVBoxLayout:
        """The camera chooser, its live preview and a card per shot."""
        middle = QVBoxLayout()
        cam_row = QHBoxLayout()
        self.camera_label = label()
        cam_row.addWidget(self.camera_label)
        self.camera = QComboBox()
        self.camera.setObjectName("kyc-camera")
        cam_row.addWidget(self.camera, 1)
        middle.addLayout(cam_row)
        self.preview = QLabel()
        self.preview.setObjectName("tile")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setMinimumSize(360, 200)
        middle.addWidget(self.preview, 1)
        self.cards: dict[str, ShotCard] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, name in enumerate(SHOTS):
            card = ShotCard(name, self)
            self.cards[name] = card
            grid.addWidget(card, i // 3, i % 3)
            card.show_still(None)
            card.show_checks(None)
        middle.addLayout(grid)
        return middle

    def _results_column(self) -> QFrame:
        """What the desk found, the consent, verify and submit, and the terminal's cases."""
        right_box, right = panel()
        self.results_title = label("", "title")
        right.addWidget(self.results_title)
        self.compare = row_table(4, "kyc-compare", row_height=26)
        self.compare.setStyleSheet("QTableWidget, QHeaderView::section { font-size: 13px; }")
        header = self.compare.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.compare.setFixedHeight(26 * 7 + 42)  # seven rows and the header, no scroll bar
        right.addWidget(self.compare)
        self.match = label("", "", wrap=True)
        self.match.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.match.setObjectName("kyc-match")
        right.addWidget(self.match)
        self.problems = label("", "error", wrap=True)
        self.problems.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        right.addWidget(self.problems)
        self.consent_text = label("", "subtitle", wrap=True)
        self.consent_text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        right.addWidget(self.consent_text)
        self.consent = QCheckBox()
        self.consent.setObjectName("kyc-consent")
        self.consent.toggled.connect(lambda _c: self._update_buttons())
        right.addWidget(self.consent, 0, Qt.AlignmentFlag.AlignLeft)  # as wide as what a click toggles
        buttons = QHBoxLayout()
        self.check_button = button("", "", self.check)
        self.submit_button = button("", "primary", self.submit)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.submit_button)
        right.addLayout(buttons)
        self.cases_title = label("", "subtitle")
        right.addWidget(self.cases_title)
        self.cases = row_table(4, "kyc-cases", row_height=26)
        self.cases.setStyleSheet("QTableWidget, QHeaderView::section { font-size: 13px; }")
        self.cases.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cases.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        right.addWidget(self.cases, 1)
        self.hq_notes = label("", "error", wrap=True)  # what HQ asks customers to bring, readable without a tooltip
        self.hq_notes.hide()
        right.addWidget(self.hq_notes)
        right_box.setMinimumWidth(300)
        return right_box

    # --- what the clerk entered ---

    def details(self) -> dict[str, str]:
        out = {name: edit.text().strip() for name, edit in self.fields.items()}
        out["document_type"] = str(self.doc_type.currentData())
        out["level"] = str(self.level.currentData())
        return out

    def _needed(self) -> tuple[str, ...]:
        return REQUIRED_IMAGES[str(self.level.currentData())]

    def _level_changed(self) -> None:
        enhanced = self.level.currentData() == "enhanced"
        for name in ("proof_of_address", "bank_statement"):
            self.cards[name].setVisible(enhanced)
            if not enhanced:
                self.stills.pop(name, None)
                self.shots.pop(name, None)
                self.cards[name].show_still(None)
                self.cards[name].show_checks(None)
        self._changed()

    def _changed(self) -> None:
        self._update_buttons()

    def _fingerprint(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.details().items())), tuple(sorted((k, id(v)) for k, v in self.stills.items())))

    def _update_buttons(self) -> None:
        has_shots = all(name in self.stills for name in self._needed())
        self.check_button.setEnabled(not self.busy and has_shots)
        self.fill_button.setEnabled(not self.busy and ("front" in self.stills or "back" in self.stills))
        fresh = self.analysis is not None and self.analysed == self._fingerprint()
        ok = fresh and self.analysis is not None and not self.analysis.problems
        self.submit_button.setEnabled(not self.busy and ok and self.consent.isChecked())
        if self.analysis is not None and not fresh:
            self.problems.setText(tr("Something changed since the check: check again before submitting."))

    # --- the camera ---

    def refresh(self) -> None:
        kyc.require_kyc_access(self.session.user)
        current = self.camera.currentData()
        self.camera.blockSignals(True)
        self.camera.clear()
        try:
            cams = [c for c in self.cameras.visible_to(self.session.user) if c.kind != "customer_table"]
        except UserFacingError:
            cams = []
        for cam in cams:
            self.camera.addItem(cam.name, cam.id)
        if current is not None and self.camera.findData(current) >= 0:
            self.camera.setCurrentIndex(self.camera.findData(current))
        self.camera.blockSignals(False)
        if not cams:
            self.preview.setText(tr("No camera here: import the photos from files."))
        elif self.preview.pixmap() is None or self.preview.pixmap().isNull():
            self.preview.setText(tr("Waiting for the camera's picture…"))
        self.load_cases()
        self.worker.warm_up()  # the face models load in the worker while the clerk types
        self._update_buttons()

    def tick(self) -> None:
        cam = self.camera.currentData()
        if not cam or self.cameras.hub is None or cam not in self.cameras.hub.runners:
            return
        frame, _at = self.cameras.hub.runners[cam].latest()
        if frame is not None:
            self.preview.setPixmap(to_pixmap(frame, self.preview.width(), self.preview.height()))

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.timer.start()

    def hideEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()

    # --- shots ---

    def _live_still(self, no_camera: str) -> np.ndarray | None:
        """The chosen camera's newest frame, or None with the reason shown."""
        cam = self.camera.currentData()
        try:
            if not cam:
                raise InvalidInput(no_camera)
            return self.cameras.still(self.session.user, str(cam))
        except UserFacingError as exc:
            show_error(self, exc)
            return None

    def capture(self, name: str) -> None:
        still = self._live_still(tr("No camera here: import the photos from files."))
        if still is not None:
            self.set_still(name, still)

    def import_file(self, name: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr(SHOT_NAMES[name]), "", "Images (*.jpg *.jpeg *.png)")
        if path:
            try:
                self.set_still(name, read_image_file(Path(path), tr(SHOT_NAMES[name])))
            except ImageError as exc:
                show_error(self, InvalidInput(str(exc)))

    def set_still(self, name: str, image: np.ndarray) -> None:
        """Take (or retake) a shot: shown at once, its checks measured in the worker."""
        self.stills[name] = image
        self.shots.pop(name, None)
        card = self.cards[name]
        card.show_still(image)
        card.show_checks(None, busy=True)
        self._run(self.worker.assess(name, image).result, lambda shot: self._assessed(name, image, shot))
        self._changed()

    def _assessed(self, name: str, image: np.ndarray, shot: Shot) -> None:
        if self.stills.get(name) is not image:
            return  # retaken meanwhile
        self.shots[name] = shot
        self.cards[name].show_checks(shot)

    # --- work in the worker process ---

    def _run(self, op: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        """Run `op` off the GUI thread (waiting on the worker process, or sealing), the desk busy meanwhile."""
        self.busy += 1
        self._update_buttons()

        def done(result: Any) -> None:
            self.busy -= 1
            on_done(result)
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            self.busy -= 1
            self._update_buttons()
            show_error(self, exc)

        self.session.tasks.run(op, done, failed)

    def fill_from_document(self) -> None:
        self.problems.setText(tr("Reading the document…"))
        self._run(self.worker.read_document(self.stills, str(self.doc_type.currentData()), kyc.today_here()).result,
                  self._filled)

    def _filled(self, mrz: Mrz | None) -> None:
        if mrz is None:
            self.problems.setText(tr("The document's machine-readable zone could not be read: retake it flat, "
                                     "sharp and without glare."))
            return
        values = {"surname": mrz.surname.title(), "given_names": mrz.given_names.title(),
                  "date_of_birth": mrz.birth_date.isoformat() if mrz.birth_date else "",
                  "nationality": mrz.nationality, "document_number": mrz.document_number,
                  "document_expiry": mrz.expiry_date.isoformat() if mrz.expiry_date else ""}
        for name, value in values.items():
            if not self.fields[name].text().strip():
                self.fields[name].setText(value)
        kind = "passport" if mrz.document_code.startswith("P") else "id_card"
        self.doc_type.setCurrentIndex(self.doc_type.findData(kind))
        self.problems.setText(tr("Filled from the document: check each field against it, and type the phone."))

    def check(self) -> None:
        try:
            customer_details(self.details(), kyc.today_here())
        except UserFacingError as exc:
            self.problems.setText(tr_error(exc))
            return
        fingerprint = self._fingerprint()
        self.problems.setText(tr("Checking: reading the MRZ, finding and comparing faces…"))
        self.match.setText("")
        self._run(self.worker.analyse(self.details(), self.stills, kyc.today_here()).result,
                  lambda found: self._checked(found, fingerprint))

    def _checked(self, found: kyc.Analysis, fingerprint: tuple[Any, ...]) -> None:
        self.analysis, self.analysed = found, fingerprint
        for name, shot in found.shots.items():
            self.shots[name] = shot
            self.cards[name].show_checks(shot)
        self.show_comparison(found)
        self.match.setText(tr("Face match: {verdict}", verdict=self._verdict(found)))
        _restyle(self.match, "ok" if found.same_person else "error")
        self.problems.setText("\n".join(found.problems) if found.problems else "")
        if not found.problems:
            self.problems.setText(tr("All checks passed. The customer confirms the consent, then submit."))
        _restyle(self.problems, "error" if found.problems else "ok")
        self._update_buttons()

    def _verdict(self, found: kyc.Analysis) -> str:
        if found.match_score is None:
            return tr("no comparison: a face is missing")
        if found.same_person:
            return tr("same person (score {score})", score=f"{found.match_score:.2f}")
        return tr("NOT the same person (score {score}, a match needs {need})", score=f"{found.match_score:.2f}",
                  need=f"{MATCH_THRESHOLD:.2f}")

    def show_comparison(self, found: kyc.Analysis) -> None:
        mrz = found.mrz
        typed = self.details()
        mismatched = {m.field for m in found.mismatches}
        read = {}
        if mrz is not None:
            read = {"surname": mrz.surname, "given_names": mrz.given_names,
                    "date_of_birth": mrz.birth_date.isoformat() if mrz.birth_date else "?",
                    "nationality": mrz.nationality, "document_number": mrz.document_number,
                    "document_expiry": mrz.expiry_date.isoformat() if mrz.expiry_date else "?",
                    "document_type": "passport" if mrz.document_code.startswith("P") else "id_card"}
        rows = [f for f in (*FIELDS, "document_type") if f != "phone"]
        self.compare.setRowCount(len(rows))
        for r, name in enumerate(rows):
            shown = typed.get(name, "")
            if name == "document_type":
                shown = tr(DOC_TYPE_NAMES.get(shown, shown))
            value = read.get(name, "—")
            if name == "document_type" and value in DOC_TYPE_NAMES:
                value = tr(DOC_TYPE_NAMES[value])
            mark = "—" if mrz is None or not mrz.valid else ("✗" if name in mismatched else "✓")
            for c, text in enumerate((tr(FIELD_NAMES[name]), shown, value, mark)):
                item = QTableWidgetItem(text)
                if mark == "✗":
                    item.setForeground(Qt.GlobalColor.red)
                self.compare.setItem(r, c, item)

    def submit(self) -> None:
        found = self.analysis
        if found is None or self.analysed != self._fingerprint():
            return
        details, stills, account = self.details(), dict(self.stills), self.account.text().strip() or None
        user = self.session.require_user()
        term = self.session.term
        self.problems.setText(tr("Sealing the case for HQ…"))

        def done(case: dict[str, Any]) -> None:
            self.last_case = case
            self.clear()
            _restyle(self.problems, "ok")
            self.problems.setText(tr("Case {case} sealed for HQ; it goes with the next sync. The form is cleared.",
                                     case="…" + case["case_id"][-8:]))
            self.session.changed()
            self.load_cases()

        self._run(lambda: kyc.intake(term, user, details, stills, account=account, analysis=found), done)

    def scan_account(self) -> None:
        still = self._live_still(tr("No camera here: type the account id."))
        if still is None:
            return

        def read(text: str | None) -> None:
            if text:
                self.account.setText(text)
            else:
                show_error(self, InvalidInput(tr("No account QR code in view: hold the phone closer, screen "
                                                 "towards the camera.")))

        self.session.tasks.run(lambda: read_qr(still), read)

    # --- clearing: nothing personal lingers on the screen ---

    def clear(self) -> None:
        for edit in self.fields.values():
            edit.clear()
        self.account.clear()
        self.consent.setChecked(False)
        self.stills.clear()
        self.shots.clear()
        self.analysis = self.analysed = None
        for card in self.cards.values():
            card.show_still(None)
            card.show_checks(None)
        self.compare.setRowCount(0)
        self.match.setText("")
        self.problems.setText("")
        self._update_buttons()

    def _user_changed(self) -> None:
        if self.session.user is None or not self.session.is_manager:
            self.clear()

    def load_cases(self) -> None:
        try:
            cases = kyc.list_cases(self.session.term, self.session.require_user())
        except UserFacingError:
            cases = []
        self.cases.setRowCount(len(cases))
        asks = [tr("HQ asks again for case {case}: {note}").format(case="…" + c["id"][-8:], note=c["hq_note"])
                for c in cases if c["status"] == "resubmission_requested" and c.get("hq_note")][:3]
        self.hq_notes.setText("\n".join(asks))
        self.hq_notes.setVisible(bool(asks))
        for r, case in enumerate(cases):
            taken = datetime.fromtimestamp(case["created_at_ms"] / 1000).strftime("%d.%m %H:%M")
            held = tr("held by HQ") if case["uploaded"] else tr("to send")
            # uuid7s begin with their time: the random tail tells cases apart
            status = tr(case["status"].replace("_", " ")) + " · " + held
            if case.get("hq_note"):  # what HQ asks the customer to bring when it wants the case again
                status += " — " + tr("HQ asks: {note}").format(note=case["hq_note"])
            for c, text in enumerate(("…" + case["id"][-8:], tr(LEVEL_NAMES.get(case["level"], case["level"])),
                                      status, taken)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.cases.setItem(r, c, item)

    def retranslate(self) -> None:
        self.title.setText(tr("KYC desk"))
        for i, level in enumerate(LEVELS):
            self.level.setItemText(i, tr(LEVEL_NAMES[level]))
        for i, kind in enumerate(DOCUMENT_TYPES):
            self.doc_type.setItemText(i, tr(DOC_TYPE_NAMES[kind]))
        self.labels["level"].setText(tr("Level"))
        for name in (*FIELDS, "document_type"):
            self.labels[name].setText(tr(FIELD_NAMES[name]))
        self.fill_button.setText(tr("Fill from the document"))
        self.account_label.setText(tr("Customer's token account (optional)"))
        self.scan_button.setText(tr("Scan QR"))
        self.consent_text.setText(tr(CONSENT))
        self.consent.setText(tr("The customer agrees"))
        self.clear_button.setText(tr("Clear the form"))
        self.camera_label.setText(tr("Camera"))
        for card in self.cards.values():
            card.retranslate()
        self.results_title.setText(tr("Verification"))
        self.compare.setHorizontalHeaderLabels([tr("Field"), tr("Typed"), tr("MRZ"), ""])
        self.check_button.setText(tr("Verify"))
        self.submit_button.setText(tr("Submit"))
        self.cases_title.setText(tr("Cases on this terminal"))
        self.cases.setHorizontalHeaderLabels([tr("Case"), tr("Level"), tr("Status"), tr("Taken")])

    def shutdown(self) -> None:
        self.timer.stop()
        self.worker.close()
