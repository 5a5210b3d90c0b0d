"""The app's state for one terminal: who is logged in, the unlocked wallet, the background sync, and the signals
screens listen to. Screens call the terminal's services through it; they never talk to the store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from terminal.core.errors import ManagerApprovalRequired, NotAllowed
from terminal.core.users import Role, User
from terminal.gui.qt import QObject, QWidget, Signal
from terminal.gui.tasks import Tasks
from terminal.gui.widgets import ManagerApproval
from terminal.services import Terminal, Wallet
from terminal.syncing import SyncService

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Session(QObject):
    user_changed = Signal()
    data_changed = Signal()  # this app wrote something (a sale, a status, a shift event)
    sync_changed = Signal()  # the background sync sealed, pushed or failed (emitted from its thread, queued here)
    wallet_changed = Signal()

    def __init__(self, term: Terminal, tasks: Tasks) -> None:
        super().__init__()
        self.term = term
        self.tasks = tasks
        self.user: User | None = None
        self.wallet: Wallet | None = None
        self.sync: SyncService | None = None
        self.sync_busy = False

    # --- users ---

    def login(self, name: str, pin: str) -> User:
        self.user = self.term.login(name, pin)
        self.user_changed.emit()
        return self.user

    def logout(self) -> None:
        self.user = None
        self.user_changed.emit()

    @property
    def is_manager(self) -> bool:
        return self.user is not None and self.user.role.at_least(Role.MANAGER)

    def require_user(self) -> User:
        if self.user is None:
            raise NotAllowed("Nobody is logged in.")
        return self.user

    def as_manager(self, parent: QWidget, reason: str, action: Callable[[User], T]) -> T | None:
        """Run `action` as the logged-in user; when that needs a manager and the user is not one, a manager
        approves at the till with their PIN and the action runs in their name. None when nobody approved."""
        user = self.require_user()
        try:
            return action(user)
        except (ManagerApprovalRequired, NotAllowed):
            if user.role.at_least(Role.MANAGER):
                raise
        dialog = ManagerApproval(parent, self.term, reason)
        if dialog.exec() != ManagerApproval.DialogCode.Accepted or dialog.approver is None:
            return None
        return action(dialog.approver)

    def changed(self) -> None:
        self.data_changed.emit()

    # --- wallet and the background jobs ---

    def unlock(self, passphrase: str, on_done: Callable[[Wallet], None] | None = None,
               on_failed: Callable[[BaseException], None] | None = None) -> None:
        """Open the keystore off the GUI thread (scrypt is slow on purpose), then start the background jobs."""

        def done(wallet: Wallet) -> None:
            self.start_background(wallet)
            if on_done is not None:
                on_done(wallet)

        self.tasks.run(lambda: self.term.unlock(passphrase), done, on_failed)

    def start_background(self, wallet: Wallet) -> None:
        self.wallet = wallet
        if self.sync is None:
            self.sync = SyncService(self.term.data_dir, wallet, local_only=True, on_change=self.sync_changed.emit)
            self.sync.start()
        self.wallet_changed.emit()

    def sync_now(self, on_done: Callable[[Any], None] | None = None) -> None:
        if self.sync is None or self.sync_busy:
            return
        self.sync_busy = True
        service = self.sync

        def finished(result: Any) -> None:
            self.sync_busy = False
            self.sync_changed.emit()
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            self.sync_busy = False
            self.sync_changed.emit()
            logger.warning("sync now failed: %s", exc)

        self.tasks.run(service.run_once, finished, failed)

    def close(self) -> None:
        self.tasks.shutdown()
        if self.sync is not None:
            self.sync.stop(wait=True)
            self.sync = None
        self.term.close()
