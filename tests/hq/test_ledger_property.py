"""HQ's token ledger under random sequences of what happens to checks in real life — claims (by link or short code,
into a few accounts), refunds (whole or in part, before or after a claim) synced from a real terminal, shares aging
past 365 days, the jobs that enter mints and reversals and expire shares, and yearly redistributions (a year run
twice) — against a real HQ over HTTP and PostgreSQL. After every step nothing is created or lost: all balances
(accounts, parties, `unclaimed`, the pools and `reversed`) add up to all mints, `reversed` to what the reversals
took back, no sale's unclaimed share goes below zero; at the end `verify-ledger` re-derives it all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.hq import tokens
from sync.hq.keys import HQKeys, load_or_create_keys
from sync.protocol.errors import UserFacingError
from terminal.store import repos
from tests.hq.conftest import Till, age_sales
from tests.hq.test_claims import Phone, _sell, _sync
from tests.hqkit import HQServer, running_hq

SALES, ACCOUNTS = 5, 3


@pytest.fixture(scope="module")
def hq(hq_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    """This module's HQ runs its ledger job every second, so the steps race with it (lock order, not luck)."""
    with running_hq(hq_db, tmp_path_factory.mktemp("hq"), extra_env={
            "HOTPOT_HQ_PUBLIC_RATE": "1000", "HOTPOT_HQ_MINT_JOB_S": "1"}) as server:
        yield server
steps = st.lists(st.one_of(
    st.tuples(st.just("claim"), st.integers(0, SALES - 1), st.integers(0, ACCOUNTS - 1), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, SALES - 1), st.sampled_from([None, 1, 2, 3])),
    st.tuples(st.just("age"), st.integers(0, SALES - 1)),
    st.tuples(st.just("enter")),
    st.tuples(st.just("expire")),
    st.tuples(st.just("redistribute"), st.integers(2001, 2003)),
), min_size=4, max_size=14)


def _job(hq: HQServer, job: Callable[[psycopg.AsyncConnection[Any], HQKeys], Any]) -> Any:
    keys = load_or_create_keys(hq.key_dir)

    async def run() -> Any:
        async with await psycopg.AsyncConnection.connect(hq.database_url) as conn, conn.transaction():
            return await job(conn, keys)

    return asyncio.run(run())


def _holds(hq: HQServer) -> None:
    # One snapshot for all the reads: HQ's own job enters mints every second, and a mint committed between two
    # statements would look like tokens made from nothing.
    with psycopg.connect(hq.database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        balances = dict(conn.execute("SELECT holder, balance FROM token_balances").fetchall())
        minted, reversed_ = conn.execute("SELECT minted, reversed FROM token_ledger_head").fetchone() or (0, 0)
        mints = conn.execute("SELECT coalesce(sum((convert_from(body, 'UTF8')::jsonb ->> 'minted')::bigint), 0) "
                             "FROM token_ledger WHERE kind = 'mint'").fetchone()
        negative = conn.execute("SELECT count(*) FROM token_mints WHERE customer_held < 0").fetchone()
    assert sum(balances.values()) == minted == (mints or [0])[0], (balances, minted)
    assert balances.get("reversed", 0) == reversed_
    assert min(balances.values(), default=0) >= 0 and negative == (0,)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_nothing_is_created_or_lost(make_till: Callable[..., Till], hq: HQServer,
                                    plan: list[tuple[Any, ...]]) -> None:
    till = make_till()
    sales = _sell(till, SALES)
    _sync(till)
    phones = [Phone() for _ in range(ACCOUNTS)]
    manager = repos.get_user(till.term.store, "Nino")
    assert manager is not None
    for step in plan:
        kind = step[0]
        if kind == "claim":
            sale, phone = sales[step[1]], phones[step[2]]
            secret = {"token": sale.secret.token} if step[3] else {"short_code": sale.secret.short_code}
            answer = phone.claim(hq, sale.sale.check.id, **secret)
            assert answer.status_code == 200 or answer.json()["error"]["code"] in {
                "already_claimed", "expired", "nothing_to_claim", "cap_exceeded"}, answer.text
        elif kind == "refund":
            sale = sales[step[1]].sale
            amount = None if step[2] is None else max(1, sale.total * step[2] // 4)
            try:
                till.term.refund(manager, sale.id, "property test", amount)
            except UserFacingError:
                pass  # refunded whole already, or more than is left: the terminal refuses, nothing is recorded
            _sync(till)
        elif kind == "age":
            age_sales(hq.database_url, "terminal_id = %s AND check_id = %s AND created_at > now() - interval "
                                       "'365 days'", (till.id, sales[step[1]].sale.check.id))
        elif kind == "enter":
            _job(hq, lambda conn, keys: tokens.append_pending_mints(conn, keys))
            _job(hq, lambda conn, keys: tokens.append_pending_reversals(conn, keys))
        elif kind == "expire":
            _job(hq, lambda conn, keys: tokens.expire_unclaimed(conn, keys))
        else:
            _job(hq, lambda conn, keys, year=step[1]: tokens.redistribute_year(conn, keys, year))
        _holds(hq)
    _job(hq, lambda conn, keys: tokens.append_pending_mints(conn, keys))
    _job(hq, lambda conn, keys: tokens.append_pending_reversals(conn, keys))
    _holds(hq)
    with psycopg.connect(hq.database_url) as conn:
        held = conn.execute("SELECT count(*) FROM refunds WHERE terminal_id = %s AND ledger_seq IS NULL",
                            (till.id,)).fetchone()
    assert held == (0,)  # every refund HQ booked is in the chain
    keys = load_or_create_keys(hq.key_dir)

    async def verify() -> tokens.LedgerReport:
        async with await psycopg.AsyncConnection.connect(hq.database_url) as conn:
            return await tokens.verify_ledger(conn, keys.receipt_public)

    assert asyncio.run(verify()).entries > 0
