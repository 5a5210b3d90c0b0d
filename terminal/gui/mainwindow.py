"""The counter app's window: the first-run wizard, then the PIN screen and the work screens (sell, orders, shift,
history) under a top bar with the language switch and "switch user", over the sync status bar."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from terminal.cameras import Cameras
from terminal.gui.admin import AdminView
from terminal.gui.cameras import CameraView
from terminal.gui.checkview import DocumentDialog, item_names, sale_check_data
from terminal.gui.customer import CustomerDisplay
from terminal.gui.history import HistoryView
from terminal.gui.i18n import LANGUAGES, language, money, set_language, tr
from terminal.gui.kitchen import KitchenView
from terminal.gui.kycdesk import KycDesk
from terminal.gui.login import LoginView
from terminal.gui.printing import check_document
from terminal.gui.qt import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QMainWindow,
    QShortcut,
    QStackedWidget,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.sell import SellView
from terminal.gui.session import Session
from terminal.gui.shift import ShiftView
from terminal.gui.statusbar import SyncStatusBar
from terminal.gui.tasks import Tasks
from terminal.gui.widgets import button, label, show_error
from terminal.gui.wizard import SetupWizard, demo_passphrase
from terminal.services import SaleResult, Terminal, Wallet
from terminal.setup import SetupResult

logger = logging.getLogger(__name__)

PAGES = ("sell", "orders", "shift", "history", "cameras", "kyc", "admin")
PAGE_NAMES = {"sell": "Sell", "orders": "Orders", "shift": "Shift", "history": "History", "cameras": "Cameras",
              "kyc": "KYC", "admin": "Manage"}
MANAGER_PAGES = ("cameras", "kyc", "admin")


class MainWindow(QMainWindow):
    def __init__(self, data_dir: Path, *, demo: bool = False) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.demo = demo
        self.tasks = Tasks(lambda exc: show_error(self, exc))
        self.session: Session | None = None
        self.views: dict[str, QWidget] = {}
        self.setWindowTitle("HotPot Spot")
        self.setMinimumSize(1000, 700)
        self.root = QStackedWidget()
        self.setCentralWidget(self.root)
        self.wizard: SetupWizard | None = None
        self.last_check: DocumentDialog | None = None
        QShortcut(QKeySequence("F11"), self).activated.connect(self.toggle_full_screen)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    # --- start: wizard or the terminal ---

    def start(self) -> None:
        if Terminal.exists(self.data_dir):
            self.open_terminal(Terminal.open(self.data_dir), None)
            return
        self.show_wizard()
        if self.demo:
            assert self.wizard is not None
            self.wizard.make_demo()

    def show_wizard(self) -> None:
        old = self.wizard
        self.wizard = SetupWizard(self.data_dir, self.tasks)
        self.wizard.finished.connect(self._wizard_done)
        self.wizard.language_chosen.connect(self._wizard_language)
        self.root.addWidget(self.wizard)
        self.root.setCurrentWidget(self.wizard)
        if old is not None:
            self.root.removeWidget(old)
            old.deleteLater()

    def _wizard_language(self, code: str) -> None:
        set_language(code)
        self.show_wizard()  # the wizard's words are set when it is built; nothing is entered yet on this page

    def _wizard_done(self, term: Terminal, wallet: Wallet | None, setup: SetupResult | None) -> None:
        note = self.wizard.note if self.wizard is not None else ""
        self.open_terminal(term, wallet)
        if setup is not None and len(setup.pins) > 1:
            self.login.hint.setText(tr("Demo staff: {staff}", staff=", ".join(
                f"{name} {pin}" for name, pin in setup.pins.items())))
        if note:
            self.login.error.setText(note)

    def open_terminal(self, term: Terminal, wallet: Wallet | None) -> None:
        self.session = session = Session(term, self.tasks)
        work = QWidget()
        outer = QVBoxLayout(work)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._top_bar())
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.login = LoginView(session)
        self.login.logged_in.connect(self._logged_in)
        self.stack.addWidget(self.login)
        self.sell = SellView(session)
        self.sell.sale_completed.connect(self.show_check)
        self.sell.open_shift_requested.connect(lambda: self.go("shift"))
        self.cameras = Cameras(self.data_dir)
        self.views = {"sell": self.sell, "orders": KitchenView(session), "shift": ShiftView(session),
                      "history": HistoryView(session), "cameras": CameraView(session, self.cameras),
                      "kyc": KycDesk(session, self.cameras), "admin": AdminView(session)}
        self.views["shift"].shift_opened.connect(lambda: self.go("sell"))  # type: ignore[attr-defined]
        for name in PAGES:
            self.stack.addWidget(self.views[name])
        self.root.addWidget(work)
        self.root.setCurrentWidget(work)
        self.customer: CustomerDisplay | None = None
        mode = term.customer_display()
        if mode != "off":
            display = CustomerDisplay(term.franchise)
            if display.place() or mode == "on":  # a second screen, or asked for even on one (a window of its own)
                if not display.isVisible():
                    display.resize(1024, 600)
                    display.show()
                self.sell.cart_changed.connect(display.show_cart)
                self.customer = display
            else:
                display.deleteLater()
        self.status = SyncStatusBar(session, self.open_camera_alerts)
        self.status.alerts_clicked.connect(self.show_camera_alerts)
        self.setStatusBar(self.status)
        session.data_changed.connect(self._data_changed)
        session.user_changed.connect(self._user_changed)
        for i, name in enumerate(PAGES):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self).activated.connect(lambda n=name: self.go(n))
        QShortcut(QKeySequence("Ctrl+L"), self).activated.connect(self.switch_user)
        self._user_changed()
        if wallet is not None:
            session.start_background(wallet)
        else:
            passphrase = os.environ.get("HOTPOT_PASSPHRASE") or (demo_passphrase() if self.demo else "")
            if passphrase:
                session.unlock(passphrase, on_failed=lambda exc: logger.warning("wallet stays locked: %s", exc))
        self.retranslate()
        self.status.refresh()
        self.start_cameras()

    def open_camera_alerts(self) -> int:
        if self.session is None or not self.session.is_manager:
            return 0
        return len(self.cameras.alerts(self.session.user))

    def show_camera_alerts(self) -> None:
        self.go("cameras")
        self.views["cameras"].tabs.setCurrentIndex(2)  # type: ignore[attr-defined]

    def start_cameras(self) -> None:
        """Recording runs whoever is at the till; a demo terminal without cameras gets the two demo ones."""
        cameras = self.cameras
        if cameras.configs():
            cameras.start()
        elif self.demo and self.session is not None:
            owner = self.session.term.owner()
            self.tasks.run(lambda: cameras.install_demo(owner), lambda _c: cameras.start())

    def _top_bar(self) -> QFrame:
        self.topbar = bar = QFrame()
        bar.setObjectName("topbar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(12, 0, 12, 0)
        row.setSpacing(2)
        assert self.session is not None
        term = self.session.term
        self.brand = label("HotPot Spot", "brand")
        row.addWidget(self.brand)
        self.where = label(f"  {term.franchise} · {term.terminal_name}")
        row.addWidget(self.where)
        row.addSpacing(16)
        self.nav = QButtonGroup(self)
        self.nav_buttons = {}
        for name in PAGES:
            b = button("", "nav", lambda n=name: self.go(n))
            b.setCheckable(True)
            b.setMinimumHeight(52)
            self.nav.addButton(b)
            self.nav_buttons[name] = b
            row.addWidget(b)
        row.addStretch(1)
        self.lang = QComboBox()
        self.lang.setObjectName("language")
        self.lang.setItemDelegate(QStyledItemDelegate(self.lang))  # the list is drawn by the stylesheet: readable
        for code, name in LANGUAGES.items():
            self.lang.addItem(name, code)
        self.lang.setCurrentIndex(list(LANGUAGES).index(language()))  # as chosen in the wizard, if it ran
        self.lang.currentIndexChanged.connect(lambda _i: self.change_language(str(self.lang.currentData())))
        row.addWidget(self.lang)
        row.addSpacing(8)
        self.switch = button("", "topaction", self.switch_user)
        row.addWidget(self.switch)
        return bar

    # --- navigation ---

    def go(self, name: str) -> None:
        if self.session is None or self.session.user is None:
            return
        if name in MANAGER_PAGES and not self.session.is_manager:
            return  # the cameras refuse a cashier on their own as well (terminal.cameras)
        view = self.views[name]
        refresh = getattr(view, "refresh", None)
        if refresh is not None:
            refresh()
        self.stack.setCurrentWidget(view)
        self.nav_buttons[name].setChecked(True)
        if name == "sell":
            self.sell.search.setFocus()

    def current_page(self) -> str:
        widget = self.stack.currentWidget()
        return next((n for n, v in self.views.items() if v is widget), "login")

    def _logged_in(self) -> None:
        assert self.session is not None
        self.go("sell" if self.session.term.current_shift() else "shift")

    def switch_user(self) -> None:
        if self.session is not None:
            self.sell.clear()
            self.session.logout()

    def _user_changed(self) -> None:
        assert self.session is not None
        user = self.session.user
        wanted = self.session.term.user_language(user) if user is not None else None
        if wanted is not None and wanted != language():  # each user's own language, as they last chose it
            set_language(wanted)
            self.lang.blockSignals(True)
            self.lang.setCurrentIndex(self.lang.findData(wanted))
            self.lang.blockSignals(False)
            self.retranslate()  # which comes back here, in the right language
            return
        for name, b in self.nav_buttons.items():
            b.setVisible(user is not None and (name not in MANAGER_PAGES or self.session.is_manager))
        self.switch.setVisible(user is not None)
        if user is not None:  # who is logged in, and the way out: one button
            self.switch.setToolTip(tr("Switch user") + " (Ctrl+L)")
        self.fit_top_bar()
        if user is None or (self.current_page() in MANAGER_PAGES and not self.session.is_manager):
            self.login.reload_users()
            self.stack.setCurrentWidget(self.login)

    def _data_changed(self) -> None:
        page = self.current_page()
        view = self.views.get(page)
        if view is not None and page != "sell":
            view.refresh()  # type: ignore[attr-defined]

    def show_check(self, result: SaleResult) -> None:
        assert self.session is not None
        term = self.session.term
        doc = check_document(sale_check_data(result, self.sell.last_label), franchise=term.franchise,
                             terminal_name=term.terminal_name, terminal_id=term.terminal_id,
                             claim_url=result.sale.check.claim_url, short_code=result.sale.check.short_code,
                             width_mm=term.receipt_width_mm(), names=item_names(term, language()))
        change = result.sale.change
        dialog = DocumentDialog(self, self.session, doc, title=tr("Check {check}", check=result.sale.check.id),
                                auto_print=True,
                                banner=tr("Change: {amount}", amount=money(change)) if change else None)
        self.last_check = dialog
        dialog.finished.connect(lambda _r: self.sell.search.setFocus())
        dialog.open()
        if self.customer is not None:
            self.customer.show_paid(result.sale.total, change, result.sale.check.claim_url,
                                    result.sale.parts.get("customer", 0))

    # --- language ---

    def change_language(self, code: str) -> None:
        set_language(code)
        if self.session is not None and self.session.user is not None:
            self.session.term.set_user_language(self.session.user, code)
        self.retranslate()

    def retranslate(self) -> None:
        for name, b in self.nav_buttons.items():
            b.setText(tr(PAGE_NAMES[name]))
        self.login.retranslate()
        for view in self.views.values():
            view.retranslate()  # type: ignore[attr-defined]
        self.status.retranslate()
        self._user_changed()

    def fit_top_bar(self) -> None:
        """Everything in the top bar at full length where it fits; on a narrower screen (or in a longer language)
        first the till's name goes, then the user's role, then the brand. The pages and the way out stay."""
        if self.session is None:
            return
        user = self.session.user
        layout = self.topbar.layout()
        width = self.width()

        def fits() -> bool:
            layout.invalidate()
            return layout.sizeHint().width() <= width

        self.where.setVisible(True)
        self.brand.setVisible(True)
        if user is not None:
            self.switch.setText(f"{user.name} · {tr(user.role.value)}  ⇄")
        if fits():
            return
        self.where.setVisible(False)
        if fits() or user is None:
            return
        self.switch.setText(f"{user.name}  ⇄")
        if not fits():
            self.brand.setVisible(False)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.fit_top_bar()

    def closeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        if self.session is not None:
            self.views["kyc"].shutdown()  # type: ignore[attr-defined]
            # Work still in flight delivers first, while what it reports on is open (a status refresh that came
            # back after the cameras' store closed was a fault at every quit).
            self.tasks.shutdown()
            self.cameras.close()
            if self.customer is not None:
                self.customer.close()
                self.customer.deleteLater()
                self.customer = None
            self.status.close_store()
            self.session.close()
            self.session = None
        else:
            self.tasks.shutdown()
