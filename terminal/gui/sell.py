"""The selling screen: category tabs and a grid of big item buttons on the left, the cart with its total on the
right. Everything a fast cashier does has a key: F2 search (Enter adds the first match), + and - change the selected
line, Delete removes it, F9 discount, F12 or Ctrl+Enter pays, Ctrl+Backspace clears the cart."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.protocol.vocabulary import MAX_NOTE_LENGTH
from terminal.core.errors import InvalidInput, UserFacingError
from terminal.core.menu import CATEGORIES, MenuItem
from terminal.core.orders import MAX_LABEL, MAX_QUANTITY, MAX_TEXT, Wanted, make_discount, priced_modifiers
from terminal.core.sales import DiscountRequest
from terminal.core.users import User
from terminal.gui.checkview import menu_names
from terminal.gui.i18n import language, money, tr, tr_error
from terminal.gui.printing import line_label
from terminal.gui.qt import (
    QDialog,
    QEvent,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QKeySequence,
    QLineEdit,
    QObject,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSizePolicy,
    Qt,
    QTabBar,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from terminal.gui.session import Session
from terminal.gui.widgets import (
    MoneyEdit,
    button,
    choose,
    dialog_buttons,
    form_layout,
    label,
    panel,
    row_table,
    show_error,
)
from terminal.services import SaleResult

ALL = "all"
ITEM_TEXT_WIDTH = 15  # characters per line on an item button (names wrap, never clip)
ITEM_MIN_WIDTH = 150


@dataclass
class CartLine:
    item: MenuItem
    quantity: int
    options: tuple[tuple[str, str], ...] = ()  # (group, option) pairs the cashier picked
    note: str = ""

    @property
    def unit_price(self) -> int:
        return priced_modifiers(self.item, self.options)[1] if self.options else self.item.price

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity

    def as_line(self) -> dict[str, Any]:
        """In a sale line's shape (for printing.line_label)."""
        return {"item_id": self.item.id, "name": self.item.display_name("en"), "note": self.note,
                "modifiers": [{"group": g, "option": o} for g, o in self.options]}

    def wanted(self) -> Wanted:
        return Wanted(self.item.id, self.quantity, self.options, self.note)


class Cart:
    """The order being rung up, before payment: lines in the order they were added. The same item with the same
    options and note is one line."""

    def __init__(self) -> None:
        self.lines: list[CartLine] = []

    def add(self, item: MenuItem, quantity: int = 1, options: tuple[tuple[str, str], ...] = (),
            note: str = "") -> int:
        key = Wanted(item.id, quantity, options, note).key
        for i, line in enumerate(self.lines):
            if line.wanted().key == key:
                line.quantity = min(MAX_QUANTITY, line.quantity + quantity)
                return i
        self.lines.append(CartLine(item, quantity, tuple(options), note))
        return len(self.lines) - 1

    def change(self, index: int, delta: int) -> None:
        line = self.lines[index]
        line.quantity = max(0, min(MAX_QUANTITY, line.quantity + delta))
        if line.quantity == 0:
            del self.lines[index]

    def remove(self, index: int) -> None:
        del self.lines[index]

    def clear(self) -> None:
        self.lines.clear()

    @property
    def subtotal(self) -> int:
        return sum(line.total for line in self.lines)

    def wanted(self) -> list[Wanted]:
        return [line.wanted() for line in self.lines]


class OptionsDialog(QDialog):
    """The options of one line: each modifier group as touch buttons (one to pick, or up to its max), with what
    each adds to the price, and a note for the kitchen. OK only once every group has its minimum."""

    def __init__(self, parent: QWidget | None, item: MenuItem, options: tuple[tuple[str, str], ...] = (),
                 note: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("options")
        self.item = item
        lang = language()
        self.setWindowTitle(item.display_name(lang))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.addWidget(label(item.display_name(lang), "title"))
        self.groups: dict[str, list[QPushButton]] = {}
        chosen = set(options)
        for group in item.modifiers:
            low, high = group["min"], group["max"]
            rule = tr("choose {n}", n=low) if low == high else (tr("up to {n}", n=high) if low == 0 else
                                                                 tr("choose {low} to {high}", low=low, high=high))
            layout.addWidget(label(f"{group['name'].get(lang) or group['name']['en']} · {rule}", "subtitle"))
            row = QHBoxLayout()
            buttons = []
            for option in group["options"]:
                text = option["name"].get(lang) or option["name"]["en"]
                if option["price"]:
                    text += f"\n{'+' if option['price'] > 0 else '−'}{money(abs(option['price']))}"
                b = button(text, "option")
                b.clicked.connect(lambda _=False, g=group["id"], tapped=b: self._picked(g, tapped))
                b.setCheckable(True)
                b.setChecked((group["id"], option["id"]) in chosen)
                b.setProperty("group", group["id"])
                b.setProperty("option", option["id"])
                b.setMinimumHeight(56)
                buttons.append(b)
                row.addWidget(b)
            self.groups[group["id"]] = buttons
            layout.addLayout(row)
        layout.addWidget(label(tr("Note for the kitchen"), "subtitle"))
        self.note = QLineEdit(note)
        self.note.setObjectName("line-note")
        self.note.setMaxLength(MAX_NOTE_LENGTH)
        self.note.setPlaceholderText(tr("e.g. no coriander"))
        layout.addWidget(self.note)
        self.price = label("", "subtitle")
        layout.addWidget(self.price)
        actions = QHBoxLayout()
        cancel = button(tr("Cancel"), "", self.reject)
        self.ok = button(tr("OK"), "primary", self.accept)
        for b in (cancel, self.ok):
            b.setMinimumHeight(52)
        actions.addWidget(cancel, 1)
        actions.addWidget(self.ok, 2)
        layout.addLayout(actions)
        self._picked(None, None)

    def _picked(self, group_id: str | None, tapped: QPushButton | None) -> None:
        for group in self.item.modifiers:
            buttons = self.groups[group["id"]]
            if group["max"] == 1 and group_id == group["id"]:  # one to pick: the last tap wins
                for b in buttons:
                    if b is not tapped:
                        b.setChecked(False)
            picked = sum(b.isChecked() for b in buttons)
            for b in buttons:  # at the group's max, the rest wait until one is taken off
                b.setEnabled(b.isChecked() or picked < group["max"] or group["max"] == 1)
        complete = all(group["min"] <= sum(b.isChecked() for b in self.groups[group["id"]]) <= group["max"]
                       for group in self.item.modifiers)
        self.ok.setEnabled(complete)
        price = priced_modifiers(self.item, self.options())[1] if complete else self.item.price
        self.price.setText(tr("Price: {amount}", amount=money(price)))

    def options(self) -> tuple[tuple[str, str], ...]:
        return tuple((str(b.property("group")), str(b.property("option")))
                     for buttons in self.groups.values() for b in buttons if b.isChecked())


@dataclass
class CartDiscount:
    """A discount on the whole order (line None) or on one line (its key), by percent (basis points) or amount."""

    line: tuple[Any, ...] | None
    percent_bp: int | None
    amount: int
    reason: str

    def label(self) -> str:
        if self.percent_bp is not None:
            whole, part = divmod(self.percent_bp, 100)
            return f"−{whole}{f'.{part:02d}'.rstrip('0') if part else ''} %"
        return f"−{money(self.amount)}"

    def of(self, base: int) -> int:
        if self.percent_bp is not None:
            return (base * self.percent_bp + 5_000) // 10_000  # to the nearest tetri
        return min(self.amount, base)


PERCENT_CHOICES = (5, 10, 15, 20, 50)


class DiscountDialog(QDialog):
    """A discount by percent (quick buttons or typed) or by amount, on the whole order or on the selected line,
    with a reason. Shows what it comes to before OK."""

    def __init__(self, parent: QWidget | None, subtotal: int, line: CartLine | None, line_text: str) -> None:
        super().__init__(parent)
        self.setObjectName("discount")
        self.setWindowTitle(tr("Discount"))
        self.setMinimumWidth(660)
        self.subtotal, self.line = subtotal, line
        layout = QVBoxLayout(self)
        layout.addWidget(label(tr("Discount"), "title"))
        layout.addWidget(label(tr("Above 10 % of the order a manager must approve."), "subtitle", wrap=True))
        scope = QVBoxLayout()  # one above the other: an item's name may be long
        self.whole = button(tr("Whole order · {amount}", amount=money(subtotal)), "option", self._update)
        self.one_line = button(line_text, "option", self._update)
        for b in (self.whole, self.one_line):
            b.setCheckable(True)
            b.setAutoExclusive(True)
            b.setMinimumHeight(48)
            scope.addWidget(b)
        self.whole.setChecked(True)
        self.one_line.setVisible(line is not None)
        layout.addLayout(scope)
        self.percent = QLineEdit()
        self.percent.setObjectName("discount-percent")
        self.percent.setPlaceholderText("%")
        self.percent.setMaxLength(6)
        self.amount = MoneyEdit("discount")
        self.percent.textChanged.connect(lambda t: self._typed(self.amount, t))
        self.amount.textChanged.connect(lambda t: self._typed(self.percent, t))
        quick = QHBoxLayout()
        self.quick: list[QPushButton] = []
        for pct in PERCENT_CHOICES:
            b = button(f"{pct} %", "quick", lambda _=False, p=pct: self.percent.setText(str(p)))
            b.setMinimumHeight(48)
            self.quick.append(b)
            quick.addWidget(b)
        layout.addLayout(quick)
        form = form_layout()
        self.reason = QLineEdit()
        self.reason.setMaxLength(MAX_TEXT)
        form.addRow(tr("Percent"), self.percent)
        form.addRow(tr("or amount"), self.amount)
        form.addRow(tr("Reason"), self.reason)
        layout.addLayout(form)
        self.comes_to = label("", "subtitle")
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.comes_to)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("OK"), self._check))
        self.value: CartDiscount | None = None
        self.percent.setFocus()
        self._update()

    def _typed(self, other: QLineEdit, text: str) -> None:
        if text:  # a percent or an amount: the last one typed counts
            other.blockSignals(True)
            other.clear()
            other.blockSignals(False)
        self._update()

    def base(self) -> int:
        return self.line.total if self.one_line.isChecked() and self.line is not None else self.subtotal

    def parsed(self) -> CartDiscount:
        key = self.line.wanted().key if self.one_line.isChecked() and self.line is not None else None
        reason = self.reason.text()
        if self.percent.text().strip():
            text = self.percent.text().strip().replace(",", ".")
            try:
                bp = round(float(text) * 100)
            except ValueError:
                raise InvalidInput(tr("A percent is a number like 10 or 12.5.")) from None
            if not 0 < bp <= 10_000 or not text.replace(".", "", 1).isdigit():
                raise InvalidInput(tr("A percent is more than 0 and at most 100."))
            return CartDiscount(key, bp, 0, reason)
        return CartDiscount(key, None, self.amount.value(), reason)

    def _update(self) -> None:
        self.error.clear()
        try:
            found = self.parsed()
        except UserFacingError:
            self.comes_to.setText("")
            return
        self.comes_to.setText(tr("Comes to {amount}", amount=money(-found.of(self.base()))))

    def _check(self) -> None:
        try:
            found = self.parsed()
            if found.percent_bp is None and found.amount > self.base():
                raise InvalidInput(tr("The discount is more than {amount}.", amount=money(self.base())))
            if not found.reason.strip():
                raise InvalidInput(tr("Please give a reason."))
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.value = found
        self.accept()


class SellView(QWidget):
    sale_completed = Signal(object)  # SaleResult
    open_shift_requested = Signal()
    cart_changed = Signal(list, int, int)  # [(name, quantity, amount)], discount, total: the customer display

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        self.cart = Cart()
        self.discounts: dict[tuple[Any, ...] | None, CartDiscount] = {}  # by line key; None: the whole order
        self.discount_approver: User | None = None  # the manager who approved the discounts as they stand
        self.menu: dict[str, MenuItem] = {}
        self.item_buttons: dict[str, QWidget] = {}
        self.category = ALL
        self.columns = 4
        self.shift_open = True  # read at every visit (refresh); a sale needs an open shift
        self.names: dict[str, str] = {}
        self.names_lang = ""

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        outer.setSpacing(10)
        self.no_shift = QFrame()
        self.no_shift.setObjectName("no-shift")
        banner = QHBoxLayout(self.no_shift)
        banner.setContentsMargins(16, 8, 8, 8)
        self.no_shift_text = label("", "banner-text", wrap=True)
        banner.addWidget(self.no_shift_text, 1)
        self.open_shift_button = button("", "primary", self.open_shift_requested.emit)
        self.open_shift_button.setObjectName("open-shift")
        self.open_shift_button.setMinimumHeight(48)
        banner.addWidget(self.open_shift_button)
        self.no_shift.setVisible(False)
        outer.addWidget(self.no_shift)
        root = QHBoxLayout()
        root.setSpacing(12)
        outer.addLayout(root, 1)

        left = QVBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self.show_items())
        self.search.returnPressed.connect(self.add_first_match)
        self.search.installEventFilter(self)
        left.addWidget(self.search)
        self.tabs = QTabBar()
        self.tabs.setExpanding(False)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.currentChanged.connect(self._tab_changed)
        left.addWidget(self.tabs)
        self.grid_host = QWidget()
        self.grid_host.setObjectName("grid")
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(10)
        self.grid.setContentsMargins(0, 6, 0, 0)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.item_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        left.addWidget(scroll, 1)
        self.empty = label("", "subtitle", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left.addWidget(self.empty)
        root.addLayout(left, 3)

        box, right = panel()
        box.setMinimumWidth(360)
        box.setMaximumWidth(460)
        self.cart_title = label("", "title")
        title_row = QHBoxLayout()
        title_row.addWidget(self.cart_title)
        self.label_edit = QLineEdit()  # the order's table, pager number or the customer's name
        self.label_edit.setObjectName("order-label")
        self.label_edit.setMaxLength(MAX_LABEL)
        self.label_edit.setMinimumHeight(40)
        title_row.addWidget(self.label_edit, 1)
        right.addLayout(title_row)
        self.last_label: str | None = None  # the label of the sale just paid, for its check
        self.table = row_table(3, "cart")
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        right.addWidget(self.table, 1)
        line_buttons = QHBoxLayout()
        self.minus = button("−", "key", lambda: self.change_selected(-1))
        self.plus = button("+", "key", lambda: self.change_selected(+1))
        self.options_button = button("", "", self.edit_selected)
        self.options_button.setObjectName("line-options")
        self.options_button.setMinimumHeight(50)
        self.remove = button("", "danger", self.remove_selected)
        self.remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove.setMinimumHeight(50)
        for b in (self.minus, self.plus):
            b.setFixedWidth(56)
            b.setStyleSheet("min-width: 0;")
        for b in (self.minus, self.plus, self.options_button, self.remove):
            line_buttons.addWidget(b)
        right.addLayout(line_buttons)
        self.subtotal_label = label("", "subtitle")
        self.discount_label = label("", "subtitle")
        self.total_label = label("", "total")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        right.addWidget(self.subtotal_label)
        right.addWidget(self.discount_label)
        right.addWidget(self.total_label)
        actions = QHBoxLayout()
        self.discount_button = button("", "", self.ask_discount)
        self.discount_button.setMinimumHeight(44)
        self.clear_button = button("", "", self.clear)
        self.clear_button.setMinimumHeight(44)
        actions.addWidget(self.discount_button)
        actions.addWidget(self.clear_button)
        right.addLayout(actions)
        parking = QHBoxLayout()
        self.park_button = button("", "", self.park)
        self.park_button.setObjectName("park")
        self.recall_button = button("", "", self.recall)
        self.recall_button.setObjectName("recall")
        for b in (self.park_button, self.recall_button):
            b.setMinimumHeight(44)
            parking.addWidget(b)
        right.addLayout(parking)
        self.parked_count = 0
        self.pay_button = button("", "pay", self.pay)
        right.addWidget(self.pay_button)
        root.addWidget(box, 2)

        for keys, slot in ((("F2",), self.focus_search), (("F12", "Ctrl+Return", "Ctrl+Enter"), self.pay),
                           (("F9",), self.ask_discount), (("Ctrl+Backspace",), self.clear)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)
        self.reload_menu()
        self.retranslate()

    # --- the menu grid ---

    def reload_menu(self) -> None:
        self.menu = {i.id: i for i in sorted(self.session.term.menu().values(),
                                             key=lambda i: (CATEGORIES.index(i.category)
                                                            if i.category in CATEGORIES else 99, i.priority, i.id))
                     if i.active}
        for b in self.item_buttons.values():
            b.deleteLater()
        self.item_buttons = {}
        for item in self.menu.values():
            b = button("", "item", lambda i=item.id: self.add_item(i))
            b.setProperty("item_id", item.id)
            b.setMinimumWidth(ITEM_MIN_WIDTH - 20)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.item_buttons[item.id] = b
        self._label_items()
        self._build_tabs()
        self.show_items()

    def _label_items(self) -> None:
        lang = language()
        for item_id, b in self.item_buttons.items():
            item = self.menu[item_id]
            text = f"{textwrap.fill(item.display_name(lang), ITEM_TEXT_WIDTH)}\n{money(item.price)}"
            if not item.is_sellable():
                text += "\n" + tr("sold out")
            b.setText(text)  # type: ignore[attr-defined]
            b.setEnabled(item.is_sellable())
            b.setToolTip(item.description.get(lang) or item.description.get("en", ""))

    def _build_tabs(self) -> None:
        self.tabs.blockSignals(True)
        while self.tabs.count():
            self.tabs.removeTab(0)
        present = [c for c in CATEGORIES if any(i.category == c for i in self.menu.values())]
        for cat in [ALL, *present]:
            index = self.tabs.addTab(tr(cat.capitalize() if cat != ALL else "All"))
            self.tabs.setTabData(index, cat)
        if self.category not in [ALL, *present]:
            self.category = ALL
        self.tabs.setCurrentIndex([ALL, *present].index(self.category))
        self.tabs.blockSignals(False)

    def _tab_changed(self, index: int) -> None:
        self.category = str(self.tabs.tabData(index) or ALL)
        self.show_items()

    def visible_items(self) -> list[MenuItem]:
        query = self.search.text().strip().casefold()
        out = []
        for item in self.menu.values():
            if query:
                if not any(query in name.casefold() for name in item.name.values()) and query not in item.id \
                        and query not in (c.casefold() for c in item.codes):
                    continue
            elif self.category != ALL and item.category != self.category:
                continue
            out.append(item)
        return out

    def show_items(self) -> None:
        while self.grid.count():
            self.grid.takeAt(0)
        shown = {i.id for i in self.visible_items()}
        self.empty.setVisible(not shown)
        self.empty.setText(tr("Nothing matches the search.") if self.menu else
                           tr("The menu is empty. HQ sends it after the terminal is enrolled."))
        n = 0
        for item_id, b in self.item_buttons.items():
            b.setVisible(item_id in shown)
            if item_id in shown:
                self.grid.addWidget(b, n // self.columns, n % self.columns)
                n += 1

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)  # type: ignore[arg-type]
        QTimer.singleShot(0, self, self.fit_columns)  # once the layout has given the grid its new width (not after
        # this view is gone: the context object cancels it)

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)  # type: ignore[arg-type]
        self.fit_columns()

    def fit_columns(self) -> None:
        width = self.item_scroll.viewport().width()
        columns = max(2, min(6, (width + 10) // (ITEM_MIN_WIDTH + 10)))
        if columns != self.columns:
            self.columns = columns
            self.show_items()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """While the search box is empty, the cart keys work from it (it keeps the focus between taps)."""
        if watched is self.search and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress \
                and not self.search.text():
            key = event.key()
            actions: dict[int, Callable[[], None]] = {
                Qt.Key.Key_Plus.value: lambda: self.change_selected(+1),
                Qt.Key.Key_Equal.value: lambda: self.change_selected(+1),
                Qt.Key.Key_Minus.value: lambda: self.change_selected(-1),
                Qt.Key.Key_Delete.value: self.remove_selected,
                Qt.Key.Key_Up.value: lambda: self.move_selection(-1),
                Qt.Key.Key_Down.value: lambda: self.move_selection(+1)}
            if key in actions:
                actions[key]()
                return True
        return super().eventFilter(watched, event)

    def move_selection(self, step: int) -> None:
        row = self.selected_row()
        if row is not None and self.cart.lines:
            self.table.selectRow(max(0, min(len(self.cart.lines) - 1, row + step)))

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def add_first_match(self) -> None:
        """Enter in the search: a scanned (or typed) code adds its item at once; otherwise the first match."""
        code = self.search.text().strip()
        by_code = next((i for i in self.menu.values() if code and code in i.codes), None)
        if by_code is not None:
            self.search.clear()
            if by_code.is_sellable():
                self.add_item(by_code.id)
            else:
                show_error(self, InvalidInput(tr("{item} is sold out.", item=by_code.display_name(language()))))
            return
        for item in self.visible_items():
            if item.is_sellable():
                self.add_item(item.id)
                self.search.clear()
                return

    # --- the cart ---

    def refresh(self) -> None:
        """Called at every visit: whether a shift is open is read from the database (another process may have
        opened or closed it), and how many orders are parked."""
        self.parked_count = len(self.session.term.parked_carts())
        fresh = {i.id: i for i in self.session.term.menu().values() if i.active}
        if fresh.keys() != self.menu.keys() or any(fresh[k] != self.menu[k] for k in fresh):
            self.reload_menu()  # HQ's update, or a manager's change on this till
        self.set_shift_open(self.session.term.current_shift() is not None)

    # --- park and recall ---

    @staticmethod
    def _parked_line(line: dict[str, Any]) -> dict[str, Any]:
        return {"item_id": line["item_id"], "name": line["item_id"], "note": line.get("note") or "",
                "modifiers": [{"group": g, "option": o} for g, o in line.get("options") or ()]}

    def park(self) -> None:
        """Put this order aside (a customer still choosing, a table paying later) and start the next one."""
        if not self.cart.lines:
            return
        lines = [{"item_id": ln.item.id, "quantity": ln.quantity, "options": [list(o) for o in ln.options],
                  "note": ln.note} for ln in self.cart.lines]
        try:
            self.session.term.park_cart(self.session.require_user(), lines, self.label_edit.text())
        except UserFacingError as exc:
            show_error(self, exc)
            return
        self.clear()
        self.refresh()

    def recall(self) -> None:
        if self.cart.lines:
            show_error(self, InvalidInput(tr("Park or clear the order on screen first.")))
            return
        parked = self.session.term.parked_carts()
        if not parked:
            return
        lang = language()

        def describe(cart: dict[str, Any]) -> str:
            names = menu_names(self.menu, lang)
            items = ", ".join(f"{ln['quantity']}× {line_label(self._parked_line(ln), names)}"
                              for ln in cart["lines"] if ln["item_id"] in self.menu)
            head = f"{cart['label']} · " if cart["label"] else ""
            at = datetime.fromtimestamp(cart["parked_at_ms"] / 1000).strftime("%H:%M")
            return f"{head}{at} · {cart['parked_by']}: {items}"

        chosen = choose(self, tr("Recall a parked order"), [(describe(c), c["id"]) for c in parked])
        if chosen is None:
            return
        try:
            cart = self.session.term.recall_cart(self.session.require_user(), int(str(chosen)))
        except UserFacingError as exc:
            show_error(self, exc)
            self.refresh()
            return
        missing = []
        for line in cart["lines"]:
            item = self.menu.get(line["item_id"])
            if item is None or not item.is_sellable():
                missing.append(line["item_id"])
                continue
            self.cart.add(item, int(line["quantity"]), tuple((g, o) for g, o in line.get("options") or ()),
                          str(line.get("note") or ""))
        self.label_edit.setText(cart["label"] or "")
        self.refresh()
        self.refresh_cart(select=len(self.cart.lines) - 1)
        if missing:
            show_error(self, InvalidInput(tr("No longer on sale, left out: {items}", items=", ".join(missing))))

    def set_shift_open(self, is_open: bool) -> None:
        self.shift_open = is_open
        self.no_shift.setVisible(not is_open)
        self.update_totals()

    def add_item(self, item_id: str, options: tuple[tuple[str, str], ...] = ()) -> None:
        item = self.menu.get(item_id)
        if item is None or not item.is_sellable():
            return
        if not self.cart.lines or not self.shift_open:
            self.refresh()  # a new sale starts here: is the shift (still) open? Another process may have changed it
            if not self.shift_open:
                self.open_shift_button.setFocus()
                return
        note = ""
        if not options and any(g["min"] > 0 for g in item.modifiers):  # a choice the kitchen needs: ask now
            dialog = OptionsDialog(self, item)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            options, note = dialog.options(), dialog.note.text().strip()
        row = self.cart.add(item, 1, options, note)
        self.refresh_cart(select=row)

    def edit_selected(self) -> None:
        """Options and the note of the selected line (a line with other options becomes a line of its own)."""
        row = self.selected_row()
        if row is None:
            return
        line = self.cart.lines[row]
        dialog = OptionsDialog(self, line.item, line.options, line.note)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        quantity = line.quantity
        self.cart.remove(row)
        index = self.cart.add(line.item, quantity, dialog.options(), dialog.note.text().strip())
        if index == len(self.cart.lines) - 1 and index != row:  # a line of its own again: back in its place
            self.cart.lines.insert(row, self.cart.lines.pop())
            index = row
        self.refresh_cart(select=index)

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else (len(self.cart.lines) - 1 if self.cart.lines else None)

    def change_selected(self, delta: int) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.cart.change(row, delta)
        self.refresh_cart(select=min(row, len(self.cart.lines) - 1))

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.cart.remove(row)
        self.refresh_cart(select=min(row, len(self.cart.lines) - 1))

    def clear(self) -> None:
        self.cart.clear()
        self.discounts.clear()
        self.discount_approver = None
        self.label_edit.clear()
        self.refresh_cart()

    def refresh_cart(self, select: int | None = None) -> None:
        lang = language()
        lines = self.cart.lines
        table = self.table
        table.setUpdatesEnabled(False)
        table.setRowCount(len(lines))
        names = self.names if self.names_lang == lang else self._names(lang)
        for r, line in enumerate(lines):
            name = line_label(line.as_line(), names) if (line.options or line.note) else line.item.display_name(lang)
            own = self.discounts.get(line.wanted().key)
            if own is not None:
                name += f"  [{own.label()}]"
            for c, text in enumerate((name, f"× {line.quantity}", money(line.total))):
                cell = table.item(r, c)
                if cell is None:
                    cell = QTableWidgetItem()
                    if c:
                        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, c, cell)
                cell.setText(text)
        if select is not None and select >= 0:
            table.selectRow(select)
        table.setUpdatesEnabled(True)
        keys = {line.wanted().key for line in lines}
        for key in [k for k in self.discounts if k is not None and k not in keys]:
            del self.discounts[key]  # its line is gone (or changed): the discount went with it
        if not lines:
            self.discounts.clear()
        self.update_totals()

    def _names(self, lang: str) -> dict[str, str]:
        self.names, self.names_lang = menu_names(self.menu, lang), lang
        return self.names

    def discount_amount(self, discounts: dict[tuple[Any, ...] | None, CartDiscount] | None = None) -> int:
        """The order's discount in tetri: each line's on its line total, the order's on the subtotal; never more
        than the subtotal."""
        discounts = self.discounts if discounts is None else discounts
        by_key = {line.wanted().key: line for line in self.cart.lines}
        total = 0
        for key, d in discounts.items():
            line = by_key.get(key) if key is not None else None
            total += d.of(line.total if line is not None else self.cart.subtotal) if key is None or line else 0
        return min(total, self.cart.subtotal)

    def discount_reason(self) -> str:
        names = {line.wanted().key: line.item.display_name(language()) for line in self.cart.lines}
        parts = [f"{names.get(k, '') + ' ' if k is not None else ''}{d.label()}: {d.reason.strip()}"
                 for k, d in self.discounts.items()]
        text = "; ".join(parts)
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"

    @property
    def discount(self) -> DiscountRequest | None:
        """The discounts as the sale records them: one amount, the reasons, the manager who approved."""
        amount = self.discount_amount()
        if not amount:
            return None
        return DiscountRequest(amount, self.discount_reason(), self.discount_approver)

    def total(self) -> int:
        return self.cart.subtotal - self.discount_amount()

    def update_totals(self) -> None:
        subtotal = self.cart.subtotal
        has_lines = bool(self.cart.lines)
        self.subtotal_label.setText(tr("Subtotal: {amount}", amount=money(subtotal)))
        discount = self.discount
        if discount:
            self.discount_label.setText(tr("Discount ({reason}): {amount}", reason=discount.reason,
                                           amount=money(-discount.amount)))
            self.discount_label.setToolTip(discount.reason)
        self.discount_label.setVisible(discount is not None)
        self.subtotal_label.setVisible(discount is not None)
        self.total_label.setText(tr("Total {amount}", amount=money(self.total())))
        lang = language()
        self.cart_changed.emit([(line.item.display_name(lang), line.quantity, line.total) for line in self.cart.lines],
                               self.discount_amount(), self.total())
        for b in (self.discount_button, self.clear_button, self.minus, self.plus, self.remove, self.options_button):
            b.setEnabled(has_lines)
        self.pay_button.setEnabled(has_lines and self.shift_open)
        self.park_button.setEnabled(has_lines)
        self.recall_button.setEnabled(not has_lines and self.parked_count > 0)
        self.recall_button.setText(tr("Recall ({n})", n=self.parked_count))

    # --- discount and payment ---

    def ask_discount(self) -> None:
        if not self.cart.lines:
            return
        row = self.selected_row()
        line = self.cart.lines[row] if row is not None else None
        line_text = tr("Only {item} · {amount}", item=line.item.display_name(language()),
                       amount=money(line.total)) if line is not None else ""
        dialog = DiscountDialog(self, self.cart.subtotal, line, line_text)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.value is None:
            return
        wanted = {**self.discounts, dialog.value.line: dialog.value}
        if self.approve_discount(wanted, dialog.value.reason):
            self.discounts = wanted
            self.update_totals()
            self.refresh_cart()

    def approve_discount(self, discounts: dict[tuple[Any, ...] | None, CartDiscount], reason: str) -> bool:
        """Up to 10 % of the subtotal is the cashier's call; above it a manager approves with their PIN (and is
        recorded on the sale)."""
        amount, subtotal = self.discount_amount(discounts), self.cart.subtotal
        if not amount:
            return True
        try:
            def decide(user: User) -> User:
                make_discount(subtotal, amount, reason or "discount", user, None)
                return user

            approver = self.session.as_manager(self, tr("A discount above 10 % needs a manager."), decide)
        except UserFacingError as exc:
            show_error(self, exc)
            return False
        if approver is None:
            return False
        if approver is not self.session.user:
            self.discount_approver = approver
        return True

    def pay(self) -> None:
        if not self.cart.lines:
            return
        self.refresh()
        if not self.shift_open:
            return
        from terminal.gui.payment import PaymentDialog

        discount = self.discount
        if discount is not None and discount.approver is None and \
                not self.approve_discount(self.discounts, discount.reason):
            return  # the cart changed since: the discount is now above what the cashier may give alone
        order_label = self.label_edit.text().strip() or None
        dialog = PaymentDialog(self, self.session, self.cart.wanted(), self.total(), self.discount, order_label)
        if dialog.exec() == PaymentDialog.DialogCode.Accepted and dialog.result_sale is not None:
            result: SaleResult = dialog.result_sale
            self.last_label = order_label
            self.clear()
            self.reload_stock()
            self.session.changed()
            self.sale_completed.emit(result)

    def reload_stock(self) -> None:
        fresh = self.session.term.menu()
        changed = any(fresh.get(i) is None or fresh[i].available != self.menu[i].available for i in self.menu)
        if changed:
            self.menu = {i: fresh.get(i, item) for i, item in self.menu.items()}
            self._label_items()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("Search the menu (F2)"))
        self.cart_title.setText(tr("Order"))
        self.label_edit.setPlaceholderText(tr("Table, pager or name"))
        self.table.setHorizontalHeaderLabels([tr("Item"), tr("Qty"), tr("Amount")])
        self.remove.setText(tr("Remove"))
        self.options_button.setText(tr("Options…"))
        self.options_button.setToolTip(tr("Options and a note for the kitchen, for the selected line"))
        self.discount_button.setText(tr("Discount (F9)"))
        self.clear_button.setText(tr("Clear"))
        self.park_button.setText(tr("Park"))
        self.park_button.setToolTip(tr("Put this order aside and start the next one"))
        self.pay_button.setText(tr("Pay (F12)"))
        self.no_shift_text.setText(tr("No shift is open. Count the float and open the shift before the first sale."))
        self.open_shift_button.setText(tr("Open shift"))
        self._label_items()
        self._build_tabs()
        self.refresh_cart()
