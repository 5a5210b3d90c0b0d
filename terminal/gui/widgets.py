"""Small building blocks shared by the screens: panels, a keypad, money fields, error display, manager approval."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from terminal.core.errors import InvalidInput, UserFacingError
from terminal.core.money import parse_gel
from terminal.core.users import Role, User
from terminal.gui.i18n import tr, tr_error
from terminal.gui.qt import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    Qt,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from terminal.services import Terminal

logger = logging.getLogger(__name__)


def panel(layout_cls: type = QVBoxLayout) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("panel")
    layout = layout_cls(frame)
    layout.setContentsMargins(14, 14, 14, 14)
    layout.setSpacing(10)
    return frame, layout


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    form.setVerticalSpacing(8)
    return form


def label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def button(text: str = "", name: str = "", on_click: Callable[[], object] | None = None) -> QPushButton:
    widget = QPushButton(text)
    if name:
        widget.setObjectName(name)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus if name in ("key", "item", "quick", "nav") else
                          Qt.FocusPolicy.StrongFocus)
    if on_click is not None:
        widget.clicked.connect(lambda: on_click())
    return widget


def row_table(columns: int, name: str, *, row_height: int = 40, single: bool = True) -> QTableWidget:
    """A read-only table of whole rows (cart, orders, sales, recordings, alerts)."""
    table = QTableWidget(0, columns)
    table.setObjectName(name)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(row_height)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection if single
                           else QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table


def dialog_buttons(dialog: QDialog, ok_text: str, on_ok: Callable[[], object]) -> QDialogButtonBox:
    """OK (named for what it does) and Cancel, in the current language."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
    buttons.accepted.connect(lambda: on_ok())
    buttons.rejected.connect(dialog.reject)
    return buttons


def confirm(parent: QWidget | None, title: str, text: str, yes: str, name: str) -> bool:
    """A question with a named yes and a Cancel; True when yes was chosen."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName(name)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(tr("Cancel"), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes_button


def message_of(exc: BaseException) -> str:
    if isinstance(exc, UserFacingError):
        return tr_error(exc)
    return tr("Something went wrong that the terminal did not expect. Nothing half-done was saved.")


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """A user's mistake is shown as is; a fault is logged with its trace and offers the details to copy."""
    if isinstance(exc, UserFacingError):
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Cannot do that"), tr_error(exc), QMessageBox.StandardButton.Ok,
                          parent)
        box.setObjectName("user-error")
    else:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        logger.error("fault in the counter app:\n%s", details)
        box = QMessageBox(QMessageBox.Icon.Critical, tr("Unexpected fault"), message_of(exc),
                          QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("fault")
        copy = box.addButton(tr("Copy details"), QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
    box.open()


class Keypad(QWidget):
    """Digits for a touch screen; types into whichever line edit it is bound to."""

    def __init__(self, target: QLineEdit, with_point: bool = True) -> None:
        super().__init__()
        self.target = target
        self.setMaximumHeight(380)  # big enough for a thumb, not the whole screen on a large display
        grid = QGridLayout(self)
        grid.setSpacing(6)
        grid.setContentsMargins(0, 0, 0, 0)
        keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "." if with_point else "00", "0", "⌫"]
        for i, key in enumerate(keys):
            b = button(key, "key", lambda k=key: self.press(k))
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            grid.addWidget(b, i // 3, i % 3)

    def press(self, key: str) -> None:
        if key == "⌫":
            self.target.backspace()
        else:
            self.target.insert(key)
        self.target.setFocus()


class MoneyEdit(QLineEdit):
    """An amount in GEL as people type it ("25", "25.5", "25,50"); value() is tetri."""

    def __init__(self, what: str = "amount") -> None:
        super().__init__()
        self.what = what
        self.setPlaceholderText("0.00")
        self.setMaxLength(12)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    def value(self) -> int:
        text = self.text().strip()
        if not text:
            raise InvalidInput(tr("Please enter the {what}.", what=tr(self.what)))
        return parse_gel(text, tr(self.what))

    def set_value(self, tetri: int) -> None:
        self.setText(f"{tetri // 100}.{tetri % 100:02d}")


class ManagerApproval(QDialog):
    """A manager (or the owner) approves an action at the cashier's till with their own PIN."""

    def __init__(self, parent: QWidget | None, term: Terminal, reason: str) -> None:
        super().__init__(parent)
        self.setObjectName("manager-approval")
        self.term = term
        self.approver: User | None = None
        self.setWindowTitle(tr("Manager approval"))
        layout = QVBoxLayout(self)
        layout.addWidget(label(reason, "subtitle", wrap=True))
        form = form_layout()
        self.who = QComboBox()
        for user in term.users():
            if user.active and user.role.at_least(Role.MANAGER):
                self.who.addItem(f"{user.name} ({tr(user.role.value)})", user.name)
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        form.addRow(tr("Manager"), self.who)
        form.addRow(tr("PIN"), self.pin)
        layout.addLayout(form)
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("Approve"), self.try_approve))
        self.pin.setFocus()

    def try_approve(self) -> None:
        try:
            user = self.term.login(str(self.who.currentData() or ""), self.pin.text())
            if not user.role.at_least(Role.MANAGER):
                raise InvalidInput(tr("{name} is not a manager.", name=user.name))
        except UserFacingError as exc:
            self.error.setText(message_of(exc))
            self.pin.clear()
            return
        self.approver = user
        self.accept()


class ReasonDialog(QDialog):
    """Asks for a short reason (cancelling an order, moving cash, a discount)."""

    def __init__(self, parent: QWidget | None, title: str, prompt: str, *, amount: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reason-dialog")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.addWidget(label(prompt, wrap=True))
        form = form_layout()
        self.amount: MoneyEdit | None = None
        if amount is not None:
            self.amount = MoneyEdit(amount)
            form.addRow(tr(amount).capitalize(), self.amount)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        form.addRow(tr("Reason"), self.reason)
        layout.addLayout(form)
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("OK"), self._check))
        self.value = 0
        (self.amount or self.reason).setFocus()

    def _check(self) -> None:
        try:
            if self.amount is not None:
                self.value = self.amount.value()
            if not self.reason.text().strip():
                raise InvalidInput(tr("Please give a reason."))
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.accept()


class ChoiceDialog(QDialog):
    """Pick one of a few things with a tap: a large button each, and Cancel."""

    def __init__(self, parent: QWidget | None, title: str, choices: list[tuple[str, object]]) -> None:
        super().__init__(parent)
        self.setObjectName("choice")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.chosen: object = None
        layout = QVBoxLayout(self)
        layout.addWidget(label(title, "title"))
        for text, value in choices:
            b = button(text, "choice", lambda _=False, v=value: self._pick(v))
            b.setMinimumHeight(52)
            b.setStyleSheet("text-align: left; padding-left: 14px;")
            layout.addWidget(b)
        cancel = button(tr("Cancel"), "", self.reject)
        cancel.setMinimumHeight(48)
        layout.addWidget(cancel)

    def _pick(self, value: object) -> None:
        self.chosen = value
        self.accept()


def choose(parent: QWidget | None, title: str, choices: list[tuple[str, object]]) -> object:
    dialog = ChoiceDialog(parent, title, choices)
    return dialog.chosen if dialog.exec() == QDialog.DialogCode.Accepted else None


class Row(QWidget):
    """A label and a value on one line (reports)."""

    def __init__(self, name: str, value: str = "", strong: bool = False) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.name = label(name)
        self.value = label(value)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight)
        if strong:  # large: the name wraps onto a second line rather than crowd the amount (Georgian, Russian)
            self.name.setObjectName("bigmoney")
            self.value.setObjectName("bigmoney")
            self.name.setWordWrap(True)
            layout.addWidget(self.name, 1)
        else:
            layout.addWidget(self.name)
            layout.addStretch(1)
        layout.addWidget(self.value)
