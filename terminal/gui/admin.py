"""Managing the till, for managers and owners: staff (add, new PIN, deactivate), the menu of a terminal not enrolled
with HQ (an enrolled one takes HQ's), and the till's settings (receipt paper, drawer variance limit, customer
display). Every change goes through the terminal's services, which record it in the ledger where HQ must know."""

from __future__ import annotations

from typing import Any

from terminal.core.errors import InvalidInput, UserFacingError
from terminal.core.menu import CATEGORIES, MenuItem
from terminal.core.users import Role
from terminal.gui.i18n import LANGUAGES, language, money, tr, tr_error
from terminal.gui.qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    Qt,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from terminal.gui.session import Session
from terminal.gui.widgets import (
    MoneyEdit,
    button,
    confirm,
    dialog_buttons,
    form_layout,
    label,
    panel,
    row_table,
    show_error,
)

ROLES = (Role.CASHIER, Role.MANAGER, Role.OWNER)


def pin_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(8)
    edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    return edit


class UserDialog(QDialog):
    """A new user (name, role up to one's own, PIN twice) or a new PIN for one (PIN twice)."""

    def __init__(self, parent: QWidget | None, by_role: Role, name: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("user-dialog")
        self.setWindowTitle(tr("New PIN for {name}", name=name) if name else tr("Add a user"))
        layout = QVBoxLayout(self)
        form = form_layout()
        self.name = QLineEdit(name or "")
        self.name.setObjectName("user-name")
        self.name.setMaxLength(40)
        self.role = QComboBox()
        for role in ROLES:
            if role.rank <= by_role.rank:
                self.role.addItem(tr(role.value), role.value)
        if name is None:
            form.addRow(tr("Name"), self.name)
            form.addRow(tr("Role"), self.role)
        self.pin = pin_edit()
        self.pin.setObjectName("new-pin")
        self.again = pin_edit()
        self.again.setObjectName("new-pin-again")
        form.addRow(tr("PIN (4-8 digits)"), self.pin)
        form.addRow(tr("PIN again"), self.again)
        layout.addLayout(form)
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("Save"), self._check))

    def _check(self) -> None:
        if self.pin.text() != self.again.text():
            self.error.setText(tr("The two PINs differ; type them again."))
            self.again.clear()
            return
        self.accept()


class MenuItemDialog(QDialog):
    """An item of the till's own menu: names in three languages, category, price, portions, on sale."""

    def __init__(self, parent: QWidget | None, item: MenuItem | None) -> None:
        super().__init__(parent)
        self.setObjectName("menu-item-dialog")
        self.setWindowTitle(tr("Menu item"))
        layout = QVBoxLayout(self)
        form = form_layout()
        self.item_id = QLineEdit(item.id if item else "")
        self.item_id.setObjectName("item-id")
        self.item_id.setPlaceholderText("spicy-broth")
        self.item_id.setReadOnly(item is not None)
        form.addRow(tr("Code"), self.item_id)
        self.names: dict[str, QLineEdit] = {}
        for lang, language_name in LANGUAGES.items():
            edit = QLineEdit(item.name.get(lang, "") if item else "")
            edit.setObjectName(f"name-{lang}")
            edit.setMaxLength(200)
            self.names[lang] = edit
            form.addRow(tr("Name ({language})", language=language_name), edit)
        self.category = QComboBox()
        for cat in CATEGORIES:
            self.category.addItem(tr(cat.capitalize()), cat)
        if item:
            self.category.setCurrentIndex(CATEGORIES.index(item.category))
        form.addRow(tr("Category"), self.category)
        self.price = MoneyEdit("price")
        self.price.setObjectName("item-price")
        if item:
            self.price.set_value(item.price)
        form.addRow(tr("Price"), self.price)
        self.available = QSpinBox()
        self.available.setRange(0, 1_000_000)
        self.available.setValue(item.available if item else 100)
        form.addRow(tr("Portions in stock"), self.available)
        self.on_sale = QCheckBox(tr("On sale"))
        self.on_sale.setChecked(item.active if item else True)
        form.addRow("", self.on_sale)
        layout.addLayout(form)
        self.error = label("", "error", wrap=True)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, tr("Save"), self._check))
        self.value: dict[str, Any] = {}

    def _check(self) -> None:
        try:
            price = self.price.value()
        except UserFacingError as exc:
            self.error.setText(tr_error(exc))
            return
        self.value = {"id": self.item_id.text().strip(), "category": self.category.currentData(),
                      "name": {lang: e.text().strip() for lang, e in self.names.items()}, "price": price,
                      "available": self.available.value(), "active": self.on_sale.isChecked()}
        self.accept()


class AdminView(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("page")
        self.session = session
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        tabs = QHBoxLayout()
        self.tab_group = QButtonGroup(self)
        self.tab_buttons = []
        for i in range(3):
            b = button("", "option", lambda _=False, n=i: self.show_tab(n))
            b.setCheckable(True)
            b.setMinimumHeight(48)
            self.tab_group.addButton(b)
            self.tab_buttons.append(b)
            tabs.addWidget(b)
        tabs.addStretch(1)
        root.addLayout(tabs)
        self.pages = QStackedWidget()
        root.addWidget(self.pages, 1)
        self.pages.addWidget(self._staff_page())
        self.pages.addWidget(self._menu_page())
        self.pages.addWidget(self._settings_page())
        self.tab_buttons[0].setChecked(True)
        self.retranslate()

    # --- staff ---

    def _staff_page(self) -> QWidget:
        box, lay = panel()
        self.staff_title = label("", "title")
        lay.addWidget(self.staff_title)
        self.staff = row_table(3, "staff")
        self.staff.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.staff.itemSelectionChanged.connect(self._staff_buttons)
        lay.addWidget(self.staff, 1)
        row = QHBoxLayout()
        self.add_user = button("", "primary", self.ask_add_user)
        self.new_pin = button("", "", self.ask_new_pin)
        self.toggle_user = button("", "danger", self.toggle_selected_user)
        for b in (self.add_user, self.new_pin, self.toggle_user):
            b.setMinimumHeight(50)
            row.addWidget(b)
        lay.addLayout(row)
        return box

    def selected_user(self) -> str | None:
        rows = self.staff.selectionModel().selectedRows()
        return None if not rows else str(self.staff.item(rows[0].row(), 0).text())

    def _staff_buttons(self) -> None:
        name = self.selected_user()
        user = next((u for u in self.session.term.users() if u.name == name), None)
        self.new_pin.setEnabled(user is not None and user.active)
        self.toggle_user.setEnabled(user is not None)
        self.toggle_user.setText(tr("Reactivate") if user is not None and not user.active else tr("Deactivate"))

    def _act(self, action: Any) -> bool:
        try:
            action(self.session.require_user())
        except UserFacingError as exc:
            show_error(self, exc)
            return False
        self.refresh()
        return True

    def ask_add_user(self) -> None:
        by = self.session.require_user()
        dialog = UserDialog(self, by.role)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._act(lambda user: self.session.term.add_user(user, dialog.name.text(),
                                                              Role(dialog.role.currentData()), dialog.pin.text()))

    def ask_new_pin(self) -> None:
        name = self.selected_user()
        if name is None:
            return
        dialog = UserDialog(self, self.session.require_user().role, name)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._act(lambda user: self.session.term.change_pin(user, name, dialog.pin.text()))

    def toggle_selected_user(self) -> None:
        name = self.selected_user()
        user = next((u for u in self.session.term.users() if u.name == name), None)
        if user is None:
            return
        if user.active:
            if not confirm(self, tr("Deactivate"), tr("{name} will no longer be able to log in. Their sales stay "
                                                      "theirs.", name=user.name), tr("Deactivate"),
                           "confirm-deactivate"):
                return
        self._act(lambda by: self.session.term.set_user_active(by, user.name, not user.active))

    # --- menu ---

    def _menu_page(self) -> QWidget:
        box, lay = panel()
        self.menu_title = label("", "title")
        lay.addWidget(self.menu_title)
        self.menu_note = label("", "subtitle", wrap=True)
        lay.addWidget(self.menu_note)
        self.menu_table = row_table(4, "menu-items")
        self.menu_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.menu_table, 1)
        row = QHBoxLayout()
        self.add_item = button("", "primary", lambda: self.edit_item(None))
        self.change_item = button("", "", self.edit_selected_item)
        for b in (self.add_item, self.change_item):
            b.setMinimumHeight(50)
            row.addWidget(b)
        lay.addLayout(row)
        return box

    def edit_selected_item(self) -> None:
        rows = self.menu_table.selectionModel().selectedRows()
        if rows:
            item_id = self.menu_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
            self.edit_item(self.session.term.menu().get(str(item_id)))

    def edit_item(self, item: MenuItem | None) -> None:
        dialog = MenuItemDialog(self, item)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            if self._act(lambda user: self.session.term.put_local_menu_item(user, dialog.value)):
                self.session.changed()
                return
            # refused (a missing name, a bad code): the dialog comes back with what was typed

    # --- settings ---

    def _settings_page(self) -> QWidget:
        box, lay = panel()
        self.settings_title = label("", "title")
        lay.addWidget(self.settings_title)
        form = form_layout()
        self.receipt = QComboBox()
        for mm in (80, 58):
            self.receipt.addItem(f"{mm} mm", mm)
        self.variance = MoneyEdit("variance limit")
        self.variance.setObjectName("variance-limit")
        self.display = QComboBox()
        for mode in ("auto", "on", "off"):
            self.display.addItem("", mode)
        self.receipt_label, self.variance_label, self.display_label = label(), label(), label()
        form.addRow(self.receipt_label, self.receipt)
        form.addRow(self.variance_label, self.variance)
        form.addRow(self.display_label, self.display)
        lay.addLayout(form)
        self.settings_saved = label("", "ok")
        lay.addWidget(self.settings_saved)
        self.save_settings = button("", "primary", self.save)
        self.save_settings.setMinimumHeight(50)
        lay.addWidget(self.save_settings)
        lay.addStretch(1)
        return box

    def save(self) -> None:
        term = self.session.term
        try:
            limit = self.variance.value()
        except InvalidInput as exc:
            show_error(self, exc)
            return

        def apply(user: Any) -> None:
            term.set_receipt_width(user, int(self.receipt.currentData()))
            term.set_z_variance_limit(user, limit)
            term.set_customer_display(user, str(self.display.currentData()))

        if self._act(apply):
            self.settings_saved.setText(tr("Saved. The customer display follows at the next start."))

    # --- the page ---

    def show_tab(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.tab_buttons[index].setChecked(True)
        self.settings_saved.clear()

    def refresh(self) -> None:
        term = self.session.term
        users = term.users()
        self.staff.setRowCount(len(users))
        for r, user in enumerate(users):
            status = tr("active") if user.active else tr("deactivated")
            for c, text in enumerate((user.name, tr(user.role.value), status)):
                self.staff.setItem(r, c, QTableWidgetItem(text))
        self._staff_buttons()
        enrolled = term.enrolled()
        self.menu_note.setText(tr("This terminal takes its menu from HQ: change it in the HQ console.") if enrolled
                               else tr("Until the terminal is enrolled with HQ, its menu is managed here."))
        self.add_item.setEnabled(not enrolled)
        self.change_item.setEnabled(not enrolled)
        lang = language()
        items = sorted(term.menu().values(), key=lambda i: (CATEGORIES.index(i.category), i.priority, i.id))
        self.menu_table.setRowCount(len(items))
        for r, item in enumerate(items):
            values = (item.display_name(lang), tr(item.category.capitalize()), money(item.price),
                      tr("on sale") if item.active else tr("off the menu"))
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                self.menu_table.setItem(r, c, cell)
        self.receipt.setCurrentIndex(self.receipt.findData(term.receipt_width_mm()))
        self.variance.set_value(term.z_variance_limit())
        self.display.setCurrentIndex(self.display.findData(term.customer_display()))

    def retranslate(self) -> None:
        for b, text in zip(self.tab_buttons, (tr("Staff"), tr("Menu"), tr("Settings")), strict=True):
            b.setText(text)
        self.staff_title.setText(tr("Staff"))
        self.staff.setHorizontalHeaderLabels([tr("Name"), tr("Role"), tr("Status")])
        self.add_user.setText(tr("Add a user…"))
        self.new_pin.setText(tr("New PIN…"))
        self.menu_title.setText(tr("Menu"))
        self.menu_table.setHorizontalHeaderLabels([tr("Item"), tr("Category"), tr("Price"), tr("Status")])
        self.add_item.setText(tr("Add an item…"))
        self.change_item.setText(tr("Change…"))
        self.settings_title.setText(tr("Settings"))
        self.receipt_label.setText(tr("Receipt paper"))
        self.variance_label.setText(tr("Drawer difference a cashier may close with"))
        self.display_label.setText(tr("Customer display"))
        for i, text in enumerate((tr("On a second screen, if there is one"), tr("Always"), tr("Off"))):
            self.display.setItemText(i, text)
        self.save_settings.setText(tr("Save settings"))
        self.refresh()
