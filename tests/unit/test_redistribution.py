"""The yearly redistribution rule (sync/hq/redistribution.py) as properties: nothing created or lost, nobody pushed
above a cap, the pool placed whole whenever someone can take it, and pro rata within a unit when no cap binds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.hq.redistribution import CUSTOMER_CAP_BP, FRANCHISEES_CAP_BP, OWNER_CAP_BP, redistribute

HOLDERS = st.sampled_from(["owner", "charity", "franchisee:1", "franchisee:2", "HC" + "A" * 32, "HC" + "B" * 32,
                           "HC" + "C" * 32, "unclaimed", "redistribution"])
BALANCES = st.dictionaries(HOLDERS, st.integers(0, 10**9), max_size=9)


def _cap(holder: str, total: int) -> int | None:
    if holder == "owner":
        return total * OWNER_CAP_BP // 10_000
    if holder.startswith("HC"):
        return total * CUSTOMER_CAP_BP // 10_000
    return None


@settings(max_examples=400, deadline=None)
@given(BALANCES, st.integers(0, 10**9), st.integers(0, 10**9))
def test_nothing_is_created_or_lost_and_caps_hold(balances: dict[str, int], pool: int, extra: int) -> None:
    total = sum(balances.values()) + pool + extra  # all ST minted: what is held, the pool, and more
    payouts = redistribute(pool, balances, total)
    assert all(amount > 0 for amount in payouts.values())
    assert sum(payouts.values()) <= pool  # what is not paid stays in the pool
    assert set(payouts) <= {h for h, b in balances.items() if b > 0} - {"unclaimed", "redistribution"}
    for holder, amount in payouts.items():
        cap = _cap(holder, total)
        if cap is not None:
            assert balances[holder] + amount <= max(cap, balances[holder])
    franchisees_before = sum(b for h, b in balances.items() if h.startswith("franchisee:"))
    franchisees_paid = sum(a for h, a in payouts.items() if h.startswith("franchisee:"))
    assert franchisees_before + franchisees_paid <= max(total * FRANCHISEES_CAP_BP // 10_000, franchisees_before)
    # Whenever someone can still take, the pool is placed whole (the charity has no cap).
    if balances.get("charity", 0) > 0:
        assert sum(payouts.values()) == pool


@given(st.dictionaries(st.sampled_from(["charity", "owner", "franchisee:1"]), st.integers(1, 10**6), min_size=1),
       st.integers(0, 10**6))
def test_pro_rata_within_a_unit_when_no_cap_binds(balances: dict[str, int], pool: int) -> None:
    total = 10**15  # caps far away
    payouts = redistribute(pool, balances, total)
    whole = sum(balances.values())
    assert sum(payouts.values()) == pool
    for holder, balance in balances.items():
        exact = pool * balance / whole
        assert abs(payouts.get(holder, 0) - exact) < 1


def test_a_holder_at_its_cap_takes_nothing_and_the_rest_goes_to_the_others() -> None:
    total = 10_000
    balances = {"owner": 4800, "charity": 300, "HC" + "A" * 32: 100}
    payouts = redistribute(1000, balances, total)
    assert "owner" not in payouts
    assert payouts == {"charity": 750, "HC" + "A" * 32: 250}


def test_what_nobody_can_take_stays() -> None:
    assert redistribute(500, {"owner": 4800, "HC" + "A" * 32: 4900}, 10_000) == {}
