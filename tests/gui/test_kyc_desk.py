"""The KYC desk in the real window (offscreen), as a manager uses it: two cameras playing generated video (a
photographed passport on the desk, the customer's face), captures with their quality checks, the form filled from
the MRZ, the check (real OCR, real face matching, in the desk's worker process), the consent, submit; the case on a
terminal enrolled at a real HQ, nothing personal left on the screen or in the data folder. Cashiers never reach it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sync.hq.cli import enroll_code
from terminal.core.errors import NotAllowed
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QApplication
from terminal.syncing import enroll
from tests.gui.helpers import click, login, type_into
from tests.hq.conftest import hq, hq_db  # noqa: F401 (fixtures: a real HQ over the test PostgreSQL)
from tests.hq.test_kyc_desk import _plaintext_on_disk
from tests.hqkit import HQServer
from tests.kycdocs import Person, grace_hopper, passport_page, photograph, selfie, write_video

ANNA = Person(surname="BERIDZE", given_names="KETEVAN", document_number="13AB45678")
SHOTS_DIR = os.environ.get("HOTPOT_SCREENSHOTS")  # set it to look at the desk's screens


def _shot(win: MainWindow, name: str) -> None:
    if SHOTS_DIR:
        Path(SHOTS_DIR).mkdir(parents=True, exist_ok=True)
        QApplication.processEvents()  # the layout settles as it would on screen
        win.grab().save(str(Path(SHOTS_DIR) / f"kyc-{name}.png"))


def _desk_cameras(win: MainWindow, face: Any = None) -> None:
    """The desk's document camera and face camera, playing video files from the data folder's video/ folder."""
    video = win.data_dir / "video"
    video.mkdir(exist_ok=True)
    write_video(video / "desk.avi", [photograph(passport_page(ANNA))], seconds_each=3)
    write_video(video / "face.avi", [selfie(face)], seconds_each=3)
    owner = win.session.term.owner()
    win.cameras.stop()
    for cam_id, name, file in (("desk", "Desk (documents)", "desk.avi"), ("face", "Desk (customer)", "face.avi")):
        win.cameras.save(owner, {"id": cam_id, "name": name, "kind": "security", "source": str(video / file),
                                 "loop": True, "width": 1280, "height": 720, "fps": 10, "recording": False})
    win.cameras.start()


def _enroll(win: MainWindow, server: HQServer) -> None:
    term = win.session.term
    code = enroll_code(server.database_url, "Vake", term.terminal_name, "Main", "franchise")
    enroll(term, win.session.wallet, server.url, code)


def _pick_camera(qtbot: Any, desk: Any, cam_id: str) -> None:
    desk.camera.setCurrentIndex(desk.camera.findData(cam_id))
    qtbot.waitUntil(lambda: win_has_live(desk, cam_id), timeout=20_000)


def win_has_live(desk: Any, cam_id: str) -> bool:
    hub = desk.cameras.hub
    return hub is not None and cam_id in hub.runners and hub.runners[cam_id].latest()[0] is not None


def test_a_manager_takes_a_customer_through_the_desk(qtbot: Any, window: MainWindow, hq: HQServer) -> None:  # noqa: F811
    win = window
    _enroll(win, hq)
    _desk_cameras(win)
    login(qtbot, win, "Nino", "2222")
    qtbot.keyClick(win, "6", modifier=qtbot_ctrl())
    assert win.current_page() == "kyc"
    desk = win.views["kyc"]
    assert not desk.submit_button.isEnabled() and not desk.check_button.isEnabled()

    _pick_camera(qtbot, desk, "desk")
    qtbot.waitUntil(lambda: desk.preview.pixmap() is not None and not desk.preview.pixmap().isNull(), timeout=10_000)
    click(qtbot, desk.cards["front"].capture)
    qtbot.waitUntil(lambda: "front" in desk.shots, timeout=30_000)  # the worker process starts and loads its models
    front = desk.cards["front"].checks.text()
    assert "✓ document outline" in front and "✓ faces: 1" in front and desk.cards["front"].checks.objectName() == "ok"
    _pick_camera(qtbot, desk, "face")
    click(qtbot, desk.cards["selfie"].capture)
    qtbot.waitUntil(lambda: "selfie" in desk.shots, timeout=20_000)
    assert "✓ faces: 1" in desk.cards["selfie"].checks.text()
    _shot(win, "1-captured")

    click(qtbot, desk.fill_button)  # the MRZ fills what was not typed yet
    qtbot.waitUntil(lambda: desk.fields["document_number"].text() == "13AB45678", timeout=20_000)
    assert desk.fields["surname"].text() == "Beridze" and desk.fields["date_of_birth"].text() == "1974-08-12"
    type_into(qtbot, desk.fields["phone"], "+995 555 12 34 56")
    type_into(qtbot, desk.account, "HPACCT-42")
    click(qtbot, desk.check_button)
    qtbot.waitUntil(lambda: desk.analysis is not None and not desk.busy, timeout=30_000)
    assert desk.analysis.problems == [], desk.analysis.problems
    marks = [desk.compare.item(r, 3).text() for r in range(desk.compare.rowCount())]
    assert marks and set(marks) == {"✓"}
    assert "same person" in desk.match.text() and desk.match.objectName() == "ok"
    assert not desk.submit_button.isEnabled()  # the customer has not confirmed the consent yet
    click(qtbot, desk.consent)
    assert desk.consent.isChecked() and desk.submit_button.isEnabled()
    _shot(win, "2-checked")
    type_into(qtbot, desk.fields["given_names"], "Ketevani")  # a change after the check needs a new check
    assert not desk.submit_button.isEnabled() and "check again" in desk.problems.text()
    type_into(qtbot, desk.fields["given_names"], "Ketevan")
    click(qtbot, desk.check_button)
    qtbot.waitUntil(lambda: desk.submit_button.isEnabled(), timeout=30_000)
    click(qtbot, desk.submit_button)
    qtbot.waitUntil(lambda: desk.cases.rowCount() == 1 and not desk.busy, timeout=20_000)
    assert "sealed for HQ" in desk.problems.text()
    assert all(not e.text() for e in desk.fields.values()) and not desk.stills and not desk.account.text()
    case = desk.last_case
    assert case["status"] == "submitted" and case["match_score"] >= case["match_threshold"]
    assert desk.cases.item(0, 0).text() == "…" + case["case_id"][-8:]
    _shot(win, "3-submitted")
    assert _plaintext_on_disk(win.data_dir) == []

    # HQ asks for the case again (the updates feed applies it: tests/hq/test_kyc_retention.py): the list says so and
    # what to bring, in the row and its tooltip
    from terminal.store import repos
    with desk.session.term.store.transaction() as conn:
        repos.set_kyc_status(conn, case["case_id"], "resubmission_requested", "the selfie is too dark: take it again")
    desk.load_cases()
    status = desk.cases.item(0, 2)
    assert "resubmission requested" in status.text() and "HQ asks: the selfie is too dark" in status.toolTip()
    assert desk.hq_notes.isVisible() and "the selfie is too dark" in desk.hq_notes.text()  # no tooltip on touch
    _shot(win, "4-resubmit")


def test_an_impostor_cannot_be_submitted(qtbot: Any, window: MainWindow, hq: HQServer) -> None:  # noqa: F811
    win = window
    _enroll(win, hq)
    _desk_cameras(win, face=grace_hopper())
    login(qtbot, win, "Nino", "2222")
    click(qtbot, win.nav_buttons["kyc"])
    desk = win.views["kyc"]
    _pick_camera(qtbot, desk, "desk")
    click(qtbot, desk.cards["front"].capture)
    _pick_camera(qtbot, desk, "face")
    click(qtbot, desk.cards["selfie"].capture)
    qtbot.waitUntil(lambda: {"front", "selfie"} <= set(desk.shots), timeout=30_000)
    for name, value in {**ANNA.details(), "phone": "+995555123456"}.items():
        if name in desk.fields:
            desk.fields[name].setText(value)
    click(qtbot, desk.check_button)
    qtbot.waitUntil(lambda: desk.analysis is not None and not desk.busy, timeout=30_000)
    assert "NOT the same person" in desk.match.text() and desk.match.objectName() == "error"
    click(qtbot, desk.consent)
    assert not desk.submit_button.isEnabled()
    _shot(win, "4-impostor")
    login_as_cashier = win.session.term.login("Giorgi", "3333")
    win.session.user = login_as_cashier
    win.session.user_changed.emit()  # a cashier takes over the till: the form empties
    assert not desk.stills and not desk.fields["surname"].text() and win.current_page() != "kyc"
    assert not win.nav_buttons["kyc"].isVisible()
    with pytest.raises(NotAllowed):
        desk.refresh()


def qtbot_ctrl() -> Any:
    from terminal.gui.qt import Qt

    return Qt.KeyboardModifier.ControlModifier
