"""Sale history: the newest sales, a sale's check as it was printed (reprint, marked as a copy), and refunds,
which a manager approves."""

from __future__ import annotations

from typing import Any

from terminal.core.errors import UserFacingError
from terminal.gui.checkview import DocumentDialog, item_names
from terminal.gui.i18n import language, money, tr, tr_error
from terminal.gui.kitchen import STATUS_NAMES
from terminal.gui.printing import Document, check_document, fill_text_document, line_label, refund_document, when
from terminal.gui.qt import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    Qt,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.session import Session
from terminal.gui.widgets import MoneyEdit, button, dialog_buttons, form_layout, label, panel, row_table, show_error


class RefundDialog(QDialog):
    """A refund by item (how many of each line go back: the amount follows, its share of what was paid) or by an
    amount typed; by the way it was paid unless a manager picks cash or card."""

    def __init__(self, parent: QWidget | None, session: Session, sale: dict[str, Any]) -> None:
        super().__init__(parent)
        self.setObjectName("refund")
        self.setWindowTitle(tr("Refund"))
        self.session, self.sale = session, sale
        remaining = sale["total"] - sum(r["amount"] for r in sale["refunds"])
        done = refunded_by_line(sale)
        layout = QVBoxLayout(self)
        layout.addWidget(label(tr("Refund on check {check}: up to {amount}.", check=sale["check_id"],
                                  amount=money(remaining)), wrap=True))
        layout.addWidget(label(tr("By item: how many of each go back"), "subtitle"))
        names = item_names(session.term, sale.get("language") or language())
        grid = QGridLayout()
        self.counts: list[QLabel] = []
        self.left: list[int] = []
        for i, line in enumerate(sale["lines"]):
            left = line["quantity"] - done.get(i, 0)
            self.left.append(left)
            grid.addWidget(label(f"{line_label(line, names)} · {money(line['unit_price'])}", wrap=True), i, 0)
            grid.addWidget(label(tr("of {n}", n=left), "subtitle"), i, 1)
            less = button("−", "", lambda _=False, n=i: self._step(n, -1))
            count = label("0", "strong")
            count.setAlignment(Qt.AlignmentFlag.AlignCenter)
            count.setMinimumWidth(36)
            more = button("+", "", lambda _=False, n=i: self._step(n, +1))
            for b in (less, more):
                b.setFixedSize(48, 44)
                b.setEnabled(left > 0)
            grid.addWidget(less, i, 2)
            grid.addWidget(count, i, 3)
            grid.addWidget(more, i, 4)
            self.counts.append(count)
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        form = form_layout()
        self.amount = MoneyEdit("refund amount")
        self.amount.set_value(remaining)
        self.amount.textEdited.connect(lambda _t: self._by_amount())
        self.method = QComboBox()
        self.method.addItem(tr("As paid"), None)
        self.method.addItem(tr("Cash"), "cash")
        self.method.addItem(tr("Card"), "card")
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        form.addRow(tr("Amount"), self.amount)
        form.addRow(tr("Method"), self.method)
        form.addRow(tr("Reason"), self.reason)
        layout.addLayout(form)
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("Refund"), self._check))
        self.value = 0
        self.lines: dict[int, int] | None = None  # by item, when any count is above 0

    def _step(self, index: int, by: int) -> None:
        count = max(0, min(self.left[index], int(self.counts[index].text()) + by))
        self.counts[index].setText(str(count))
        chosen = {i: int(c.text()) for i, c in enumerate(self.counts) if int(c.text())}
        self.lines = chosen or None
        self.error.clear()
        if chosen:
            amount, _ = self.session.term.refund_lines_amount(self.sale, chosen)
            self.amount.set_value(amount)

    def _by_amount(self) -> None:
        """An amount typed by hand: a refund by amount, whatever the counts said."""
        for count in self.counts:
            count.setText("0")
        self.lines = None

    def _check(self) -> None:
        try:
            self.value = self.amount.value()
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        if not self.reason.text().strip():
            self.error.setText(tr("Please give a reason."))
            return
        self.accept()


def refunded_by_line(sale: dict[str, Any]) -> dict[int, int]:
    """Quantities refunded by item so far, by line index (from the sale's refunds)."""
    out: dict[int, int] = {}
    for refund in sale["refunds"]:
        for line in refund.get("lines") or ():
            out[line["line"]] = out.get(line["line"], 0) + line["quantity"]
    return out


class HistoryView(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.sales: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.last_slip: DocumentDialog | None = None
        root = QHBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        left = QVBoxLayout()
        self.title = label("", "title")
        left.addWidget(self.title)
        self.table = row_table(5, "sales", row_height=38)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.show_selected)
        left.addWidget(self.table, 1)
        root.addLayout(left, 3)
        box, right = panel()
        box.setMinimumWidth(340)
        box.setMaximumWidth(460)
        self.preview = QTextBrowser()
        self.preview.setObjectName("check-preview")
        right.addWidget(self.preview, 1)
        row = QHBoxLayout()
        self.reprint = button("", "", self.reprint_selected)
        self.refund = button("", "danger", self.refund_selected)
        for b in (self.reprint, self.refund):
            b.setMinimumHeight(46)
            row.addWidget(b)
        right.addLayout(row)
        root.addWidget(box, 2)
        self.retranslate()

    def refresh(self) -> None:
        selected = self.current["id"] if self.current else None
        self.sales = self.session.term.recent_sales()
        self.table.setRowCount(len(self.sales))
        for r, sale in enumerate(self.sales):
            status = tr(STATUS_NAMES.get(sale["status"], sale["status"]))
            if sale["refunded"]:
                status += " · " + tr("refunded {amount}", amount=money(sale["refunded"]))
            if sale.get("claimed_at_ms"):
                status += " · " + tr("tokens claimed")
            for c, text in enumerate((sale["check_id"], when(sale["created_at_ms"]), sale["cashier"],
                                      money(sale["total"]), status)):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, sale["id"])
                if c == 3:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
            if sale["id"] == selected:
                self.table.selectRow(r)
        if not self.sales:
            self.current = None
        self.show_selected()

    def select_check(self, check_id: str) -> None:
        for r, sale in enumerate(self.sales):
            if sale["check_id"] == check_id:
                self.table.selectRow(r)
                return

    def _document(self) -> Document | None:
        if self.current is None:
            return None
        term = self.session.term
        return check_document(self.current, franchise=term.franchise, terminal_name=term.terminal_name,
                              terminal_id=term.terminal_id, width_mm=term.receipt_width_mm(),
                              names=item_names(term, self.current.get("language") or language()), reprint=True)

    def show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            sale_id = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
            self.current = self.session.term.sale_details(sale_id)
            self.current["sale_id"] = self.current["id"]
            self.current["discount"] = self.current.get("discount") or 0
        else:
            self.current = None
        doc = self._document()
        if doc is None:
            self.preview.setHtml(f"<p style='color:#7a716a'>{tr('Pick a sale to see its check.')}</p>")
        else:
            fill_text_document(self.preview.document(), doc)
        self.reprint.setEnabled(doc is not None)
        remaining = 0 if self.current is None else (self.current["total"] -
                                                    sum(r["amount"] for r in self.current["refunds"]))
        self.refund.setEnabled(remaining > 0)

    def reprint_selected(self) -> None:
        doc = self._document()
        if doc is not None:
            DocumentDialog(self, self.session, doc, title=tr("Reprint"), auto_print=True).open()

    def refund_selected(self) -> None:
        sale = self.current
        if sale is None:
            return
        dialog = RefundDialog(self, self.session, sale)
        if dialog.exec() != RefundDialog.DialogCode.Accepted:
            return
        amount, method, reason, lines = dialog.value, dialog.method.currentData(), dialog.reason.text(), dialog.lines
        try:
            done = self.session.as_manager(self, tr("A refund needs a manager's approval."),
                                           lambda user: self.session.term.refund(
                                               user, sale["id"], reason, None if lines else amount, method,
                                               lines=lines))
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.session.changed()
        if done is not None:
            self.print_refund_slip(sale["id"], done)

    def print_refund_slip(self, sale_id: str, done: dict[str, Any]) -> None:
        """The slip the customer (and the drawer) keeps: printed at once, like a check."""
        term = self.session.term
        sale = term.sale_details(sale_id)
        ids = {r["refund_id"] for r in done["refunds"]}
        parts = [r for r in sale["refunds"] if r["id"] in ids]
        refund = {**parts[0], "amount": done["amount"], "method": done["method"],
                  "lines": done.get("lines") or []}
        doc = refund_document(sale, refund, franchise=term.franchise, terminal_name=term.terminal_name,
                              width_mm=term.receipt_width_mm(),
                              names=item_names(term, sale.get("language") or language()))
        self.last_slip = DocumentDialog(self, self.session, doc, title=tr("Refund slip"), auto_print=True)
        self.last_slip.open()

    def retranslate(self) -> None:
        self.title.setText(tr("Sales"))
        self.table.setHorizontalHeaderLabels([tr("Check"), tr("Time"), tr("Cashier"), tr("Total"), tr("Status")])
        self.reprint.setText(tr("Reprint"))
        self.refund.setText(tr("Refund…"))
        self.refresh()
