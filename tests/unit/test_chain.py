"""Sealing the terminal's ledger into blocks and verifying the stored chain, tampering included."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sync.protocol.blocks import BlockError, decode_block, verify_block
from sync.protocol.records import decode_record
from terminal.core.orders import Tender
from terminal.core.users import User
from terminal.ledger.sealer import SealPolicy
from terminal.services import Terminal, now_ms
from terminal.store.db import DB_FILENAME
from terminal.wallet.hd import Wallet, new_mnemonic
from tests.conftest import TEST_PASSPHRASE


def _sell(term: Terminal, cashier: User, n: int) -> None:
    for i in range(n):
        term.sell(cashier, [("udon", 1 + i % 3), ("tofu", 1)], [Tender("cash")])


@pytest.fixture
def sealed(term: Terminal, cashier: User) -> Terminal:
    """A terminal with 5 blocks: 3 of 4 records, then the rest."""
    term.open_shift(cashier, 10_000)
    _sell(term, cashier, 12)
    wallet = term.unlock(TEST_PASSPHRASE)
    term.seal(wallet, force=True, policy=SealPolicy(max_records=8))
    _sell(term, cashier, 2)
    term.seal(wallet, force=True, policy=SealPolicy(max_records=8))
    return term


def test_seal_policy_count_and_age(term: Terminal, cashier: User) -> None:
    clock = [now_ms() + 1]
    term.clock = lambda: clock[0]
    term.open_shift(cashier, 0)
    wallet = term.unlock(TEST_PASSPHRASE)
    policy = SealPolicy(max_records=10, max_age_ms=5_000)
    pending = term.status()["unsealed_records"]
    assert 0 < pending < 10
    assert term.seal(wallet, policy=policy) == []  # neither 10 pending nor 5 s old yet
    clock[0] += 5_000
    [block] = term.seal(wallet, policy=policy)
    assert block.record_count == pending and term.status()["unsealed_records"] == 0
    _sell(term, cashier, 12)  # 24 records: two full blocks are due at once, the rest waits
    blocks = term.seal(wallet, policy=policy)
    assert [b.record_count for b in blocks] == [10, 10]
    assert term.status()["unsealed_records"] == 4
    assert term.status()["head"]["height"] == 2


def test_sealed_chain_verifies_and_marks_records(sealed: Terminal) -> None:
    report = sealed.verify()
    status = sealed.status()
    assert report.blocks == status["head"]["height"] + 1 == status["pending_blocks"]
    assert report.records == status["records"] and status["unsealed_records"] == 0
    heights = sealed.store.all("SELECT block_height, COUNT(*) FROM ledger_records GROUP BY block_height")
    assert all(h is not None for h, _ in heights)


def test_sale_carries_its_claim_address(sealed: Terminal) -> None:
    rows = sealed.store.all("SELECT body FROM ledger_records WHERE type IN ('sale', 'token_mint') ORDER BY seq")
    sale, mint = decode_record(bytes(rows[0][0])), decode_record(bytes(rows[1][0]))
    number = sale.payload["check"]["number"]
    address = sealed.account.claim_address(number)
    assert sale.payload["check"]["claim_address"] == mint.payload["customer_address"] == address
    assert address.startswith("HP") and len(address) == 34
    assert "claim_secret" not in json.dumps(sale.payload)


TAMPER = {
    "a byte of a stored record": ("UPDATE ledger_records SET body = CAST(REPLACE(CAST(body AS TEXT), "
                                  "'\"quantity\":1', '\"quantity\":9') AS BLOB) WHERE seq = (SELECT first_seq + 2 "
                                  "FROM blocks WHERE height = 1)", 1, "merkle_mismatch"),
    "a record deleted": ("DELETE FROM ledger_records WHERE seq = (SELECT first_seq + 1 FROM blocks WHERE height = 2)",
                         2, "bad_record"),
    "two records swapped": ("UPDATE ledger_records SET seq = -seq WHERE seq IN (SELECT first_seq FROM blocks WHERE "
                            "height = 1 UNION SELECT first_seq + 1 FROM blocks WHERE height = 1); "
                            "UPDATE ledger_records SET seq = CASE WHEN -seq = (SELECT first_seq FROM blocks WHERE "
                            "height = 1) THEN 1 - seq ELSE -seq - 1 END WHERE seq < 0", 1, "bad_record"),
    "a header's prev hash": ("UPDATE blocks SET header = CAST(REPLACE(CAST(header AS TEXT), prev_hash, "
                             "'00' || SUBSTR(prev_hash, 3)) AS BLOB) WHERE height = 3", 3, "hash_mismatch"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampering_in_sqlite_is_found_by_verify(sealed: Terminal, case: str) -> None:
    sql, height, reason = TAMPER[case]
    sealed.store.conn.executescript(sql) if ";" in sql else sealed.store.conn.execute(sql)
    with pytest.raises(BlockError) as exc:
        sealed.verify()
    assert (exc.value.height, exc.value.reason) == (height, reason), str(exc.value)


def test_signature_of_another_terminal_is_found(sealed: Terminal) -> None:
    other = Wallet(new_mnemonic())
    row = sealed.store.one("SELECT hash FROM blocks WHERE height = 2")
    assert row is not None
    sealed.store.conn.execute("UPDATE blocks SET signature = ? WHERE height = 2",
                              (other.signer.sign_digest(bytes.fromhex(row[0])),))
    with pytest.raises(BlockError) as exc:
        sealed.verify()
    assert (exc.value.height, exc.value.reason) == (2, "bad_signature")


def test_resigned_block_with_the_right_key_breaks_the_next_link(sealed: Terminal) -> None:
    """Someone with the key re-seals block 1 over altered records: block 1 passes, block 2's link does not."""
    from sync.protocol.blocks import Block, build_block

    wallet = sealed.unlock(TEST_PASSPHRASE)
    blocks = [b for b, _ in __import__("terminal.ledger.sealer", fromlist=["load_blocks"]).load_blocks(sealed.store)]
    b1 = blocks[1]
    altered = [b1.records[0].replace(b'"quantity":1', b'"quantity":2'), *b1.records[1:]]
    forged: Block = build_block(terminal_id=b1.header.terminal_id, height=1, prev_hash=b1.header.prev_hash,
                                created_at_ms=b1.header.created_at_ms, first_seq=b1.header.first_seq,
                                records=altered, sign=wallet.signer.sign_digest)
    conn = sealed.store.conn
    conn.execute("UPDATE ledger_records SET body = ? WHERE seq = ?", (altered[0], b1.header.first_seq))
    conn.execute("UPDATE blocks SET header = ?, hash = ?, signature = ? WHERE height = 1",
                 (forged.header.encode(), forged.hash.hex(), forged.signature))
    with pytest.raises(BlockError) as exc:
        sealed.verify()
    assert (exc.value.height, exc.value.reason) == (2, "broken_link")


def test_truncating_the_newest_blocks_is_not_visible_locally(sealed: Terminal) -> None:
    """Documented limit (docs/protocol.md): HQ's receipts are what catch a cut-off end."""
    top = sealed.status()["head"]["height"]
    first = sealed.store.scalar("SELECT first_seq FROM blocks WHERE height = ?", (top,))
    sealed.store.conn.execute("DELETE FROM blocks WHERE height = ?", (top,))
    sealed.store.conn.execute("DELETE FROM ledger_records WHERE seq >= ?", (first,))
    assert sealed.verify().blocks == top


def test_exported_blocks_verify_on_their_own(sealed: Terminal) -> None:
    previous = None
    count = 0
    for line in sealed.export_blocks():
        block, stated = decode_block(line)
        verify_block(block, sealed.signing_public_key, previous, stated_hash=stated)
        previous = block.header
        count += 1
    assert count == sealed.verify().blocks
    assert [decode_block(line)[0].height for line in sealed.export_blocks(2)][0] == 2


def test_keystore_and_database_are_owner_only(term: Terminal, data_dir: Path) -> None:
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data_dir / DB_FILENAME).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data_dir / "wallet.keystore").st_mode) == 0o600


def test_parallel_verification_reports_the_first_bad_height(term: Terminal, cashier: User) -> None:
    from terminal.ledger.sealer import PARALLEL_FROM_BLOCKS, verify_chain

    term.open_shift(cashier, 0)
    _sell(term, cashier, 25)
    term.seal(term.unlock(TEST_PASSPHRASE), force=True, policy=SealPolicy(max_records=2))
    blocks = term.status()["head"]["height"] + 1
    assert blocks >= PARALLEL_FROM_BLOCKS
    key = term.signing_public_key
    assert verify_chain(term.store, key, workers=2).blocks == blocks == verify_chain(term.store, key, workers=1).blocks
    for height in (13, 17):  # two faults: the lower height is reported, whichever worker finds it first
        seq = term.store.scalar("SELECT first_seq FROM blocks WHERE height = ?", (height,))
        term.store.conn.execute("UPDATE ledger_records SET body = CAST(REPLACE(CAST(body AS TEXT), 'Udon', 'Soba')"
                                " AS BLOB) WHERE seq IN (?, ?)", (seq, seq + 1))
    for workers in (1, 2):
        with pytest.raises(BlockError) as exc:
            verify_chain(term.store, key, workers=workers)
        assert exc.value.height == 13, (workers, str(exc.value))
