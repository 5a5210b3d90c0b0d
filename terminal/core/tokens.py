"""Security-token (ST) minting policy: how much a sale mints and how it is split exactly between the parties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.protocol.vocabulary import BASIS_POINTS, NODE_TYPES, PARTIES, policy_problem, shares_problem
from terminal.core.errors import InvalidInput


@dataclass(frozen=True)
class TokenPolicy:
    """One version of HQ's token policy. Shares are basis points (1 % = 100) per node type."""

    version: int
    rate_num: int  # ST units minted per `rate_den` tetri paid
    rate_den: int
    shares: Mapping[str, Mapping[str, int]]

    def mint_for(self, amount_tetri: int) -> int:
        return amount_tetri * self.rate_num // self.rate_den

    def shares_for(self, node_type: str) -> Mapping[str, int]:
        try:
            return self.shares[node_type]
        except KeyError:
            raise InvalidInput("Unknown node type {node_type!r}; expected one of {items}.",
                               node_type=node_type, items=', '.join(NODE_TYPES)) from None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "rate_num": self.rate_num, "rate_den": self.rate_den,
                "shares": {k: dict(v) for k, v in self.shares.items()}}


DEFAULT_POLICY = TokenPolicy(
    version=1,
    rate_num=1,
    rate_den=1,
    shares={
        "own": {"owner": 4800, "charity": 300, "customer": 4900},
        "franchise": {"owner": 2500, "franchisee": 2400, "charity": 300, "customer": 4800},
    },
)


def policy_from_dict(data: Mapping[str, Any]) -> TokenPolicy:
    """A token policy from its dict form (HQ's update or the store's JSON), checked by the shared rules."""
    if not isinstance(data, Mapping):
        raise InvalidInput("The token policy must be an object.")
    problem = policy_problem(data)
    if problem:
        raise InvalidInput(problem)
    return TokenPolicy(version=data["version"], rate_num=data["rate_num"], rate_den=data["rate_den"],
                       shares={str(k): {str(p): v for p, v in s.items()} for k, s in data["shares"].items()})


def validate_shares(shares: Mapping[str, int], what: str = "policy") -> None:
    problem = shares_problem(shares, what)
    if problem:
        raise InvalidInput(problem)


def split_tokens(minted: int, shares: Mapping[str, int]) -> dict[str, int]:
    """Split `minted` ST units by basis-point shares with largest-remainder rounding.

    Every party gets floor(minted * share / 10,000); the units left over go one each to the parties with the largest
    remainders, ties broken by PARTIES order. The parts always add up to `minted` exactly, and the result does not
    depend on the order of `shares`. Parties with a zero share are left out.
    """
    if not isinstance(minted, int) or isinstance(minted, bool) or minted < 0:
        raise InvalidInput("The minted amount must be a whole number of ST units, zero or more.")
    validate_shares(shares)
    parties = [p for p in PARTIES if shares.get(p, 0) > 0]
    parts: dict[str, int] = {}
    remainders: list[tuple[int, int, str]] = []
    for rank, party in enumerate(parties):
        whole, rest = divmod(minted * shares[party], BASIS_POINTS)
        parts[party] = whole
        remainders.append((-rest, rank, party))
    leftover = minted - sum(parts.values())
    for _, _, party in sorted(remainders)[:leftover]:
        parts[party] += 1
    return parts


def reversal_parts(original: Mapping[str, int], refunded_before: int, refunded_now: int, total: int) -> dict[str, int]:
    """The ST units to take back when `refunded_now` more tetri of a `total`-tetri sale are refunded.

    Reversals are computed cumulatively from the sale's own minted parts, so that after a full refund every party has
    given back exactly what it got, and no party ever gives back more than it received.
    """
    if total <= 0:
        return {p: 0 for p in original}
    after = refunded_before + refunded_now

    def taken_back(refunded: int) -> dict[str, int]:
        # Proportional to each party's own part: floor keeps every cumulative reversal within the party's part.
        return {p: v * refunded // total for p, v in original.items()}

    before_parts, after_parts = taken_back(refunded_before), taken_back(after)
    if after == total:
        after_parts = dict(original)
    return {p: after_parts[p] - before_parts[p] for p in original}


__all__ = ["BASIS_POINTS", "DEFAULT_POLICY", "NODE_TYPES", "PARTIES", "TokenPolicy", "policy_from_dict",
           "reversal_parts", "split_tokens", "validate_shares"]
