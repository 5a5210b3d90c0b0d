"""Typed record schemas, shared by both ends: the terminal never records or seals what HQ would refuse for its
content, and a refusal names the record's seq and the field."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync.protocol.blocks import BadContent
from sync.protocol.records import ContentError, Record, decode_record, encode_record
from sync.protocol.schemas import payload_problem, stored_record_problem
from terminal.core.orders import Tender
from terminal.ledger.journal import append_record
from terminal.services import Terminal
from terminal.store import repos
from tests.conftest import TEST_PASSPHRASE

SHIFT = "019a8c5e-0000-7000-8000-000000000001"
GOOD = {"shift_id": SHIFT, "direction": "in", "amount": 500, "reason": "float top-up", "user": "Giorgi"}


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "500"}, "payload.amount"), ({"amount": True}, "payload.amount"), ({"amount": 10**13}, "payload.amount"),
    ({"amount": -1}, "payload.amount"), ({"direction": "sideways"}, "payload.direction"),
    ({"shift_id": "not-a-uuid"}, "payload.shift_id"), ({"extra": 1}, "extra"), ({"user": ""}, "payload.user"),
])
def test_a_bad_payload_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    problem = payload_problem("cash_moved", {**GOOD, **change})
    assert problem and field in problem, problem
    with pytest.raises(ContentError, match=r"record 7 \(cash_moved\)"):
        encode_record(Record("7K2MQX4P", 7, "cash_moved", 1, {**GOOD, **change}))
    missing = {k: v for k, v in GOOD.items() if k != "reason"}
    assert "reason" in (payload_problem("cash_moved", missing) or "")


def test_every_record_a_real_day_writes_fits_its_schema(term: Terminal) -> None:
    cashier = repos.get_user(term.store, "Giorgi")
    manager = repos.get_user(term.store, "Nino")
    assert cashier and manager
    term.open_shift(cashier, 10_000)
    sale = term.sell(cashier, [("udon", 2), ("tofu", 1)], [Tender("card", 1000, "AUTH-1"), Tender("cash")]).sale
    term.advance_order(cashier, sale.id)
    term.refund(manager, sale.id, "cold broth", 300, "cash")
    term.move_cash(cashier, "out", 200, "bank")
    term.close_shift(cashier, 9_000)
    rows = term.store.all("SELECT body, type FROM ledger_records ORDER BY seq")
    assert len(rows) > 10
    for body, record_type in rows:
        assert stored_record_problem(body, record_type) is None
        assert decode_record(body).type == record_type
    assert stored_record_problem(rows[0][0], "sale") is not None  # a body must be of the type it is filed as


def test_append_refuses_a_bad_payload_and_writes_nothing(term: Terminal) -> None:
    before = term.status()["records"]
    with pytest.raises(ContentError, match="payload.amount"), term.store.transaction() as conn:
        append_record(conn, term.terminal_id, "cash_moved", {**GOOD, "amount": "lots"}, 1)
    assert term.status()["records"] == before


def test_seal_refuses_a_stored_record_that_breaks_its_schema(term: Terminal, data_dir: Path) -> None:
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier
    term.open_shift(cashier, 10_000)
    seq = term.status()["records"]
    # What a bug or a hand edit could leave behind: a record whose amount is text.
    conn = sqlite3.connect(data_dir / "terminal.db")
    conn.execute("UPDATE ledger_records SET body = CAST(REPLACE(CAST(body AS TEXT), '\"float\":10000', "
                 "'\"float\":\"10000\"') AS BLOB) WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    with pytest.raises(BadContent, match=rf"record {seq} cannot be sealed: .*payload.float"):
        term.seal(term.unlock(TEST_PASSPHRASE), force=True)
    assert term.head() is None  # nothing sealed, nothing signed


def test_the_protocol_document_lists_every_record_type_and_field() -> None:
    """docs/protocol.md's record table is how another implementer learns the payloads: it must match the schemas."""
    import re

    from sync.protocol.records import RECORD_TYPES
    from sync.protocol.schemas import SCHEMAS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    table = doc[doc.index("Record types and their payloads"):doc.index("Types and ranges:")]
    rows = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            names, payload = line.split("|")[1:3]
            for name in re.findall(r"`([a-z_]+)`", names):
                rows[name] = payload
    assert set(rows) == set(SCHEMAS) == RECORD_TYPES
    for name, schema in SCHEMAS.items():
        for field in schema.__struct_encode_fields__:
            assert f"`{field}" in rows[name], f"{name}.{field} is not in docs/protocol.md"
