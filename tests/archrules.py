"""ARCHITECTURE.md's import rules as data, and an AST walk that reports every import breaking them."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

OURS = ("terminal", "sync", "camera")
EVERYTHING = {"terminal.core", "terminal.store", "terminal.wallet", "terminal.ledger", "terminal.services",
              "terminal.syncing", "terminal.cameras",
              "terminal.cli", "terminal.demo", "terminal.gui", "terminal.__main__", "camera", "sync.protocol",
              "sync.client", "sync.hq", "terminal", "sync"}
# Component -> the components of ours it may import (its own always allowed).
ALLOWED: dict[str, set[str]] = {
    "terminal.core": set(),
    "camera": set(),
    "sync.protocol": set(),
    "terminal.store": {"terminal.core"},
    "terminal.wallet": {"sync.protocol"},
    "terminal.ledger": {"terminal.core", "terminal.store", "terminal.wallet", "sync.protocol"},
    "sync.client": {"sync.protocol"},
    "sync.hq": {"sync.protocol"},
    # The application services that the CLI and the GUI share (one transaction per cashier action).
    "terminal.services": {"terminal.core", "terminal.store", "terminal.wallet", "terminal.ledger", "sync.protocol",
                          "sync.client", "camera"},
    # Sync wiring on the terminal: the store as the sync client's Outbox, the background jobs, enrollment.
    "terminal.syncing": {"terminal.core", "terminal.store", "terminal.wallet", "terminal.ledger", "terminal.services",
                         "sync.protocol", "sync.client"},
    # The terminal's cameras: settings in the store, segments and alerts into the ledger, the camera hub running.
    "terminal.cameras": {"terminal.core", "terminal.store", "terminal.ledger", "terminal.services", "camera"},
    "terminal.gui": EVERYTHING - {"sync.hq", "terminal.cli", "terminal.__main__", "terminal.demo"},
    "terminal.cli": EVERYTHING - {"sync.hq", "terminal.gui", "terminal.__main__"},
    "terminal.demo": EVERYTHING - {"sync.hq", "terminal.gui", "terminal.__main__", "terminal.cli"},
    "terminal.__main__": EVERYTHING - {"sync.hq"},
    "terminal": set(),
    "sync": set(),
}
# Third-party packages that only one place may import.
ONLY_IN = {"PySide6": "terminal.gui", "shiboken6": "terminal.gui", "cv2": "camera"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}: {self.rule}"


def component_of(module: str) -> str | None:
    """The most specific component a dotted module name belongs to, or None when it is not ours."""
    if module.split(".")[0] not in OURS:
        return None
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in ALLOWED:
            return candidate
    return None


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from terminal import gui` imports terminal.gui
            for alias in node.names:
                found.append((node.lineno, f"{target}.{alias.name}"))
    return found


def check_tree(root: Path) -> list[Violation]:
    violations: list[Violation] = []
    for top in OURS:
        if not (root / top).is_dir():
            continue
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(root, path)
            importer = component_of(module)
            if importer is None:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in _imports(tree, module, path.name == "__init__.py"):
                first = target.split(".")[0]
                if first in ONLY_IN and importer != ONLY_IN[first] and not importer.startswith(ONLY_IN[first] + "."):
                    violations.append(Violation(str(path.relative_to(root)), line, module, target,
                                                f"{first} may only be imported under {ONLY_IN[first]}"))
                imported = component_of(target)
                if imported is None or imported == importer or imported in ("terminal", "sync"):
                    continue
                if imported not in ALLOWED[importer]:
                    violations.append(Violation(str(path.relative_to(root)), line, module, target,
                                                f"{importer} may not import {imported}"))
    # A submodule import like `from terminal import gui` is reported twice (module and name); keep one per line.
    unique = {(v.path, v.line, v.rule): v for v in violations}
    return list(unique.values())
