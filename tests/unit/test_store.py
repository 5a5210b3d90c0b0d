"""Opening, migrating and backing up the terminal database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from terminal.store import db as store_db
from terminal.store.db import DB_FILENAME, StoreError, open_store

CURRENT_SCHEMA = ["0001_initial", "0002_blocks", "0003_sync", "0004_cameras", "0005_kyc", "0006_claimed",
                  "0007_kyc_note", "0008_sale_extras", "0009_parked_carts", "0010_refund_lines",
                  "0011_camera_incidents", "0012_evidence_uploads"]


def _with_extra(step_name: str, sql: str) -> Migrations:
    extended = Migrations("hotpot-terminal")
    for migration in store_db.MIGRATIONS._migrations:
        extended(name=migration.name)(migration.fn)

    @extended(name=step_name)
    def _step(db: Database) -> None:
        db.execute(sql)

    return extended


def test_reopening_applies_nothing_and_makes_no_backup(data_dir: Path) -> None:
    open_store(data_dir, create=True).close()
    store = open_store(data_dir)
    try:
        assert [m.name for m in store_db.MIGRATIONS.applied(store.db)] == CURRENT_SCHEMA
        assert store.meta("app") == "hotpot-terminal"
    finally:
        store.close()
    assert not list(data_dir.glob("*.before-migration-*"))


def test_new_migration_is_applied_after_a_backup(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(data_dir, create=True)
    store.conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'kept')")
    store.close()
    monkeypatch.setattr(store_db, "MIGRATIONS", _with_extra("0099_probe", "ALTER TABLE meta ADD COLUMN note TEXT"))
    store = open_store(data_dir)
    try:
        assert "note" in {r[1] for r in store.all("PRAGMA table_info(meta)")}
        assert store.meta("probe") == "kept"
    finally:
        store.close()
    [backup] = data_dir.glob(f"{DB_FILENAME}.before-migration-*")
    old = Database(backup)
    assert "note" not in old["meta"].columns_dict and old.execute("SELECT value FROM meta WHERE key='probe'").fetchone()


def test_failed_migration_is_rolled_back_with_a_clear_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_store(data_dir, create=True).close()
    monkeypatch.setattr(store_db, "MIGRATIONS", _with_extra("0099_broken", "ALTER TABLE no_such_table ADD x INT"))
    with pytest.raises(StoreError, match="Upgrading the terminal database failed.*rolled back.*before-migration"):
        open_store(data_dir)
    monkeypatch.undo()
    store = open_store(data_dir)  # still opens at the old version
    try:
        assert [m.name for m in store_db.MIGRATIONS.applied(store.db)] == CURRENT_SCHEMA
        assert store.integrity_ok()
    finally:
        store.close()


def test_a_data_folder_open_to_others_is_closed_and_one_of_another_user_refused(tmp_path: Path) -> None:
    import os
    import stat
    import subprocess

    from terminal.store.db import StoreError, open_store

    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    open_store(folder, create=True).close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # ours: closed to group and others
    if os.getuid() != 0:
        return
    other = tmp_path / "theirs"
    other.mkdir()
    subprocess.run(["chown", "nobody", str(other)], check=True)
    before = sorted(p.name for p in other.iterdir())
    with pytest.raises(StoreError, match="belongs to another user"):
        open_store(other, create=True)
    assert sorted(p.name for p in other.iterdir()) == before


def test_recordings_are_private_whatever_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    import numpy as np

    from camera.config import parse_camera_config
    from camera.recorder import Recorder

    old = os.umask(0)
    try:
        cam = parse_camera_config({"id": "door", "name": "Door", "kind": "security", "source": "usb:0",
                                   "width": 64, "height": 48, "fps": 5, "segment_s": 60})
        recorder = Recorder(cam, tmp_path / "recordings")
        recorder.write(np.zeros((48, 64, 3), dtype=np.uint8), 1_000.0)
        segment = recorder.close()
    finally:
        os.umask(old)
    assert segment is not None
    assert stat.S_IMODE(segment.path.stat().st_mode) == 0o600
    for folder in (segment.path.parent, segment.path.parent.parent, tmp_path / "recordings"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_opening_the_database_again_in_this_process_keeps_the_first_connection_current(tmp_path: Path) -> None:
    """A second store in the same process (the app opens several) must not drop the first one's SQLite locks: then
    another process, finishing, took itself for the database's last user, checkpointed and removed the WAL, and the
    first connection went on reading an orphaned snapshot (a shift closed by the CLI still open in the window) and
    would have written into it."""
    import os
    import subprocess
    import sys

    from terminal.setup import create_terminal
    from tests.conftest import TEST_PASSPHRASE

    data_dir = tmp_path / "till"
    term, _ = create_terminal(data_dir, franchise="Vake", terminal_name="Counter", demo=True,
                              passphrase=TEST_PASSPHRASE)
    try:
        term.store.start_background_checkpoints()  # as the app does
        second = open_store(data_dir)  # the header check ran here, and used to release the process's locks
        root = Path(__file__).resolve().parents[2]

        def cli(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "terminal", "--data-dir", str(data_dir), "--user", "Giorgi",
                            "--pin", "3333", *args], check=True, timeout=60, cwd=root, capture_output=True,
                           env={**os.environ, "PYTHONPATH": str(root)})

        cli("shift", "open", "--float", "10000")
        assert term.current_shift() is not None
        term.login("Giorgi", "3333")  # a write of this connection's own
        cli("shift", "close", "--counted", "10000")
        assert term.current_shift() is None  # what the other process did is what this connection reads
        second.close()
    finally:
        term.close()
