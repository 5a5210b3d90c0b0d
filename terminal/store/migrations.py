"""Numbered schema migrations of the terminal database (sqlite-utils Migrations; each one runs in a transaction)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("hotpot-terminal")


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    for sql in _INITIAL:
        db.execute(sql)
    # The marker that tells our database from any other SQLite file, written in the same transaction as the schema.
    db.execute("INSERT INTO meta (key, value) VALUES ('app', 'hotpot-terminal')")


# Every index costs a page write (and so fsync'ed bytes) on each sale: the sale path keeps only the ones reads need.
_INITIAL = [
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE menu_items (
        id TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        price INTEGER NOT NULL CHECK (price > 0),
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        priority INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    # Stock apart from the menu: a sale updates a few tiny rows on one page, not the menu's wide JSON rows.
    """CREATE TABLE stock (
        item_id TEXT PRIMARY KEY REFERENCES menu_items (id),
        available INTEGER NOT NULL CHECK (available >= 0)
    ) WITHOUT ROWID""",
    """CREATE TABLE token_policies (
        version INTEGER PRIMARY KEY, data TEXT NOT NULL, received_at_ms INTEGER NOT NULL)""",
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('cashier', 'manager', 'owner')),
        pin_hash TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at_ms INTEGER NOT NULL
    )""",
    """CREATE TABLE shifts (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        opened_by TEXT NOT NULL,
        opened_at_ms INTEGER NOT NULL,
        float_amount INTEGER NOT NULL CHECK (float_amount >= 0),
        closed_by TEXT,
        closed_at_ms INTEGER,
        counted_cash INTEGER,
        expected_cash INTEGER,
        variance INTEGER
    )""",
    # At most one open shift per terminal, enforced by the database itself.
    """CREATE UNIQUE INDEX shifts_one_open ON shifts (status) WHERE status = 'open'""",
    """CREATE TABLE cash_movements (
        id INTEGER PRIMARY KEY,
        shift_id TEXT NOT NULL REFERENCES shifts (id),
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        amount INTEGER NOT NULL CHECK (amount > 0),
        reason TEXT NOT NULL,
        user_name TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    )""",
    # A sale's local key is its check number (the rowid): every table below appends at its right edge.
    """CREATE TABLE sales (
        check_number INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        shift_id TEXT NOT NULL REFERENCES shifts (id),
        cashier TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        subtotal INTEGER NOT NULL,
        discount INTEGER NOT NULL DEFAULT 0,
        discount_reason TEXT,
        discount_approved_by TEXT,
        total INTEGER NOT NULL CHECK (total >= 0),
        change_given INTEGER NOT NULL CHECK (change_given >= 0),
        status TEXT NOT NULL,
        status_at_ms INTEGER NOT NULL,
        cancel_reason TEXT,
        node_type TEXT NOT NULL,
        policy_version INTEGER NOT NULL,
        minted INTEGER NOT NULL,
        check_id TEXT NOT NULL,
        claim_hash TEXT NOT NULL,
        record_seq INTEGER NOT NULL,
        CHECK (subtotal - discount = total)
    )""",
    """CREATE INDEX sales_shift ON sales (shift_id)""",
    """CREATE INDEX sales_open_status ON sales (status) WHERE status NOT IN ('completed', 'cancelled')""",
    """CREATE TABLE sale_lines (
        check_number INTEGER NOT NULL REFERENCES sales (check_number),
        line_no INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        name TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 999),
        unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
        PRIMARY KEY (check_number, line_no)
    ) WITHOUT ROWID""",
    """CREATE TABLE payments (
        check_number INTEGER NOT NULL REFERENCES sales (check_number),
        line_no INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('cash', 'card')),
        amount INTEGER NOT NULL CHECK (amount > 0),
        tendered INTEGER NOT NULL,
        change_given INTEGER NOT NULL,
        reference TEXT NOT NULL,
        PRIMARY KEY (check_number, line_no)
    ) WITHOUT ROWID""",
    """CREATE TABLE token_mints (
        check_number INTEGER NOT NULL REFERENCES sales (check_number),
        party TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount >= 0),
        PRIMARY KEY (check_number, party)
    ) WITHOUT ROWID""",
    """CREATE TABLE refunds (
        id TEXT PRIMARY KEY,
        sale_id TEXT NOT NULL REFERENCES sales (id),
        shift_id TEXT NOT NULL REFERENCES shifts (id),
        amount INTEGER NOT NULL CHECK (amount > 0),
        method TEXT NOT NULL CHECK (method IN ('cash', 'card')),
        reason TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
    )""",
    """CREATE INDEX refunds_sale ON refunds (sale_id)""",
    """CREATE INDEX refunds_shift ON refunds (shift_id)""",
    """CREATE TABLE token_reversals (
        refund_id TEXT NOT NULL REFERENCES refunds (id),
        party TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount >= 0),
        PRIMARY KEY (refund_id, party)
    ) WITHOUT ROWID""",
    # The local ledger: canonical record bytes (sync.protocol), sealed into a block later (block_height).
    """CREATE TABLE ledger_records (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        body BLOB NOT NULL,
        block_height INTEGER
    )""",
]
