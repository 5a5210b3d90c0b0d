"""The one root of errors whose text is meant for a person: the terminal's core, its wallet and its services all
raise subclasses of it, and the CLI and the GUI show its message verbatim (STYLE.md rule 5)."""

from __future__ import annotations


class UserFacingError(Exception):
    """A mistake by the user or a refused action; the message is complete, polite and shown as is."""

    code = "user_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
