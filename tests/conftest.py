"""Shared test fixtures: Qt offscreen, a fresh terminal data folder per test, and a real PostgreSQL server."""

from __future__ import annotations

import os

# Before anything can import Qt: without a display, a Qt import would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("HOTPOT_DATA_DIR", None)  # never let a developer's real terminal leak into a test
os.environ.pop("HOTPOT_USER", None)
os.environ.pop("HOTPOT_MNEMONIC", None)
# The keystore's scrypt at test strength (the floor the code allows; the real default is 2**17, ~0.5 s a try).
os.environ["HOTPOT_KEYSTORE_SCRYPT_N"] = "4096"
TEST_PASSPHRASE = "correct horse battery"

import re  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.pg import PgServer, start_pg_server  # noqa: E402


@pytest.fixture(autouse=True)
def wallet_passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test's wallet passphrase comes from the environment, as on an unattended terminal."""
    monkeypatch.setenv("HOTPOT_PASSPHRASE", TEST_PASSPHRASE)
    return TEST_PASSPHRASE


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A terminal data folder that exists only for this test."""
    return tmp_path / "terminal-data"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """TEST_DATABASE_URL if set, else a server on 127.0.0.1:5432 if one answers, else a throwaway cluster."""
    server = start_pg_server(tmp_path_factory.mktemp("pg"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pg_database(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for this test module; its connection URL. Dropped afterwards."""
    stem = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())[:30]
    name = f"t_{stem}_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)
