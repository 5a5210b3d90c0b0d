"""The orders queue: every open order with its items, status and time waiting; one tap moves it on
(pending → confirmed → in progress → ready → completed); cancelling asks for a reason (and a manager when money
goes back)."""

from __future__ import annotations

import time
from typing import Any

from terminal.core.errors import UserFacingError
from terminal.core.orders import next_status
from terminal.gui.checkview import menu_names
from terminal.gui.i18n import language, tr
from terminal.gui.printing import line_label
from terminal.gui.qt import (
    QColor,
    QFont,
    QHBoxLayout,
    QHeaderView,
    Qt,
    QTabBar,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.session import Session
from terminal.gui.widgets import ReasonDialog, button, label, row_table, show_error

STATUS_FILTERS = ("all", "pending", "confirmed", "in_progress", "ready", "completed")
STATUS_NAMES = {"pending": "Pending", "confirmed": "Confirmed", "in_progress": "In progress", "ready": "Ready",
                "completed": "Completed", "cancelled": "Cancelled"}
STATUS_COLORS = {"pending": "#fdebd0", "confirmed": "#d6eaf8", "in_progress": "#fcf3cf", "ready": "#d5f5e3",
                 "completed": "#eeeeee"}
WAIT_WARN_MS = 10 * 60_000  # an order waiting this long turns amber, then red: the kitchen sees who waits longest
WAIT_LATE_MS = 20 * 60_000
WAIT_COLORS = ((WAIT_LATE_MS, "#f5b7b1"), (WAIT_WARN_MS, "#f9e79f"))


def wait_color(waited_ms: int) -> str | None:
    return next((colour for limit, colour in WAIT_COLORS if waited_ms >= limit), None)


def order_title(order: dict[str, Any]) -> str:
    """The short number the kitchen calls out, and the table, pager or name if the cashier gave one."""
    title = f"#{order['check_number']}"
    return f"{title} · {order['order_label']}" if order.get("order_label") else title


def elapsed_text(since_ms: int, now_ms: int) -> str:
    seconds = max(0, (now_ms - since_ms) // 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


class KitchenView(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.orders: list[dict[str, Any]] = []
        self.completed: list[dict[str, Any]] = []
        self.shown: dict[str, dict[str, Any]] = {}
        self.filter = "all"
        self.number_font = QFont("DejaVu Sans", 17)
        self.number_font.setBold(True)
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        head = QHBoxLayout()
        self.title = label("", "title")
        head.addWidget(self.title)
        head.addStretch(1)
        root.addLayout(head)
        self.tabs = QTabBar()
        for _ in STATUS_FILTERS:
            self.tabs.addTab("")
        self.tabs.currentChanged.connect(self._filter_changed)
        root.addWidget(self.tabs)
        self.table = row_table(5, "orders", row_height=46)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _i: self.advance())
        root.addWidget(self.table, 1)
        self.empty = label("", "subtitle")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.empty)
        row = QHBoxLayout()
        self.advance_button = button("", "primary", self.advance)
        self.advance_button.setMinimumHeight(56)
        self.cancel_button = button("", "danger", self.cancel)
        self.cancel_button.setMinimumHeight(56)
        row.addWidget(self.cancel_button, 1)
        row.addWidget(self.advance_button, 2)
        root.addLayout(row)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.tick)
        self.clock.start()
        self.retranslate()

    def refresh(self) -> None:
        selected = self.selected()
        self.orders = self.session.term.open_orders()
        self.completed = self.session.term.completed_orders()
        shown = self.completed if self.filter == "completed" else \
            [o for o in self.orders if self.filter == "all" or o["status"] == self.filter]
        self.shown = {o["id"]: o for o in shown}
        table = self.table
        # The selection follows the order, never the row: when the selected order leaves the list (completed,
        # cancelled) nothing is selected, so a second tap on the big button cannot move the next order by mistake.
        table.clearSelection()
        table.setRowCount(len(shown))
        now = int(time.time() * 1000)
        names = menu_names(self.session.term.menu(), language())  # the kitchen reads the screen's language

        for r, order in enumerate(shown):
            items = ", ".join(f"{ln['quantity']}× {line_label(ln, names)}" for ln in order["lines"])
            done = order["status"] == "completed"
            values = (order_title(order), tr(STATUS_NAMES[order["status"]]), items,
                      elapsed_text(order["created_at_ms"], order["status_at_ms"] if done else now),
                      elapsed_text(order["status_at_ms"], now))
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, order["id"])
                if c == 0:
                    cell.setFont(self.number_font)
                    cell.setToolTip(order["check_id"])
                if c == 1:
                    cell.setBackground(QColor(STATUS_COLORS.get(order["status"], "white")))
                table.setItem(r, c, cell)
            self._colour_wait(r, order, now)
            if selected == order["id"]:
                table.selectRow(r)
        counts = {s: sum(1 for o in self.orders if o["status"] == s) for s in STATUS_FILTERS[1:]}
        counts["completed"] = len(self.completed)
        for i, status in enumerate(STATUS_FILTERS):
            n = len(self.orders) if status == "all" else counts[status]
            self.tabs.setTabText(i, f"{tr('All') if status == 'all' else tr(STATUS_NAMES[status])} ({n})")
        self.empty.setVisible(not shown)
        self._update_buttons()

    def tick(self) -> None:
        if not self.isVisible():
            return
        now = int(time.time() * 1000)
        for r in range(self.table.rowCount()):
            cell = self.table.item(r, 0)
            order = self.shown.get(cell.data(Qt.ItemDataRole.UserRole)) if cell else None
            if order is not None and order["status"] != "completed":
                self.table.item(r, 3).setText(elapsed_text(order["created_at_ms"], now))
                self.table.item(r, 4).setText(elapsed_text(order["status_at_ms"], now))
                self._colour_wait(r, order, now)

    def _colour_wait(self, row: int, order: dict[str, Any], now: int) -> None:
        cell = self.table.item(row, 3)
        colour = None if order["status"] == "completed" else wait_color(now - order["created_at_ms"])
        cell.setBackground(QColor(colour) if colour else QColor(0, 0, 0, 0))
        cell.setData(Qt.ItemDataRole.UserRole + 1, colour)

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        cell = self.table.item(rows[0].row(), 0)
        return None if cell is None else str(cell.data(Qt.ItemDataRole.UserRole))

    def select_check(self, check_id: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).toolTip() == check_id:
                self.table.selectRow(r)
                return

    def _order(self, sale_id: str | None) -> dict[str, Any] | None:
        """An open order (one the buttons may act on); a completed one is there to be looked at."""
        return next((o for o in self.orders if o["id"] == sale_id), None)

    def _update_buttons(self) -> None:
        order = self._order(self.selected())
        self.advance_button.setEnabled(order is not None)
        self.cancel_button.setEnabled(order is not None)
        if order is not None:
            self.advance_button.setText(tr("Mark {status}", status=tr(STATUS_NAMES[next_status(order["status"])])))
        else:
            self.advance_button.setText(tr("Move on"))

    def _filter_changed(self, index: int) -> None:
        self.filter = STATUS_FILTERS[index]
        self.refresh()

    def advance(self) -> None:
        sale_id = self.selected()
        if sale_id is None:
            return
        try:
            self.session.term.advance_order(self.session.require_user(), sale_id)
        except UserFacingError as exc:
            show_error(self, exc)
        self.session.changed()

    def cancel(self) -> None:
        order = self._order(self.selected())
        if order is None:
            return
        dialog = ReasonDialog(self, tr("Cancel order"), tr("Cancel order {check}? A paid order is refunded in full.",
                                                          check=order["check_id"]))
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            return
        reason = dialog.reason.text()
        try:
            self.session.as_manager(self, tr("Cancelling a paid order refunds it; a manager must approve."),
                                    lambda user: self.session.term.cancel_order(user, order["id"], reason))
        except UserFacingError as exc:
            show_error(self, exc)
        self.session.changed()

    def retranslate(self) -> None:
        self.title.setText(tr("Orders"))
        self.table.setHorizontalHeaderLabels([tr("Order"), tr("Status"), tr("Items"), tr("Waiting"),
                                              tr("In this status")])
        self.cancel_button.setText(tr("Cancel order…"))
        self.empty.setText(tr("No open orders."))
        self.refresh()
