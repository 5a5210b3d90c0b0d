"""Benchmark: seal 100,000 pending records into blocks of 500 (signing included), then verify the whole chain.

Targets (wallet/blocks issue): sealing >= 50,000 records/s and verification >= 50,000 records/s on this machine;
prints both and their ratio to plain SHA-256 over the same canonical bytes, measured in the same run.
Run: make bench  (or: .venv/bin/pytest tests/bench/test_bench_chain.py -s)
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from terminal.core.orders import Tender
from terminal.ledger.journal import append_records
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos

RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))


def test_bench_seal_and_verify(tmp_path: Path) -> None:
    term, _ = create_terminal(tmp_path / "term", franchise="Bench", terminal_name="C1", demo=True,
                              passphrase="bench-passphrase")
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    term.open_shift(cashier, 0)
    # Real record shapes: take the payloads of one real sale (a sale record and its token mint) and append copies.
    sale = term.sell(cashier, [("udon", 2), ("tofu", 1), ("broth-spicy", 1)], [Tender("cash", 10_000)]).sale
    payloads = [("sale", sale.record_payload()), ("token_mint", sale.mint_payload())]
    have = term.status()["records"]
    with term.store.transaction() as conn:
        for _ in range((RECORDS - have) // 2):
            append_records(conn, term.terminal_id, payloads, term.clock())
    total = term.status()["records"]
    bodies = [bytes(r[0]) for r in term.store.all("SELECT body FROM ledger_records ORDER BY seq")]
    wallet = term.unlock("bench-passphrase")

    t0 = time.perf_counter()
    for body in bodies:
        hashlib.sha256(body).digest()
    sha_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    blocks = term.seal(wallet, force=True)
    seal_s = time.perf_counter() - t0

    # A terminal's database is checkpointed every few seconds; settle this one too (outside the timing) so that
    # verification reads the database file, not 140 MB of write-ahead log from the bulk set-up above.
    term.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    term.close()
    # `hotpot-terminal verify` runs in a process of its own: open the terminal afresh, as that command does.
    term = Terminal.open(tmp_path / "term")
    t0 = time.perf_counter()
    report = term.verify()
    verify_s = time.perf_counter() - t0
    term.close()

    assert report.records == total and len(blocks) == -(-total // 500)
    mib = sum(map(len, bodies)) / 2**20
    print(f"\n[bench chain] {total:,} records ({mib:.1f} MiB canonical JSON) in {len(blocks)} blocks of <= 500")
    print(f"[bench chain] plain SHA-256 over the same bytes: {total / sha_s:,.0f} records/s")
    print(f"[bench chain] seal (read, hash, Merkle, sign, write, mark): {total / seal_s:,.0f} records/s "
          f"(target >= 50,000); ratio to SHA-256 {sha_s / seal_s:.3f}")
    print(f"[bench chain] verify (read, decode every record, Merkle, signature, link): {total / verify_s:,.0f} "
          f"records/s (target >= 50,000); ratio to SHA-256 {sha_s / verify_s:.3f}")
