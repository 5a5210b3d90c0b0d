"""The printed check: one page of the paper's real width (80 or 58 mm) however long the order, the claim QR readable
by a phone (OpenCV's QR detector finds the claim link on the rendered PDF), item names in the language of the sale,
the order's number and table; reprints and refund slips saved under names of their own, never over the original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSize
from PySide6.QtPdf import QPdfDocument

from terminal.core.errors import UserFacingError
from terminal.core.orders import CASH, Tender
from terminal.gui.checkview import item_names, sale_check_data
from terminal.gui.mainwindow import MainWindow
from terminal.gui.printing import check_document, print_document
from terminal.gui.qt import QImage, QPushButton, QWidget
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from tests.conftest import TEST_PASSPHRASE
from tests.gui.helpers import button_named, click, login, on_modal, type_into

MM_PER_POINT = 25.4 / 72


def render(pdf: str, dpi: int = 200) -> np.ndarray:
    """The PDF's page as the paper shows it: grey levels, what is not drawn white."""
    doc = QPdfDocument()
    doc.load(pdf)
    points = doc.pagePointSize(0)
    size = QSize(int(points.width() / 72 * dpi), int(points.height() / 72 * dpi))
    image = doc.render(0, size).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    doc.close()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    pixels = raw[:, : image.width()].astype(np.int32)  # B, G, R, A, premultiplied by A
    on_white = 255 - pixels[..., 3:4] + pixels[..., :3]
    return cv2.cvtColor(on_white.clip(0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)


@pytest.fixture
def sold(qtbot: Any, tmp_path: Path) -> tuple[Terminal, Any]:
    term, _ = create_terminal(tmp_path / "term", franchise="Vake", terminal_name="Counter 1", demo=True,
                              passphrase=TEST_PASSPHRASE)
    owner = term.owner()
    term.open_shift(owner, 10_000)
    every = [(item_id, 1, [(g["id"], g["options"][0]["id"]) for g in item.modifiers if g["min"]])
             for item_id, item in term.menu().items() if item.is_sellable()][:16]  # a long order
    result = term.sell(owner, every, [Tender(CASH, 100_000)], language="ka", order_label="Table 7")
    return term, result


@pytest.mark.parametrize("width", [80, 58])
def test_a_long_check_is_one_page_of_the_paper_width_with_a_readable_qr(sold: tuple[Terminal, Any], width: int,
                                                                         tmp_path: Path) -> None:
    term, result = sold
    sale = sale_check_data(result, "Table 7")
    doc = check_document(sale, franchise=term.franchise, terminal_name=term.terminal_name,
                         terminal_id=term.terminal_id, claim_url=result.sale.check.claim_url,
                         short_code=result.sale.check.short_code, width_mm=width, names=item_names(term, "ka"))
    path = print_document(doc, tmp_path)
    reader = PdfReader(path)
    assert len(reader.pages) == 1  # the QR and its code can never be split across pages
    page_width_mm = float(reader.pages[0].mediabox.width) * MM_PER_POINT
    assert abs(page_width_mm - width) < 0.5
    text = " ".join(reader.pages[0].extract_text().split())
    first = term.menu()[result.sale.lines[0].item_id]
    assert first.display_name("ka") in text  # sold from the Georgian screen: Georgian names
    assert f"#{result.sale.check.number}" in text or f"{result.sale.check.number} · Table 7" in text
    assert "Table 7" in text and result.sale.check.short_code in text.replace(" ", "")
    assert "not sealed" not in text and result.sale.id not in text  # what the customer does not need is gone
    found = ""
    for dpi in (200, 300):  # a phone's camera, closer or further
        found, _points, _ = cv2.QRCodeDetector().detectAndDecode(render(path, dpi))
        if found:
            break
    assert found == result.sale.check.claim_url


def test_reprints_and_refund_slips_never_replace_the_original(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Nino", "2222")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    sell = win.sell
    type_into(qtbot, sell.label_edit, "Pager 12")
    click(qtbot, sell.item_buttons["udon"])
    click(qtbot, sell.item_buttons["tofu"])

    def pay(dialog: QWidget) -> None:
        exact = dialog.quick_buttons[0]  # type: ignore[attr-defined]
        click(qtbot, exact)
        click(qtbot, exact)

    on_modal(pay)
    click(qtbot, sell.pay_button)
    check = win.last_check
    qtbot.waitUntil(lambda: check.last_print is not None, timeout=15_000)
    original = Path(check.last_print)
    sale = term.recent_sales()[0]
    assert original.name == f"check-{sale['check_id']}.pdf"
    assert "Pager 12" in " ".join(PdfReader(original).pages[0].extract_text().split())
    assert sell.label_edit.text() == ""  # the next order starts without a label
    first_bytes = original.read_bytes()
    check.accept()

    click(qtbot, win.nav_buttons["orders"])
    orders = win.views["orders"]
    assert orders.table.item(0, 0).text() == f"#{sale['check_number']} · Pager 12"

    click(qtbot, win.nav_buttons["history"])
    history = win.views["history"]
    history.select_check(sale["check_id"])
    prints = []
    for _ in range(2):
        click(qtbot, history.reprint)
        dialog = next(d for d in history.findChildren(QWidget) if d.objectName() == "document" and d.isVisible())
        qtbot.waitUntil(lambda d=dialog: d.last_print is not None, timeout=15_000)
        prints.append(Path(dialog.last_print))
        dialog.accept()
    assert [p.name for p in prints] == [f"check-{sale['check_id']}-copy.pdf", f"check-{sale['check_id']}-copy-2.pdf"]
    assert original.read_bytes() == first_bytes
    assert "COPY" in PdfReader(prints[0]).pages[0].extract_text()

    def refund(dialog: QWidget) -> None:
        type_into(qtbot, dialog.amount, "5")  # type: ignore[attr-defined]
        type_into(qtbot, dialog.reason, "cold soup")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Refund"))

    on_modal(refund)
    click(qtbot, history.refund)
    slip = history.last_slip
    assert slip is not None
    qtbot.waitUntil(lambda: slip.last_print is not None, timeout=15_000)
    assert Path(slip.last_print).name == f"refund-{sale['check_id']}.pdf"
    text = " ".join(PdfReader(slip.last_print).pages[0].extract_text().split())
    assert "REFUND" in text and "5.00" in text and "cold soup" in text and "Nino" in text
    assert repos.sale_details(term.store, sale["id"])["refunds"][0]["amount"] == 500


def test_refund_by_item_gives_back_each_lines_share_and_prints_the_items(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Nino", "2222")
    type_into(qtbot, win.views["shift"].float_edit, "100")
    click(qtbot, win.views["shift"].open_button)
    owner = term.owner()
    from terminal.core.sales import DiscountRequest

    sale = term.sell(owner, [("udon", 3), ("shrimp", 1)], [Tender(CASH)],
                     DiscountRequest(470, "loyal customer")).sale  # 47.00 less 4.70: 10 % off every line
    click(qtbot, win.nav_buttons["history"])
    history = win.views["history"]
    history.select_check(sale.check.id)

    def by_item(dialog: QWidget) -> None:
        plus = [b for b in dialog.findChildren(QPushButton) if b.text() == "+"]
        click(qtbot, plus[0])
        click(qtbot, plus[0])  # two of the three udon
        assert dialog.amount.text() == "12.60"  # type: ignore[attr-defined]  # 14.00 less its 10 %
        type_into(qtbot, dialog.reason, "too salty")  # type: ignore[attr-defined]
        click(qtbot, button_named(dialog, "Refund"))

    on_modal(by_item)
    click(qtbot, history.refund)
    slip = history.last_slip
    assert slip is not None
    qtbot.waitUntil(lambda: slip.last_print is not None, timeout=15_000)
    text = " ".join(PdfReader(slip.last_print).pages[0].extract_text().split())
    assert "2 × Udon noodles" in text and "12.60" in text
    details = term.sale_details(sale.id)
    assert [(r["amount"], [(ln["line"], ln["quantity"]) for ln in r["lines"]]) for r in details["refunds"]] == [
        (1_260, [(0, 2)])]

    # Only one udon is left to give back: asking for two more is refused, nothing written.
    with pytest.raises(UserFacingError, match="Only 1 × Udon noodles can still be refunded"):
        term.refund(owner, sale.id, "again", lines={0: 2})
    assert len(term.sale_details(sale.id)["refunds"]) == 1
