"""The check after a sale (and a reprint from history): an on-screen preview and printing off the GUI thread."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from terminal.core.menu import MenuItem
from terminal.gui.i18n import tr
from terminal.gui.printing import Document, fill_text_document, print_document
from terminal.gui.qt import QDialog, QHBoxLayout, QObject, Qt, QTextBrowser, QVBoxLayout, QWidget, Signal
from terminal.gui.session import Session
from terminal.gui.widgets import button, label, message_of
from terminal.services import SaleResult, Terminal


def menu_names(menu: Mapping[str, MenuItem], lang: str) -> dict[str, str]:
    """The menu's item names in one language, and its options' by "item/group/option" (printing.line_label)."""
    names = {}
    for item_id, item in menu.items():
        names[item_id] = item.display_name(lang)
        for group in item.modifiers:
            for option in group["options"]:
                names[f"{item_id}/{group['id']}/{option['id']}"] = option["name"].get(lang) or option["name"]["en"]
    return names


def item_names(term: Terminal, lang: str) -> dict[str, str]:
    """For a check in the language its sale was made in."""
    return menu_names(term.menu(), lang)


def sale_check_data(result: SaleResult, order_label: str | None = None) -> dict[str, Any]:
    """A fresh sale in the shape of the stored sale's details, so one renderer serves both."""
    sale = result.sale
    return {"sale_id": sale.id, "check_id": sale.check.id, "check_number": sale.check.number,
            "order_label": order_label, "created_at_ms": sale.created_at_ms,
            "cashier": sale.cashier, "lines": [ln.to_dict() for ln in sale.lines], "subtotal": sale.subtotal,
            "discount": sale.discount_amount, "discount_reason": sale.discount.reason if sale.discount else None,
            "total": sale.total, "payments": [p.to_dict() for p in sale.payments],
            "customer_st": sale.parts.get("customer", 0), "block": None}


class Printer(QObject):
    """Starts printing a document on the task helper and says where it went."""

    printed = Signal(str)
    failed = Signal(str)

    def __init__(self, session: Session, parent: QObject) -> None:
        super().__init__(parent)
        self.session = session

    def print(self, doc: Document) -> None:
        data_dir = Path(self.session.term.data_dir)

        self.session.tasks.run(lambda: print_document(doc, data_dir), self.printed.emit,
                               lambda exc: self.failed.emit(message_of(exc)))


class DocumentDialog(QDialog):
    """Preview of a check or report, printed at once (auto_print) or on request."""

    def __init__(self, parent: QWidget | None, session: Session, doc: Document, *, title: str,
                 auto_print: bool = False, banner: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("document")
        self.setWindowTitle(title)
        self.setMinimumSize(480, 640)
        self.doc = doc
        self.last_print: str | None = None
        layout = QVBoxLayout(self)
        if banner:  # what the cashier must act on before the next customer: the change to hand back, in large
            self.banner = label(banner, "change-banner")
            self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(self.banner)
        self.preview = QTextBrowser()
        fill_text_document(self.preview.document(), doc)
        layout.addWidget(self.preview, 1)
        self.status = label("", "subtitle", wrap=True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.print_button = button(tr("Print"), "", self.print_now)
        self.print_button.setMinimumHeight(48)
        close = button(tr("Done (Enter)"), "primary", self.accept)
        close.setMinimumHeight(48)
        close.setDefault(True)
        row.addWidget(self.print_button, 1)
        row.addWidget(close, 2)
        layout.addLayout(row)
        self.printer = Printer(session, self)
        self.printer.printed.connect(self._printed)
        self.printer.failed.connect(self._failed)
        if auto_print:
            self.print_now()

    def print_now(self) -> None:
        self.status.setText(tr("Printing…"))
        self.print_button.setEnabled(False)
        self.printer.print(self.doc)

    def _printed(self, where: str) -> None:
        self.last_print = where
        self.print_button.setEnabled(True)
        if where.endswith(".pdf"):
            self.status.setText(tr("Saved as PDF: {name}", name=Path(where).name))
            self.status.setToolTip(where)
        else:
            self.status.setText(tr("Printed on {printer}", printer=where))

    def _failed(self, message: str) -> None:
        self.print_button.setEnabled(True)
        self.status.setText(tr("Printing failed: {message}", message=message))
