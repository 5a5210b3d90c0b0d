"""The terminal's backups: the database, copied while the counter keeps selling, and the wallet's keystore.

A backup is a folder DEST/hotpot-terminal-<terminal id>-YYYYMMDD-HHMMSS (0700) of files readable by their owner only:
    terminal.db.hpx    SQLite's online backup of the database (one consistent snapshot: WAL lets sales go on),
                       checked with PRAGMA integrity_check, then encrypted (sync.protocol.stream) under a key derived
                       from the wallet (Wallet.backup_key: the recovery words open it wherever they are restored)
    wallet.keystore    the keystore as it is (already encrypted under the owner's passphrase)
    manifest.json      terminal id, time, the chain's height and records, sales, SHA-256 of each file
The folder appears only when complete; the oldest beyond `keep` are deleted. Restoring needs the passphrase of the
keystore in the backup; the restored chain is verified from genesis before it replaces anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.protocol import stream
from terminal.core.errors import InvalidInput, WrongState
from terminal.store.db import DB_FILENAME
from terminal.wallet.hd import Wallet
from terminal.wallet.keystore import KEYSTORE_FILENAME, decrypt_keystore

DB_FILE, MANIFEST = "terminal.db.hpx", "manifest.json"
FORMAT = 1
DEFAULT_KEEP = 14
DAILY_S = 24 * 3600


def default_backup_dir(data_dir: Path) -> Path:
    """Where the daily backups go unless a manager chose another place (a second disk or a USB stick is better)."""
    return data_dir.parent / f"{data_dir.name}-backups"


def backups_in(dest: Path, terminal_id: str | None = None) -> list[Path]:
    prefix = f"hotpot-terminal-{terminal_id}-" if terminal_id else "hotpot-terminal-"
    if not dest.is_dir():
        return []
    return sorted((p for p in dest.glob(f"{prefix}*") if p.is_dir() and (p / MANIFEST).is_file()),
                  key=lambda p: p.name[-15:])


def _private(path: Path) -> Any:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _facts(conn: sqlite3.Connection) -> dict[str, Any]:
    row = conn.execute("PRAGMA integrity_check").fetchone()
    if not row or row[0] != "ok":
        raise WrongState(f"The database copy failed SQLite's integrity check ({row[0] if row else '?'}); no backup "
                         "was made. The database itself may be damaged: call support.")
    height = conn.execute("SELECT max(height) FROM blocks").fetchone()[0]
    return {"block_height": height, "records": conn.execute("SELECT count(*) FROM ledger_records").fetchone()[0],
            "sales": conn.execute("SELECT count(*) FROM sales").fetchone()[0]}


def backup(data_dir: Path, terminal_id: str, wallet: Wallet, dest: Path, keep: int = DEFAULT_KEEP) -> Path:
    """Back up the terminal in `data_dir` into a new folder under `dest`; returns it. Safe while selling."""
    if keep < 1:
        raise InvalidInput("Keep at least one backup (--keep 1 or more).")
    data_dir, dest = Path(data_dir), Path(dest)
    if dest.resolve() == data_dir.resolve() or data_dir.resolve() in dest.resolve().parents:
        raise InvalidInput("Back up to a folder outside the terminal's data folder (better: another disk).")
    try:
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"Cannot use {dest} for backups: {exc.strerror}.") from None
    name = f"hotpot-terminal-{terminal_id}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    final, partial = dest / name, dest / f".{name}.partial"
    if final.exists():
        raise WrongState(f"{final} exists already; wait a second and try again.")
    snapshot = data_dir / f".backup-{os.getpid()}.db"  # next to the database, as private as it is
    partial.mkdir(mode=0o700)
    try:
        os.close(os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        source = sqlite3.connect(f"file:{data_dir / DB_FILENAME}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(str(snapshot))
        try:
            source.backup(copy)  # one step: one read transaction, a consistent snapshot; writers go on (WAL)
            facts = _facts(copy)
        finally:
            copy.close()
            source.close()
        with snapshot.open("rb") as plain, _private(partial / DB_FILE) as out:
            stream.encrypt_file(plain, out, key=wallet.backup_key())
            out.flush()
            os.fsync(out.fileno())
        with _private(partial / KEYSTORE_FILENAME) as out:
            out.write((data_dir / KEYSTORE_FILENAME).read_bytes())
        manifest = {"format": FORMAT, "kind": "hotpot-terminal", "terminal_id": terminal_id,
                    "account_xpub": wallet.account_xpub, "created_at": datetime.now(UTC).isoformat(), **facts,
                    "files": {f: {"sha256": _sha256(partial / f), "bytes": (partial / f).stat().st_size}
                              for f in (DB_FILE, KEYSTORE_FILENAME)}}
        with _private(partial / MANIFEST) as out:
            out.write(json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        partial.rename(final)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise InvalidInput(f"The backup to {dest} failed: {exc.strerror or exc}. Nothing was changed.") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        snapshot.unlink(missing_ok=True)
    for old in backups_in(dest, terminal_id)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((Path(src) / MANIFEST).read_text())
    except FileNotFoundError:
        raise InvalidInput(f"{src} is not a terminal backup (no {MANIFEST}); give the backup's folder.") from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Cannot read {Path(src) / MANIFEST}: {exc}.") from None
    if manifest.get("kind") != "hotpot-terminal" or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{src} is not a terminal backup this version can read.")
    return dict(manifest)


def restore(src: Path, data_dir: Path, passphrase: str,
            verify: Callable[[Path], Any]) -> dict[str, Any]:
    """Restore a backup folder into an empty `data_dir`: the files are checked against the manifest, the keystore
    opened with `passphrase`, the database decrypted, checked and its chain verified (`verify(folder)`) in a
    private folder first; only then are the database and keystore put in place."""
    src, data_dir = Path(src), Path(data_dir)
    manifest = read_manifest(src)
    for name, meta in manifest["files"].items():
        if not (src / name).is_file() or _sha256(src / name) != meta["sha256"]:
            raise InvalidInput(f"{name} in {src} is missing or does not match its checksum: the backup is damaged; "
                               "use another.")
    if (data_dir / DB_FILENAME).exists() or (data_dir / KEYSTORE_FILENAME).exists():
        raise WrongState(f"{data_dir} already holds a terminal; restore into an empty folder (or move it aside).")
    keystore = (src / KEYSTORE_FILENAME).read_bytes()
    wallet = decrypt_keystore(keystore, passphrase, terminal_id=manifest["terminal_id"])
    if wallet.account_xpub != manifest["account_xpub"]:
        raise InvalidInput("The backup's keystore is not the wallet its database was signed with.")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = data_dir / f".restore-{os.getpid()}-{int(time.time())}"
    staging.mkdir(mode=0o700)
    try:
        with (src / DB_FILE).open("rb") as sealed, _private(staging / DB_FILENAME) as out:
            try:
                for chunk in stream.decrypt(sealed, key=wallet.backup_key()):
                    out.write(chunk)
            except stream.StreamError as exc:
                raise InvalidInput(f"The backup's database cannot be opened: {exc}.") from None
            out.flush()
            os.fsync(out.fileno())
        with _private(staging / KEYSTORE_FILENAME) as out:
            out.write(keystore)
        conn = sqlite3.connect(str(staging / DB_FILENAME))
        try:
            facts = _facts(conn)
        finally:
            conn.close()
        report = verify(staging)
        os.replace(staging / DB_FILENAME, data_dir / DB_FILENAME)
        os.replace(staging / KEYSTORE_FILENAME, data_dir / KEYSTORE_FILENAME)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"terminal_id": manifest["terminal_id"], "created_at": manifest["created_at"], **facts,
            "verified": report}


class DailyBackup:
    """The automatic local backup: at most one a day, into the configured folder (meta `backup_dir`, else
    default_backup_dir), keeping `backup_keep`. Run from the sync service's thread; a failure is logged and kept
    in meta `backup_error` for the status screen, and tried again an hour later."""

    def __init__(self, data_dir: Path, terminal_id: str, wallet: Wallet, meta: Callable[[str], str | None],
                 set_meta: Callable[[str, str], None]) -> None:
        self.data_dir, self.terminal_id, self.wallet = Path(data_dir), terminal_id, wallet
        self.meta, self.set_meta = meta, set_meta

    def due(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        last = float(self.meta("backup_last_at") or 0)
        tried = float(self.meta("backup_tried_at") or 0)
        return now - last >= DAILY_S and now - tried >= 3600

    def run(self, now: float | None = None) -> Path | None:
        now = time.time() if now is None else now
        if not self.due(now):
            return None
        dest = Path(self.meta("backup_dir") or default_backup_dir(self.data_dir))
        keep = int(self.meta("backup_keep") or DEFAULT_KEEP)
        self.set_meta("backup_tried_at", str(now))
        try:
            folder = backup(self.data_dir, self.terminal_id, self.wallet, dest, keep)
        except (OSError, InvalidInput, WrongState) as exc:
            self.set_meta("backup_error", str(exc))
            raise
        self.set_meta("backup_last_at", str(now))
        self.set_meta("backup_error", "")
        return folder
