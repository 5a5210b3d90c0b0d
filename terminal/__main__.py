"""Entry point of `hotpot-terminal` and `python -m terminal`: the GUI by default, CLI subcommands otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from terminal.cli import main as cli_main


def _gui(data_dir: Path, demo: bool, windowed: bool) -> int:
    from terminal.gui.app import run  # Qt is loaded only when the counter app starts, never for the CLI

    return run(data_dir, demo=demo, windowed=windowed)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(argv, gui=_gui)


if __name__ == "__main__":
    sys.exit(main())
