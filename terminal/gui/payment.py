"""Taking the money: cash with a keypad and quick-tender buttons that show the change, card with its reference,
or several parts (split tender). The sale is written to disk before this dialog closes; the check comes after."""

from __future__ import annotations

from collections.abc import Sequence

from terminal.core.errors import UserFacingError
from terminal.core.orders import CARD, CASH, Tender, Wanted
from terminal.core.sales import DiscountRequest
from terminal.gui.i18n import language, money, tr, tr_error
from terminal.gui.qt import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.session import Session
from terminal.gui.widgets import Keypad, MoneyEdit, button, label, message_of, panel
from terminal.services import SaleResult

NOTES = (500, 1000, 2000, 5000, 10000, 20000)  # GEL notes, in tetri


def quick_amounts(due: int, count: int = 4) -> list[int]:
    """Exact, then the next round amounts a customer is likely to hand over."""
    out = [due]
    for step in (100, 500, 1000, 2000, 5000, 10000, 20000):
        up = -(-due // step) * step
        if up > out[-1]:
            out.append(up)
        if len(out) >= count:
            break
    for note in NOTES:
        if len(out) >= count:
            break
        if note > out[-1]:
            out.append(note)
    return out[:count]


class PaymentDialog(QDialog):
    def __init__(self, parent: QWidget | None, session: Session, wanted: Sequence[Wanted], total: int,
                 discount: DiscountRequest | None, order_label: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payment")
        self.setWindowTitle(tr("Payment"))
        self.setMinimumSize(820, 680)
        self.session = session
        self.wanted = wanted
        self.total = total
        self.discount = discount
        self.order_label = order_label
        self.parts: list[Tender] = []
        self.result_sale: SaleResult | None = None
        self.error = label("", "error", wrap=True)

        root = QVBoxLayout(self)
        head = QHBoxLayout()
        self.due_label = label("", "bigmoney")
        self.change_label = label("", "change")
        self.change_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        head.addWidget(self.due_label)
        head.addStretch(1)
        head.addWidget(self.change_label)
        root.addLayout(head)

        body = QHBoxLayout()
        cash_box, cash = panel()
        cash.addWidget(label(tr("Cash"), "title"))
        self.cash = MoneyEdit("cash amount")
        self.cash.setObjectName("cash-amount")
        self.cash.textChanged.connect(self._cash_typed)
        cash.addWidget(self.cash)
        self.quick = QGridLayout()
        self.quick_buttons: list[QPushButton] = []
        self.quick_for = -1
        self.armed: int | None = None  # the quick amount tapped once: a second tap on it takes the payment
        cash.addLayout(self.quick)
        pad = Keypad(self.cash)
        cash.addWidget(pad, 1)
        self.add_cash_part = button(tr("Take as part payment"), "", self.add_cash)
        cash.addWidget(self.add_cash_part)
        body.addWidget(cash_box, 3)

        side = QVBoxLayout()
        card_box, card = panel()
        card.addWidget(label(tr("Card"), "title"))
        self.card_ref = QLineEdit()
        self.card_ref.setObjectName("card-reference")
        self.card_ref.setPlaceholderText(tr("Card terminal reference"))
        self.card_ref.setMaxLength(64)
        self.card_ref.textChanged.connect(lambda _t: self.error.clear())
        card.addWidget(self.card_ref)
        self.card_amount = MoneyEdit("card amount")
        self.card_amount.setObjectName("card-amount")
        self.card_amount.setPlaceholderText(tr("Amount (empty: all that is due)"))
        self.card_amount.textChanged.connect(lambda _t: self.error.clear())
        card.addWidget(self.card_amount)
        self.card_button = button(tr("Pay by card"), "quick", self.pay_card)
        card.addWidget(self.card_button)
        side.addWidget(card_box)
        parts_box, parts = panel()
        parts.addWidget(label(tr("Payments taken"), "subtitle"))
        self.parts_list = QListWidget()
        self.parts_list.setObjectName("parts")
        parts.addWidget(self.parts_list, 1)
        self.undo_part = button(tr("Remove last payment"), "small", self.remove_part)
        parts.addWidget(self.undo_part)
        side.addWidget(parts_box, 1)
        body.addLayout(side, 2)
        root.addLayout(body, 1)

        root.addWidget(self.error)
        foot = QHBoxLayout()
        cancel = button(tr("Back to the order"), "", self.reject)
        cancel.setMinimumHeight(52)
        self.complete_button = button(tr("Complete sale (Enter)"), "pay", self.complete)
        foot.addWidget(cancel, 1)
        foot.addWidget(self.complete_button, 2)
        root.addLayout(foot)
        self.update_labels()
        self.cash.setFocus()

    # --- the money ---

    def paid(self) -> int:
        return sum(t.amount or 0 for t in self.parts)

    def remaining(self) -> int:
        return max(0, self.total - self.paid())

    def typed_cash(self) -> int | None:
        try:
            return self.cash.value() if self.cash.text().strip() else None
        except UserFacingError:
            return None

    def update_quick(self, due: int) -> None:
        """Quick-tender buttons for what is still due: exact, then the round amounts people hand over."""
        if due == self.quick_for:
            return
        self.quick_for = due
        for b in self.quick_buttons:
            b.deleteLater()
        self.quick_buttons = []
        for i, amount in enumerate(quick_amounts(due)):
            b = button("", "quick", lambda a=amount: self.tap_quick(a))
            b.setProperty("amount", amount)
            b.setProperty("exact", i == 0)
            self.quick_buttons.append(b)
            self.quick.addWidget(b, i // 2, i % 2)
            b.show()
        self.armed = None
        self._label_quick()

    def _label_quick(self) -> None:
        for b in self.quick_buttons:
            amount = int(b.property("amount"))
            if amount == self.armed:
                b.setText(tr("Tap again: take {amount}", amount=money(amount)))
                b.setObjectName("quick-armed")
            else:
                b.setText(tr("Exact {amount}", amount=money(amount)) if b.property("exact") else money(amount))
                b.setObjectName("quick")
            b.setStyleSheet("")  # re-apply the object-name style

    def update_labels(self) -> None:
        remaining = self.remaining()
        self.update_quick(remaining)
        self.due_label.setText(tr("Due {amount}", amount=money(remaining)) if self.parts else
                               tr("Total {amount}", amount=money(self.total)))
        typed = self.typed_cash()
        change = max(0, (typed or 0) - remaining) if typed is not None else 0
        self.change_label.setText(tr("Change {amount}", amount=money(change)) if change else "")
        self.parts_list.clear()
        for t in self.parts:
            kind = tr("Cash") if t.kind == CASH else tr("Card")
            ref = f" · {t.reference}" if t.reference else ""
            self.parts_list.addItem(f"{kind}{ref}: {money(t.amount or 0)}")
        self.undo_part.setEnabled(bool(self.parts))

    def add_part(self, tender: Tender) -> None:
        self.parts.append(tender)
        self.cash.clear()
        self.card_amount.clear()
        self.card_ref.clear()
        self.error.clear()
        self.update_labels()

    def remove_part(self) -> None:
        if self.parts:
            self.parts.pop()
            self.update_labels()

    def add_cash(self) -> None:
        try:
            amount = self.cash.value()
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        if amount >= self.remaining():
            self.complete()
        else:
            self.add_part(Tender(CASH, amount))

    def tap_quick(self, amount: int) -> None:
        """The first tap puts the amount in the cash field and shows the change; a second tap on the same button (or
        Enter) takes it. One tap never finishes a sale the cashier did not see the change of."""
        if self.armed == amount and self.typed_cash() == amount:
            self.complete()
            return
        self.cash.set_value(amount)  # clears any other armed button (_cash_typed)
        self.armed = amount
        self._label_quick()

    def _cash_typed(self) -> None:
        self.error.clear()  # the cashier is correcting: the old complaint no longer applies
        if self.armed is not None:
            self.armed = None
            self._label_quick()
        self.update_labels()

    def pay_card(self) -> None:
        try:
            amount = self.card_amount.value() if self.card_amount.text().strip() else self.remaining()
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        tender = Tender(CARD, amount, self.card_ref.text())
        if amount >= self.remaining():
            self.finish([*self.parts, tender])
        else:
            self.add_part(tender)

    def complete(self) -> None:
        tenders = list(self.parts)
        try:
            if self.cash.text().strip():
                tenders.append(Tender(CASH, self.cash.value()))
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.finish(tenders)

    def finish(self, tenders: list[Tender]) -> None:
        if self.result_sale is not None:  # one sale per dialog, however many times Enter is pressed
            return
        user = self.session.require_user()
        try:
            self.result_sale = self.session.term.sell(user, self.wanted, tenders, self.discount, language=language(),
                                                      order_label=self.order_label)
        except UserFacingError as exc:
            self.error.setText(message_of(exc))  # nothing was written: the sale is one transaction
            return
        self.accept()

    def keyPressEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        key = event.key()  # type: ignore[attr-defined]
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.complete()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]
