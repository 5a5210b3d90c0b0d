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
@MIGRATIONS(name="0002_blocks")
def m0002_blocks(db: Database) -> None:
    for sql in _BLOCKS:
        db.execute(sql)


@MIGRATIONS(name="0003_sync")
def m0003_sync(db: Database) -> None:
    db.execute("""CREATE TABLE quarantine (
        height INTEGER PRIMARY KEY REFERENCES blocks (height),
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        resolved_at_ms INTEGER,
        resolved_by TEXT
    )""")
    db.execute("CREATE INDEX blocks_unacked ON blocks (height) WHERE acked_at_ms IS NULL")


@MIGRATIONS(name="0004_cameras")
def m0004_cameras(db: Database) -> None:
    # A camera's settings as camera.config's JSON; finished recording segments (their SHA-256 is in the ledger);
    # motion alerts and who acknowledged them.
    db.execute("""CREATE TABLE cameras (
        id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    )""")
    db.execute("""CREATE TABLE camera_segments (
        path TEXT PRIMARY KEY,
        camera_id TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        deleted_at_ms INTEGER
    )""")
    db.execute("CREATE INDEX camera_segments_by_camera ON camera_segments (camera_id, started_at_ms)")
    db.execute("""CREATE TABLE camera_alerts (
        id INTEGER PRIMARY KEY,
        camera_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        acknowledged_at_ms INTEGER,
        acknowledged_by TEXT
    )""")


@MIGRATIONS(name="0005_kyc")
def m0005_kyc(db: Database) -> None:
    # KYC cases taken at this counter. Only the sealed envelope (sync.protocol.kyc) is ever stored, and only until HQ
    # acknowledges it; then the row keeps the case id, status, level and the envelope's SHA-256. No personal data.
    db.execute("""CREATE TABLE kyc_cases (
        id TEXT PRIMARY KEY,
        level TEXT NOT NULL,
        status TEXT NOT NULL,
        account TEXT,
        created_at_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        envelope BLOB,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        acked_at_ms INTEGER,
        receipt TEXT
    )""")
    db.execute("CREATE INDEX kyc_cases_to_upload ON kyc_cases (created_at_ms) WHERE envelope IS NOT NULL")


@MIGRATIONS(name="0006_claimed")
def m0006_claimed(db: Database) -> None:
    # When a customer claimed a check's share at HQ (the updates feed says so); History shows it.
    db.execute("ALTER TABLE sales ADD COLUMN claimed_at_ms INTEGER")


@MIGRATIONS(name="0007_kyc_note")
def m0007_kyc_note(db: Database) -> None:
    # What HQ asks the customer to bring when it wants a case again (its reason for a resubmission; nothing else).
    db.execute("ALTER TABLE kyc_cases ADD COLUMN hq_note TEXT")


@MIGRATIONS(name="0008_sale_extras")
def m0008_sale_extras(db: Database) -> None:
    # At this till only (not in the ledger record): the language the sale was made in, so its check and reprints
    # name the items as the customer heard them, and the order's table, pager or name for the kitchen and the
    # check. A receipt printer's paper width lives in meta.
    db.execute("ALTER TABLE sales ADD COLUMN language TEXT")
    db.execute("ALTER TABLE sales ADD COLUMN order_label TEXT")


@MIGRATIONS(name="0009_parked_carts")
def m0009_parked_carts(db: Database) -> None:
    # Orders put aside before payment (a customer still choosing, a table that pays later): nothing was sold, so
    # nothing is in the ledger; kept here so a crash or a restart loses none. Z warns while any are parked.
    db.execute("""CREATE TABLE parked_carts (
        id INTEGER PRIMARY KEY,
        label TEXT,
        parked_by TEXT NOT NULL,
        parked_at_ms INTEGER NOT NULL,
        data TEXT NOT NULL
    )""")


@MIGRATIONS(name="0010_refund_lines")
def m0010_refund_lines(db: Database) -> None:
    # A refund by item: which lines and how many of each went back ([{line, item_id, name, quantity, amount}]), at
    # this till (the ledger's refund record carries the amount HQ checks); later refunds cannot take them again.
    db.execute("ALTER TABLE refunds ADD COLUMN lines TEXT")


@MIGRATIONS(name="0011_camera_incidents")
def m0011_camera_incidents(db: Database) -> None:
    # An alert is an incident: repeats from one camera of one kind join the open one (how many, until when), and a
    # manager's acknowledgement may carry a note.
    db.execute("ALTER TABLE camera_alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE camera_alerts ADD COLUMN last_at_ms INTEGER")
    db.execute("ALTER TABLE camera_alerts ADD COLUMN note TEXT")
    db.execute("UPDATE camera_alerts SET last_at_ms = at_ms")


@MIGRATIONS(name="0012_evidence_uploads")
def m0012_evidence_uploads(db: Database) -> None:
    # Camera segments to upload to HQ as evidence: asked for by HQ ('requested') or from a camera that uploads every
    # segment ('auto'); how far HQ holds each, and how it ended ('stored' with HQ's receipt, 'missing' when retention
    # deleted the file first, 'refused' when HQ found the bytes differ from the ledger's hash).
    db.execute("""CREATE TABLE evidence_uploads (
        sha256 TEXT PRIMARY KEY,
        reason TEXT NOT NULL CHECK (reason IN ('requested', 'auto')),
        added_at_ms INTEGER NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0,
        size INTEGER,
        done_at_ms INTEGER,
        outcome TEXT,
        receipt TEXT
    )""")
    db.execute("CREATE INDEX evidence_waiting ON evidence_uploads (added_at_ms) WHERE done_at_ms IS NULL")


_BLOCKS = [
    # Sealed blocks. The header is kept as its exact canonical bytes, so verification re-hashes what was signed.
    # Records of block h are the seqs first_seq..last_seq; sealing always takes the oldest unsealed records, so the
    # unsealed ones are exactly those after the head's last_seq.
    """CREATE TABLE blocks (
        height INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prev_hash TEXT NOT NULL,
        header BLOB NOT NULL,
        signature BLOB NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        record_count INTEGER NOT NULL CHECK (record_count = last_seq - first_seq + 1),
        created_at_ms INTEGER NOT NULL,
        acked_at_ms INTEGER,
        receipt TEXT
    )""",
]

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
        -- The shift's sales are the check numbers from first to last: one shift is open at a time and every sale
        -- needs the open shift, so they are contiguous, and no index on sales.shift_id is needed.
        first_check_number INTEGER NOT NULL,
        last_check_number INTEGER,
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
    # A sale is one row: its key is its check number (the rowid, so each sale appends at the table's right edge),
    # its lines and payments are JSON documents (they never change once paid), and what reports add up has its own
    # column. Every extra table or index would be one more page written and fsync'ed with every sale.
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
        cash_amount INTEGER NOT NULL CHECK (cash_amount >= 0),
        card_amount INTEGER NOT NULL CHECK (card_amount >= 0),
        change_given INTEGER NOT NULL CHECK (change_given >= 0),
        status TEXT NOT NULL,
        status_at_ms INTEGER NOT NULL,
        cancel_reason TEXT,
        node_type TEXT NOT NULL,
        policy_version INTEGER NOT NULL,
        minted INTEGER NOT NULL,
        owner_st INTEGER NOT NULL CHECK (owner_st >= 0),
        franchisee_st INTEGER NOT NULL CHECK (franchisee_st >= 0),
        charity_st INTEGER NOT NULL CHECK (charity_st >= 0),
        customer_st INTEGER NOT NULL CHECK (customer_st >= 0),
        check_id TEXT NOT NULL,
        claim_hash TEXT NOT NULL,
        record_seq INTEGER NOT NULL,
        lines TEXT NOT NULL,
        payments TEXT NOT NULL,
        CHECK (subtotal - discount = total),
        CHECK (cash_amount + card_amount = total),
        CHECK (owner_st + franchisee_st + charity_st + customer_st = minted)
    )""",
    """CREATE INDEX sales_open_status ON sales (status) WHERE status NOT IN ('completed', 'cancelled')""",
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
