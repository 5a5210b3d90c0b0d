"""End to end: real `hotpot-hq serve` on real PostgreSQL, terminals as separate processes. After each scenario HQ
and the terminal agree exactly: same sale ids, totals and token mints, no duplicates, both chains verify."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import assert_agree, cli, cli_json, termproc
from tests.hqkit import HQServer, prepare_hq_database, running_hq


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


def test_bad_network_every_sale_arrives_exactly_once(new_terminal: Callable[..., tuple[Path, str]],
                                                     hq: HQServer) -> None:
    from tests.e2e.flakyproxy import FlakyProxy

    port = int(hq.url.rsplit(":", 1)[1])
    with FlakyProxy(port, seed=20261126, scale=1.5) as proxy:
        data_dir, terminal_id = new_terminal()  # enrolled directly; from now on it talks to HQ through the proxy
        conn = sqlite3.connect(data_dir / "terminal.db")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'hq_url'", (f"http://127.0.0.1:{proxy.port}",))
        conn.commit()
        conn.close()
        seller = termproc(data_dir, "--sales", "1000", "--pace-ms", "15", "--sync", "--push-every-s", "0.3",
                          "--seal-records", "20", "--seal-age-ms", "300", "--linger-s", "240")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if _count_sold(data_dir) == 1000 and not _pending(data_dir):
                break
            time.sleep(0.5)
        seller.terminate()
        seller.communicate(timeout=60)
        faults = proxy.counts.as_dict()
    assert not _pending(data_dir), f"not drained; proxy faults {faults}"
    assert faults["reset_answer"] > 0 and faults["truncated"] > 0 and faults["refused"] > 0, faults
    assert assert_agree(hq, data_dir, terminal_id) == 1000
    print(f"\n[e2e] bad network: 1,000 sales arrived exactly once through {faults}")


def _count_sold(data_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'terminal.db'}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0])
    finally:
        conn.close()


def test_power_cuts_lose_nothing_and_double_nothing(new_terminal: Callable[..., tuple[Path, str]],
                                                    hq: HQServer) -> None:
    import random
    import signal

    data_dir, terminal_id = new_terminal()
    rng = random.Random(42)
    returned: set[str] = set()
    for _ in range(20):
        proc = termproc(data_dir, "--sales", "100000", "--sync", "--push-every-s", "0.3", "--seal-records", "50",
                        "--seal-age-ms", "300", "--pace-ms", "5")
        assert proc.stdout is not None
        want = rng.randint(10, 60)
        for _ in range(want):
            line = proc.stdout.readline()
            assert line.startswith("SOLD "), line
            returned.add(line.split()[1])
        time.sleep(rng.random() * 0.5)  # somewhere in selling, sealing or a push
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        returned |= {line.split()[1] for line in out.splitlines() if line.startswith("SOLD ")}
    assert cli(data_dir, "verify").returncode == 0
    for _ in range(5):  # restart one last time and drain
        if cli(data_dir, "sync", "--once", check=False).returncode == 0 and not _pending(data_dir):
            break
    sold = assert_agree(hq, data_dir, terminal_id)
    assert sold >= len(returned)
    assert returned <= set(_sale_ids(data_dir))


def _sale_ids(data_dir: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{data_dir / 'terminal.db'}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sales")]
    finally:
        conn.close()


def test_crowd_of_30_terminals_for_60_s(new_terminal: Callable[..., tuple[Path, str]], hq: HQServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        terminals = list(pool.map(lambda _: new_terminal(), range(30)))
    procs = [termproc(d, "--sales", "1000000", "--pace-ms", "250", "--sync", "--push-every-s", "2",
                      "--seal-records", "100", "--seal-age-ms", "2000") for d, _ in terminals]
    time.sleep(60)
    for proc in procs:
        proc.terminate()  # a clean stop: the running job finishes or abandons its request
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0, proc.returncode
    with ThreadPoolExecutor(4) as pool:  # whatever the last seconds left pending goes now
        drained = list(pool.map(lambda t: cli(t[0], "sync", "--once", check=False).returncode, terminals))
    assert drained == [0] * 30
    totals = [assert_agree(hq, d, tid) for d, tid in terminals]
    assert min(totals) > 0
    errors = [line for d, _ in terminals for p in d.parent.glob(d.name + "-*.log")
              for line in p.read_text().splitlines() if " ERROR " in line or "Traceback" in line]
    assert not errors, errors[:5]
    print(f"\n[e2e] crowd: 30 terminals, {sum(totals):,} sales in 60 s, all at HQ exactly once, zero errors")


def test_hq_killed_and_postgres_restarted_mid_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F821
    """A cluster of our own (so it can be restarted): HQ is SIGKILLed while blocks stream in, then PostgreSQL is
    restarted under the next HQ. No partial block at HQ; the terminal's retries complete the sync."""
    import subprocess as sp

    from sync.hq.cli import enroll_code
    from tests import pg
    from tests.e2e.conftest import cli_json

    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(pg, "DEFAULT_LOCAL", "postgresql://postgres@127.0.0.1:1/postgres")
    cluster = pg.start_pg_server(tmp_path / "cluster")
    try:
        db = cluster.create_database("hq_restarts")
        prepare_hq_database(db)
        port = __import__("tests.hqkit", fromlist=["free_port"]).free_port()
        keys = {"HOTPOT_HQ_KEY_DIR": str(tmp_path / "keys"), "HOTPOT_HQ_PUBLIC_RATE": "1000"}
        with running_hq(db, tmp_path / "hq1", extra_env=keys, port=port) as first:
            data_dir = tmp_path / "term"
            code = enroll_code(db, "E2E", "C1", "Main", "franchise")
            init = cli_json(data_dir, "init", "--franchise", "E2E", "--terminal", "C1", "--demo-menu", "--hq",
                            first.url, "--enroll-code", code)
            terminal_id = init["terminal_id"]
            conn = sqlite3.connect(data_dir / "terminal.db")
            conn.execute("UPDATE stock SET available = 1000000")
            conn.commit()
            conn.close()
            seller = termproc(data_dir, "--sales", "1500", "--sync", "--push-every-s", "0.2", "--seal-records",
                              "40", "--seal-age-ms", "200", "--linger-s", "300")
            time.sleep(2.5)
            first.process.kill()  # HQ dies, most likely in the middle of an ingest
            first.process.wait()
        time.sleep(1)
        with running_hq(db, tmp_path / "hq2", extra_env=keys, port=port) as second:
            time.sleep(1.5)
            assert cluster.pg_bin is not None and cluster.cluster_dir is not None
            restart = [str(cluster.pg_bin / "pg_ctl"), "-D", str(cluster.cluster_dir / "data"), "-l",
                       str(cluster.cluster_dir / "server.log"), "-m", "fast", "-w", "restart"]
            sp.run(["runuser", "-u", "postgres", "--", *restart] if __import__("os").geteuid() == 0 else restart,
                   check=True, stdout=sp.DEVNULL, stderr=sp.DEVNULL, timeout=60)  # the server must not hold our pipes
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and (_count_sold(data_dir) < 1500 or _pending(data_dir)):
                time.sleep(0.5)
            seller.terminate()
            seller.communicate(timeout=60)
            assert not _pending(data_dir), cli_json(data_dir, "status")
            with __import__("psycopg").connect(db) as c:
                partial = c.execute(
                    "SELECT b.height FROM blocks b LEFT JOIN records r ON r.terminal_id = b.terminal_id AND r.seq "
                    "BETWEEN b.first_seq AND b.first_seq + b.record_count - 1 GROUP BY b.height, b.record_count "
                    "HAVING count(r.seq) <> b.record_count").fetchall()
            assert partial == []
            assert assert_agree(second, data_dir, terminal_id) == 1500
    finally:
        cluster.stop()
