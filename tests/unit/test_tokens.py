"""The token split of DOMAIN.md: exact, integer, largest remainder, deterministic."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.errors import InvalidInput
from terminal.core.tokens import DEFAULT_POLICY, PARTIES, reversal_parts, split_tokens

OWN = DEFAULT_POLICY.shares["own"]
FRANCHISE = DEFAULT_POLICY.shares["franchise"]


def test_domain_percentages() -> None:
    assert split_tokens(10_000, OWN) == {"owner": 4800, "charity": 300, "customer": 4900}
    assert split_tokens(10_000, FRANCHISE) == {"owner": 2500, "franchisee": 2400, "charity": 300, "customer": 4800}


def test_largest_remainder_known_answers() -> None:
    # 1 unit, franchise: quotas .25 .24 .03 .48 -> the customer has the largest remainder.
    assert split_tokens(1, FRANCHISE) == {"owner": 0, "franchisee": 0, "charity": 0, "customer": 1}
    # 7 units, own: quotas 3.36, 0.21, 3.43 -> floors 3+0+3; the one left goes to the largest remainder (.43)
    assert split_tokens(7, OWN) == {"owner": 3, "charity": 0, "customer": 4}
    # A tie is broken by party order: 50/50 of 1 unit goes to the earlier party.
    assert split_tokens(1, {"owner": 5000, "customer": 5000}) == {"owner": 1, "customer": 0}
    assert split_tokens(0, FRANCHISE) == {"owner": 0, "franchisee": 0, "charity": 0, "customer": 0}


shares_strategy = st.lists(st.integers(0, 10_000), min_size=4, max_size=4).filter(lambda xs: sum(xs) > 0).map(
    lambda xs: _normalise(xs))


def _normalise(raw: list[int]) -> dict[str, int]:
    total = sum(raw)
    bps = [r * 10_000 // total for r in raw]
    bps[-1] += 10_000 - sum(bps)
    return dict(zip(PARTIES, bps, strict=True))


@given(minted=st.integers(0, 10**12), shares=shares_strategy, seed=st.integers(0, 1000))
def test_split_properties(minted: int, shares: dict[str, int], seed: int) -> None:
    parts = split_tokens(minted, shares)
    assert sum(parts.values()) == minted
    assert all(isinstance(v, int) and v >= 0 for v in parts.values())
    for party, value in parts.items():  # each part is its exact quota rounded down or up by one
        exact = minted * shares[party]
        assert value * 10_000 <= exact + 10_000 and value * 10_000 >= exact - 10_000
    items = list(shares.items())
    random.Random(seed).shuffle(items)
    assert split_tokens(minted, dict(items)) == parts  # order of the input does not matter


@given(total=st.integers(1, 10**7), cuts=st.lists(st.integers(1, 10**7), max_size=6),
       node=st.sampled_from(["own", "franchise"]))
def test_refund_reversals_never_exceed_and_complete_exactly(total: int, cuts: list[int], node: str) -> None:
    original = split_tokens(total, DEFAULT_POLICY.shares[node])
    refunded = 0
    taken = dict.fromkeys(original, 0)
    for cut in cuts + [total]:
        amount = min(cut, total - refunded)
        if amount <= 0:
            break
        rev = reversal_parts(original, refunded, amount, total)
        assert all(v >= 0 for v in rev.values())
        for p, v in rev.items():
            taken[p] += v
            assert taken[p] <= original[p]
        refunded += amount
    assert refunded == total
    assert taken == original


@pytest.mark.parametrize("shares", [{"owner": 5000, "customer": 4000}, {"owner": 10_000, "bank": 0},
                                    {"owner": -100, "customer": 10_100}])
def test_bad_shares_refused(shares: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        split_tokens(100, shares)


def test_negative_or_float_mint_refused() -> None:
    with pytest.raises(InvalidInput):
        split_tokens(-1, OWN)
    with pytest.raises(InvalidInput):
        split_tokens(1.5, OWN)  # type: ignore[arg-type]
