"""Money as integer tetri (1 GEL = 100 tetri): parsing user input and formatting amounts. No floats, ever."""

from __future__ import annotations

import re

from terminal.core.errors import InvalidInput

Tetri = int
TETRI_PER_GEL = 100
# A single amount above this is a typo, not a hot-pot bill (1,000,000 GEL).
MAX_AMOUNT: Tetri = 100_000_000

_TETRI_RE = re.compile(r"^[0-9]{1,12}$")
_GEL_RE = re.compile(r"^([0-9]{1,9})(?:[.,]([0-9]{1,2}))?$")


def parse_tetri(text: str, what: str = "amount") -> Tetri:
    """Parse a whole number of tetri typed by a person, e.g. '2500' -> 2500."""
    cleaned = text.strip()
    if not _TETRI_RE.fullmatch(cleaned):
        raise InvalidInput("The {what} must be a whole number of tetri (2500 for 25.00 GEL), not {text!r}.",
                           what=what, text=text)
    return check_amount(int(cleaned), what)


def parse_gel(text: str, what: str = "amount") -> Tetri:
    """Parse a GEL amount typed by a person, e.g. '25', '25.5' or '25,50' -> 2550 tetri."""
    cleaned = text.strip().removesuffix("₾").removesuffix("GEL").strip()
    match = _GEL_RE.fullmatch(cleaned)
    if not match:
        raise InvalidInput("The {what} must be an amount in GEL such as 25 or 25.50, not {text!r}.",
                           what=what, text=text)
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    return check_amount(int(whole) * TETRI_PER_GEL + int(frac), what)


def check_amount(value: int, what: str = "amount", *, allow_zero: bool = True) -> Tetri:
    """Validate an integer amount in tetri: an int (not bool), not negative, not absurdly large."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("The {what} must be a whole number of tetri.", what=what)
    if value < 0:
        raise InvalidInput("The {what} cannot be negative.", what=what)
    if value == 0 and not allow_zero:
        raise InvalidInput("The {what} must be more than zero.", what=what)
    if value > MAX_AMOUNT:
        raise InvalidInput("The {what} of {value} is too large.", what=what, value=format_gel(value))
    return value


def format_gel(amount: Tetri) -> str:
    """2550 -> '25.50 ₾'; negative amounts keep their sign."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), TETRI_PER_GEL)
    return f"{sign}{whole:,}.{frac:02d} ₾"


def percent_of(amount: Tetri, basis_points: int) -> Tetri:
    """Amount * basis_points / 10,000 rounded half up, in integers (1 % = 100 basis points)."""
    return (amount * basis_points + 5_000) // 10_000
