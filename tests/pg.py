"""Finding or starting a PostgreSQL server for tests, and making throwaway databases on it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DEFAULT_LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class PgServer:
    admin_url: str  # a URL to a maintenance database, with rights to create databases
    cluster_dir: Path | None = None
    pg_bin: Path | None = None
    created: list[str] = field(default_factory=list)

    def url_for(self, dbname: str) -> str:
        params = conninfo_to_dict(self.admin_url)
        params["dbname"] = dbname
        return make_conninfo(**params)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        if self.cluster_dir is not None and self.pg_bin is not None:
            _as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.cluster_dir / "data"), "-m", "fast", "-w",
                          "stop"], check=False)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("No PostgreSQL server binaries found (apt-get install postgresql); "
                       "or set TEST_DATABASE_URL to a server the tests may use.")


def _as_postgres(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:  # initdb refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


def start_pg_server(workdir: Path) -> PgServer:
    env_url = os.environ.get("TEST_DATABASE_URL")
    if env_url:
        if not _answers(env_url):
            raise RuntimeError(f"TEST_DATABASE_URL is set but no server answers there: {env_url}")
        return PgServer(env_url)
    if _answers(DEFAULT_LOCAL):
        return PgServer(DEFAULT_LOCAL)
    pg_bin = _pg_bin()
    data = workdir / "data"
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
        workdir.chmod(0o700)
        for parent in workdir.parents:  # the postgres user must be able to reach its folder
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    _as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    port = _free_port()
    _as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(workdir / "server.log"), "-w", "-o",
                  f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    return PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", cluster_dir=workdir, pg_bin=pg_bin)
