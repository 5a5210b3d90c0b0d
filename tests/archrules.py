"""ARCHITECTURE.md's import rules as data, and an AST walk that reports every import breaking them."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

OURS = ("terminal", "sync", "camera")
# The terminal's service layer: the facade (one transaction per counter action) and the services beside it.
SERVICES = {"terminal.services", "terminal.syncing", "terminal.cameras", "terminal.setup", "terminal.tickets",
            "terminal.kyc", "terminal.backup", "terminal.evidence"}
BELOW_SERVICES = {"terminal.core", "terminal.store", "terminal.wallet", "terminal.ledger", "sync.protocol",
                  "sync.client", "camera"}
# What the programs (CLI, GUI, the scripted demo) may reach: the services, and the pure layers. Never the store,
# the ledger, the wallet or the sync client directly: everything they do goes through a service.
FOR_PROGRAMS = SERVICES | {"terminal.core", "sync.protocol", "camera"}
# Component -> the components of ours it may import (its own always allowed).
ALLOWED: dict[str, set[str]] = {
    "camera": set(),
    "sync.protocol": set(),
    "terminal.core": {"sync.protocol"},  # both pure
    "terminal.store": {"terminal.core"},
    "terminal.wallet": {"sync.protocol"},
    "terminal.ledger": {"terminal.core", "terminal.store", "terminal.wallet", "sync.protocol"},
    "sync.client": {"sync.protocol"},
    "sync.hq": {"sync.protocol"},
    **{service: BELOW_SERVICES | SERVICES for service in SERVICES},
    "terminal.gui": FOR_PROGRAMS,
    "terminal.cli": FOR_PROGRAMS | {"terminal.demo"},
    "terminal.demo": FOR_PROGRAMS,
    "terminal.__main__": {"terminal.cli", "terminal.gui"},
    "terminal": set(),
    "sync": set(),
}
# Third-party packages that only one place may import.
ONLY_IN = {"PySide6": "terminal.gui", "shiboken6": "terminal.gui", "cv2": "camera", "dlib": "camera"}


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
