"""The cash shift: open with a counted float, cash in and out with a reason, the X report at any time, and the Z
report that closes the shift with the counted cash, the expected cash and the variance. Reports print."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from terminal.core.errors import UserFacingError
from terminal.gui.checkview import DocumentDialog
from terminal.gui.i18n import money, tr
from terminal.gui.printing import report_document
from terminal.gui.qt import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QIntValidator,
    QLineEdit,
    QMessageBox,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from terminal.gui.session import Session
from terminal.gui.widgets import Keypad, MoneyEdit, ReasonDialog, Row, button, label, panel, show_error

REPORT_ROWS = (("float_amount", "Opening float"), ("sales_count", "Sales"), ("gross_sales", "Gross sales"),
               ("discounts", "Discounts"), ("cash_sales", "Cash sales"), ("card_sales", "Card sales"),
               ("refunds_count", "Refunds"), ("cash_refunds", "Cash refunds"), ("card_refunds", "Card refunds"),
               ("cash_in", "Cash in"), ("cash_out", "Cash out"), ("net_sales", "Net sales"),
               ("expected_cash", "Expected cash in drawer"))
Z_ROWS = (("counted_cash", "Counted cash"), ("variance", "Variance"))
COUNTS = {"sales_count", "refunds_count"}


def report_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, name in REPORT_ROWS + (Z_ROWS if "variance" in report else ()):
        value = report[key]
        rows.append((tr(name), str(value) if key in COUNTS else money(value)))
    return rows


# Georgian lari notes and coins, in tetri: what a drawer holds.
DENOMINATIONS = (20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5)


def denomination_name(tetri: int) -> str:
    return money(tetri) if tetri >= 100 else tr("{n} tetri", n=tetri)


class DenominationDialog(QDialog):
    """Count the drawer note by note and coin by coin; the total fills the counted cash."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("denominations")
        self.setWindowTitle(tr("Count the drawer"))
        layout = QVBoxLayout(self)
        layout.addWidget(label(tr("How many of each note and coin are in the drawer?"), "subtitle", wrap=True))
        grid = QGridLayout()
        self.counts: dict[int, QLineEdit] = {}
        grid.setHorizontalSpacing(6)
        for i, tetri in enumerate(DENOMINATIONS):
            edit = QLineEdit("0")
            edit.setObjectName(f"count-{tetri}")
            edit.setValidator(QIntValidator(0, 9999, edit))
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMinimumHeight(44)
            edit.setFixedWidth(80)
            edit.textChanged.connect(self._update)
            self.counts[tetri] = edit
            less = button("−", "", lambda _=False, e=edit: self._step(e, -1))
            more = button("+", "", lambda _=False, e=edit: self._step(e, +1))
            for b in (less, more):
                b.setFixedSize(48, 44)
            column = 0 if i < 6 else 5  # notes on the left, coins on the right
            grid.addWidget(label(denomination_name(tetri), "strong"), i % 6, column)
            grid.addWidget(less, i % 6, column + 1)
            grid.addWidget(edit, i % 6, column + 2)
            grid.addWidget(more, i % 6, column + 3)
        grid.setColumnMinimumWidth(4, 24)
        layout.addLayout(grid)
        self.total_label = label("", "title")
        self.total_label.setObjectName("denomination-total")
        layout.addWidget(self.total_label)
        buttons = QHBoxLayout()
        buttons.addWidget(button(tr("Cancel"), "", self.reject))
        self.use_button = button(tr("Use this total"), "primary", self.accept)
        buttons.addWidget(self.use_button)
        layout.addLayout(buttons)
        self._update()

    @staticmethod
    def _count(edit: QLineEdit) -> int:
        return int(edit.text()) if edit.text().isdigit() else 0

    def _step(self, edit: QLineEdit, by: int) -> None:
        edit.setText(str(min(9999, max(0, self._count(edit) + by))))

    def total(self) -> int:
        return sum(tetri * self._count(edit) for tetri, edit in self.counts.items())

    def _update(self) -> None:
        self.total_label.setText(tr("Total: {amount}", amount=money(self.total())))


class ShiftView(QWidget):
    shift_opened = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.last_z: dict[str, Any] | None = None
        self.last_report: DocumentDialog | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        self.pages = QStackedWidget()
        root.addWidget(self.pages)

        # no shift: open one
        closed = QWidget()
        crow = QHBoxLayout(closed)
        box, lay = panel()
        box.setMinimumWidth(380)
        box.setMaximumWidth(460)
        self.open_title = label("", "title")
        self.open_help = label("", "subtitle", wrap=True)
        self.float_edit = MoneyEdit("opening float")
        self.float_edit.setObjectName("float")
        self.float_edit.returnPressed.connect(self.open_shift)
        pad = Keypad(self.float_edit)
        pad.setMinimumHeight(240)
        self.open_button = button("", "primary", self.open_shift)
        self.open_button.setMinimumHeight(54)
        for w in (self.open_title, self.open_help, self.float_edit, pad, self.open_button):
            lay.addWidget(w)
        lay.addStretch(1)
        crow.addStretch(1)
        crow.addWidget(box)
        zbox, self.z_layout = panel()
        self.z_title = label("", "title")
        self.z_layout.addWidget(self.z_title)
        self.z_rows: list[Row] = []
        self.z_host = QVBoxLayout()
        self.z_layout.addLayout(self.z_host)
        self.z_layout.addStretch(1)
        self.print_z = button("", "", lambda: self.print_report(self.last_z, z=True))
        self.z_layout.addWidget(self.print_z)
        self.z_box = zbox
        zbox.setMaximumWidth(700)
        crow.addWidget(zbox, 1)
        crow.addStretch(1)
        self.pages.addWidget(closed)

        # open shift: X report, cash in/out, close
        opened = QWidget()
        orow = QHBoxLayout(opened)
        xbox, xl = panel()
        self.x_title = label("", "title")
        self.x_sub = label("", "subtitle")
        xl.addWidget(self.x_title)
        xl.addWidget(self.x_sub)
        self.x_rows = {key: Row("", strong=key == "expected_cash") for key, _ in REPORT_ROWS}
        for row in self.x_rows.values():
            xl.addWidget(row)
        xl.addStretch(1)
        buttons = QHBoxLayout()
        self.cash_in = button("", "", lambda: self.move_cash("in"))
        self.cash_out = button("", "", lambda: self.move_cash("out"))
        self.print_x = button("", "", lambda: self.print_report(self.session.term.x_report(), z=False))
        for b in (self.cash_in, self.cash_out, self.print_x):
            b.setMinimumHeight(46)
            buttons.addWidget(b)
        xl.addLayout(buttons)
        orow.addWidget(xbox, 3)
        cbox, cl = panel()
        cbox.setMaximumWidth(420)
        self.close_title = label("", "title")
        self.close_help = label("", "subtitle", wrap=True)
        self.counted = MoneyEdit("counted cash")
        self.counted.setObjectName("counted")
        self.counted.returnPressed.connect(self.close_shift)
        cpad = Keypad(self.counted)
        cpad.setMinimumHeight(240)
        self.count_button = button("", "", self.count_denominations)
        self.count_button.setMinimumHeight(46)
        self.close_button = button("", "primary", self.close_shift)
        self.close_button.setMinimumHeight(54)
        for w in (self.close_title, self.close_help, self.counted, self.count_button, cpad, self.close_button):
            cl.addWidget(w)
        cl.addStretch(1)
        orow.addWidget(cbox, 2)
        self.pages.addWidget(opened)
        self.retranslate()

    def refresh(self) -> None:
        shift = self.session.term.current_shift()
        self.pages.setCurrentIndex(1 if shift else 0)
        if shift:
            x = self.session.term.x_report()
            opened = datetime.fromtimestamp(shift["opened_at_ms"] / 1000).strftime("%Y-%m-%d %H:%M")
            self.x_sub.setText(tr("Opened by {name} at {time}", name=shift["opened_by"], time=opened))
            for key, name in REPORT_ROWS:
                self.x_rows[key].name.setText(tr(name))
                self.x_rows[key].value.setText(str(x[key]) if key in COUNTS else money(x[key]))
        self._show_z()

    def _show_z(self) -> None:
        for row in self.z_rows:
            row.deleteLater()
        self.z_rows = []
        self.z_box.setVisible(self.last_z is not None)
        if self.last_z is None:
            return
        for name, value in report_rows(self.last_z):
            row = Row(name, value, strong=name in (tr("Variance"), tr("Expected cash in drawer")))
            if name == tr("Variance"):
                row.value.setObjectName("short" if self.last_z["variance"] < 0 else "over")
            row.setObjectName("z-" + name)
            self.z_host.addWidget(row)
            row.show()
            self.z_rows.append(row)

    def open_shift(self) -> None:
        try:
            self.session.term.open_shift(self.session.require_user(), self.float_edit.value())
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.float_edit.clear()
        self.last_z = None
        self.session.changed()
        self.shift_opened.emit()

    def move_cash(self, direction: str) -> None:
        title = tr("Cash in") if direction == "in" else tr("Cash out")
        dialog = ReasonDialog(self, title, tr("Amount and reason, for the report."), amount="amount")
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            return
        try:
            self.session.term.move_cash(self.session.require_user(), direction, dialog.value, dialog.reason.text())
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.session.changed()

    def count_denominations(self) -> None:
        dialog = DenominationDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.counted.set_value(dialog.total())

    def confirm_close(self, counted: int) -> bool:
        """Z ends the shift for good: say what will be recorded, and what is still open, before it happens."""
        expected = self.session.term.x_report()["expected_cash"]
        variance = counted - expected
        if variance == 0:
            difference = tr("The drawer matches.")
        elif variance < 0:
            difference = tr("{amount} short.", amount=money(-variance))
        else:
            difference = tr("{amount} over.", amount=money(variance))
        text = tr("Close the shift with {counted} counted? Expected {expected}: {difference}", counted=money(counted),
                  expected=money(expected), difference=difference)
        parked = len(self.session.term.parked_carts())
        if parked:
            text += "\n\n" + tr("{n} parked order(s) were never paid. They stay parked for the next shift; recall "
                                 "and sell or clear them.", n=parked)
        waiting = len(self.session.term.open_orders())
        if waiting:
            text += "\n\n" + tr("{n} order(s) are still open in the kitchen queue. They stay with their sales and can "
                                 "be finished in the next shift.", n=waiting)
        box = QMessageBox(QMessageBox.Icon.Question, tr("Close the shift (Z)"), text,
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("confirm-z")
        yes = box.addButton(tr("Close shift"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(tr("Keep the shift open"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is yes

    def close_shift(self) -> None:
        try:
            counted = self.counted.value()
            if not self.confirm_close(counted):
                return
            z = self.session.as_manager(self, tr("Only the cashier who opened the shift or a manager may close it."),
                                        lambda user: self.session.term.close_shift(user, counted))
        except UserFacingError as exc:
            show_error(self, exc)
            return
        if z is None:
            return
        self.counted.clear()
        self.last_z = z
        self.session.changed()
        self.print_report(z, z=True)

    def print_report(self, report: dict[str, Any] | None, *, z: bool) -> None:
        if report is None:
            return
        term = self.session.term
        title = tr("Z report (shift closed)") if z else tr("X report")
        doc = report_document(title, report_rows(report), franchise=term.franchise, terminal_name=term.terminal_name,
                              name=f"{'z' if z else 'x'}-report-{report['shift_id']}", at_ms=int(time.time() * 1000),
                              width_mm=term.receipt_width_mm())
        self.last_report = DocumentDialog(self, self.session, doc, title=title, auto_print=z)
        self.last_report.open()

    def retranslate(self) -> None:
        self.open_title.setText(tr("Open a shift"))
        self.open_help.setText(tr("Count the cash in the drawer and enter it as the opening float."))
        self.open_button.setText(tr("Open shift"))
        self.z_title.setText(tr("Last Z report"))
        self.print_z.setText(tr("Print Z report"))
        self.x_title.setText(tr("Shift (X report)"))
        self.cash_in.setText(tr("Cash in…"))
        self.cash_out.setText(tr("Cash out…"))
        self.print_x.setText(tr("Print X report"))
        self.close_title.setText(tr("Close the shift (Z)"))
        self.close_help.setText(tr("Count the cash in the drawer and enter it. The report shows what was expected "
                                   "and the difference."))
        self.close_button.setText(tr("Close shift"))
        self.count_button.setText(tr("Count by notes and coins…"))
        self.refresh()
