"""`python -m sync.hq`: the same as the `hotpot-hq` program."""

from __future__ import annotations

import sys

from sync.hq.cli import main

if __name__ == "__main__":
    sys.exit(main())
