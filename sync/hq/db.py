"""PostgreSQL for HQ: schema migrations (yoyo, numbered SQL files) and the async connection pool."""

from __future__ import annotations

import logging
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _yoyo_url(database_url: str) -> str:
    params = conninfo_to_dict(database_url)
    user = params.get("user", "")
    password = f":{params['password']}" if params.get("password") else ""
    auth = f"{user}{password}@" if user else ""
    host = params.get("host", "localhost")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql+psycopg://{auth}{host}{port}/{params.get('dbname', 'postgres')}"


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations (each in its own transaction) and return their ids. Safe to run again."""
    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending_migrations(database_url: str) -> list[str]:
    backend = get_backend(_yoyo_url(database_url))
    return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]

