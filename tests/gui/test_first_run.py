"""The first-run wizard by clicks: a new wallet with its words confirmed, a restore from words, bad input refused
with nothing written, and enrollment with a real HQ followed by "Sync now" over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sync.hq.cli import enroll_code
from terminal.core.demo_menu import DEMO_MENU
from terminal.gui.mainwindow import MainWindow
from terminal.gui.qt import QLabel, QPushButton, Qt
from terminal.wallet.hd import Wallet, new_mnemonic
from tests.conftest import TEST_PASSPHRASE
from tests.gui.helpers import click, dispose, login, on_modal, type_into
from tests.hqkit import prepare_hq_database, running_hq


def start_wizard(qtbot: Any, data_dir: Path, choice: str) -> MainWindow:
    win = MainWindow(data_dir)
    win.resize(1024, 768)
    win.show()
    win.start()
    assert win.wizard is not None
    click(qtbot, next(b for b in win.wizard.findChildren(QPushButton) if b.property("choice") == choice))
    return win


def fill_details(qtbot: Any, win: MainWindow, *, pin: str = "4321", pin2: str = "4321", hq: str = "",
                 code: str = "") -> None:
    wz = win.wizard
    type_into(qtbot, wz.franchise, "Vake")
    type_into(qtbot, wz.terminal_name, "Counter 2")
    wz.node_type.setCurrentIndex(wz.node_type.findData("own"))
    type_into(qtbot, wz.passphrase, TEST_PASSPHRASE)
    type_into(qtbot, wz.passphrase2, TEST_PASSPHRASE)
    type_into(qtbot, wz.pin, pin)
    type_into(qtbot, wz.pin2, pin2)
    type_into(qtbot, wz.hq, hq)
    type_into(qtbot, wz.code, code)


def confirm_words(qtbot: Any, win: MainWindow) -> list[str]:
    wz = win.wizard
    qtbot.waitUntil(lambda: wz.pages.currentIndex() == 3, timeout=20_000)
    cells = sorted((c for c in wz.findChildren(QLabel) if c.property("word_index")),
                   key=lambda c: c.property("word_index"))
    words = [c.text().split(". ", 1)[1] for c in cells]
    assert len(words) == 24
    assert not wz.words_next.isEnabled()  # not before the owner says the words are written down
    wz.written.setChecked(True)
    click(qtbot, wz.words_next)
    for edit in wz.answers:
        type_into(qtbot, edit, "wrong")
    click(qtbot, wz.confirm_button)
    assert "do not match" in wz.error.text()
    for edit, pos in zip(wz.answers, wz.positions, strict=True):
        type_into(qtbot, edit, words[pos - 1])
    click(qtbot, wz.confirm_button)
    return words


def test_new_terminal_words_confirmed_then_owner_logs_in(qtbot: Any, data_dir: Path) -> None:
    win = start_wizard(qtbot, data_dir, "new")
    try:
        fill_details(qtbot, win, pin2="9999")
        click(qtbot, win.wizard.create_button)
        assert "PINs differ" in win.wizard.error.text()
        assert not (data_dir / "terminal.db").exists()  # refused before anything was written
        fill_details(qtbot, win)
        click(qtbot, win.wizard.create_button)
        words = confirm_words(qtbot, win)
        qtbot.waitUntil(lambda: win.session is not None, timeout=10_000)
        term = win.session.term
        assert term.wallet_backed_up() and term.node_type == "own" and term.franchise == "Vake"
        assert Wallet(" ".join(words)).account_xpub == term.account.xpub
        assert list(win.login.user_buttons) == ["Owner"]
        login(qtbot, win, "Owner", "4321")
        assert win.session.user.name == "Owner" and win.current_page() == "shift"
    finally:
        dispose(win)


def test_restore_from_words_and_bad_words(qtbot: Any, data_dir: Path) -> None:
    words = new_mnemonic()
    win = start_wizard(qtbot, data_dir, "restore")
    try:
        fill_details(qtbot, win)
        win.wizard.words.setPlainText(" ".join(words.split()[:-1] + ["abandon"]))  # checksum breaks
        click(qtbot, win.wizard.create_button)
        qtbot.waitUntil(lambda: bool(win.wizard.error.text()), timeout=10_000)
        assert win.wizard.pages.currentIndex() == 1 and not (data_dir / "terminal.db").exists()
        win.wizard.words.setPlainText(words.upper())
        click(qtbot, win.wizard.create_button)
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        assert win.session.term.account.xpub == Wallet(words).account_xpub
    finally:
        dispose(win)


@pytest.mark.slow
def test_enroll_from_the_wizard_then_sync_now_over_http(qtbot: Any, data_dir: Path, tmp_path: Path,
                                                         pg_database: str) -> None:
    prepare_hq_database(pg_database)
    with running_hq(pg_database, tmp_path / "hq") as hq:
        code = enroll_code(pg_database, "Vake", "Counter 2", "Vake", "own")
        with psycopg.connect(pg_database) as conn:  # HQ's menu, as HQ staff would have put it
            for item in DEMO_MENU:
                conn.execute("INSERT INTO menu_items (id, data, active, update_seq) VALUES (%s, %s, true, "
                             "nextval('update_seq')) ON CONFLICT (id) DO NOTHING",
                             (item.id, json.dumps(item.to_dict(), ensure_ascii=False)))
        win = start_wizard(qtbot, data_dir, "new")
        try:
            fill_details(qtbot, win, hq=hq.url, code=code)
            click(qtbot, win.wizard.create_button)
            confirm_words(qtbot, win)
            qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
            term = win.session.term
            assert term.enrolled() and win.session.sync is not None and win.session.sync.enrolled
            login(qtbot, win, "Owner", "4321")
            type_into(qtbot, win.views["shift"].float_edit, "50")
            click(qtbot, win.views["shift"].open_button)
            click(qtbot, win.nav_buttons["sell"])
            click(qtbot, win.sell.item_buttons["udon"])
            on_modal(lambda d: (click(qtbot, d.quick_buttons[0]), click(qtbot, d.quick_buttons[0])))
            click(qtbot, win.sell.pay_button)
            assert term.recent_sales()[0]["total"] == 700
            status = win.status
            qtbot.waitUntil(lambda: status.sync_button.isEnabled(), timeout=10_000)
            click(qtbot, status.sync_button)
            qtbot.waitUntil(lambda: status.status is not None and status.status["pending_records"] == 0
                            and status.status["online"], timeout=30_000)
            assert status.online.text() == "Online" and status.online.objectName() == "online"
            assert status.acked.text().startswith("HQ confirmed")
            assert "0 blocks, 0 records" in status.pending.text()
            assert status.status["last_error"] is None
        finally:
            dispose(win)


def test_the_wizard_speaks_georgian_and_the_app_keeps_the_choice(qtbot: Any, data_dir: Path) -> None:
    win = MainWindow(data_dir)
    win.resize(1024, 768)
    win.show()
    win.start()
    try:
        win.wizard.lang.setCurrentIndex(win.wizard.lang.findData("ka"))
        wz = win.wizard
        titles = [w.text() for w in wz.findChildren(QLabel) if w.isVisible()]
        assert "კეთილი იყოს თქვენი მობრძანება HotPot Spot-ში" in titles
        click(qtbot, next(b for b in wz.findChildren(QPushButton) if b.property("choice") == "demo"))
        qtbot.waitUntil(lambda: win.session is not None, timeout=20_000)
        assert win.lang.currentData() == "ka" and win.login.title.text() == "ვინ დგას სალაროსთან?"
    finally:
        dispose(win)


def test_demo_terminal_shows_its_staff(qtbot: Any, window: MainWindow) -> None:
    assert "Nino 2222" in window.login.hint.text()
    assert window.login.pin.echoMode() == window.login.pin.EchoMode.Password
    qtbot.keyClick(window.login.pin, Qt.Key.Key_Return)  # no user picked yet
    assert "Tap your name" in window.login.error.text()
