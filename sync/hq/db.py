"""PostgreSQL for HQ: schema migrations (yoyo, numbered SQL files) and the async connection pool."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# The monthly partitions of the growing books (migration 0013) exist from last month to two months ahead, and the
# token ledger's ranges two ahead of its head; the server checks about every six hours, so a month's partition is
# there long before its first sale. One at a time across
# workers (an advisory lock); a month already there costs a catalogue lookup.
ENSURE_PARTITIONS_SQL = ("SELECT hq_ensure_partitions((now() - interval '1 month')::date, "
                         "(now() + interval '2 months')::date) + "
                         "hq_ensure_ledger_partitions((SELECT seq FROM token_ledger_head WHERE id = 1))")
PARTITIONS_LOCK = 0x486F7450  # pg_advisory_xact_lock key for partition maintenance
PARTITIONS_EVERY_S = 6 * 3600.0


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
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITIONS_LOCK,))
        conn.execute(ENSURE_PARTITIONS_SQL)
    return [m.id for m in pending]


async def ensure_partitions(conn: Any) -> int:
    """Create the months ahead that do not exist yet (see ENSURE_PARTITIONS_SQL); how many partitions it created."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITIONS_LOCK,))
        cur = await conn.execute(ENSURE_PARTITIONS_SQL)
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def partition_job(pool: Any, interval_s: float = PARTITIONS_EVERY_S) -> None:
    while True:
        try:
            async with pool.connection() as conn:
                created = await ensure_partitions(conn)
            if created:
                logger.info("created %d monthly partitions", created)
        except Exception:
            logger.exception("partition maintenance failed; it runs again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)


def pending_migrations(database_url: str) -> list[str]:
    backend = get_backend(_yoyo_url(database_url))
    return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]

