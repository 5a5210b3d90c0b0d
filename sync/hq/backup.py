"""HQ's backups: the database (pg_dump's custom format), the key folder and the KYC case store, encrypted under the
operator's backup passphrase, checksummed, and restored with the same figures checked.

A backup is a folder DEST/hotpot-hq-YYYYMMDD-HHMMSS (0700) of files readable by their owner only (0600):
    database.dump.hpx   pg_dump --format=custom, streamed through the encryption (no plaintext copy on disk)
    keys.tar.hpx        the key folder (HQ's receipt and KYC keys, the session secret)
    kyc.tar.hpx         the sealed KYC case files
    manifest.json       what was backed up: SHA-256 and size of each file, the schema's last migration, row counts
                        and the token supply, to compare after a restore
The folder is written under a temporary name and renamed when complete, so a crash leaves no backup that looks whole.
Encryption: sync.protocol.stream (STREAM over AES-256-GCM, scrypt of the passphrase).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import psycopg

from sync.protocol import stream

PREFIX = "hotpot-hq-"
FORMAT = 1
DUMP, KEYS, KYC, MANIFEST = "database.dump.hpx", "keys.tar.hpx", "kyc.tar.hpx", "manifest.json"
# What a restore must give back exactly (the books, the chains, the token ledger).
COUNTED = ("terminals", "blocks", "records", "sales", "sale_items", "payments", "checks", "token_mints", "refunds",
           "token_ledger", "claims", "accounts", "kyc_cases", "staff_users", "audit_log")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Figures:
    migration: str | None
    counts: dict[str, int]
    token_supply: int
    ledger_head: int

    def as_dict(self) -> dict[str, Any]:
        return {"migration": self.migration, "counts": self.counts, "token_supply": self.token_supply,
                "ledger_head": self.ledger_head}


def _figures(conn: psycopg.Connection[Any]) -> Figures:
    counts = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
              for t in COUNTED}
    row = conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc DESC, migration_id DESC "
                       "LIMIT 1").fetchone()
    supply = conn.execute("SELECT coalesce(sum(balance), 0) FROM token_balances").fetchone()
    head = conn.execute("SELECT seq FROM token_ledger_head WHERE id = 1").fetchone()
    return Figures(row[0] if row else None, counts, int(supply[0]) if supply else 0, int(head[0]) if head else 0)


def figures(database_url: str) -> Figures:
    """The counts a restore is compared on, in one snapshot."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _figures(conn)


class _Hashing:
    """A file object that writes through and hashes what it wrote."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.sha, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)


def _private_file(path: Path) -> BinaryIO:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _encrypted(path: Path, passphrase: str, fill: Callable[[stream.Writer], None]) -> dict[str, Any]:
    with _private_file(path) as raw:
        hashing = _Hashing(raw)
        with stream.Writer(hashing, passphrase=passphrase) as writer:  # type: ignore[arg-type]
            fill(writer)
        raw.flush()
        os.fsync(raw.fileno())
    return {"sha256": hashing.sha.hexdigest(), "bytes": hashing.size}


def _tar_folder(folder: Path) -> Callable[[stream.Writer], None]:
    def fill(writer: stream.Writer) -> None:
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return fill


def _pg_dump(database_url: str, snapshot: str) -> Callable[[stream.Writer], None]:
    def fill(writer: stream.Writer) -> None:
        try:
            proc = subprocess.Popen(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                                     "--dbname", database_url],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)") from None
        assert proc.stdout is not None and proc.stderr is not None
        while chunk := proc.stdout.read(stream.CHUNK):
            writer.write(chunk)
        error = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            raise BackupError(f"pg_dump failed: {error or 'exit code ' + str(proc.returncode)}")
    return fill


def backups_in(dest: Path) -> list[Path]:
    """The complete backups in a folder, oldest first."""
    return sorted(p for p in dest.glob(f"{PREFIX}*") if p.is_dir() and (p / MANIFEST).is_file()) \
        if dest.is_dir() else []


def backup(database_url: str, key_dir: Path, kyc_dir: Path, dest: Path, passphrase: str, keep: int = 14,
           progress: Callable[[str], None] = lambda _: None) -> Path:
    """Write a new backup into `dest`, then delete the oldest ones beyond `keep`. Returns the backup's folder."""
    if len(passphrase) < 12:
        raise BackupError("the backup passphrase must be at least 12 characters (HOTPOT_HQ_BACKUP_PASSPHRASE)")
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{PREFIX}{datetime.now(UTC):%Y%m%d-%H%M%S}"
    final, partial = dest / name, dest / f".{name}.partial"
    if final.exists():
        raise BackupError(f"{final} exists already; wait a second and run it again")
    partial.mkdir(mode=0o700)
    try:
        # The counts and the dump from one snapshot (exported, and held open while pg_dump reads it), so that they
        # agree while HQ keeps ingesting.
        with psycopg.connect(database_url) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            [snapshot] = conn.execute("SELECT pg_export_snapshot()").fetchone()  # type: ignore[misc]
            before = _figures(conn)
            progress("database")
            files = {DUMP: _encrypted(partial / DUMP, passphrase, _pg_dump(database_url, snapshot))}
        progress("keys")
        files[KEYS] = _encrypted(partial / KEYS, passphrase, _tar_folder(key_dir))
        progress("KYC case files")
        files[KYC] = _encrypted(partial / KYC, passphrase, _tar_folder(kyc_dir))
        manifest = {"format": FORMAT, "kind": "hotpot-hq", "created_at": datetime.now(UTC).isoformat(),
                    "files": files, "database": before.as_dict()}
        with _private_file(partial / MANIFEST) as fh:
            fh.write(json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        partial.rename(final)
        _fsync_dir(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for old in backups_in(dest)[:-keep]:
        shutil.rmtree(old)
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} is not a HotPot Spot HQ backup (no {MANIFEST}); give the backup's folder") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read {src / MANIFEST}: {exc}") from None
    if manifest.get("kind") != "hotpot-hq" or manifest.get("format") != FORMAT:
        raise BackupError(f"{src} is not a HotPot Spot HQ backup of a format this version reads")
    return dict(manifest)


def check_files(src: Path, manifest: dict[str, Any]) -> None:
    """Every file whole and as written (SHA-256 of the encrypted bytes), before anything is restored."""
    for name, meta in manifest["files"].items():
        sha = hashlib.sha256()
        try:
            with (src / name).open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    sha.update(chunk)
        except OSError as exc:
            raise BackupError(f"cannot read {src / name}: {exc.strerror}") from None
        if sha.hexdigest() != meta["sha256"]:
            raise BackupError(f"{name} in {src} does not match its checksum: the backup is damaged; use another")


def _plain(path: Path, passphrase: str) -> Iterator[bytes]:
    with path.open("rb") as fh:
        try:
            yield from stream.decrypt(fh, passphrase=passphrase)
        except stream.StreamError as exc:
            raise BackupError(f"{path.name}: {exc}") from None


def _tar_members(path: Path, passphrase: str) -> dict[str, bytes]:
    data = b"".join(_plain(path, passphrase))
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith("/") or ".." in Path(member.name).parts:
                raise BackupError(f"{path.name} holds an unexpected entry {member.name!r}; not restoring it")
            extracted = tar.extractfile(member)
            assert extracted is not None
            out[member.name] = extracted.read()
    return out


def _database_is_empty(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
    return bool(row and row[0] == 0)


def restore(database_url: str, key_dir: Path, kyc_dir: Path, src: Path, passphrase: str,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Restore a backup into an empty database and the key and KYC folders; then compare the counts and the token
    supply with the manifest's. Refuses before changing anything when the backup is damaged, the passphrase is
    wrong, the database is not empty, or the key folder holds different keys."""
    manifest = read_manifest(src)
    check_files(src, manifest)
    keys = _tar_members(src / KEYS, passphrase)  # a wrong passphrase stops here, before anything is written
    for name, data in keys.items():
        existing = key_dir / name
        if existing.exists() and existing.read_bytes() != data:
            raise BackupError(f"{existing} holds a different key than the backup; move the key folder aside "
                              "first (restoring would change HQ's identity for its terminals)")
    if not _database_is_empty(database_url):
        raise BackupError("the database is not empty; restore into a new database (createdb) or drop this one "
                          "first")
    progress("database")
    try:
        proc = subprocess.Popen(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", "--dbname",
                                 database_url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)") from None
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for chunk in _plain(src / DUMP, passphrase):
            proc.stdin.write(chunk)
        proc.stdin.close()
    except BackupError:
        proc.kill()  # one transaction: nothing of a cut-off dump stays
        proc.wait()
        raise
    error = proc.stderr.read().decode(errors="replace").strip()
    if proc.wait() != 0:
        raise BackupError(f"pg_restore failed (the database was left as it was): {error}")
    progress("keys")
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, data in keys.items():
        target = key_dir / name
        if not target.exists():
            with _private_file(target) as fh:
                fh.write(data)
    progress("KYC case files")
    kyc_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cases = _tar_members(src / KYC, passphrase)
    for name, data in cases.items():
        target = kyc_dir / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not target.exists():
            with _private_file(target) as fh:
                fh.write(data)
    after = figures(database_url)
    expected = manifest["database"]
    if after.counts != expected["counts"] or after.token_supply != expected["token_supply"] \
            or after.ledger_head != expected["ledger_head"]:
        raise BackupError(f"the restored database does not hold what the backup recorded: {after.as_dict()} "
                          f"against {expected}")
    return {"figures": after.as_dict(), "keys": len(keys), "kyc_files": len(cases), "created_at":
            manifest["created_at"]}
