"""Georgian and Russian forms of the counter app's English texts: CATALOG[english] = (georgian, russian)."""

from __future__ import annotations

CATALOG: dict[str, tuple[str, str]] = {
}
