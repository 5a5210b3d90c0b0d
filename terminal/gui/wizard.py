"""First run: set up the terminal — a new wallet (the 24 words shown once, three of them confirmed) or one restored
from its words; franchise, terminal and node type; the wallet passphrase and the owner's PIN; optionally HQ's address
and an enrollment code. Or, in one tap, a demo terminal with the demo menu and staff."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from terminal.cameras import Cameras
from terminal.core.errors import InvalidInput, UserFacingError
from terminal.core.users import validate_pin
from terminal.gui.i18n import LANGUAGES, language, tr
from terminal.gui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from terminal.gui.session import Session
from terminal.gui.tasks import Tasks
from terminal.gui.widgets import button, form_layout, label, message_of, panel
from terminal.services import Terminal, Wallet
from terminal.setup import DEMO_PASSPHRASE, SetupResult, create_terminal


def demo_passphrase() -> str:
    return os.environ.get("HOTPOT_PASSPHRASE") or DEMO_PASSPHRASE


def create_demo(data_dir: Path) -> tuple[Terminal, Wallet, SetupResult]:
    passphrase = demo_passphrase()
    term, setup = create_terminal(data_dir, franchise="HotPot Spot Demo", terminal_name="Counter 1",
                                  node_type="franchise", demo=True, passphrase=passphrase)
    cameras = Cameras(data_dir)
    try:
        cameras.install_demo(term.owner())  # two cameras fed by generated video, so the wall has something to show
    finally:
        cameras.close()
    return term, Wallet(setup.mnemonic), setup


class SetupWizard(QWidget):
    """Emits finished(terminal, wallet, setup) once the terminal exists and its words are confirmed."""

    finished = Signal(object, object, object)
    language_chosen = Signal(str)  # the window builds the wizard again in that language

    def __init__(self, data_dir: Path, tasks: Tasks) -> None:
        super().__init__()
        self.setObjectName("page")
        self.data_dir = data_dir
        self.tasks = tasks
        self.restore = False
        self.term: Terminal | None = None
        self.wallet: Wallet | None = None
        self.setup: SetupResult | None = None
        self.positions: list[int] = []
        self.note = ""  # what the window should say after set-up (an enrollment that failed)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        row = QHBoxLayout()
        row.addStretch(1)
        box, self.box_layout = panel()
        box.setMinimumWidth(620)
        box.setMaximumWidth(820)
        self.pages = QStackedWidget()
        self.box_layout.addWidget(self.pages)
        self.error = label("", "error", wrap=True)
        self.box_layout.addWidget(self.error)
        row.addWidget(box)
        row.addStretch(1)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self._build_choose()
        self._build_details()
        self._build_working()
        self._build_words()
        self._build_confirm()

    # --- pages ---

    def _build_choose(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        top = QHBoxLayout()
        top.addWidget(label(tr("Welcome to HotPot Spot"), "title"), 1)
        self.lang = QComboBox()
        self.lang.setObjectName("language")
        for code, name in LANGUAGES.items():
            self.lang.addItem(name, code)
        self.lang.setCurrentIndex(list(LANGUAGES).index(language()))
        self.lang.currentIndexChanged.connect(lambda _i: self.language_chosen.emit(str(self.lang.currentData())))
        top.addWidget(self.lang)
        lay.addLayout(top)
        lay.addWidget(label(tr("This computer has no terminal yet. How do you want to start?"), "subtitle", wrap=True))
        for text, sub, slot, name in (
            (tr("Set up a new terminal"), tr("Creates a new wallet; you will write down its 24 words."),
             lambda: self.go_details(False), "new"),
            (tr("Restore from recovery words"), tr("Uses the 24 words of an existing wallet."),
             lambda: self.go_details(True), "restore"),
            (tr("Try the demo terminal"), tr("Demo menu and staff, ready to sell in a few seconds."),
             self.make_demo, "demo"),
        ):
            b = button(f"{text}\n{sub}", "item", slot)
            b.setObjectName("item")
            b.setProperty("choice", name)
            b.setMinimumHeight(84)
            lay.addWidget(b)
        lay.addStretch(1)
        self.pages.addWidget(page)

    def _build_details(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.details_title = label("", "title")
        lay.addWidget(self.details_title)
        form = form_layout()
        form.setVerticalSpacing(8)
        self.franchise = QLineEdit()
        self.terminal_name = QLineEdit(tr("Counter 1"))
        self.node_type = QComboBox()
        self.node_type.addItem(tr("Franchise node"), "franchise")
        self.node_type.addItem(tr("Own node (company)"), "own")
        self.words = QPlainTextEdit()
        self.words.setPlaceholderText(tr("The 24 recovery words, separated by spaces"))
        self.words.setMaximumHeight(90)
        self.words_label = label(tr("Recovery words"))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase2 = QLineEdit()
        self.passphrase2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin2 = QLineEdit()
        self.pin2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin2.setMaxLength(8)
        self.hq = QLineEdit()
        self.hq.setPlaceholderText("https://hq.example")
        self.code = QLineEdit()
        self.code.setPlaceholderText(tr("optional"))
        form.addRow(tr("Franchise name"), self.franchise)
        form.addRow(tr("Terminal name"), self.terminal_name)
        form.addRow(tr("Node type"), self.node_type)
        form.addRow(self.words_label, self.words)
        form.addRow(tr("Wallet passphrase"), self.passphrase)
        form.addRow(tr("Passphrase again"), self.passphrase2)
        form.addRow(tr("Owner PIN (4-8 digits)"), self.pin)
        form.addRow(tr("PIN again"), self.pin2)
        form.addRow(tr("HQ address (optional)"), self.hq)
        form.addRow(tr("Enrollment code"), self.code)
        lay.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(button(tr("Back"), "", lambda: self.show_page(0)))
        row.addStretch(1)
        self.create_button = button(tr("Create terminal"), "primary", self.create_terminal)
        row.addWidget(self.create_button)
        lay.addLayout(row)
        lay.addStretch(1)
        self.pages.addWidget(page)

    def _build_working(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addStretch(1)
        self.working = label(tr("Setting up the terminal: creating and encrypting its keys…"), "title", wrap=True)
        self.working.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.working)
        lay.addStretch(1)
        lay.addStretch(1)
        self.pages.addWidget(page)

    def _build_words(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(label(tr("Write down these 24 words"), "title"))
        lay.addWidget(label(tr("They are the only way to recover this terminal's wallet. They are shown once and "
                               "never stored unencrypted. Keep the paper somewhere safe."), "subtitle", wrap=True))
        host = QWidget()
        self.words_grid = QGridLayout(host)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(host)
        scroll.setMinimumHeight(260)
        lay.addWidget(scroll)
        self.written = QCheckBox(tr("I have written down all 24 words, in order"))
        self.words_next = button(tr("Next"), "primary", self.go_confirm)
        self.words_next.setEnabled(False)
        self.written.toggled.connect(self.words_next.setEnabled)
        lay.addWidget(self.written)
        lay.addWidget(self.words_next)
        lay.addStretch(1)
        self.pages.addWidget(page)

    def _build_confirm(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(label(tr("Confirm three words"), "title"))
        lay.addWidget(label(tr("Type the words at these positions from your paper."), "subtitle", wrap=True))
        self.confirm_form = form_layout()
        self.answers = [QLineEdit() for _ in range(3)]
        self.answer_labels = [label("") for _ in range(3)]
        for lab, edit in zip(self.answer_labels, self.answers, strict=True):
            self.confirm_form.addRow(lab, edit)
        lay.addLayout(self.confirm_form)
        row = QHBoxLayout()
        row.addWidget(button(tr("Show the words again"), "", lambda: self.show_page(3)))
        row.addStretch(1)
        self.confirm_button = button(tr("Confirm"), "primary", self.confirm)
        row.addWidget(self.confirm_button)
        lay.addLayout(row)
        lay.addStretch(1)
        self.pages.addWidget(page)

    def show_page(self, index: int) -> None:
        self.error.clear()
        self.pages.setCurrentIndex(index)

    # --- actions ---

    def go_details(self, restore: bool) -> None:
        self.restore = restore
        self.details_title.setText(tr("Restore a terminal") if restore else tr("Set up a new terminal"))
        self.words.setVisible(restore)
        self.words_label.setVisible(restore)
        self.show_page(1)
        self.franchise.setFocus()

    def _fail(self, exc: BaseException, page: int) -> None:
        self.show_page(page)
        self.error.setText(message_of(exc))

    def create_terminal(self) -> None:
        try:
            if self.passphrase.text() != self.passphrase2.text():
                raise InvalidInput(tr("The two passphrases differ."))
            validate_pin(self.pin.text())
            if self.pin.text() != self.pin2.text():
                raise InvalidInput(tr("The two PINs differ."))
            if bool(self.hq.text().strip()) != bool(self.code.text().strip()):
                raise InvalidInput(tr("Give both HQ's address and the enrollment code, or neither."))
        except UserFacingError as exc:
            self.error.setText(message_of(exc))
            return
        args: dict[str, Any] = {"franchise": self.franchise.text(), "terminal_name": self.terminal_name.text(),
                                "passphrase": self.passphrase.text(), "node_type": self.node_type.currentData(),
                                "owner_pin": self.pin.text(),
                                "mnemonic": " ".join(self.words.toPlainText().split()) if self.restore else None}
        data_dir = self.data_dir
        self.show_page(2)

        def work() -> tuple[Terminal, Wallet, SetupResult]:
            term, setup = create_terminal(data_dir, **args)
            return term, Wallet(setup.mnemonic), setup

        self.tasks.run(work, self._created, lambda exc: self._fail(exc, 1))

    def _created(self, made: tuple[Terminal, Wallet, SetupResult]) -> None:
        self.term, self.wallet, self.setup = made
        if self.restore:
            self.confirmed()
            return
        words = self.setup.mnemonic.split()
        for i, word in enumerate(words):
            cell = label(f"{i + 1:>2}. {word}", "words")
            cell.setProperty("word_index", i + 1)
            self.words_grid.addWidget(cell, i % 8, i // 8)
            cell.show()
        self.show_page(3)

    def go_confirm(self) -> None:
        assert self.wallet is not None
        self.positions = Terminal.backup_challenge(self.wallet)
        for lab, edit, pos in zip(self.answer_labels, self.answers, self.positions, strict=True):
            lab.setText(tr("Word #{n}", n=pos))
            edit.clear()
        self.show_page(4)
        self.answers[0].setFocus()

    def confirm(self) -> None:
        assert self.term is not None and self.wallet is not None
        if not self.term.confirm_backup(self.wallet, self.positions, [e.text() for e in self.answers]):
            self.error.setText(tr("Those words do not match. Check your paper, or look at the words again."))
            return
        self.confirmed()

    def confirmed(self) -> None:
        assert self.term is not None and self.wallet is not None
        hq, code = self.hq.text().strip(), self.code.text().strip()
        if not hq:
            self._finish()
            return
        self.working.setText(tr("Enrolling with HQ…"))
        self.show_page(2)
        term, wallet = self.term, self.wallet

        def work() -> Any:
            from terminal.syncing import enroll

            return enroll(term, wallet, hq, code)

        def failed(exc: BaseException) -> None:
            self._finish(tr("The terminal is set up, but enrolling with HQ failed: {message} "
                            "Enroll later with 'hotpot-terminal enroll'.", message=message_of(exc)))

        self.tasks.run(work, lambda _a: self._finish(), failed)

    def _finish(self, note: str = "") -> None:
        self.note = note
        self.finished.emit(self.term, self.wallet, self.setup)

    def make_demo(self) -> None:
        self.working.setText(tr("Setting up the demo terminal…"))
        self.show_page(2)
        data_dir = self.data_dir
        self.tasks.run(lambda: create_demo(data_dir), self._demo_made, lambda exc: self._fail(exc, 0))

    def _demo_made(self, made: tuple[Terminal, Wallet, SetupResult]) -> None:
        self.term, self.wallet, self.setup = made
        self._finish()


class UnlockDialog(QDialog):
    """The owner's passphrase opens the wallet, so the ledger is sealed and synced in the background."""

    def __init__(self, parent: QWidget | None, session: Session) -> None:
        super().__init__(parent)
        self.setObjectName("unlock")
        self.session = session
        self.setWindowTitle(tr("Unlock the ledger"))
        lay = QVBoxLayout(self)
        lay.addWidget(label(tr("Sales are kept safely while the wallet is locked; sealing them into signed blocks "
                               "and syncing with HQ needs the wallet passphrase."), wrap=True))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self.unlock)
        lay.addWidget(self.passphrase)
        self.error = label("", "error", wrap=True)
        lay.addWidget(self.error)
        row = QHBoxLayout()
        row.addWidget(button(tr("Cancel"), "", self.reject))
        self.ok = button(tr("Unlock"), "primary", self.unlock)
        row.addWidget(self.ok)
        lay.addLayout(row)

    def unlock(self) -> None:
        self.ok.setEnabled(False)
        self.error.setText(tr("Opening the wallet…"))

        def failed(exc: BaseException) -> None:
            self.ok.setEnabled(True)
            self.error.setText(message_of(exc))
            self.passphrase.clear()

        self.session.unlock(self.passphrase.text(), lambda _w: self.accept(), failed)
