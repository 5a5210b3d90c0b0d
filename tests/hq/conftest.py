from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from sync.hq.cli import enroll_code
from terminal.core.orders import Tender
from terminal.services import Terminal
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import enroll
from terminal.wallet.hd import Wallet
from tests.conftest import TEST_PASSPHRASE
from tests.hqkit import HQServer, prepare_hq_database, running_hq


@pytest.fixture(scope="module")
def hq_db(pg_database: str) -> str:
    prepare_hq_database(pg_database)
    return pg_database


@pytest.fixture(scope="module")
def hq(hq_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(hq_db, tmp_path_factory.mktemp("hq"), extra_env={"HOTPOT_HQ_PUBLIC_RATE": "1000"}) as server:
        yield server


def sql(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def age_sales(url: str, where: str, params: tuple[Any, ...], days: int = 366) -> None:
    """Move sales (`where` on sales) `days` into the past as if that much time had passed, with their items,
    payments and mint: each carries its sale's time, which the books are partitioned by (migration 0013)."""
    shift = f"created_at - interval '{int(days)} days'"
    sql(url, f"""
        WITH s AS (UPDATE sales SET created_at = {shift} WHERE {where} RETURNING terminal_id, sale_id),
        i AS (UPDATE sale_items x SET created_at = x.{shift} FROM s WHERE x.terminal_id = s.terminal_id
              AND x.sale_id = s.sale_id),
        p AS (UPDATE payments x SET created_at = x.{shift} FROM s WHERE x.terminal_id = s.terminal_id
              AND x.sale_id = s.sale_id)
        UPDATE token_mints x SET created_at = x.{shift} FROM s WHERE x.terminal_id = s.terminal_id
            AND x.sale_id = s.sale_id""", params)


@dataclass
class Till:
    """A real terminal (store, wallet) enrolled at the HQ under test."""

    term: Terminal
    wallet: Wallet
    hq: HQServer
    enrollment: dict[str, Any]

    @property
    def id(self) -> str:
        return self.term.terminal_id

    def sell(self, n: int, items: list[tuple[str, int]] | None = None) -> None:
        cashier = repos.get_user(self.term.store, "Giorgi")
        assert cashier is not None
        for _ in range(n):
            self.term.sell(cashier, items or [("udon", 1), ("tofu", 1)], [Tender("cash")])

    def seal(self, per_block: int = 500) -> None:
        from terminal.ledger.sealer import SealPolicy

        self.term.seal(self.wallet, force=True, policy=SealPolicy(max_records=per_block))

    def push(self, blocks: list[dict[str, Any]]) -> requests.Response:
        return requests.post(f"{self.hq.url}/api/v1/terminals/{self.id}/blocks", json={"blocks": blocks},
                             timeout=30)


@pytest.fixture
def make_till(hq: HQServer, tmp_path: Path) -> Callable[..., Till]:
    made: list[Terminal] = []

    def make(franchise: str = "Vake", node: str = "Main", node_type: str = "franchise") -> Till:
        term, _ = create_terminal(tmp_path / f"t{len(made)}", franchise=franchise, terminal_name="Counter",
                                  demo=True, passphrase=TEST_PASSPHRASE, node_type=node_type)
        made.append(term)
        wallet = term.unlock(TEST_PASSPHRASE)
        code = enroll_code(hq.database_url, franchise, "Counter", node, node_type)
        answer = enroll(term, wallet, hq.url, code)  # as the terminal does: HQ's menu replaces the demo menu
        term.store.conn.execute("UPDATE stock SET available = 100000")
        cashier = repos.get_user(term.store, "Giorgi")
        assert cashier is not None
        term.open_shift(cashier, 10_000)
        return Till(term, wallet, hq, answer)

    yield make  # type: ignore[misc]
    for term in made:
        term.close()
