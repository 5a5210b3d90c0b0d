"""The hotpot-hq Debian package, for real: built by packaging/deb/build-hq.sh (dpkg-deb, then lintian with no
error), installed on this machine with apt (as an operator would, dependencies and all), its systemd unit verified
by systemd-analyze, HQ started the way the unit starts it (its ExecStartPre and ExecStart lines, as the hotpot-hq
user, with /etc/hotpot-hq/env) against the test PostgreSQL until /api/ready answers, and purged cleanly. Needs root
(CI runs as root); the install's time is printed for the release note."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hqkit import free_port
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parents[2]
UNIT = Path("/lib/systemd/system/hotpot-hq.service")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installing a Debian package needs root (CI runs as root)")


def _run(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def deb() -> Path:
    began = time.monotonic()
    built = _run("bash", "packaging/deb/build-hq.sh", timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "lintian found no error" in built.stdout, built.stdout + built.stderr
    [path] = sorted((ROOT / "dist").glob("hotpot-hq_*_amd64.deb"))
    print(f"\n[package] built {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - began:.0f} s")
    return path


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[Path]:
    _run("dpkg", "-P", "hotpot-hq")  # a leftover of an interrupted run
    began = time.monotonic()
    done = _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", str(deb),
                env={"DEBIAN_FRONTEND": "noninteractive"})
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"[package] apt-get install of {deb.name} took {time.monotonic() - began:.1f} s")
    try:
        yield deb
    finally:
        _run("dpkg", "-P", "hotpot-hq")
        shutil.rmtree("/var/lib/hotpot-hq", ignore_errors=True)
        shutil.rmtree("/var/backups/hotpot-hq", ignore_errors=True)


def _exec_lines(unit: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in unit.splitlines():
        key, _, value = line.partition("=")
        if key in ("ExecStart", "ExecStartPre"):
            lines[key] = shlex.split(value)
    return lines


def test_install_start_as_the_unit_does_and_purge(installed: Path, pg_server: PgServer) -> None:
    assert Path("/usr/bin/hotpot-hq").resolve() == Path("/opt/hotpot-hq/venv/bin/hotpot-hq")
    user = pwd.getpwnam("hotpot-hq")
    env_file = Path("/etc/hotpot-hq/env")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640
    keys = Path("/var/lib/hotpot-hq/keys")
    assert keys.stat().st_uid == user.pw_uid and stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert Path("/etc/nginx/sites-available/hotpot-hq").is_file()
    assert Path("/usr/share/hotpot-hq/monitoring/hotpot-hq-rules.yml").is_file()
    verified = _run("systemd-analyze", "verify", str(UNIT), "/lib/systemd/system/hotpot-hq-backup.service",
                    "/lib/systemd/system/hotpot-hq-backup.timer")
    assert verified.returncode == 0, verified.stderr
    version = _run("/usr/bin/hotpot-hq", "--help")
    assert version.returncode == 0 and "serve" in version.stdout

    # Start HQ as its unit would: the same command lines, user and environment file (the database pointed at the
    # test server and the port at a free one).
    db = pg_server.create_database("t_hq_package")
    try:
        env = {k: v for k, v in (line.split("=", 1) for line in env_file.read_text().splitlines()
                                 if line and not line.startswith("#"))}
        env.update({"HOTPOT_DATABASE_URL": db, "HOME": "/var/lib/hotpot-hq", "PATH": "/usr/bin:/bin"})
        for line in UNIT.read_text().splitlines():
            if line.startswith("Environment="):
                key, value = line.removeprefix("Environment=").split("=", 1)
                env.setdefault(key, value)
        lines = _exec_lines(UNIT.read_text())
        runuser = ["runuser", "-u", "hotpot-hq", "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
        began = time.monotonic()
        migrated = subprocess.run([*runuser, *lines["ExecStartPre"]], capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0 and "Applied" in migrated.stdout, migrated.stdout + migrated.stderr
        port = free_port()
        start = list(lines["ExecStart"])
        start[start.index("--port") + 1] = str(port)
        server = subprocess.Popen([*runuser, *start], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    ready = requests.get(f"http://127.0.0.1:{port}/api/ready", timeout=2)
                    if ready.status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "HQ from the package did not become ready"
                time.sleep(0.3)
            assert ready.json() == {"status": "ready"}
            print(f"[package] from the unit's ExecStartPre (migrate) to /api/ready: {time.monotonic() - began:.1f} s")
            made = sorted(p.name for p in keys.iterdir())
            assert "receipt-ed25519.pem" in made and all(p.stat().st_uid == user.pw_uid for p in keys.iterdir())
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        pg_server.drop_database("t_hq_package")

    purged = _run("dpkg", "-P", "hotpot-hq")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    for gone in ("/opt/hotpot-hq", "/usr/bin/hotpot-hq", "/etc/hotpot-hq", str(UNIT), "/var/log/hotpot-hq"):
        assert not os.path.lexists(gone), gone
    status = _run("dpkg-query", "-W", "-f=${Status}", "hotpot-hq")
    assert "installed" not in status.stdout or "not-installed" in status.stdout, status.stdout
