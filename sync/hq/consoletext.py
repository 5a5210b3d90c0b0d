"""The console's texts in Georgian and Russian, keyed by the English text the templates and routes use (English is
the key itself). tests/hq/test_console.py checks that every text the console shows has both."""

from __future__ import annotations

CATALOG: dict[str, dict[str, str]] = {}
