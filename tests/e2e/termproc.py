"""A terminal in a process of its own, for end-to-end tests: sells at a pace and, when asked, syncs in the
background exactly as the app does (SyncService). Prints one line per committed sale: `SOLD <sale id>`.

    python -m tests.e2e.termproc DATA_DIR --sales N [--pace-ms MS] [--sync] [--seal-records R] [--linger-s S]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from terminal.core.orders import Tender
from terminal.ledger.sealer import SealPolicy
from terminal.services import Terminal
from terminal.store import repos

ITEMS = ["udon", "tofu", "greens", "borjomi", "beef-slices", "jasmine-tea", "fish-balls", "glass-noodles"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--sales", type=int, default=0)
    parser.add_argument("--pace-ms", type=float, default=0)
    parser.add_argument("--sync", action="store_true")
    parser.add_argument("--seal-records", type=int, default=500)
    parser.add_argument("--seal-age-ms", type=int, default=5000)
    parser.add_argument("--push-every-s", type=float, default=5.0)
    parser.add_argument("--linger-s", type=float, default=0, help="keep syncing this long after the last sale")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("HOTPOT_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()  # SIGTERM: a clean stop (finish the sale in hand, stop syncing, close)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    term = Terminal.open(args.data_dir)
    passphrase = os.environ["HOTPOT_PASSPHRASE"]
    service = None
    if args.sync:
        from terminal.syncing import SyncService

        service = SyncService(args.data_dir, term.unlock(passphrase), push_every_s=args.push_every_s,
                              seal_policy=SealPolicy(args.seal_records, args.seal_age_ms), seal_every_s=0.5)
        service.start()
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    if term.current_shift() is None:
        term.open_shift(cashier, 10_000)
    for n in range(args.sales):
        if stop.is_set():
            break
        wanted = [(ITEMS[n % 8], 1 + n % 3), (ITEMS[(n + 3) % 8], 1)]
        result = term.sell(cashier, wanted, [Tender("cash")] if n % 3 else [Tender("card", None, f"A{n}")])
        print(f"SOLD {result.sale.id}", flush=True)
        if args.pace_ms:
            stop.wait(args.pace_ms / 1000)
    stop.wait(args.linger_s)
    if service is not None:
        service.stop()
    term.close()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
