"""The yearly redistribution of expired customer shares (DOMAIN.md: pro rata to ST holders, never pushing a holder
above its cap), as exact integers. Pure: the caller reads the balances and writes the ledger entry.

The rule (docs/protocol.md section 11):
1. Who takes part: every holder with a balance above zero, except the pools themselves (`unclaimed`,
   `redistribution`) and `reversed` (what refunds took out of circulation). Caps are shares of all ST in
   circulation (`total`): the owner 48 %, the franchisees 24 % together
   (one group, shared among them pro rata), each customer account 49 %; the charity has none.
2. Water-filling: the pool is offered pro rata to the balances of those who can still take; whoever would pass a cap
   takes only up to it and drops out; the rest is offered again to the others, until nothing more can be placed.
3. Each round hands out whole units: floor of each exact share, then the units left by the floors one each to the
   largest remainders (ties: holder name order), as the token split does.
4. What no one can take (every holder at its cap) stays in the pool for the next year. Nothing is created or lost:
   the payouts add up to at most the pool, and pool - payouts is what stays.
"""

from __future__ import annotations

from collections.abc import Mapping

POOLS = frozenset({"unclaimed", "redistribution", "reversed"})  # no share of the payout
OWNER_CAP_BP, FRANCHISEES_CAP_BP, CUSTOMER_CAP_BP = 4800, 2400, 4900
FRANCHISEES = "franchisees"  # the franchisees' group while the pool is shared out


def _group(holder: str) -> str:
    return FRANCHISEES if holder.startswith("franchisee:") else holder


def _headroom(group: str, balance: int, total: int) -> int | None:
    """How much more a group may take (None: no cap)."""
    cap_bp = {"owner": OWNER_CAP_BP, FRANCHISEES: FRANCHISEES_CAP_BP}.get(group)
    if cap_bp is None and group.startswith("HC"):
        cap_bp = CUSTOMER_CAP_BP
    if cap_bp is None:
        return None
    return max(0, total * cap_bp // 10_000 - balance)


def _pro_rata(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`amount` in whole units by weight: floors, then the leftover units to the largest remainders."""
    whole = sum(weights.values())
    if amount <= 0 or whole <= 0:
        return {name: 0 for name in weights}
    out = {name: amount * w // whole for name, w in weights.items()}
    left = amount - sum(out.values())
    order = sorted(weights, key=lambda name: (-(amount * weights[name] % whole), name))
    for name in order[:left]:
        out[name] += 1
    return out


def redistribute(pool: int, balances: Mapping[str, int], total: int) -> dict[str, int]:
    """Each holder's payout from `pool` (only those above zero are listed)."""
    if pool < 0 or total < 0 or any(b < 0 for b in balances.values()):
        raise ValueError("pool, total and balances are never negative")
    members = {h: b for h, b in balances.items() if b > 0 and h not in POOLS}
    groups: dict[str, int] = {}
    for holder, balance in members.items():
        groups[_group(holder)] = groups.get(_group(holder), 0) + balance
    room = {g: _headroom(g, b, total) for g, b in groups.items()}
    given = dict.fromkeys(groups, 0)
    open_groups = {g for g, r in room.items() if r is None or r > 0}
    left = pool
    while left > 0 and open_groups:
        offer = _pro_rata(left, {g: groups[g] for g in open_groups})
        capped = set()
        for g in sorted(open_groups):
            limit = room[g]
            take = offer[g] if limit is None else min(offer[g], limit - given[g])
            given[g] += take
            left -= take
            if limit is not None and given[g] >= limit:
                capped.add(g)
        if not capped:
            break  # everyone took their whole offer: the pool is placed
        open_groups -= capped
    payouts: dict[str, int] = {}
    for g, amount in given.items():
        if g == FRANCHISEES:
            inside = {h: b for h, b in members.items() if h.startswith("franchisee:")}
            payouts.update(_pro_rata(amount, inside))
        else:
            payouts[g] = amount
    return {h: a for h, a in payouts.items() if a > 0}
