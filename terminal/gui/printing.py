"""Checks and shift reports as documents: HTML for the on-screen preview, and the same document sent to the
receipt printer through QtPrintSupport or, with no printer, written as a PDF (QPdfWriter). Printing runs off the GUI
thread (it builds its own QTextDocument there; nothing here touches a widget)."""

from __future__ import annotations

import html
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import segno

from terminal.gui.i18n import money, tr
from terminal.gui.qt import (
    QImage,
    QMarginsF,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QPrinter,
    QPrinterInfo,
    QSizeF,
    QTextDocument,
    QUrl,
)

logger = logging.getLogger(__name__)

RECEIPT_WIDTH_MM = 80
QR_RESOURCE = "qr.png"


@dataclass(frozen=True)
class Document:
    """What to print: an HTML body, images it names, and a file name for the PDF."""

    name: str
    html: str
    images: Mapping[str, bytes] = field(default_factory=dict)  # resource name -> PNG bytes


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=5, border=2)
    return out.getvalue()


def _code(text: str) -> str:
    """An id, hash or claim code in a monospace face: no ligatures ("ff" stays two letters when the check is read or
    its PDF searched) and every character equally wide, so a code read aloud is not misread."""
    return f"<span style=\"font-family:'DejaVu Sans Mono'\">{html.escape(text)}</span>"


def _rows(rows: Sequence[tuple[str, str]], strong: Sequence[str] = ()) -> str:
    out = []
    for name, value in rows:
        style = ' style="font-weight:bold; font-size:13pt"' if name in strong else ""
        out.append(f"<tr{style}><td>{html.escape(name)}</td><td align='right'>{html.escape(value)}</td></tr>")
    return "<table width='100%' cellspacing='0' cellpadding='1'>" + "".join(out) + "</table>"


def check_document(sale: Mapping[str, Any], *, franchise: str, terminal_name: str, terminal_id: str,
                   claim_url: str | None = None, short_code: str | None = None) -> Document:
    """The check of a sale (a SaleResult's dict or the stored sale's details). The claim QR and short code exist
    only at the moment of sale (the secret is never stored); a reprint says so instead."""
    lines = sale["lines"]
    rows: list[tuple[str, str]] = []
    for line in lines:
        rows.append((f"{line['quantity']} × {line['name']}", money(line["total"])))
    totals: list[tuple[str, str]] = []
    discount = sale.get("discount") or 0
    if discount:
        totals.append((tr("Subtotal"), money(sale["subtotal"])))
        reason = sale.get("discount_reason") or ""
        totals.append((tr("Discount") + (f": {reason}" if reason else ""), money(-discount)))
    totals.append((tr("TOTAL"), money(sale["total"])))
    for p in sale["payments"]:
        kind = tr("Cash") if p["kind"] == "cash" else tr("Card")
        totals.append((kind + (f" {p['reference']}" if p.get("reference") and p["kind"] == "card" else ""),
                       money(p["tendered"])))
    change = sum(p.get("change", 0) for p in sale["payments"])
    if change:
        totals.append((tr("Change"), money(change)))
    block = sale.get("block")
    if block:
        block_html = html.escape(tr("Ledger block {height} · {hash}", height=block["height"], hash="\x00"))
        block_html = block_html.replace("\x00", _code(block["hash"][:12]))
    else:
        block_html = html.escape(tr("Ledger block: not sealed yet"))
    customer_st = sale.get("customer_st", 0)
    parts = []
    parts.append(f"<div align='center'><b style='font-size:14pt'>{html.escape(franchise)}</b><br>"
                 f"{html.escape(terminal_name)}<br>{html.escape(when(sale['created_at_ms']))}</div><hr>")
    parts.append(_rows(rows))
    parts.append("<hr>")
    parts.append(_rows(totals, strong=(tr("TOTAL"),)))
    parts.append("<hr>")
    parts.append(f"<div style='font-size:8pt'>{html.escape(tr('Check'))} {_code(sale['check_id'])}<br>"
                 f"{html.escape(tr('Sale'))} {_code(sale['sale_id'])}<br>"
                 f"{html.escape(tr('Terminal'))} {_code(terminal_id)}<br>"
                 f"{html.escape(tr('Cashier'))} {html.escape(sale['cashier'])}<br>{block_html}</div>")
    images: dict[str, bytes] = {}
    if claim_url and short_code:
        images[QR_RESOURCE] = qr_png(claim_url)
        earned = tr("You earned {st} ST. Scan to claim them:", st=customer_st)
        parts.append(f"<hr><div align='center'>{html.escape(earned)}"
                     f"<br><img src='{QR_RESOURCE}' width='150' height='150'><br>"
                     f"<span style='font-size:8pt'>{html.escape(claim_url)}</span><br>"
                     f"{html.escape(tr('or enter check {check} and code', check=sale['check_id']))}<br>"
                     f"<b style='font-size:13pt'>{_code(short_code)}</b></div>")
    else:
        parts.append(f"<hr><div align='center' style='font-size:9pt'>"
                     f"{html.escape(tr('COPY. The claim code is printed on the original check only.'))}</div>")
    return Document(f"check-{sale['check_id']}", "".join(parts), images)


def report_document(title: str, rows: Sequence[tuple[str, str]], *, franchise: str, terminal_name: str,
                    name: str, at_ms: int) -> Document:
    body = (f"<div align='center'><b style='font-size:14pt'>{html.escape(franchise)}</b><br>"
            f"{html.escape(terminal_name)}<br><b>{html.escape(title)}</b><br>{html.escape(when(at_ms))}</div><hr>"
            + _rows(rows) + "<hr>")
    return Document(name, body)


def build_text_document(doc: Document) -> QTextDocument:
    return fill_text_document(QTextDocument(), doc)


def fill_text_document(text: QTextDocument, doc: Document) -> QTextDocument:
    """Put a document into a QTextDocument. Previews fill their own browser's document: a QTextBrowser does not
    own a document it is handed, and one that Python collects under it leaves the browser a dangling pointer."""
    text.clear()
    text.setDefaultStyleSheet("body { font-family: 'DejaVu Sans'; font-size: 9pt; } td { font-size: 9pt; }")
    for name, png in doc.images.items():
        text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), QImage.fromData(png))
    text.setHtml(f"<body>{doc.html}</body>")
    return text


def pdf_folder(data_dir: Path) -> Path:
    folder = data_dir / "prints"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder


def print_document(doc: Document, data_dir: Path) -> str:
    """Print on the system's default printer if there is one, else write a PDF. Returns where it went.

    HOTPOT_PRINTER=pdf forces the PDF (a till without a receipt printer, and the tests)."""
    printer_name = "" if os.environ.get("HOTPOT_PRINTER") == "pdf" else QPrinterInfo.defaultPrinterName()
    text = build_text_document(doc)
    if printer_name:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPrinterName(printer_name)
        text.print_(printer)
        return printer_name
    path = pdf_folder(data_dir) / f"{doc.name}.pdf"
    tmp = path.with_suffix(".pdf.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setTitle(doc.name)
    writer.setCreator("HotPot Spot terminal")
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QSizeF(RECEIPT_WIDTH_MM, 200), QPageSize.Unit.Millimeter))
    writer.setPageMargins(QMarginsF(4, 4, 4, 4), QPageLayout.Unit.Millimeter)
    text.print_(writer)
    del writer  # finishes the file
    os.chmod(tmp, 0o600)  # a check carries its claim code: the owner's only, whatever the umask
    os.replace(tmp, path)
    return str(path)
