"""The PIN screen: pick who you are, type the PIN (keypad or keyboard), Enter. Three wrong PINs lock a user for
five minutes; the screen says until when."""

from __future__ import annotations

from datetime import datetime

from terminal.core.errors import UserFacingError, UserLocked
from terminal.gui.i18n import tr
from terminal.gui.qt import QButtonGroup, QGridLayout, QHBoxLayout, QLineEdit, Qt, QVBoxLayout, QWidget, Signal
from terminal.gui.session import Session
from terminal.gui.widgets import Keypad, button, label, message_of, panel


class LoginView(QWidget):
    logged_in = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        box, layout = panel()
        box.setMinimumWidth(520)
        box.setMaximumWidth(640)
        self.title = label("", "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.where = label("", "subtitle")
        self.where.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        layout.addWidget(self.where)
        self.users_grid = QGridLayout()
        self.users_grid.setSpacing(8)
        layout.addLayout(self.users_grid)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin.returnPressed.connect(self.try_login)
        layout.addWidget(self.pin)
        pad = Keypad(self.pin, with_point=False)
        pad.setMinimumHeight(230)
        layout.addWidget(pad)
        self.error = label("", "error", wrap=True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.error)
        self.login_button = button("", "primary", self.try_login)
        self.login_button.setMinimumHeight(52)
        layout.addWidget(self.login_button)
        self.hint = label("", "subtitle", wrap=True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.hint)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.user_buttons: dict[str, object] = {}
        self.reload_users()
        self.retranslate()

    def reload_users(self) -> None:
        for b in list(self.group.buttons()):
            self.group.removeButton(b)
            b.deleteLater()
        self.user_buttons = {}
        users = [u for u in self.session.term.users() if u.active]
        for i, user in enumerate(users):
            b = button(user.name, "user")
            b.setCheckable(True)
            b.setProperty("user_name", user.name)
            b.clicked.connect(self._user_picked)
            self.group.addButton(b)
            self.users_grid.addWidget(b, i // 3, i % 3)
            b.show()  # a child added to a visible screen is otherwise shown only on the next event loop turn
            self.user_buttons[user.name] = b
        if len(users) == 1:
            self.group.buttons()[0].setChecked(True)

    def _user_picked(self) -> None:
        self.error.clear()
        self.pin.setFocus()

    def select_user(self, name: str) -> None:
        b = self.user_buttons[name]
        b.setChecked(True)  # type: ignore[attr-defined]
        self.pin.setFocus()

    def selected(self) -> str | None:
        b = self.group.checkedButton()
        return None if b is None else str(b.property("user_name"))

    def try_login(self) -> None:
        name = self.selected()
        if name is None:
            self.error.setText(tr("Tap your name first."))
            return
        try:
            self.session.login(name, self.pin.text())
        except UserLocked as exc:
            until = datetime.fromtimestamp(exc.locked_until_ms / 1000).strftime("%H:%M:%S")
            self.error.setText(tr("{name} is locked after 3 wrong PINs. Try again at {time}.", name=name,
                                  time=until))
        except UserFacingError as exc:
            self.error.setText(message_of(exc))
        else:
            self.error.clear()
            self.pin.clear()
            self.logged_in.emit()
            return
        self.pin.clear()
        self.pin.setFocus()

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.pin.clear()
        self.pin.setFocus()

    def retranslate(self) -> None:
        term = self.session.term
        self.title.setText(tr("Who is at the till?"))
        self.where.setText(f"{term.franchise} · {term.terminal_name}")
        self.pin.setPlaceholderText(tr("PIN"))
        self.login_button.setText(tr("Log in"))
        self.hint.setText(tr("Tap your name, type your PIN, press Enter."))
