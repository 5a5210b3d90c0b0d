"""A short scripted demo of a shift on a demo terminal: what `make run` shows where there is no display."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from terminal.core.money import format_gel
from terminal.core.orders import CARD, CASH, Tender
from terminal.core.sales import check_text
from terminal.services import Terminal
from terminal.setup import DEMO_PASSPHRASE, create_terminal


def run_demo(data_dir: Path, say: Callable[[str], object]) -> int:
    passphrase = os.environ.get("HOTPOT_PASSPHRASE", DEMO_PASSPHRASE)
    if not Terminal.exists(data_dir):
        term, setup = create_terminal(data_dir, franchise="HotPot Spot Demo", terminal_name="Counter 1",
                                      node_type="franchise", demo=True, passphrase=passphrase)
        say(f"Set up demo terminal {term.terminal_id} in {data_dir}.")
        say("Demo staff: " + ", ".join(f"{n} (PIN {p})" for n, p in setup.pins.items()))
        say(f"Demo wallet passphrase: {passphrase!r} (a real terminal asks its owner for one).")
    else:
        term = Terminal.open(data_dir)
        say(f"Using terminal {term.terminal_id} in {data_dir}.")
    try:
        cashier = term.login("Giorgi", "3333") if any(u.name == "Giorgi" for u in term.users()) else term.owner()
        if term.current_shift() is None:
            term.open_shift(cashier, 20_000)
            say(f"{cashier.name} opened a shift with a float of {format_gel(20_000)}.")
        orders = [
            ([("broth-spicy", 1), ("beef-slices", 2), ("udon", 2)], [Tender(CASH, 10_000)]),
            ([("broth-duo", 1), ("shrimp", 1), ("greens", 1), ("borjomi", 2)], [Tender(CARD, None, "AUTH-481516")]),
            ([("broth-mushroom", 1), ("tofu", 2), ("jasmine-tea", 1)], [Tender(CARD, 2000, "AUTH-2342"),
                                                                        Tender(CASH, 2000)]),
        ]
        for wanted, tenders in orders:
            result = term.sell(cashier, wanted, tenders)
            sale = result.sale
            say(f"Sold check {sale.check.id}: {format_gel(sale.total)} "
                f"({', '.join(f'{p.kind} {format_gel(p.amount)}' for p in sale.payments)}), change "
                f"{format_gel(sale.change)}; minted {sale.minted} ST, customer share {sale.parts['customer']} "
                f"claimable with code {sale.check.short_code}.")
        say("The last check, as printed:")
        say(check_text(result.sale, franchise=term.franchise, terminal_name=term.terminal_name))
        first = result.sale.id
        for _ in range(4):
            status = term.advance_order(cashier, first)
        say(f"The kitchen took check {result.sale.check.id} through to {status}.")
        blocks = term.seal(term.unlock(passphrase), force=True)
        report = term.verify()
        say(f"Sealed the ledger into {len(blocks)} new signed block(s); the chain of {report.blocks} block(s) and "
            f"{report.records} records verifies from genesis.")
        x = term.x_report()
        say(f"X report: {x['sales_count']} sales, net {format_gel(x['net_sales'])}, "
            f"expected cash in drawer {format_gel(x['expected_cash'])}.")
        say("Terminal status:")
        say(json.dumps(term.status(), indent=2, ensure_ascii=False))
    finally:
        term.close()
    return 0
