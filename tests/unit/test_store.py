"""Opening, migrating and backing up the terminal database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from terminal.store import db as store_db
from terminal.store.db import DB_FILENAME, StoreError, open_store

CURRENT_SCHEMA = ["0001_initial", "0002_blocks", "0003_sync", "0004_cameras"]


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
