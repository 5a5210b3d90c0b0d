"""The counter app's words in Georgian, English and Russian, switchable while it runs.

Every user-facing string goes through tr(english, **fields). The catalog maps the English text to its Georgian and
Russian forms; a test checks that every tr() literal in terminal/gui has both. The main window calls every screen's
retranslate() when the language changes."""

from __future__ import annotations

from sync.protocol.errors import UserFacingError
from terminal.core.money import format_gel
from terminal.gui.catalog import CATALOG

LANGUAGES = {"ka": "ქართული", "en": "English", "ru": "Русский"}
_current = ["en"]
_lari = ["₾"]  # "GEL" where no installed font draws the lari sign (checked once at start)


def use_lari_sign(available: bool) -> None:
    _lari[0] = "₾" if available else "GEL"


def money(amount: int) -> str:
    text = format_gel(amount)
    return text if _lari[0] == "₾" else text.replace("₾", "GEL")


def language() -> str:
    return _current[0]


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    _current[0] = lang


def tr(text: str, **fields: object) -> str:
    lang = _current[0]
    if lang != "en":
        forms = CATALOG.get(text)
        if forms is not None:
            text = forms[0] if lang == "ka" else forms[1]
    return text.format(**fields) if fields else text


def tr_error(exc: UserFacingError) -> str:
    """An error from the core in the screen's language: its template translated, then filled in (a parameter that
    is itself a word of the catalog, like a role, is translated too). Untranslated templates show in English."""
    text = exc.message
    if _current[0] != "en" and exc.template in CATALOG:
        params = {k: tr(v) if isinstance(v, str) and v in CATALOG else v for k, v in exc.params.items()}
        try:
            text = tr(exc.template, **params)
        except (KeyError, IndexError, ValueError):  # a translation naming a parameter wrongly: the English is right
            pass
    return text if _lari[0] == "₾" else text.replace("₾", "GEL")  # amounts the core wrote, as money() shows them
