"""End to end: real `hotpot-hq serve` on real PostgreSQL, terminals as separate processes. After each scenario HQ
and the terminal agree exactly: same sale ids, totals and token mints, no duplicates, both chains verify."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import assert_agree, cli, cli_json, termproc
from tests.hqkit import HQServer, running_hq


def _wait(proc: subprocess.Popen[str], timeout: float) -> list[str]:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return [line.split()[1] for line in out.splitlines() if line.startswith("SOLD ")]


def _pending(data_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'terminal.db'}?mode=ro", uri=True)
    try:
        unacked = conn.execute("SELECT COUNT(*) FROM blocks WHERE acked_at_ms IS NULL").fetchone()[0]
        unsealed = conn.execute("SELECT (SELECT COALESCE(MAX(seq), 0) FROM ledger_records) - "
                                "(SELECT COALESCE(MAX(last_seq), 0) FROM blocks)").fetchone()[0]
        return int(unacked) + int(unsealed)
    finally:
        conn.close()


def test_offline_day_then_sync_within_30_s(hq_db: str, tmp_path: Path, new_terminal: Callable[..., tuple[Path, str]],
                                          hq: HQServer) -> None:
    data_dir, terminal_id = new_terminal()
    url = hq.url
    hq.stop()  # HQ goes down for the day
    sold = _wait(termproc(data_dir, "--sales", "2000", "--sync", "--push-every-s", "1"), timeout=600)
    assert len(sold) == 2000
    status = cli_json(data_dir, "status")
    assert status["pending_blocks"] > 0 and not status["online"] and status["last_error"]
    port = int(url.rsplit(":", 1)[1])
    with running_hq(hq_db, tmp_path / "again", extra_env={"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)},
                    port=port) as back:
        start = time.monotonic()
        sync = termproc(data_dir, "--sync", "--push-every-s", "1", "--linger-s", "60")
        while time.monotonic() - start < 30 and _pending(data_dir):
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        sync.terminate()
        sync.communicate(timeout=30)
        logs = "".join(p.read_text()[-3000:] for p in sorted(data_dir.parent.glob(data_dir.name + "-*.log")))
        assert elapsed < 30, f"still pending after {elapsed:.1f} s: {cli_json(data_dir, 'status')}\n{logs}"
        assert assert_agree(back, data_dir, terminal_id) == 2000
        print(f"\n[e2e] offline day: 2,000 sales synced {elapsed:.1f} s after HQ came back")


def test_tampered_record_is_refused_and_quarantined(new_terminal: Callable[..., tuple[Path, str]],
                                                     hq: HQServer) -> None:
    data_dir, terminal_id = new_terminal()
    cli(data_dir, "shift", "open", "--float", "100")
    for _ in range(3):
        cli(data_dir, "sell", "udon:2", "tofu")
    cli(data_dir, "seal")
    conn = sqlite3.connect(data_dir / "terminal.db")
    conn.execute("UPDATE ledger_records SET body = CAST(REPLACE(CAST(body AS TEXT), '\"quantity\":2', "
                 "'\"quantity\":1') AS BLOB) WHERE type = 'sale'")
    conn.commit()
    conn.close()
    proc = cli(data_dir, "sync", "--once", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    status = cli_json(data_dir, "status")
    assert status["quarantined"] and status["quarantined"][0]["reason"] == "merkle_mismatch"
    assert "merkle_mismatch" in status["last_error"]
    assert status["pending_blocks"] == 1  # nothing local is deleted
    listed = cli(data_dir, "quarantine", "list").stdout
    assert "merkle_mismatch" in listed
