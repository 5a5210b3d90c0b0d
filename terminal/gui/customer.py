"""The customer-facing display: a second window, full-screen on a second screen when the till has one, that shows
the customer their order as it is rung up, the total, and after payment the change and the QR to claim their
tokens. It only shows; the cashier's window drives it."""

from __future__ import annotations

from collections.abc import Sequence

from terminal.gui.i18n import money, tr
from terminal.gui.printing import qr_png
from terminal.gui.qt import (
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QPixmap,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.widgets import label

IDLE_AFTER_MS = 90_000  # the thank-you screen (change, QR) stays this long unless the next order starts


class CustomerDisplay(QWidget):
    def __init__(self, franchise: str) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("customer-display")
        self.setWindowTitle("HotPot Spot")
        self.setStyleSheet("QWidget#customer-display { background: #26221f; } "
                           "QWidget#customer-display QLabel { color: #f6f2ec; }")
        self.franchise = franchise
        root = QVBoxLayout(self)
        root.setContentsMargins(40, 30, 40, 30)
        self.heading = label(franchise, "title")
        self.heading.setStyleSheet("font-size: 34px; font-weight: bold;")
        root.addWidget(self.heading)
        body = QHBoxLayout()
        self.lines = label("", wrap=True)
        self.lines.setObjectName("customer-lines")
        self.lines.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.lines.setTextFormat(Qt.TextFormat.RichText)
        self.lines.setStyleSheet("font-size: 24px;")
        body.addWidget(self.lines, 3)
        side = QVBoxLayout()
        self.qr = QLabel()
        self.qr.setObjectName("customer-qr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setStyleSheet("background: white; border-radius: 12px; padding: 12px;")
        side.addWidget(self.qr)
        self.claim = label("", wrap=True)
        self.claim.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.claim.setStyleSheet("font-size: 22px;")
        self.claim.setMinimumHeight(90)  # two or three lines of it, whatever the language
        side.addWidget(self.claim)
        side.addStretch(1)
        body.addLayout(side, 2)
        root.addLayout(body, 1)
        self.total = label("", "total")
        self.total.setObjectName("customer-total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.total.setStyleSheet("font-size: 54px; font-weight: bold;")
        root.addWidget(self.total)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self.show_welcome)
        self.show_welcome()

    def place(self) -> bool:
        """Full screen on a second screen if there is one; returns whether one was found."""
        screens = QGuiApplication.screens()
        if len(screens) < 2:
            return False
        other = next(s for s in screens if s is not QGuiApplication.primaryScreen())
        self.setGeometry(other.geometry())
        self.showFullScreen()
        return True

    def show_welcome(self) -> None:
        self.lines.setText(f"<p style='font-size:40px'>{tr('Welcome!')}</p>")
        self.total.setText("")
        self._no_claim()

    def _no_claim(self) -> None:
        self.qr.clear()
        self.qr.setVisible(False)
        self.claim.setText("")

    def show_cart(self, lines: Sequence[tuple[str, int, int]], discount: int, total: int) -> None:
        """The order as it is rung up: (name, quantity, amount) per line, the discount, the total."""
        self.idle_timer.stop()
        if not lines:
            self.show_welcome()
            return
        self._no_claim()
        rows = "".join(f"<tr><td>{q} × {_escape(name)}</td><td align='right'>&nbsp;&nbsp;{money(amount)}</td></tr>"
                       for name, q, amount in lines[-12:])
        more = f"<p>… {tr('and {n} more', n=len(lines) - 12)}</p>" if len(lines) > 12 else ""
        off = (f"<tr><td>{_escape(tr('Discount'))}</td><td align='right'>&nbsp;&nbsp;{money(-discount)}</td></tr>"
               if discount else "")
        self.lines.setText(f"{more}<table width='100%'>{rows}{off}</table>")
        self.total.setText(tr("Total {amount}", amount=money(total)))

    def show_paid(self, total: int, change: int, claim_url: str | None, customer_st: int) -> None:
        """After payment: the change in large print and, when the sale earned tokens, the QR to claim them."""
        text = f"<p style='font-size:40px'>{_escape(tr('Thank you!'))}</p>"
        if change:
            change_text = _escape(tr("Change: {amount}", amount=money(change)))
            text += f"<p style='font-size:48px; font-weight:bold'>{change_text}</p>"
        self.lines.setText(text)
        self.total.setText(tr("Paid {amount}", amount=money(total)))
        if claim_url:
            image = QPixmap()
            image.loadFromData(qr_png(claim_url))
            self.qr.setPixmap(image.scaled(300, 300, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation))
            self.qr.setVisible(True)
            self.claim.setText(tr("You earned {st} ST — scan to claim them.", st=customer_st))
        else:
            self._no_claim()
        self.idle_timer.start(IDLE_AFTER_MS)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
