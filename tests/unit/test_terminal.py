"""Cashier actions through the services on a real SQLite file: one transaction each, rows and ledger together."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync.protocol.records import decode_record
from terminal.core.errors import InvalidInput, NotAllowed, NotFound, UserFacingError, WrongState
from terminal.core.orders import Tender
from terminal.core.sales import DiscountRequest
from terminal.core.users import User
from terminal.services import Terminal
from terminal.store import repos
from terminal.store.db import DB_FILENAME

TABLES = ("meta", "menu_items", "stock", "users", "shifts", "cash_movements", "sales", "refunds", "token_reversals",
          "ledger_records")


def snapshot(term: Terminal) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every business table, to prove that a refused action changed nothing."""
    return {t: [tuple(r) for r in term.store.all(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}


def records(term: Terminal) -> list[tuple[str, dict[str, object]]]:
    rows = term.store.all("SELECT body FROM ledger_records ORDER BY seq")
    return [(rec.type, rec.payload) for rec in (decode_record(bytes(r[0])) for r in rows)]


def test_sale_writes_rows_and_ledger_in_one_go(term: Terminal, cashier: User) -> None:
    term.open_shift(cashier, 20_000)
    before = len(records(term))
    result = term.sell(cashier, [("broth-spicy", 1), ("beef-slices", 2), ("udon", 2)], [Tender("cash", 10_000)])
    sale = result.sale
    assert (sale.subtotal, sale.total, sale.change) == (1800 + 4400 + 1400, 7600, 2400)
    row = term.store.one("SELECT * FROM sales WHERE id = ?", (sale.id,))
    assert row is not None and row["total"] == 7600 and row["status"] == "pending"
    details = repos.sale_details(term.store, sale.id)
    assert [(ln["item_id"], ln["quantity"]) for ln in details["lines"]] == [
        ("broth-spicy", 1), ("beef-slices", 2), ("udon", 2)]
    assert details["payments"] == [{"kind": "cash", "amount": 7600, "tendered": 10_000, "change": 2400,
                                    "reference": ""}]
    assert details["tokens"] == {"owner": 1900, "franchisee": 1824, "charity": 228, "customer": 3648}
    assert (details["cash_amount"], details["card_amount"], details["minted"]) == (7600, 0, 7600)
    new = records(term)[before:]
    assert [t for t, _ in new] == ["sale", "token_mint"]
    assert new[0][1]["sale_id"] == sale.id and new[0][1]["total"] == 7600
    assert new[1][1]["parts"] == dict(sale.parts) and new[1][1]["policy_version"] == 1
    assert term.store.scalar("SELECT record_seq FROM sales WHERE id = ?", (sale.id,)) == before + 1
    assert term.store.scalar("SELECT available FROM stock WHERE item_id = 'beef-slices'") == 498


def test_claim_secret_and_short_code_never_reach_the_disk(term: Terminal, cashier: User, data_dir: Path) -> None:
    term.open_shift(cashier, 0)
    result = term.sell(cashier, [("tofu", 1)], [Tender("card", None, "A1")])
    term.close()
    blob = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith(DB_FILENAME))
    for secret_text in (result.secret.token, result.secret.short_code, result.secret.short_code.replace("-", ""),
                        result.sale.check.claim_url):
        assert secret_text.encode() not in blob
    assert result.secret.raw not in blob
    assert result.sale.check.claim_hash.encode() in blob  # what is stored is the stretched hash


def test_split_tender_and_discount(term: Terminal, cashier: User, manager: User) -> None:
    term.open_shift(cashier, 5_000)
    res = term.sell(cashier, [("broth-duo", 1), ("shrimp", 1)], [Tender("card", 3000, "AUTH-9"), Tender("cash")],
                    DiscountRequest(500, "loyal guest"))
    assert res.sale.total == 5000 - 500
    assert [(p.kind, p.amount) for p in res.sale.payments] == [("card", 3000), ("cash", 1500)]
    with pytest.raises(NotAllowed, match="manager"):
        term.sell(cashier, [("udon", 1)], [Tender("cash")], DiscountRequest(200, "friend"))
    res = term.sell(cashier, [("udon", 1)], [Tender("cash")], DiscountRequest(200, "friend", manager))
    assert res.sale.discount is not None and res.sale.discount.approved_by == "Nino"


def test_shift_reports_and_z_close_with_variance(term: Terminal, cashier: User, manager: User) -> None:
    term.open_shift(cashier, 20_000)
    term.sell(cashier, [("udon", 2)], [Tender("cash", 2000)])  # 1400 cash
    term.sell(cashier, [("greens", 1)], [Tender("card", None, "A")])  # 900 card
    sale = term.sell(cashier, [("tofu", 1)], [Tender("cash", 1000)]).sale  # 800 cash
    term.move_cash(cashier, "in", 5000, "change from bank")
    term.move_cash(cashier, "out", 3000, "supplier paid")
    term.refund(manager, sale.id, "cold tofu", 300)
    x = term.x_report()
    assert (x["sales_count"], x["cash_sales"], x["card_sales"], x["cash_refunds"]) == (3, 2200, 900, 300)
    assert x["expected_cash"] == 20_000 + 2200 - 300 + 5000 - 3000 == 23_900
    z = term.close_shift(cashier, 23_850)
    assert (z["expected_cash"], z["counted_cash"], z["variance"]) == (23_900, 23_850, -50)
    assert term.current_shift() is None
    row = term.store.one("SELECT * FROM shifts")
    assert row is not None and row["status"] == "closed" and row["variance"] == -50
    closed = [p for t, p in records(term) if t == "shift_closed"]
    assert closed[0]["variance"] == -50 and closed[0]["expected_cash"] == 23_900


def test_refunds_are_for_managers_and_reverse_tokens(term: Terminal, cashier: User, manager: User) -> None:
    term.open_shift(cashier, 10_000)
    sale = term.sell(cashier, [("lamb-slices", 1)], [Tender("cash")]).sale  # 2400
    with pytest.raises(NotAllowed, match="Only a manager"):
        term.refund(cashier, sale.id, "changed mind")
    first = term.refund(manager, sale.id, "half portion", 1000)
    rest = term.refund(manager, sale.check.id, "rest")  # by check id too
    assert first["amount"] + rest["amount"] == 2400
    back = {p: first["token_reversal"][p] + rest["token_reversal"][p] for p in sale.parts}
    assert back == dict(sale.parts)
    with pytest.raises(WrongState, match="already been refunded in full"):
        term.refund(manager, sale.id, "again")


def test_order_status_flow_and_cancel_refunds(term: Terminal, cashier: User, manager: User) -> None:
    term.open_shift(cashier, 10_000)
    sale = term.sell(cashier, [("udon", 1)], [Tender("cash")]).sale
    assert [term.advance_order(cashier, sale.id) for _ in range(4)] == ["confirmed", "in_progress", "ready",
                                                                       "completed"]
    with pytest.raises(WrongState):
        term.advance_order(cashier, sale.id)
    with pytest.raises(WrongState):
        term.cancel_order(manager, sale.id, "too late")
    other = term.sell(cashier, [("tofu", 1)], [Tender("cash")]).sale
    with pytest.raises(NotAllowed):  # cancelling a paid order gives money back: manager only
        term.cancel_order(cashier, other.id, "guest left")
    res = term.cancel_order(manager, other.id, "guest left")
    assert res == {"sale_id": other.id, "status": "cancelled", "refund": 800,
                   "refunds": [{"amount": 800, "method": "cash"}]}  # paid in cash: back in cash
    assert term.store.scalar("SELECT status FROM sales WHERE id = ?", (other.id,)) == "cancelled"


def test_wrong_pin_locks_and_is_recorded(term: Terminal) -> None:
    for _ in range(2):
        with pytest.raises(NotAllowed, match="Wrong PIN"):
            term.login("Giorgi", "0000")
    with pytest.raises(NotAllowed, match="locked for 5 minutes"):
        term.login("Giorgi", "0000")
    with pytest.raises(UserFacingError, match="try again in"):
        term.login("Giorgi", "3333")
    assert [t for t, _ in records(term)][-3:] == ["login_failed", "login_failed", "user_locked"]
    assert term.login("Nino", "2222").name == "Nino"


BAD_ACTIONS = {
    "unknown item": (lambda t, c, m: t.sell(c, [("pizza", 1)], [Tender("cash")]), NotFound),
    "quantity 0": (lambda t, c, m: t.sell(c, [("udon", 0)], [Tender("cash")]), InvalidInput),
    "quantity negative": (lambda t, c, m: t.sell(c, [("udon", -1)], [Tender("cash")]), InvalidInput),
    "quantity over 999": (lambda t, c, m: t.sell(c, [("udon", 1000)], [Tender("cash")]), InvalidInput),
    "tender below total": (lambda t, c, m: t.sell(c, [("udon", 2)], [Tender("cash", 1000)]), InvalidInput),
    "discount over limit": (lambda t, c, m: t.sell(c, [("udon", 2)], [Tender("cash")], DiscountRequest(700, "x")),
                            NotAllowed),
    "refund by cashier": (lambda t, c, m: t.refund(c, t.store.scalar("SELECT id FROM sales"), "x"), NotAllowed),
    "refund over amount": (lambda t, c, m: t.refund(m, t.store.scalar("SELECT id FROM sales"), "x", 10**6),
                           InvalidInput),
    "unknown sale": (lambda t, c, m: t.refund(m, "nope", "x"), NotFound),
    "second open shift": (lambda t, c, m: t.open_shift(c, 100), WrongState),
    "cash out more than drawer": (lambda t, c, m: t.move_cash(c, "out", 10**7, "x"), InvalidInput),
    "wrong pin": (lambda t, c, m: t.login("Nino", "9999"), NotAllowed),
}


@pytest.mark.parametrize("case", sorted(BAD_ACTIONS))
def test_bad_input_changes_nothing(term: Terminal, cashier: User, manager: User, case: str) -> None:
    term.open_shift(cashier, 1_000)
    term.sell(cashier, [("udon", 1)], [Tender("cash")])
    before = snapshot(term)
    action, error = BAD_ACTIONS[case]
    with pytest.raises(error):
        action(term, cashier, manager)
    after = snapshot(term)
    if case == "wrong pin":  # the lockout counter and the audit record are the only intended writes
        assert after["ledger_records"][-1][1] == "login_failed"
        after["users"], after["ledger_records"] = before["users"], before["ledger_records"]
    assert after == before


def test_no_shift_no_sale_and_closing_a_closed_shift(term: Terminal, cashier: User) -> None:
    before = snapshot(term)
    with pytest.raises(WrongState, match="Open a shift"):
        term.sell(cashier, [("udon", 1)], [Tender("cash")])
    with pytest.raises(WrongState, match="no open shift"):
        term.close_shift(cashier, 0)
    assert snapshot(term) == before


def test_database_enforces_one_open_shift(term: Terminal, cashier: User) -> None:
    term.open_shift(cashier, 0)
    with pytest.raises(sqlite3.IntegrityError):
        term.store.conn.execute("INSERT INTO shifts (id, status, opened_by, opened_at_ms, float_amount) "
                                "VALUES ('x', 'open', 'y', 0, 0)")


def test_sold_out_item(term: Terminal, cashier: User) -> None:
    term.open_shift(cashier, 0)
    term.store.conn.execute("UPDATE stock SET available = 2 WHERE item_id = 'shrimp'")
    term.sell(cashier, [("shrimp", 2)], [Tender("cash")])
    with pytest.raises(WrongState, match="Only 0 x Tiger shrimp left"):
        term.sell(cashier, [("shrimp", 1)], [Tender("cash")])


def test_reopen_keeps_everything(term: Terminal, cashier: User, data_dir: Path) -> None:
    term.open_shift(cashier, 0)
    sale = term.sell(cashier, [("udon", 1)], [Tender("cash")]).sale
    term.close()
    again = Terminal.open(data_dir)
    try:
        assert again.status()["sales"] == 1 and again.store.integrity_ok()
        assert again.store.scalar("SELECT id FROM sales") == sale.id
        assert again.store.scalar("PRAGMA journal_mode") == "wal"
        assert again.store.scalar("PRAGMA synchronous") == 2  # FULL
    finally:
        again.close()


def test_claim_ticket_pool_makes_valid_unique_tickets_and_stops() -> None:
    from terminal.core.checks import claim_matches
    from terminal.tickets import ClaimTicketPool

    pool = ClaimTicketPool(size=8)
    pool.start()
    tickets = [pool.take() for _ in range(40)]  # more than the pool holds: the rest are made on the spot
    pool.close()
    assert len({t.secret.raw for t in tickets}) == len({t.salt for t in tickets}) == 40
    for t in tickets[:5]:
        assert claim_matches(t.secret.short_code, t.salt, t.hash)
    # This pool's own thread (another test's terminal may still have a pool of its own running).
    assert pool._thread is not None and not pool._thread.is_alive()


def test_check_text_shows_what_the_customer_needs(term: Terminal, cashier: User) -> None:
    from terminal.core.sales import check_text

    term.open_shift(cashier, 0)
    sale = term.sell(cashier, [("udon", 2), ("broth-spicy", 1)], [Tender("cash", 5000)],
                     DiscountRequest(300, "birthday")).sale
    text = check_text(sale, franchise="Vake", terminal_name="Counter 1")
    for expected in ("2 x Udon noodles", "14.00 ₾", "Discount: birthday", "-3.00 ₾", "TOTAL", "29.00 ₾",
                     "Change", "21.00 ₾", sale.check.id, sale.id, sale.check.short_code, sale.check.claim_url):
        assert expected in text, expected
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 44


def test_a_terminal_not_enrolled_prints_a_claim_link_that_says_so(term: Terminal, cashier: User) -> None:
    term.open_shift(cashier, 0)
    url = term.sell(cashier, [("udon", 1)], [Tender("cash")]).sale.check.claim_url
    assert url.startswith("https://not-enrolled-demo-terminal.invalid/c/claim/")
