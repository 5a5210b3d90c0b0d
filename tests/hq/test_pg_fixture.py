"""The PostgreSQL fixture gives each module a real, empty, writable database."""

from __future__ import annotations

import psycopg


def test_fresh_database_runs_real_queries(pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE probe (id bigint PRIMARY KEY, amount bigint NOT NULL)")
        conn.execute("INSERT INTO probe VALUES (1, 2500), (2, 1700)")
        assert conn.execute("SELECT sum(amount), current_database() FROM probe").fetchone() == (
            4200, conn.info.dbname)
        assert conn.info.dbname.startswith("t_test_pg_fixture_")


def test_throwaway_cluster_starts_when_nothing_listens(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The third fallback really starts a server: force it by hiding the others."""
    from tests import pg

    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(pg, "DEFAULT_LOCAL", "postgresql://postgres@127.0.0.1:1/postgres")
    server = pg.start_pg_server(tmp_path / "cluster")
    try:
        assert server.cluster_dir is not None
        url = server.create_database("probe_db")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
    finally:
        server.stop()
