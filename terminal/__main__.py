"""Entry point of `hotpot-terminal` and `python -m terminal`: the GUI by default, CLI subcommands otherwise."""

from __future__ import annotations

import sys

from terminal.cli import main

if __name__ == "__main__":
    sys.exit(main())
