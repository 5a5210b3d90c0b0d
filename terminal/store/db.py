"""Opening the terminal database safely: WAL, synchronous=FULL, migrations with a backup first, clear refusals."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from terminal.core.errors import UserFacingError
from terminal.store.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

DB_FILENAME = "terminal.db"
APP_MARKER = "hotpot-terminal"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(UserFacingError):
    code = "store_error"


class DiskFull(StoreError):
    code = "disk_full"


def is_disk_full(exc: BaseException, where: Path | None = None) -> bool:
    """SQLITE_FULL, the operating system's 'no space left on device', or an SQLite I/O error on a disk that has
    (almost) no space left (SQLite reports a failed write of its shared-memory file that way)."""
    if isinstance(exc, sqlite3.Error):
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
            return True
        io_error = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_IOERR or "I/O error" in str(exc)
        return io_error and where is not None and _free_bytes(where) < 1024 * 1024
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def _free_bytes(where: Path) -> int:
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return 0


def disk_full(where: Path) -> DiskFull:
    return DiskFull("The disk holding {where} is full: this action was not saved, and nothing saved before was lost. "
                    "Free some space on it (old recordings, logs) and try again.",
                    where=where)


def _check_data_dir(data_dir: Path) -> None:
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # business data and the keystore: owner only
    except OSError as exc:
        raise StoreError("Cannot create the data folder {data_dir}: {strerror}.",
                         data_dir=data_dir, strerror=exc.strerror) from None
    if not data_dir.is_dir():
        raise StoreError("The data folder {data_dir} is not a folder.", data_dir=data_dir)
    # Whoever can write the folder can swap the database; whoever can read it reads PIN hashes and the keystore.
    info = data_dir.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StoreError("The data folder {data_dir} belongs to another user (uid {st_uid}); the terminal keeps its "
                         "data only in a folder of its own user. Choose another folder.",
                         data_dir=data_dir, st_uid=info.st_uid)
    if info.st_mode & 0o077:
        try:
            data_dir.chmod(0o700)  # ours, but open to others: close it
        except OSError as exc:
            raise StoreError("The data folder {data_dir} is open to other users and cannot be closed ({strerror}).",
                             data_dir=data_dir, strerror=exc.strerror) from None
    probe = data_dir / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise StoreError("The data folder {data_dir} is not writable; check its permissions.",
                         data_dir=data_dir) from None


# Database files this process holds open through SQLite, by (device, inode), with how many connections. Opening such
# a file in any other way and closing it again would drop every POSIX lock the process holds on it (fcntl locks
# belong to the process, not the descriptor): another process could then take the database for its last user and
# checkpoint and remove the WAL under our connections, which would go on reading an orphaned snapshot for good
# (seen as the window showing a shift another process closed: tests/gui/test_fresh_state.py). SQLite itself shares
# the locks between its connections in one process; only our own header check opened the file behind its back.
_OPEN_IN_PROCESS: dict[tuple[int, int], int] = {}
_OPEN_LOCK = threading.Lock()


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _check_existing_file(path: Path) -> None:
    if not path.exists():
        return
    key = _file_key(path)
    with _OPEN_LOCK:
        if key is not None and _OPEN_IN_PROCESS.get(key):
            return  # open here already, so checked already: reading it behind SQLite's back would drop its locks
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise StoreError("{path} is not a HotPot Spot terminal database (it is not an SQLite file). Move it away or "
                         "choose another data folder.",
                         path=path)


class Checkpointer:
    """Copies the WAL back into the database file on its own connection and thread, every few seconds.

    SQLite's automatic checkpoint would run inside whichever commit crosses the threshold, adding milliseconds to
    one sale in every few dozen; here no sale waits for it. A PASSIVE checkpoint never blocks a writer. Seldom is
    cheaper: a page changed by many sales in between (the right edge of each table) is copied once.
    """

    def __init__(self, path: Path, interval_s: float = 5.0) -> None:
        self._path = path
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(str(self._path), timeout=10.0, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # busy or I/O trouble: the next round tries again
                    logger.warning("WAL checkpoint failed: %s", exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Store:
    """One connection to the terminal database. Writes go through `transaction()`; reads may go anywhere."""

    def __init__(self, path: Path, db: Database) -> None:
        self.path = path
        self.db = db
        self.conn = db.conn
        self._checkpointer: Checkpointer | None = None
        self._key = _file_key(path)
        if self._key is not None:
            with _OPEN_LOCK:
                _OPEN_IN_PROCESS[self._key] = _OPEN_IN_PROCESS.get(self._key, 0) + 1

    def start_background_checkpoints(self) -> None:
        """For long-running processes (the GUI, a busy CLI loop): move checkpoints off the commit path."""
        if self._checkpointer is None:
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = Checkpointer(self.path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so sequence numbers read inside are stable.

        With synchronous=FULL the commit is on disk when this block exits; any exception rolls everything back.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if is_disk_full(exc, self.path.parent):
                raise disk_full(self.path.parent) from None
            raise

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def data_version(self) -> int:
        """Moves whenever another connection commits a change (PRAGMA data_version): when to reload caches."""
        return int(self.scalar("PRAGMA data_version"))

    def terminal_id(self) -> str:
        """The id of the terminal set up in this database."""
        value = self.meta("terminal_id")
        if not value:
            raise StoreError("{path} has no terminal set up yet. Run 'hotpot-terminal init'.", path=self.path)
        return value

    def integrity_ok(self) -> bool:
        return bool(self.scalar("PRAGMA integrity_check") == "ok")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.conn.close()  # the last connection to close checkpoints the WAL into the file
        if self._key is not None:
            with _OPEN_LOCK:
                left = _OPEN_IN_PROCESS.get(self._key, 0) - 1
                if left > 0:
                    _OPEN_IN_PROCESS[self._key] = left
                else:
                    _OPEN_IN_PROCESS.pop(self._key, None)
            self._key = None


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError("The terminal database could not switch to WAL mode.")
    # FULL: a commit is fsync'ed before it returns, so a sale survives a power cut the moment the check prints.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _backup_before_migrating(path: Path, conn: sqlite3.Connection) -> Path:
    backup = path.with_name(f"{path.name}.before-migration-{time.strftime('%Y%m%d-%H%M%S')}")
    dest = sqlite3.connect(str(backup))
    try:
        conn.backup(dest)
    finally:
        dest.close()
    logger.info("backed up %s to %s before migrating", path, backup)
    return backup


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if existing and "meta" not in existing:
        raise StoreError("{path} is an SQLite database of some other program, not a HotPot Spot terminal.", path=path)
    if "meta" in existing:
        marker = conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
        if marker is None or marker[0] != APP_MARKER:
            raise StoreError("{path} is not a HotPot Spot terminal database.", path=path)


def store_exists(data_dir: Path) -> bool:
    """Is there a terminal database in this folder (set up or half set up)?"""
    return (Path(data_dir) / DB_FILENAME).exists()


def open_store(data_dir: Path, *, create: bool = False) -> Store:
    """Open (and with create=True, make) the terminal database in `data_dir`, migrating it to the current schema."""
    data_dir = Path(data_dir)
    path = data_dir / DB_FILENAME
    if not create and not path.exists():
        raise StoreError("No terminal is set up in {data_dir}. Run 'hotpot-terminal init' first.", data_dir=data_dir)
    _check_data_dir(data_dir)
    _check_existing_file(path)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # SQLite's -wal/-shm copy this mode
    try:
        # isolation_level=None: no implicit transactions; every write is inside an explicit BEGIN IMMEDIATE.
        conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError("Cannot open {path}: {exc}.", path=path, exc=exc) from None
    try:
        _refuse_foreign(conn, path)  # before any PRAGMA that would write to somebody else's file
        _configure(conn)
        db = Database(conn, execute_plugins=False)
        pending = MIGRATIONS.pending(db)
        if pending:
            backup = _backup_before_migrating(path, conn) if MIGRATIONS.applied(db) else None
            try:
                MIGRATIONS.apply(db)
            except Exception as exc:
                kept = f"; a copy from before the upgrade is at {backup}" if backup else ""
                raise StoreError("Upgrading the terminal database failed ({exc}). The failed step was rolled back and "
                                 "the database left as it was{kept}.",
                                 exc=exc, kept=kept) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_disk_full(exc, data_dir):  # not damage: following "restore it from a backup" would lose data
            raise disk_full(data_dir) from None
        raise StoreError("{path} is damaged or not a terminal database ({exc}). Restore it from a backup.",
                         path=path, exc=exc) from None
    except BaseException:
        conn.close()
        raise
    return Store(path, db)
