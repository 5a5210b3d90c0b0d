"""The terminal's backups: made with `hotpot-terminal backup` while another process keeps selling, restored with
`hotpot-terminal restore` into a new folder whose chain verifies; nothing in a backup is readable without the
wallet; damaged backups, wrong passphrases and occupied folders are refused; the daily backup runs on its own."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from terminal import backup
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.store.db import DB_FILENAME
from terminal.syncing import SyncService
from tests.conftest import TEST_PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
SELLER = """
import sys, time
from pathlib import Path
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.store import repos
term = Terminal.open(Path(sys.argv[1]))
cashier = repos.get_user(term.store, "Giorgi")
stop = Path(sys.argv[2])
sold = 0
while not stop.exists():
    term.sell(cashier, [("udon", 1), ("tofu", 1)], [Tender("cash")])
    sold += 1
    if sold == 5:
        print("selling", flush=True)
print(sold, flush=True)
term.close()
"""


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "HOTPOT_PASSPHRASE": TEST_PASSPHRASE, **(env or {})})


def _sales(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        return int(conn.execute("SELECT count(*) FROM sales").fetchone()[0])
    finally:
        conn.close()


def _terminal(data_dir: Path) -> Terminal:
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="Counter", demo=True,
                              passphrase=TEST_PASSPHRASE)
    term.store.conn.execute("UPDATE stock SET available = 1000000")
    cashier = repos.get_user(term.store, "Giorgi")
    assert cashier is not None
    term.open_shift(cashier, 10_000)
    for _ in range(3):
        term.sell(cashier, [("udon", 2)], [Tender("cash")])
    return term


def test_backup_while_selling_and_restore_to_a_verifying_chain(tmp_path: Path) -> None:
    data = tmp_path / "terminal"
    term = _terminal(data)
    term.seal(term.unlock(TEST_PASSPHRASE), force=True)
    terminal_id = term.terminal_id
    term.close()
    dest, stop = tmp_path / "usb-stick", tmp_path / "stop"
    seller = subprocess.Popen([sys.executable, "-c", SELLER, str(data), str(stop)], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert seller.stdout is not None and seller.stdout.readline().strip() == "selling"
        outputs = []
        for n in range(3):  # three backups while the other process sells; two kept
            made = _cli("--data-dir", str(data), "backup", str(dest), "--keep", "2")
            assert made.returncode == 0, made.stderr
            outputs.append(made.stdout)
            if n < 2:
                time.sleep(1.1)
    finally:
        stop.touch()
        out, err = seller.communicate(timeout=60)
    assert seller.returncode == 0, err
    sold_meanwhile = int(out.split()[-1])
    assert sold_meanwhile > 5 and "Backed up terminal" in outputs[-1] and "2 backup(s) kept" in outputs[-1]
    kept = backup.backups_in(dest, terminal_id)
    assert len(kept) == 2
    latest = kept[-1]
    manifest = backup.read_manifest(latest)
    assert 3 + 5 <= manifest["sales"] <= 3 + sold_meanwhile
    assert stat.S_IMODE(latest.stat().st_mode) == 0o700
    for f in latest.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    sealed = (latest / backup.DB_FILE).read_bytes()
    assert b"SQLite format 3" not in sealed and b"Giorgi" not in sealed and b"udon" not in sealed
    assert not list(data.glob(".backup-*"))  # the snapshot next to the database is gone

    # Refusals that change nothing.
    restored = tmp_path / "restored"
    wrong = _cli("--data-dir", str(restored), "restore", str(latest), env={"HOTPOT_PASSPHRASE": "not it at all"})
    assert wrong.returncode == 2 and "passphrase" in wrong.stderr.lower() and "Traceback" not in wrong.stderr
    assert not (restored / DB_FILENAME).exists()
    occupied = _cli("--data-dir", str(data), "restore", str(latest))
    assert occupied.returncode == 2 and "already holds a terminal" in occupied.stderr
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in latest.iterdir():
        (damaged / f.name).write_bytes(f.read_bytes())
    broken = bytearray(sealed)
    broken[len(broken) // 2] ^= 1
    (damaged / backup.DB_FILE).write_bytes(bytes(broken))
    refused = _cli("--data-dir", str(restored), "restore", str(damaged))
    assert refused.returncode == 2 and "does not match its checksum" in refused.stderr

    done = _cli("--data-dir", str(restored), "restore", str(latest))
    assert done.returncode == 0, done.stderr
    assert f"Restored terminal {terminal_id}" in done.stdout and "chain verified" in done.stdout
    assert _sales(restored) == manifest["sales"]
    verified = _cli("--data-dir", str(restored), "verify")
    assert verified.returncode == 0 and "Chain OK" in verified.stdout, verified.stdout + verified.stderr
    back = Terminal.open(restored)
    try:
        wallet = back.unlock(TEST_PASSPHRASE)
        cashier = repos.get_user(back.store, "Giorgi")
        assert cashier is not None
        back.sell(cashier, [("udon", 1)], [Tender("cash")])  # the restored terminal sells and seals on
        back.seal(wallet, force=True)
        back.verify()
    finally:
        back.close()


def test_the_daily_backup_runs_by_itself_once_a_day(tmp_path: Path) -> None:
    data = tmp_path / "terminal"
    term = _terminal(data)
    wallet = term.unlock(TEST_PASSPHRASE)
    place = tmp_path / "second-disk"
    term.set_backup_place(place, 3)
    terminal_id = term.terminal_id
    term.close()
    service = SyncService(data, wallet, local_only=True, backup_check_s=0.2)
    service.start()
    try:
        deadline = time.monotonic() + 20
        while not backup.backups_in(place, terminal_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # several more checks: still one backup today
    finally:
        service.stop()
    assert len(backup.backups_in(place, terminal_id)) == 1
    daily = backup.DailyBackup(data, terminal_id, wallet, lambda k: None, lambda k, v: None)
    assert daily.due()  # a terminal that never backed up is due at once
    store_meta = Terminal.open(data)
    try:
        assert store_meta.store.meta("backup_error") == ""
        assert float(store_meta.store.meta("backup_last_at") or 0) > time.time() - 60
    finally:
        store_meta.close()
