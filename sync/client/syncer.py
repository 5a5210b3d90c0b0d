"""Pushing sealed blocks to HQ and pulling updates: exactly once, in height order, through outages and refusals."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from sync.client.http import HQClient, Refused, SyncError
from sync.client.outbox import Outbox
from sync.protocol.messages import verify_receipt

logger = logging.getLogger(__name__)

# A batch is prepared block by block (each block is encoded once, then spliced into the request), so even a big
# batch never holds the interpreter long while a cashier sells in the same process.
BATCH_BLOCKS = 20
BATCH_RECORDS = 2_000
MAX_BACKOFF_S = 60.0


@dataclass
class PushReport:
    acknowledged: int = 0
    records: int = 0
    quarantined: list[tuple[int, str]] = field(default_factory=list)
    resent_from: int | None = None


class QuarantineStop(SyncError):
    retryable = False


def backoff_s(failures: int, rng: random.Random | None = None) -> float:
    """Exponential, capped at a minute (1, 2, 4 ... 60 s), with jitter so that terminals do not stampede HQ."""
    ceiling = min(MAX_BACKOFF_S, 2.0 ** max(0, failures - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


class Syncer:
    def __init__(self, outbox: Outbox, client: HQClient, hq_receipt_key: bytes) -> None:
        self.outbox, self.client, self.hq_receipt_key = outbox, client, hq_receipt_key

    def push(self) -> PushReport:
        """Push every unacknowledged block, in batches, until none is left. Raises SyncError (retry later) or
        QuarantineStop (HQ refused a block: it is quarantined and nothing after it can be accepted)."""
        report = PushReport()
        while True:
            stuck = self.outbox.quarantined_height()
            start = self.outbox.first_unacknowledged()
            if start is None:
                return report
            if stuck is not None and stuck <= start:
                raise QuarantineStop(f"block {stuck} is quarantined; a manager must resolve it before syncing on")
            batch = self.outbox.blocks_from(start, BATCH_BLOCKS, max_records=BATCH_RECORDS)
            if stuck is not None:
                batch = [b for b in batch if b.height < stuck]
            if not batch:
                return report
            self._send(batch, report)

    def _send(self, batch: list[Any], report: PushReport) -> None:
        answer = self.client.push([b.encoded for b in batch])
        by_height = {b.height: b for b in batch}
        for result in answer.get("results", []):
            height, status = result.get("height"), result.get("status")
            if status in ("accepted", "duplicate"):
                receipt, signature = result.get("receipt"), result.get("receipt_signature")
                if not (isinstance(receipt, dict) and isinstance(signature, str)
                        and receipt.get("height") == height and receipt.get("terminal_id") == self.client.terminal_id
                        and receipt.get("block_hash") == by_height[height].hash
                        and verify_receipt(receipt, signature, self.hq_receipt_key)):
                    raise SyncError(f"HQ's receipt for block {height} does not verify; not counting it")
                self.outbox.acknowledge(height, receipt, signature)
                report.acknowledged += 1
                report.records += by_height[height].record_count
            elif status == "gap":
                head = answer.get("head")
                resend = 0 if head is None else int(head["height"]) + 1
                logger.warning("HQ holds blocks only up to %s; resending from %s", resend - 1, resend)
                report.resent_from = resend
                self._resend_from(resend, report)
                return
            elif status in ("invalid", "conflict"):
                reason = str(result.get("reason") or status)
                self.outbox.quarantine(height, reason, str(result.get("detail") or ""))
                report.quarantined.append((height, reason))
                raise QuarantineStop(f"HQ refused block {height}: {reason} ({result.get('detail', '')})")
            elif status == "not_processed":
                continue
            else:
                raise SyncError(f"HQ answered block {height} with an unknown status {status!r}")

    def _resend_from(self, height: int, report: PushReport) -> None:
        """HQ lost blocks we count as acknowledged (e.g. restored from a backup): send them again, in order."""
        while True:
            batch = self.outbox.blocks_from(height, BATCH_BLOCKS, max_records=BATCH_RECORDS)
            if not batch:
                return
            first = self.outbox.first_unacknowledged()
            self._send(batch, report)
            height = batch[-1].height + 1
            if first is not None and height > first:
                return  # caught up with the unacknowledged ones: the normal loop carries on

    def pull(self) -> int:
        """Fetch and apply updates since the cursor; returns how many changes were applied."""
        cursor, claims_after, kyc_after = (self.outbox.updates_cursor(), self.outbox.claims_cursor(),
                                           self.outbox.kyc_cursor())
        updates = self.client.updates(cursor, claims_after, kyc_after)
        if not isinstance(updates.get("cursor"), int) or updates["cursor"] < cursor:
            raise SyncError("HQ sent an updates cursor that goes backwards")
        claims_cursor = updates.get("claims_cursor", claims_after)
        if not isinstance(claims_cursor, int) or claims_cursor < claims_after or \
                not isinstance(updates.get("claims", []), list):
            raise SyncError("HQ sent a claims cursor that goes backwards")
        kyc_cursor = updates.get("kyc_cursor", kyc_after)
        if not isinstance(kyc_cursor, int) or kyc_cursor < kyc_after or not isinstance(updates.get("kyc", []), list):
            raise SyncError("HQ sent a KYC decisions cursor that goes backwards")
        if not isinstance(updates.get("evidence", []), list):
            raise SyncError("HQ sent a list of wanted footage that is not a list")
        changes = len(updates.get("menu", [])) + len(updates.get("policies", [])) + len(updates.get("claims", [])) \
            + len(updates.get("kyc", [])) + len(updates.get("evidence", []))
        if changes or updates["cursor"] != cursor or claims_cursor != claims_after or kyc_cursor != kyc_after:
            self.outbox.apply_updates(updates)
        return changes


__all__ = ["HQClient", "PushReport", "QuarantineStop", "Refused", "SyncError", "Syncer", "backoff_s"]
