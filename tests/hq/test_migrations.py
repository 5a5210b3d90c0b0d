"""Migration 0003 on a database that already holds books: every row keeps its facts and gains its terminal."""

from __future__ import annotations

import psycopg
from yoyo import get_backend, read_migrations

from sync.hq.db import MIGRATIONS_DIR, _yoyo_url, migrate


def test_terminal_books_migration_keeps_existing_rows(pg_server: object) -> None:
    from tests.pg import PgServer

    assert isinstance(pg_server, PgServer)
    url = pg_server.create_database("t_hq_upgrade")
    try:
        backend = get_backend(_yoyo_url(url))
        old = read_migrations(str(MIGRATIONS_DIR)).filter(lambda m: m.id in ("0001_initial", "0002_default_policy"))
        with backend.lock():
            backend.apply_migrations(backend.to_apply(old))
        sale, refund, shift = (f"019a8c5e-0000-7000-8000-00000000000{i}" for i in (1, 2, 3))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO franchises (id, name) VALUES (1, 'F'); "
                         "INSERT INTO nodes (id, franchise_id, name, node_type) VALUES (1, 1, 'N', 'own')")
            conn.execute("INSERT INTO terminals (id, node_id, name, account_xpub, signing_public_key) "
                         "VALUES ('7K2MQX4P', 1, 'C', 'x', %s)", (b"\x02" * 33,))
            conn.execute("INSERT INTO shifts (shift_id, terminal_id, opened_by, opened_at, float_amount) "
                         "VALUES (%s, '7K2MQX4P', 'G', now(), 0)", (shift,))
            conn.execute("INSERT INTO sales (sale_id, terminal_id, node_id, shift_id, check_id, cashier, created_at, "
                         "subtotal, discount, total, cash_amount, card_amount, change_given, status, node_type, "
                         "policy_version, minted, record_seq) VALUES (%s, '7K2MQX4P', 1, %s, '7K2MQX4P-1', 'G', "
                         "now(), 500, 0, 500, 500, 0, 0, 'pending', 'own', 1, 500, 1)", (sale, shift))
            conn.execute("INSERT INTO sale_items VALUES (%s, 1, 'udon', 'Udon', 1, 500)", (sale,))
            conn.execute("INSERT INTO payments VALUES (%s, 1, 'cash', 500, 500, 0, '')", (sale,))
            conn.execute("INSERT INTO checks (check_id, sale_id, claim_hash, claim_salt, claim_hash_alg, "
                         "claim_hash_iterations, claim_address) VALUES ('7K2MQX4P-1', %s, 'h', 's', 'a', 1, 'HP')",
                         (sale,))
            conn.execute("INSERT INTO token_mints VALUES (%s, 1, 500, 240, 0, 15, 245, 'HP')", (sale,))
            conn.execute("INSERT INTO refunds VALUES (%s, %s, '7K2MQX4P', 100, 'cash', 'r', 'N', now())",
                         (refund, sale))
            conn.execute("INSERT INTO token_reversals VALUES (%s, 'owner', 48)", (refund,))
            conn.execute("INSERT INTO menu_items (id, data, active, update_seq) VALUES ('udon', "
                         "'{\"price\": 500, \"name\": {\"en\": \"Udon\"}}', true, 7)")
        assert migrate(url) == ["0003_terminal_books", "0004_kyc_cases", "0005_token_ledger", "0006_token_expiry",
                               "0007_token_reversal", "0008_console", "0009_sales_daily", "0010_screening_lists",
                               "0011_kyc_review", "0012_kyc_retention", "0013_monthly_partitions",
                               "0014_items_daily", "0015_terminal_contact", "0016_menu_modifiers",
                               "0017_evidence"]
        with psycopg.connect(url) as conn:
            for table in ("sale_items", "payments", "checks", "token_mints", "token_reversals"):
                assert conn.execute(f"SELECT terminal_id FROM {table}").fetchall() == [("7K2MQX4P",)], table
            assert conn.execute("SELECT confirmed FROM token_mints").fetchall() == [(True,)]
            assert conn.execute("SELECT item_id, update_seq, price FROM menu_item_history").fetchall() == [
                ("udon", 7, 500)]
    finally:
        pg_server.drop_database("t_hq_upgrade")
