"""Every text the HQ console shows has Georgian and Russian, with the same {fields}; no translation is left over."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from sync.hq.api import consolekit
from sync.hq.consoletext import CATALOG, DYNAMIC

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "sync" / "hq" / "web" / "templates" / "console"
ROUTES = [ROOT / "sync" / "hq" / "api" / "routes" / "console.py", ROOT / "sync" / "hq" / "api" / "consolekit.py"]
WRITES = ROOT / "sync" / "hq" / "writes.py"
KYC = ROOT / "sync" / "hq" / "kyc.py"


def _template_texts() -> set[str]:
    texts = set()
    for path in TEMPLATES.glob("*.html"):
        for match in re.finditer(r"""\bt\((['"])(.*?)\1""", path.read_text()):
            if match.group(2) != "by ":  # 'by ' ~ group: the full keys are in DYNAMIC
                texts.add(match.group(2))
    return texts


def _route_texts() -> set[str]:
    """Sentences the routes show: what they raise as Refused, put in `error`, give ValueError, or confirm."""
    texts: set[str] = set()
    for path in ROUTES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Refused", "ValueError") and \
                    node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                texts.add(node.args[0].value)
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "error" for t in node.targets) and \
                    isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                texts.add(node.value.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_login_page", "_franchises_page",
                                                                              "_menu_page", "_policies_page",
                                                                              "_staff_page") \
                    and len(node.args) > 3 and isinstance(node.args[3], ast.Constant):
                texts.add(node.args[3].value)
    return texts


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_console_text_has_georgian_and_russian() -> None:
    shown = _template_texts() | _route_texts() | set(DYNAMIC) | {title for _, title, _ in consolekit.NAV} | \
        set(consolekit.ROLE_NAMES.values()) | set(consolekit.ALERT_NAMES.values()) | \
        set(consolekit.RISK_PART_NAMES.values()) | set(consolekit.HIT_PART_NAMES.values())
    missing = sorted(text for text in shown if text not in CATALOG)
    assert missing == [], missing
    for english, translations in CATALOG.items():
        for lang in ("ka", "ru"):
            assert translations.get(lang, "").strip(), (english, lang)
            assert _fields(translations[lang]) == _fields(english), (english, lang)
    # Each translation is used: shown above, or a sentence the routes or writes.py say (adjacent literals joined).
    said = {node.value for path in [*ROUTES, WRITES, KYC] for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    unused = sorted(text for text in CATALOG if text not in shown and text not in said)
    assert unused == [], unused


def test_translate_fills_fields_and_falls_back_to_english() -> None:
    assert consolekit.translate("ru", "Version {n}", n=3) == "Версия 3"
    assert consolekit.translate("ka", "A franchise called 'Vake' exists.") == "A franchise called 'Vake' exists."
    assert consolekit.money(123456) == "1,234.56 GEL" and consolekit.money(-5) == "-0.05 GEL"
