"""Power cut in the middle of selling: SIGKILL a selling process at random moments, then reopen the store."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sync.protocol.records import decode_record
from terminal.services import Terminal
from terminal.setup import create_terminal

CHILD = r"""
import sys
from pathlib import Path
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.store import repos

term = Terminal.open(Path(sys.argv[1]))
cashier = repos.get_user(term.store, "Giorgi")
items = ["udon", "tofu", "greens", "borjomi", "beef-slices"]
n = 0
while True:
    n += 1
    wanted = [(items[n % 5], 1 + n % 3), (items[(n + 2) % 5], 1)]
    tenders = [Tender("cash", 20000)] if n % 2 else [Tender("card", 500, "A"), Tender("cash")]
    result = term.sell(cashier, wanted, tenders)
    print(result.sale.id, flush=True)  # printed only after the sale returned, i.e. committed
"""


def _check_consistent(data_dir: Path, returned: set[str]) -> int:
    term = Terminal.open(data_dir)
    try:
        store = term.store
        assert store.integrity_ok()
        sales = {r["id"]: r for r in store.all("SELECT * FROM sales")}
        assert returned <= set(sales), f"lost sales: {returned - set(sales)}"
        seqs = [r[0] for r in store.all("SELECT seq FROM ledger_records ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)), "ledger has a gap"
        records = {r["seq"]: decode_record(bytes(r["body"])) for r in store.all("SELECT seq, body FROM ledger_records")}
        sale_records = {rec.payload["sale_id"]: seq for seq, rec in records.items() if rec.type == "sale"}
        assert set(sale_records) == set(sales), "a sale without its record, or a record without its sale"
        for sale_id, row in sales.items():
            seq = sale_records[sale_id]
            assert row["record_seq"] == seq and records[seq + 1].type == "token_mint"
            assert records[seq + 1].payload["sale_id"] == sale_id
            lines, payments = json.loads(row["lines"]), json.loads(row["payments"])
            assert sum(ln["quantity"] * ln["unit_price"] for ln in lines) == row["subtotal"]
            assert sum(p["amount"] for p in payments) == row["total"] == row["cash_amount"] + row["card_amount"]
            parts = records[seq + 1].payload["parts"]
            assert sum(parts.values()) == row["minted"] == row["total"]
            assert parts["customer"] == row["customer_st"] and parts["owner"] == row["owner_st"]
        return len(sales)
    finally:
        term.close()


def test_sigkill_mid_batch_loses_nothing_that_returned(data_dir: Path) -> None:
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="C1", demo=True,
                              passphrase="crash-test-pass")
    term.open_shift(term.login("Giorgi", "3333"), 10_000)
    term.close()
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261126")))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    returned: set[str] = set()
    total = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir)], stdout=subprocess.PIPE, text=True,
                                env=env)
        assert proc.stdout is not None
        want = rng.randint(5, 60)
        for _ in range(want):
            line = proc.stdout.readline()
            assert line, "the selling process died by itself"
            returned.add(line.strip())
        time.sleep(rng.random() * 0.004)  # land the kill anywhere inside the next sale's transaction
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout:  # sales that returned between our last read and the kill
            returned.add(line.strip())
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        total = _check_consistent(data_dir, returned)
    assert total >= len(returned) >= 30
