"""Benchmark: 20 terminals push pre-sealed blocks of 500 records concurrently over loopback HTTP to
`hotpot-hq serve --workers 2` on a real PostgreSQL; and /api/health under wrk.

Targets (HQ issue): >= 20,000 records/s verified and stored end to end; p95 <= 250 ms per 500-record block; print the
ratio to a raw COPY of the same rows into the same tables measured in the same run. /api/health: >= 5,000 req/s with
p99 < 20 ms. Run: make bench  (needs wrk: `apt-get install wrk`; `make bench` installs it)
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests

from sync.hq.cli import enroll_code
from sync.protocol.blocks import GENESIS_PREV_HASH, build_block
from sync.protocol.ids import bound_uuid7, sale_id_parts
from sync.protocol.records import Record, encode_record
from terminal.core.ids import new_terminal_id
from terminal.core.tokens import split_tokens
from terminal.wallet.hd import Account, Wallet, new_mnemonic
from tests.hqkit import enroll_body, prepare_hq_database, running_hq
from tests.pg import PgServer

TERMINALS = int(os.environ.get("BENCH_TERMINALS", "20"))
BLOCKS_EACH = int(os.environ.get("BENCH_BLOCKS", "10"))
PER_BLOCK = 500
TABLES = ("blocks", "records", "sales", "sale_items", "payments", "checks", "token_mints", "shifts")


ITEMS = (("udon", 2), ("tofu", 1), ("broth-spicy", 1))


def _genesis(terminal_id: str, wallet: Wallet, answer: dict[str, Any], shift_id: str, now: int) -> list[bytes]:
    """The records a real terminal starts its chain with: set-up, its cashier, HQ's menu and policy, enrollment,
    an open shift (HQ's rules check every later sale against them)."""
    prices = {item["id"]: item["price"] for item in answer["menu"]}
    facts = [
        ("terminal_initialized", {"franchise": "Bench", "terminal_name": "C", "node_type": "franchise",
                                  "account_xpub": wallet.account_xpub,
                                  "signing_public_key": wallet.signer.public_key.hex()}),
        ("user_created", {"name": "Giorgi", "role": "cashier", "by": "init"}),
        ("menu_loaded", {"source": "hq", "version": answer["cursor"], "prices": prices}),
        ("policy_received", answer["policy"]),
        ("enrolled", {"hq_url": "http://127.0.0.1", "node_type": answer["node_type"]}),
        ("shift_opened", {"shift_id": shift_id, "user": "Giorgi", "float": 10000}),
    ]
    return [encode_record(Record(terminal_id, n + 1, kind, now, payload)) for n, (kind, payload) in enumerate(facts)]


def _sale_records(terminal_id: str, account: Account, answer: dict[str, Any], shift_id: str, seq: int,
                  first_check: int, n: int, now: int) -> list[bytes]:
    """n/2 sales with their token mints, shaped exactly as a terminal writes them (terminal/core/sales.py) and
    true in every number HQ checks."""
    out = []
    prices = {item["id"]: item for item in answer["menu"]}
    lines = [{"item_id": i, "name": prices[i]["name"]["en"], "quantity": q, "unit_price": prices[i]["price"],
              "total": q * prices[i]["price"]} for i, q in ITEMS]
    total = sum(line["total"] for line in lines)
    parts = split_tokens(total, answer["policy"]["shares"]["franchise"])
    for i in range(n // 2):
        number = first_check + i
        sale_id, check_id = bound_uuid7(now + i, terminal_id, *sale_id_parts(number)), f"{terminal_id}-{number}"
        address = account.claim_address(number)
        sale = {"sale_id": sale_id, "shift_id": shift_id, "cashier": "Giorgi", "lines": lines, "subtotal": total,
                "discount": None, "total": total,
                "payments": [{"kind": "cash", "amount": total, "tendered": total + 1000, "change": 1000,
                              "reference": ""}],
                "change": 1000, "status": "pending", "menu_version": answer["cursor"],
                "check": {"id": check_id, "number": number, "claim_hash": secrets.token_hex(32),
                          "claim_salt": secrets.token_hex(16), "claim_hash_alg": "pbkdf2-sha256",
                          "claim_hash_iterations": 600, "claim_address": address}}
        mint = {"sale_id": sale_id, "check_id": check_id, "node_type": "franchise",
                "policy_version": answer["policy"]["version"], "minted": total, "parts": parts,
                "customer_address": address}
        out.append(encode_record(Record(terminal_id, seq + 2 * i, "sale", now, sale)))
        out.append(encode_record(Record(terminal_id, seq + 2 * i + 1, "token_mint", now, mint)))
    return out


def _prepare(hq_url: str, db_url: str) -> list[tuple[str, list[bytes]]]:
    """Enroll the terminals and seal their blocks before the clock starts: request bodies ready to send."""
    prepared = []
    now = int(time.time() * 1000)
    for t in range(TERMINALS):
        wallet, terminal_id = Wallet(new_mnemonic()), new_terminal_id()
        account = Account(wallet.account_xpub)
        code = enroll_code(db_url, f"Bench {t % 4}", f"Counter {t}", "Main", "franchise")
        r = requests.post(f"{hq_url}/api/v1/enroll", json=enroll_body(wallet, terminal_id, code), timeout=30)
        assert r.status_code == 200, r.text
        answer = r.json()
        shift = str(uuid.uuid4())
        first = _genesis(terminal_id, wallet, answer, shift, now)
        bodies, seq, prev, check = [], 1, GENESIS_PREV_HASH, 1
        for h in range(BLOCKS_EACH):
            recs = first + _sale_records(terminal_id, account, answer, shift, seq + len(first), check,
                                         PER_BLOCK - len(first), now)
            check += (PER_BLOCK - len(first)) // 2
            block = build_block(terminal_id=terminal_id, height=h, prev_hash=prev, created_at_ms=now,
                                first_seq=seq, records=recs, sign=wallet.signer.sign_digest)
            bodies.append(json.dumps({"blocks": [json.loads(block.encode())]}).encode())
            seq += len(recs)
            prev = block.hash
            first = []
        prepared.append((terminal_id, bodies))
    return prepared


def _raw_copy_seconds(source_url: str, target_url: str) -> tuple[float, int]:
    """COPY the rows ingest wrote into the same tables of a fresh schema: the floor for storing them."""
    data = {}
    with psycopg.connect(source_url) as src:
        for table in TABLES:
            buf = io.BytesIO()
            with src.cursor().copy(f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)") as copy:
                for chunk in copy:
                    buf.write(chunk)
            data[table] = buf.getvalue()
        terminals = src.execute("SELECT id, node_id, name, account_xpub, signing_public_key FROM terminals").fetchall()
        nodes = src.execute("SELECT id, franchise_id, name, node_type FROM nodes").fetchall()
        franchises = src.execute("SELECT id, name FROM franchises").fetchall()
    with psycopg.connect(target_url) as dst:
        dst.cursor().executemany("INSERT INTO franchises (id, name) VALUES (%s, %s)", franchises)
        dst.cursor().executemany("INSERT INTO nodes (id, franchise_id, name, node_type) VALUES (%s, %s, %s, %s)",
                                 nodes)
        dst.cursor().executemany("INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) "
                                 "VALUES (%s, %s, %s, %s, %s)", terminals)
        dst.commit()
        start = time.perf_counter()
        rows = 0
        for table in TABLES:
            with dst.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(data[table])
        dst.commit()
        seconds = time.perf_counter() - start
        for table in TABLES:
            rows += dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    return seconds, rows


def test_bench_hq_ingest_and_health(tmp_path: Path, pg_server: PgServer) -> None:
    names = (f"bench_hq_{uuid.uuid4().hex[:6]}", f"bench_copy_{uuid.uuid4().hex[:6]}")
    db, copy_db = (pg_server.create_database(name) for name in names)
    try:
        prepare_hq_database(db)
        prepare_hq_database(copy_db)
        # The token ledger's job is held back (HOTPOT_HQ_MINT_JOB_S) so that the tables hold exactly what ingest
        # wrote and the raw COPY below copies the same rows (ledger entries are measured in test_bench_claims).
        with running_hq(db, tmp_path, workers=2, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "100000",
                                                            "HOTPOT_HQ_POOL_MAX": "12",
                                                            "HOTPOT_HQ_MINT_JOB_S": "100000"}) as hq:
            prepared = _prepare(hq.url, db)
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()

            def push(terminal_id: str, bodies: list[bytes]) -> None:
                session = requests.Session()
                for body in bodies:
                    t0 = time.perf_counter()
                    r = session.post(f"{hq.url}/api/v1/terminals/{terminal_id}/blocks", data=body,
                                     headers={"content-type": "application/json"}, timeout=120)
                    elapsed = time.perf_counter() - t0
                    with lock:
                        latencies.append(elapsed)
                        if r.status_code != 200 or r.json()["results"][0]["status"] != "accepted":
                            errors.append(r.text[:300])

            threads = [threading.Thread(target=push, args=p) for p in prepared]
            start = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - start
            health = _wrk(hq.url)
        assert not errors, errors[:3]
        records = TERMINALS * BLOCKS_EACH * PER_BLOCK
        copy_s, rows = _raw_copy_seconds(db, copy_db)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
        print(f"\n[bench hq] {TERMINALS} terminals x {BLOCKS_EACH} blocks x {PER_BLOCK} records = {records:,} "
              f"records over HTTP to serve --workers 2")
        print(f"[bench hq] ingest {records / wall:,.0f} records/s end to end (target >= 20,000); {wall:.1f} s")
        print(f"[bench hq] per-block latency p50 {statistics.median(latencies) * 1000:.0f} ms  p95 {p95:.0f} ms  "
              f"max {latencies[-1] * 1000:.0f} ms (target p95 <= 250 ms)")
        print(f"[bench hq] raw COPY of the same {rows:,} rows into the same tables: {copy_s:.2f} s "
              f"= {records / copy_s:,.0f} records/s; ratio ingest:COPY = {(records / wall) / (records / copy_s):.3f}")
        print(f"[bench hq] /api/health under wrk: {health}")
    finally:
        for name in names:
            pg_server.drop_database(name)


def _wrk(url: str) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk is not installed (apt-get install wrk); not measured"
    out = subprocess.run([wrk, "-t2", "-c32", "-d10s", "--latency", f"{url}/api/health"], capture_output=True,
                         text=True, timeout=60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else float("nan")
    return (f"{float(rps.group(1)) if rps else float('nan'):,.0f} req/s, p99 {p99_ms:.1f} ms "
            f"(target >= 5,000 req/s, p99 < 20 ms)")
