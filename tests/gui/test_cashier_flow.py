"""The whole cashier's day by clicks and keys on the real window over a real terminal database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader

from terminal.core.orders import CASH, Tender
from terminal.core.users import Role
from terminal.gui.i18n import money
from terminal.gui.mainwindow import MainWindow
from terminal.gui.payment import PaymentDialog
from terminal.gui.qt import QLineEdit, QPushButton, Qt, QWidget
from tests.gui.helpers import button_named, click, login, on_modal, press, type_into


def pdf_text(path: str) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_full_cashier_flow(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Giorgi", "3333")
    assert win.session.user.name == "Giorgi" and win.session.user.role is Role.CASHIER
    assert win.current_page() == "shift"  # nobody can sell before a shift is open

    shift = win.views["shift"]
    type_into(qtbot, shift.float_edit, "200")
    click(qtbot, shift.open_button)
    assert term.current_shift()["float"] == 20_000

    click(qtbot, win.nav_buttons["sell"])
    sell = win.sell
    for item in ("broth-spicy", "beef-slices", "udon"):
        click(qtbot, sell.item_buttons[item])
    qtbot.keyClick(sell.search, Qt.Key.Key_Plus)  # a second udon, from the keyboard
    assert [(ln.item.id, ln.quantity) for ln in sell.cart.lines] == [("broth-spicy", 1), ("beef-slices", 1),
                                                                      ("udon", 2)]
    assert "54.00" in sell.total_label.text()

    seen: dict[str, Any] = {}

    def pay(dialog: QWidget) -> None:
        assert isinstance(dialog, PaymentDialog)
        cash = dialog.findChild(QLineEdit, "cash-amount")
        qtbot.keyClicks(cash, "100")
        seen["change"] = dialog.change_label.text()
        qtbot.keyClick(cash, Qt.Key.Key_Return)

    on_modal(pay)
    press(qtbot, win, sell.search, Qt.Key.Key_F12)
    assert "46.00" in seen["change"]
    sale = term.recent_sales()[0]
    assert sale["total"] == 5_400 and sale["status"] == "pending"
    assert sell.cart.lines == []  # ready for the next customer

    check = win.last_check
    assert check is not None
    assert check.banner.text() == f"Change: {money(4_600)}"  # large, above the check, until the cashier closes it
    check.grab().save(str(tmp_path / "check-with-change.png"))
    qtbot.waitUntil(lambda: check.last_print is not None, timeout=15_000)
    text = pdf_text(check.last_print)
    assert Path(check.last_print).name == f"check-{sale['check_id']}.pdf"
    # It carries the claim code: the owner's only (issue 13), in a folder that is too.
    assert Path(check.last_print).stat().st_mode & 0o777 == 0o600
    assert Path(check.last_print).parent.stat().st_mode & 0o777 == 0o700
    assert "54.00" in text and "46.00" in text and sale["check_id"] in text
    assert term.sale_details(sale["id"])["change_given"] == 4_600
    click(qtbot, next(b for b in check.findChildren(QPushButton) if b.objectName() == "primary"))
    assert not check.isVisible()

    click(qtbot, win.nav_buttons["orders"])
    orders = win.views["orders"]
    assert orders.table.rowCount() == 1
    orders.table.selectRow(0)
    for expected in ("confirmed", "in_progress", "ready", "completed"):
        assert orders.advance_button.isEnabled()
        click(qtbot, orders.advance_button)
        assert term.sale_details(sale["id"])["status"] == expected
        if expected != "completed":
            orders.select_check(sale["check_id"])
    assert orders.table.rowCount() == 0

    click(qtbot, win.nav_buttons["shift"])
    type_into(qtbot, shift.counted, "240")
    seen_z: dict[str, str] = {}

    def confirm(box: QWidget) -> None:  # Z asks first, saying what it will record
        seen_z["text"] = box.text()  # type: ignore[attr-defined]
        click(qtbot, button_named(box, "Close shift"))

    on_modal(confirm)
    click(qtbot, shift.close_button)
    assert "240.00" in seen_z["text"] and "254.00" in seen_z["text"] and f"{money(1_400)} short" in seen_z["text"]
    z = shift.last_z
    assert z["expected_cash"] == 25_400 and z["counted_cash"] == 24_000 and z["variance"] == -1_400
    assert z["sales_count"] == 1 and z["cash_sales"] == 5_400 and z["card_sales"] == 0
    shown = {row.name.text(): row.value.text() for row in shift.z_rows}
    assert "254.00" in shown["Expected cash in drawer"] and "-14.00" in shown["Variance"]
    assert term.current_shift() is None
    assert win.current_page() == "shift" and shift.pages.currentIndex() == 0
    report = shift.last_report
    qtbot.waitUntil(lambda: report.last_print is not None, timeout=15_000)
    z_text = pdf_text(report.last_print)
    assert "Z report" in z_text and "254.00" in z_text and "-14.00" in z_text and "240.00" in z_text


def test_reprint_from_history_carries_the_block_hash_once_sealed(qtbot: Any, window: MainWindow) -> None:
    win = window
    term = win.session.term
    login(qtbot, win, "Nino", "2222")
    type_into(qtbot, win.views["shift"].float_edit, "0")
    click(qtbot, win.views["shift"].open_button)
    sale = term.sell(win.session.user, [("udon", 2)], [Tender(CASH)]).sale
    click(qtbot, win.nav_buttons["history"])
    history = win.views["history"]
    history.select_check(sale.check.id)
    assert "Ledger block" not in history.preview.toPlainText()  # nothing for the customer until it is sealed
    win.session.sync.run_once()  # the background job's seal, now
    block = term.sale_details(sale.id)["block"]
    assert block is not None
    history.refresh()
    history.select_check(sale.check.id)
    text = history.preview.toPlainText()
    assert f"{block['height']} · {block['hash'][:12]}" in text and "COPY" in text and sale.check.short_code not in text
    click(qtbot, history.reprint)
    reprint = [d for d in history.findChildren(QWidget) if d.objectName() == "document"][-1]
    qtbot.waitUntil(lambda: reprint.last_print is not None, timeout=15_000)
    assert block["hash"][:12] in pdf_text(reprint.last_print)


def test_codes_on_a_printed_check_read_back_letter_for_letter(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """A hash or claim code with "ff" or "fi" in it must not turn into a ligature in the PDF (the text a search or a
    copy finds would then differ from what HQ holds). Codes are printed in a monospace face."""
    from terminal.gui.printing import check_document, print_document
    monkeypatch.setenv("HOTPOT_PRINTER", "pdf")
    sale = {"lines": [{"quantity": 1, "name": "Udon noodles", "total": 700}], "subtotal": 700, "total": 700,
            "payments": [{"kind": "cash", "amount": 700, "tendered": 700}], "created_at_ms": 1_700_000_000_000,
            "check_id": "CAFFE1FF-7", "sale_id": "0190ffff-fffa-7fff-8fff-ffffffffffff", "cashier": "Nino",
            "block": {"height": 3, "hash": "ffaffiffl" + "f" * 55}, "customer_st": 49}
    doc = check_document(sale, franchise="HotPot Spot", terminal_name="Counter 1", terminal_id="TFFIFF01",
                         claim_url="https://hq.example/c/#x", short_code="FFIF-FLFF")
    text = "".join(pdf_text(print_document(doc, tmp_path)).split())  # a long id may wrap: letters are what count
    for code in ("CAFFE1FF-7", "TFFIFF01", "ffaffiffl" + "fff", "FFIF-FLFF"):
        assert code in text, code
    assert "0190ffff" not in text  # the sale's UUID is no use to the customer: the check id finds the sale
