"""The strip at the bottom: the shift, who is logged in, HQ online or not, blocks waiting to sync, the last
acknowledgement, the last error, and "Sync now". The status is read off the GUI thread (its own connection)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from terminal.gui.i18n import tr
from terminal.gui.qt import QHBoxLayout, QLabel, QSizePolicy, QStatusBar, QTimer, QWidget, Signal
from terminal.gui.session import Session
from terminal.gui.widgets import button, label
from terminal.services import Terminal


def ago(ms: int) -> str:
    seconds = max(0, int(time.time() - ms / 1000))
    if seconds < 60:
        return tr("{n} s ago", n=seconds)
    if seconds < 3600:
        return tr("{n} min ago", n=seconds // 60)
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


class SyncStatusBar(QStatusBar):
    alerts_clicked = Signal()

    def __init__(self, session: Session, open_alerts: Callable[[], int] = lambda: 0) -> None:
        super().__init__()
        self.session = session
        self.open_alerts = open_alerts  # camera alerts the logged-in user should see (managers)
        self.status: dict[str, Any] | None = None
        self.setSizeGripEnabled(False)
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(4, 0, 4, 0)
        self.shift = label()
        self.online = label()
        self.pending = label()
        self.acked = label()
        self.error = label("", "error")
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long: clipped, tooltip
        self.seps: dict[QLabel, QLabel] = {}
        for i, w in enumerate((self.shift, self.online, self.pending, self.acked)):
            if i:
                self.seps[w] = self._sep()
                row.addWidget(self.seps[w])
            row.addWidget(w)
        row.addSpacing(12)
        self.alerts = button("", "danger", lambda: self.alerts_clicked.emit())
        self.alerts.setVisible(False)
        row.addWidget(self.alerts)
        row.addWidget(self.error, 1)
        self.unlock_button = button("", "small", self.ask_unlock)
        self.sync_button = button("", "small", self.sync_now)
        self.host = host
        # The host never claims more than the bar has (its labels are fitted below); the buttons are permanent
        # widgets, which the bar always keeps on screen at its right end.
        host.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(host, 1)
        for b in (self.unlock_button, self.sync_button):
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            self.addPermanentWidget(b)
        self._reading = False
        self._term: Terminal | None = None  # used by one worker at a time (see _reading)
        self.timer = QTimer(self)
        self.timer.setInterval(2000)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        session.sync_changed.connect(self.refresh)
        session.data_changed.connect(self.refresh)
        session.user_changed.connect(self.show_status)
        session.wallet_changed.connect(self.show_status)
        self.retranslate()

    @staticmethod
    def _sep() -> QLabel:
        sep = QLabel("·")
        sep.setObjectName("subtitle")
        return sep

    def refresh(self) -> None:
        """Read the status on a worker with a connection of its own; render it when it arrives."""
        if self._reading:
            return
        self._reading = True
        data_dir = self.session.term.data_dir

        def read() -> dict[str, Any]:
            if self._term is None:
                self._term = Terminal.open(data_dir)
            return self._term.status()

        def done(status: dict[str, Any]) -> None:
            self._reading = False
            self.status = status
            self.show_status()

        def failed(exc: BaseException) -> None:
            self._reading = False
            self.error.setText(str(exc))

        self.session.tasks.run(read, done, failed)

    def show_status(self) -> None:
        st = self.status
        self.unlock_button.setVisible(self.session.wallet is None)
        self.sync_button.setEnabled(self.session.sync is not None and not self.session.sync_busy)
        alerts = self.open_alerts()
        self.alerts.setVisible(alerts > 0)
        self.alerts.setText(tr("⚠ Camera alerts: {n}", n=alerts))
        if st is None:
            return
        shift = st["shift"]
        self.shift.setText(tr("Shift open: {n} sales", n=shift["sales"]) if shift else tr("No open shift"))
        if not st.get("hq"):
            self.online.setText(tr("Not connected to HQ"))
            self.online.setObjectName("subtitle")
        elif st["online"]:
            self.online.setText(tr("Online"))
            self.online.setObjectName("online")
        else:
            self.online.setText(tr("Offline"))
            self.online.setObjectName("offline")
        self.online.setStyleSheet("")  # re-apply the object-name style
        footage = st.get("footage") or {}
        self.pending.setText(tr("To sync: {n} blocks, {r} records", n=st["pending_blocks"], r=st["pending_records"])
                             + (" · " + tr("footage for HQ: {n} ({size})", n=footage["waiting"],
                                           size=_size(int(footage["bytes_left"])))
                                if footage.get("waiting") else ""))
        ack = st["last_ack"]
        self.acked.setText(tr("HQ confirmed: {when}", when=ago(ack["at"])) if ack else
                           tr("Nothing acknowledged yet"))
        error = st["last_error"]
        if self.session.wallet is None:
            error = tr("Ledger locked: sales are kept, but not sealed until the owner unlocks the wallet.")
        self.error.setText(error or "")
        self.error.setToolTip(error or "")
        self.fit()

    def fit(self) -> None:
        """"Sync now" and the shift always show; where the bar is short (a 1024-wide screen, a longer language) the
        last acknowledgement goes first, then the count waiting to sync (both stay in the tooltip)."""
        layout = self.host.layout()
        # The host gets what the buttons leave (it claims nothing itself): that is the room, once laid out.
        buttons = sum(b.sizeHint().width() + 6 for b in (self.unlock_button, self.sync_button) if b.isVisible())
        room = min(self.host.width(), self.width() - buttons - 16) if self.host.width() > 0 else \
            self.width() - buttons - 16
        for w in (self.pending, self.acked):
            w.setVisible(True)
            self.seps[w].setVisible(True)
        for w in (self.acked, self.pending):
            layout.invalidate()
            if layout.sizeHint().width() <= room:
                break
            w.setVisible(False)
            self.seps[w].setVisible(False)
        layout.activate()  # the labels take their new widths now, not at some later layout pass
        self.setToolTip("\n".join(w.text() for w in (self.shift, self.online, self.pending, self.acked)))

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.fit()

    def sync_now(self) -> None:
        self.sync_button.setEnabled(False)
        self.session.sync_now()

    def ask_unlock(self) -> None:
        from terminal.gui.wizard import UnlockDialog

        UnlockDialog(self.window(), self.session).open()

    def close_store(self) -> None:
        self.timer.stop()
        if self._term is not None:
            self._term.close()
            self._term = None

    def retranslate(self) -> None:
        self.unlock_button.setText(tr("Unlock ledger…"))
        self.sync_button.setText(tr("Sync now"))
        self.show_status()


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, n // 1024)} KB"
