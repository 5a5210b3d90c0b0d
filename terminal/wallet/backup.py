"""The backup check: the owner re-enters 3 random words of the 24 before the wallet counts as backed up."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

CHALLENGE_WORDS = 3


def backup_challenge(word_count: int = 24, rng: secrets.SystemRandom | None = None) -> list[int]:
    """Three distinct 1-based word positions, in ascending order, chosen at random."""
    rng = rng or secrets.SystemRandom()
    return sorted(rng.sample(range(1, word_count + 1), CHALLENGE_WORDS))


def backup_answers_match(mnemonic: str, positions: Sequence[int], answers: Sequence[str]) -> bool:
    words = mnemonic.split()
    if len(positions) != CHALLENGE_WORDS or len(answers) != len(positions):
        return False
    if any(not 1 <= p <= len(words) for p in positions) or len(set(positions)) != len(positions):
        return False
    return all(words[p - 1] == a.strip().lower() for p, a in zip(positions, answers, strict=True))
