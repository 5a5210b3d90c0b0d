"""The frozen hotpot-terminal's entry point (PyInstaller). freeze_support first: the KYC desk's worker (spawn) and the
chain verifier (forkserver) start this same executable as their child processes."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from terminal.__main__ import main

    sys.exit(main())
