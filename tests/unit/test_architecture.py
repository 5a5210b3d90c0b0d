"""The import rules of ARCHITECTURE.md hold for the whole tree, and the checker really catches breaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.archrules import check_tree

ROOT = Path(__file__).resolve().parents[2]


def test_repository_follows_import_rules() -> None:
    violations = check_tree(ROOT)
    assert not violations, "\n".join(map(str, violations))


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp_path).parents:
            if str(parent) != ".":
                (tmp_path / parent / "__init__.py").touch()
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(("files", "expected"), [
    ({"terminal/core/bad.py": "from terminal.store import db\n"}, "terminal.core may not import terminal.store"),
    ({"terminal/core/bad.py": "import sync.client.http\n"}, "terminal.core may not import sync.client"),
    ({"terminal/cli.py": "from terminal.store import repos\n"}, "terminal.cli may not import terminal.store"),
    ({"terminal/cli.py": "def f():\n    from terminal.ledger.sealer import head\n"},
     "terminal.cli may not import terminal.ledger"),
    ({"terminal/gui/x.py": "from terminal.store.db import DB_FILENAME\n"},
     "terminal.gui may not import terminal.store"),
    ({"terminal/gui/x.py": "from terminal.ledger import progress\n"}, "terminal.gui may not import terminal.ledger"),
    ({"terminal/gui/x.py": "from terminal.wallet.hd import Wallet\n"}, "terminal.gui may not import terminal.wallet"),
    ({"terminal/demo.py": "from terminal.store.db import open_store\n"}, "terminal.demo may not import terminal.store"),
    ({"terminal/store/bad.py": "from sync.protocol import records\n"}, "terminal.store may not import sync.protocol"),
    ({"terminal/store/bad.py": "from ..ledger import journal\n"}, "terminal.store may not import terminal.ledger"),
    ({"terminal/store/bad.py": "import cv2\n"}, "cv2 may only be imported under camera"),
    ({"terminal/core/bad.py": "from PySide6 import QtWidgets\n"}, "PySide6 may only be imported under terminal.gui"),
    ({"camera/bad.py": "def f():\n    from terminal.core import money\n"}, "camera may not import terminal.core"),
    ({"sync/client/bad.py": "from terminal.store import repos\n"}, "sync.client may not import terminal.store"),
    ({"sync/protocol/bad.py": "from sync.client import x\n"}, "sync.protocol may not import sync.client"),
    ({"terminal/cli.py": "from sync.hq import app\n"}, "terminal.cli may not import sync.hq"),
    ({"terminal/gui/x.py": "from sync import hq\n"}, "terminal.gui may not import sync.hq"),
    ({"terminal/services.py": "from terminal import gui\n"}, "terminal.services may not import terminal.gui"),
    ({"terminal/wallet/bad.py": "from terminal.core.money import Tetri\n"},
     "terminal.wallet may not import terminal.core"),
])
def test_checker_catches_each_broken_rule(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    violations = check_tree(_tree(tmp_path, files))
    assert any(v.rule == expected for v in violations), [str(v) for v in violations]


def test_checker_accepts_allowed_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "terminal/ledger/ok.py": "from terminal.store import db\nfrom sync.protocol import records\nimport json\n",
        "terminal/gui/ok.py": "from PySide6 import QtCore\nfrom terminal.services import Terminal\n",
        "terminal/__main__.py": "from terminal.gui import app\n",
        "camera/ok.py": "import cv2\nfrom . import other\n",
        "sync/hq/ok.py": "from sync.protocol.records import Record\n",
        "terminal/core/ok.py": "from sync.protocol.vocabulary import PARTIES\n",
        "terminal/cli.py": "from terminal.services import Terminal\nfrom terminal.setup import create_terminal\n",
        "terminal/syncing.py": "from terminal.store.db import open_store\nfrom terminal.ledger import progress\n",
    })
    assert check_tree(root) == []
