"""The errors a cashier may see: their text is shown verbatim by the CLI and the GUI. Their root is shared with the
wallet's errors (sync.protocol.errors)."""

from __future__ import annotations

from sync.protocol.errors import UserFacingError


class InvalidInput(UserFacingError):
    code = "invalid_input"


class NotFound(UserFacingError):
    code = "not_found"


class NotAllowed(UserFacingError):
    """The user's role or state does not permit the action."""

    code = "not_allowed"


class WrongState(UserFacingError):
    """The action does not fit the current state (no open shift, order already completed, ...)."""

    code = "wrong_state"


class ManagerApprovalRequired(NotAllowed):
    code = "manager_required"


class UserLocked(NotAllowed):
    code = "user_locked"

    def __init__(self, template: str, locked_until_ms: int, **params: object) -> None:
        super().__init__(template, **params)
        self.locked_until_ms = locked_until_ms


__all__ = ["InvalidInput", "ManagerApprovalRequired", "NotAllowed", "NotFound", "UserFacingError", "UserLocked",
           "WrongState"]
