"""Every word the app shows exists in Georgian and Russian; the task helper runs work off the GUI thread and calls
back on it."""

from __future__ import annotations

import ast
import re
import string
import threading
from pathlib import Path
from typing import Any

from terminal.core.kyc import STATUSES as KYC_STATUSES
from terminal.core.menu import CATEGORIES
from terminal.core.users import LOGIN_MESSAGES, Role
from terminal.gui.cameras import KIND_NAMES, STATE_NAMES
from terminal.gui.catalog import CATALOG
from terminal.gui.i18n import money, set_language, tr
from terminal.gui.kitchen import STATUS_NAMES
from terminal.gui.kycdesk import CONSENT, DOC_TYPE_NAMES, FIELD_NAMES, LEVEL_NAMES, SHOT_NAMES
from terminal.gui.mainwindow import PAGE_NAMES
from terminal.gui.shift import REPORT_ROWS, Z_ROWS
from terminal.gui.tasks import Tasks

GUI = Path(__file__).resolve().parents[2] / "terminal" / "gui"
LITERAL = re.compile(r"""\btr\(\s*((?:(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*)+)""")
PART = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")
MONEY_FIELDS = ("amount", "cash amount", "card amount", "opening float", "counted cash", "refund amount", "discount")


ERRORS = {"InvalidInput", "NotFound", "NotAllowed", "WrongState", "ManagerApprovalRequired", "UserLocked",
          "UserFacingError", "WrongPassphrase", "KeystoreDamaged", "KeystoreUnsupported", "BadMnemonic",
          "KeystoreMissing", "KeystoreForeign", "WalletError", "StoreError", "DiskFull"}
TERMINAL = GUI.parent
# Where the errors a cashier or a manager can meet at the counter come from (the CLI's own and the backup's are
# for an operator at a shell, in English).
CORE = [*sorted((TERMINAL / "core").glob("*.py")), *sorted((TERMINAL / "wallet").glob("*.py")),
        TERMINAL / "services.py", TERMINAL / "kyc.py", TERMINAL / "cameras.py", TERMINAL / "store" / "db.py"]


def core_error_templates() -> set[str]:
    """The English templates of the errors the core and the services raise: the cashier sees them translated
    (i18n.tr_error), so each must be in the catalog with the same parameters."""
    found: set[str] = set()
    for path in CORE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS
                    and node.args):
                continue
            first = node.args[0]
            options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for option in options:
                if isinstance(option, ast.Constant) and isinstance(option.value, str):
                    found.add(option.value)
                elif isinstance(option, ast.Attribute) and option.attr == "template":
                    pass  # a login's refusal: its templates are users.LOGIN_MESSAGES
                elif isinstance(option, ast.Name) or (isinstance(option, ast.Call) and (
                        isinstance(option.func, ast.Name) and option.func.id == "str"
                        or isinstance(option.func, ast.Attribute) and option.func.attr == "join")):
                    pass  # text relayed from elsewhere (an HQ menu's problem, a photo's checks), shown in English
                else:
                    raise AssertionError(f"{path.name}:{node.lineno}: an error's text must be a template literal "
                                         "with its parameters as keywords (not an f-string)")
    return found | set(LOGIN_MESSAGES)


def shown_texts() -> set[str]:
    texts: set[str] = set()
    for path in GUI.glob("*.py"):
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            texts.add("".join(a or b for a, b in PART.findall(match.group(1))))
    texts |= set(STATUS_NAMES.values()) | set(PAGE_NAMES.values()) | set(STATE_NAMES.values())
    texts |= set(KIND_NAMES.values())
    texts |= {name for _, name in REPORT_ROWS + Z_ROWS}
    texts |= {*SHOT_NAMES.values(), *FIELD_NAMES.values(), *DOC_TYPE_NAMES.values(), *LEVEL_NAMES.values(), CONSENT}
    texts |= {s.replace("_", " ") for s in KYC_STATUSES}
    texts |= {c.capitalize() for c in CATEGORIES} | {r.value for r in Role} | set(MONEY_FIELDS) | {"All"}
    return texts | core_error_templates()


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_shown_text_has_georgian_and_russian_with_the_same_fields() -> None:
    texts = shown_texts()
    assert len(texts) > 150
    missing = sorted(t for t in texts if t not in CATALOG)
    assert not missing, f"not translated: {missing}"
    for english, (georgian, russian) in CATALOG.items():
        assert georgian.strip() and russian.strip(), english
        assert fields(georgian) == fields(english) == fields(russian), english
        assert re.search("[\u10d0-\u10ff]", georgian) or english in ("PIN", "SHA-256", "KYC", "MRZ"), \
            f"not Georgian: {georgian}"
    unused = sorted(set(CATALOG) - texts)
    assert not unused, f"catalog entries nothing shows: {unused}"


def test_tr_fills_fields_in_the_current_language() -> None:
    try:
        set_language("ru")
        assert tr("Change {amount}", amount="1.00") == "Сдача 1.00"
        set_language("ka")
        assert tr("Total {amount}", amount="2.00") == "ჯამი 2.00"
    finally:
        set_language("en")
    assert tr("Total {amount}", amount="2.00") == "Total 2.00"
    assert money(2550).startswith("25.50")


def test_tasks_run_off_the_gui_thread_and_call_back_on_it(qtbot: Any) -> None:
    errors: list[BaseException] = []
    tasks = Tasks(errors.append)
    gui_thread = threading.get_ident()
    seen: dict[str, Any] = {}

    def op() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(result: int) -> None:
        seen["callback"] = threading.get_ident()
        seen["result"] = result

    tasks.run(op, done)

    def boom() -> None:
        raise ValueError("boom")

    tasks.run(boom)  # no handler of its own: goes to the app's error handler, on the GUI thread
    assert tasks.wait_idle(5_000)
    tasks.shutdown()
    assert seen["worker"] != gui_thread and seen["callback"] == gui_thread and seen["result"] == 42
    assert [str(e) for e in errors] == ["boom"]
