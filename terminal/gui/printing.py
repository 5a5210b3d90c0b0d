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
    QGuiApplication,
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
MARGIN_MM = 3
QR_RESOURCE = "qr.png"


@dataclass(frozen=True)
class Document:
    """What to print: an HTML body, images it names, a file name for the PDF and the paper it is laid out for."""

    name: str
    html: str
    images: Mapping[str, bytes] = field(default_factory=dict)  # resource name -> PNG bytes
    width_mm: int = RECEIPT_WIDTH_MM


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)  # sharp module edges when scaled down
    return out.getvalue()


def _code(text: str) -> str:
    """An id, hash or claim code in a monospace face: no ligatures ("ff" stays two letters when the check is read or
    its PDF searched) and every character equally wide, so a code read aloud is not misread."""
    return f"<span style=\"font-family:'DejaVu Sans Mono'\">{html.escape(text)}</span>"


def _rows(rows: Sequence[tuple[str, str]], strong: Sequence[str] = ()) -> str:
    """Name left, amount right; an amount never wraps (a long name does)."""
    out = []
    for name, value in rows:
        style = ' style="font-weight:bold; font-size:12pt"' if name in strong else ""
        out.append(f"<tr{style}><td>{html.escape(name)}</td>"
                   f"<td align='right' style='white-space:nowrap'>&nbsp;{html.escape(value)}</td></tr>")
    return "<table width='100%' cellspacing='0' cellpadding='1'>" + "".join(out) + "</table>"


def line_label(line: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """A sale line as people read it: the item's name, its options in brackets, the note in quotes. `names` holds
    item names by id and option names by "item/group/option" (checkview.item_names), in one language."""
    item_id = line.get("item_id", "")
    text = str(names.get(item_id, line["name"]))
    options = [names.get(f"{item_id}/{m['group']}/{m['option']}", m["option"]) for m in line.get("modifiers") or ()]
    if options:
        text += f" ({', '.join(options)})"
    if line.get("note"):
        text += f" “{line['note']}”"
    return text


def order_number(sale: Mapping[str, Any]) -> str:
    """The short number the kitchen calls out: the check's number within this till (its check id's tail)."""
    return str(sale.get("check_number") or str(sale["check_id"]).rpartition("-")[2])


def check_document(sale: Mapping[str, Any], *, franchise: str, terminal_name: str, terminal_id: str,
                   claim_url: str | None = None, short_code: str | None = None, width_mm: int = RECEIPT_WIDTH_MM,
                   names: Mapping[str, str] | None = None, reprint: bool = False) -> Document:
    """The check of a sale (a SaleResult's dict or the stored sale's details), laid out for the paper's width.

    The claim QR and short code exist only at the moment of sale (the secret is never stored); a reprint says so
    and is saved under a name of its own. `names` gives the items' names in the language of the sale."""
    names = names or {}
    narrow = width_mm < 70
    rows: list[tuple[str, str]] = []
    for line in sale["lines"]:
        rows.append((f"{line['quantity']} × {line_label(line, names)}", money(line["total"])))
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
    parts = []
    if reprint:
        parts.append(f"<div align='center'><b>{html.escape(tr('COPY'))}</b></div>")
    parts.append(f"<div align='center'><b style='font-size:12pt'>{html.escape(franchise)}</b><br>"
                 f"{html.escape(terminal_name)} · {html.escape(when(sale['created_at_ms']))}</div>")
    label = sale.get("order_label")
    order = html.escape(tr("Order {number}", number=order_number(sale)))
    if label:
        order += " · " + html.escape(str(label))
    parts.append(f"<div align='center' style='font-size:16pt; font-weight:bold'>{order}</div><hr>")
    parts.append(_rows(rows))
    parts.append("<hr>")
    parts.append(_rows(totals, strong=(tr("TOTAL"),)))
    images: dict[str, bytes] = {}
    customer_st = sale.get("customer_st", 0)
    if claim_url and short_code:
        images[QR_RESOURCE] = qr_png(claim_url)
        side = 130 if narrow else 150
        earned = tr("You earned {st} ST — scan to claim them.", st=customer_st)
        parts.append(f"<hr><div align='center'><b>{html.escape(earned)}</b>"
                     f"<br><img src='{QR_RESOURCE}' width='{side}' height='{side}'><br>"
                     f"{html.escape(tr('Or enter check {check} and code', check=sale['check_id']))}<br>"
                     f"<b style='font-size:12pt'>{_code(short_code)}</b><br>"
                     f"<span style='font-size:6pt'>{html.escape(claim_url)}</span></div>")
    elif reprint:
        parts.append(f"<hr><div align='center' style='font-size:7pt'>"
                     f"{html.escape(tr('The claim code is printed on the original check only.'))}</div>")
    small = [f"{html.escape(tr('Check'))} {_code(sale['check_id'])} · {html.escape(tr('Cashier'))} "
             f"{html.escape(sale['cashier'])}", f"{html.escape(tr('Terminal'))} {_code(terminal_id[:13])}"]
    block = sale.get("block")
    if block:  # a reprint of a sealed sale: where the ledger holds it, for an auditor
        block_html = html.escape(tr("Ledger block {height} · {hash}", height=block["height"], hash="\x00"))
        small.append(block_html.replace("\x00", _code(block["hash"][:12])))
    parts.append("<hr><div align='center' style='font-size:6pt'>" + "<br>".join(small) + "</div>")
    name = f"check-{sale['check_id']}" + ("-copy" if reprint else "")
    return Document(name, "".join(parts), images, width_mm)


def refund_document(sale: Mapping[str, Any], refund: Mapping[str, Any], *, franchise: str, terminal_name: str,
                    width_mm: int = RECEIPT_WIDTH_MM, names: Mapping[str, str] | None = None) -> Document:
    """The slip for a refund: what was given back, how, on which check, approved by whom; items if by item."""
    names = names or {}
    method = tr("Cash") if refund["method"] == "cash" else tr("Card")
    rows: list[tuple[str, str]] = []
    for line in refund.get("lines") or ():
        rows.append((f"{line['quantity']} × {line_label(line, names)}", money(-line["amount"])))
    parts = [f"<div align='center'><b style='font-size:12pt'>{html.escape(franchise)}</b><br>"
             f"{html.escape(terminal_name)} · {html.escape(when(refund['created_at_ms']))}</div>",
             f"<div align='center' style='font-size:14pt; font-weight:bold'>{html.escape(tr('REFUND'))}</div>",
             f"<div align='center'>{html.escape(tr('On check {check}', check=sale['check_id']))}</div><hr>"]
    if rows:
        parts.append(_rows(rows) + "<hr>")
    parts.append(_rows([(tr("Refunded"), money(-refund["amount"])), (tr("Paid back by"), method)],
                       strong=(tr("Refunded"),)))
    parts.append(f"<hr><div style='font-size:8pt'>{html.escape(tr('Reason'))}: {html.escape(refund['reason'])}<br>"
                 f"{html.escape(tr('Approved by'))}: {html.escape(refund['approved_by'])}</div>")
    return Document(f"refund-{sale['check_id']}", "".join(parts), {}, width_mm)


def report_document(title: str, rows: Sequence[tuple[str, str]], *, franchise: str, terminal_name: str,
                    name: str, at_ms: int, width_mm: int = RECEIPT_WIDTH_MM) -> Document:
    body = (f"<div align='center'><b style='font-size:14pt'>{html.escape(franchise)}</b><br>"
            f"{html.escape(terminal_name)}<br><b>{html.escape(title)}</b><br>{html.escape(when(at_ms))}</div><hr>"
            + _rows(rows) + "<hr>")
    return Document(name, body, {}, width_mm)


def build_text_document(doc: Document) -> QTextDocument:
    return fill_text_document(QTextDocument(), doc)


def fill_text_document(text: QTextDocument, doc: Document) -> QTextDocument:
    """Put a document into a QTextDocument. Previews fill their own browser's document: a QTextBrowser does not
    own a document it is handed, and one that Python collects under it leaves the browser a dangling pointer."""
    text.clear()
    size = 8 if doc.width_mm < 70 else 9
    text.setDefaultStyleSheet(f"body {{ font-family: 'DejaVu Sans'; font-size: {size}pt; }} "
                              f"td {{ font-size: {size}pt; }}")
    text.setDocumentMargin(0)
    for name, png in doc.images.items():
        text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), QImage.fromData(png))
    text.setHtml(f"<body>{doc.html}</body>")
    return text


def paper_pixels(mm: float) -> float:
    """A length on paper in the text document's own pixels (it lays out at the screen's logical resolution, 96 dpi
    where there is none, and printing scales that to the printer)."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.logicalDotsPerInchX() if screen is not None else 96.0
    return mm / 25.4 * dpi


def paginate(text: QTextDocument, width_mm: int) -> QPageSize:
    """Lay the document out as one page of the paper's width, as long as its content (a receipt roll is cut to the
    content), and return that page's size. A document with a page size of its own is printed as it is laid out;
    one without is printed by Qt with 2 cm margins on every side and page numbers: a narrow column in the middle of
    the receipt, broken over pages."""
    width_px = paper_pixels(width_mm - 2 * MARGIN_MM)
    text.setPageSize(QSizeF(width_px, 1e6))
    text.setTextWidth(width_px)
    height_px = text.documentLayout().frameBoundingRect(text.rootFrame()).height() + paper_pixels(2)
    text.setPageSize(QSizeF(width_px, height_px))
    length_mm = height_px / paper_pixels(1) + 2 * MARGIN_MM
    return QPageSize(QSizeF(width_mm, length_mm), QPageSize.Unit.Millimeter)


def unused_path(folder: Path, name: str) -> Path:
    """name.pdf, or name-2.pdf, name-3.pdf ...: a print never replaces an earlier one (the original check is the
    only copy of its claim code)."""
    n = 1
    while True:
        path = folder / (f"{name}.pdf" if n == 1 else f"{name}-{n}.pdf")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # reserved: two prints at once
            return path  # never pick the same name
        except FileExistsError:
            n += 1


def pdf_folder(data_dir: Path) -> Path:
    folder = data_dir / "prints"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder


def print_document(doc: Document, data_dir: Path) -> str:
    """Print on the system's default printer if there is one, else write a PDF. Returns where it went.

    The PDF is one page of the paper's width, as long as the content (a receipt roll). HOTPOT_PRINTER=pdf forces
    the PDF (a till without a receipt printer, and the tests)."""
    printer_name = "" if os.environ.get("HOTPOT_PRINTER") == "pdf" else QPrinterInfo.defaultPrinterName()
    text = build_text_document(doc)
    page = paginate(text, doc.width_mm)
    margins = QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM)
    if printer_name:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPrinterName(printer_name)
        printer.setPageSize(page)
        printer.setPageMargins(margins, QPageLayout.Unit.Millimeter)
        text.print_(printer)
        return printer_name
    folder = pdf_folder(data_dir)
    path = unused_path(folder, doc.name)
    tmp = path.with_suffix(".pdf.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setTitle(doc.name)
    writer.setCreator("HotPot Spot terminal")
    writer.setResolution(300)
    writer.setPageSize(page)
    writer.setPageMargins(margins, QPageLayout.Unit.Millimeter)
    text.print_(writer)
    del writer  # finishes the file
    os.chmod(tmp, 0o600)  # a check carries its claim code: the owner's only, whatever the umask
    os.replace(tmp, path)
    return str(path)
