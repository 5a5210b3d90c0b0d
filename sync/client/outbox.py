"""What the sync client needs from the terminal's store, as an interface (the terminal implements it; this package
imports nothing of the terminal's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboxBlock:
    height: int
    hash: str  # hex
    encoded: bytes  # the block in its wire form (canonical JSON, sync.protocol.blocks), ready to send
    record_count: int


class Outbox(Protocol):
    def blocks_from(self, height: int, limit: int, *, max_records: int) -> list[OutboxBlock]:
        """Sealed blocks from `height` on, in height order, acknowledged or not (a gap answer needs old ones)."""

    def first_unacknowledged(self) -> int | None:
        """The lowest height HQ has not acknowledged, or None when all are (or there are none)."""

    def acknowledge(self, height: int, receipt: dict[str, Any], signature: str) -> None:
        """Record HQ's verified receipt for a block: only now does it count as acknowledged."""

    def quarantine(self, height: int, reason: str, detail: str) -> None:
        """HQ refused this block: keep it (nothing is deleted), stop pushing at it until a manager resolves it."""

    def quarantined_height(self) -> int | None:
        """The lowest unresolved quarantined height, or None."""

    def updates_cursor(self) -> int:
        ...

    def claims_cursor(self) -> int:
        """The last of HQ's claim entries this terminal has heard of (0: none)."""
        ...

    def kyc_cursor(self) -> int:
        """The last of HQ's KYC decisions this terminal has heard of (0: none)."""
        ...

    def apply_updates(self, updates: dict[str, Any]) -> None:
        """Apply menu and policy changes, which checks customers claimed and HQ's decisions on this terminal's KYC
        cases, in one local transaction that also moves the cursors."""

    def note_contact(self, ok: bool, error: str | None) -> None:
        """Remember how the last exchange with HQ went (shown in the terminal's status)."""
