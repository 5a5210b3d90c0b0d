"""The one root of errors whose text is meant for a person: the terminal's core, its wallet and its services all
raise subclasses of it, and the CLI and the GUI show its message verbatim (STYLE.md rule 5).

An error is raised with an English template and its parameters: `InvalidInput("Only {left} × {name} left.",
left=2, name="Udon")`. `message` is the English text (the CLI, logs, HQ); `template` and `params` let the counter
app show it in the cashier's language (terminal/gui/i18n.py translates the template, then fills it in)."""

from __future__ import annotations

from typing import Any


class UserFacingError(Exception):
    """A mistake by the user or a refused action; the message is complete, polite and shown as is."""

    code = "user_error"

    def __init__(self, template: str, **params: Any) -> None:
        message = template.format(**params) if params else template
        super().__init__(message)
        self.message = message
        self.template = template
        self.params = params
