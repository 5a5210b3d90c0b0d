"""Camera footage to HQ as evidence (issue 21): the segments HQ asked for (and every segment of a camera set to
upload all), sent as they are on disk, in pieces, resumable from what HQ holds, at a limited rate and only while no
sealed block waits (sales go first); then the segment's key, sealed to HQ's KYC key, and HQ's signed receipt. HQ checks
the bytes against the hash in this terminal's chain: a file altered here is refused there, and HQ is told."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.client.http import HQClient, Refused
from sync.protocol import footage
from sync.protocol.messages import verify_receipt
from terminal.core.errors import WrongState
from terminal.services import DEFAULT_EVIDENCE_RATE_KIB, now_ms
from terminal.store import repos
from terminal.store.db import Store
from terminal.wallet.hd import Wallet

logger = logging.getLogger(__name__)

PIECE_MAX = 1 << 20
PIECE_MIN = 64 * 1024
SLICE_S = 2.0  # one turn of the upload job: then sealing and pushing sales get their turn


@dataclass
class EvidenceReport:
    stored: int = 0
    missing: int = 0
    refused: int = 0
    bytes: int = 0
    unfinished: bool = False  # the slice ended (time, or a block to push) with segments still to send


class Throttle:
    """At most `rate` bytes a second on average, across turns of the job."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.clock, self.sleep = max(1024, rate), clock, sleep
        self._free_at = clock()

    def take(self, n: int) -> None:
        now = self.clock()
        if self._free_at > now:
            self.sleep(self._free_at - now)
        self._free_at = max(now, self._free_at) + n / self.rate


def rate_of(store: Store) -> int:
    """The upload rate in bytes a second (`settings --evidence-rate`)."""
    value = store.meta("evidence_rate_kib")
    return (int(value) if value is not None and value.isdigit() else DEFAULT_EVIDENCE_RATE_KIB) * 1024


def send_evidence(store: Store, recordings: Path, client: HQClient, wallet: Wallet, throttle: Throttle, *,
                  budget_s: float = SLICE_S, yield_to: Callable[[], bool] = lambda: False) -> EvidenceReport:
    """One turn: upload what is queued until the budget is spent or `yield_to()` says a block waits."""
    hq_kyc, hq_receipt = store.meta("hq_kyc_key"), store.meta("hq_receipt_key")
    if not (hq_kyc and hq_receipt):
        raise WrongState("This terminal is not enrolled with HQ.")
    report = EvidenceReport()
    started = throttle.clock()

    def over() -> bool:
        return throttle.clock() - started >= budget_s or yield_to()

    for item in repos.evidence_waiting(store):
        if over():
            report.unfinished = True
            return report
        sha = item["sha256"]
        try:
            outcome = _send_one(store, recordings, client, wallet, throttle, sha, bytes.fromhex(hq_kyc),
                                bytes.fromhex(hq_receipt), over, report)
        except Refused as exc:
            if _code(exc) != "not_in_chain":
                raise
            continue  # its record is not in a block HQ holds yet: next turn
        if outcome is None:
            report.unfinished = True
            return report
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _code(exc: Refused) -> str:
    error = (exc.body or {}).get("error")
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _send_one(store: Store, recordings: Path, client: HQClient, wallet: Wallet, throttle: Throttle, sha: str,
              hq_kyc: bytes, hq_receipt: bytes, over: Callable[[], bool], report: EvidenceReport) -> str | None:
    """Send one segment on from where HQ holds it. Its outcome ('stored', 'missing', 'refused'), or None when the
    turn ended first."""
    seg = repos.camera_segment_by_sha256(store, sha)
    if seg is None or not (recordings / seg["path"]).is_file():
        return _finish(store, client, sha, "missing")
    state = client.evidence_status(sha)
    if state.get("refused"):
        return _finish(store, client, sha, "refused", tell=False)
    size, offset = int(state["size"]), int(state["received"])
    with open(recordings / seg["path"], "rb") as fh:
        head = fh.read(footage.HEAD_LEN)
        while offset < size and not state.get("bytes_verified"):
            if over():
                _progress(store, sha, offset, size)
                return None
            fh.seek(offset)
            piece = fh.read(min(PIECE_MAX, max(PIECE_MIN, throttle.rate), size - offset))
            if not piece:  # shorter than the ledger says: this is not the recorded segment any more
                return _finish(store, client, sha, "missing")
            throttle.take(len(piece))
            try:
                state = client.put_evidence(sha, offset, piece)
            except Refused as exc:
                if _code(exc) == "wrong_offset":
                    offset = int(((exc.body or {}).get("error") or {}).get("received", 0))
                    continue
                if _code(exc) in ("segment_mismatch", "refused"):
                    logger.warning("HQ refused footage %s: %s", seg["path"], exc)
                    return _finish(store, client, sha, "refused", tell=False)
                raise
            report.bytes += len(piece)
            offset = int(state["received"])
    _progress(store, sha, size, size)
    try:
        key = footage.key_for(head, wallet.recording_key())
    except footage.FootageError:
        return _finish(store, client, sha, "missing")
    answer = client.put_evidence_key(sha, footage.wrap_key(key, sha, hq_kyc))
    receipt, signature = answer.get("receipt"), answer.get("receipt_signature")
    if not (isinstance(receipt, dict) and isinstance(signature, str) and receipt.get("sha256") == sha
            and receipt.get("purpose") == "hotpot/evidence-receipt/v1"
            and verify_receipt(receipt, signature, hq_receipt)):
        raise WrongState("HQ's receipt for footage {sha} does not verify; it stays to be sent.", sha=sha[:12])
    return _finish(store, client, sha, "stored", tell=False, receipt=answer)


def _progress(store: Store, sha: str, sent: int, size: int) -> None:
    with store.transaction() as conn:
        repos.evidence_progress(conn, sha, sent, size)


def _finish(store: Store, client: HQClient, sha: str, outcome: str, *, tell: bool = True,
            receipt: dict[str, Any] | None = None) -> str:
    if outcome == "missing" and tell:
        client.evidence_missing(sha)
    with store.transaction() as conn:
        repos.evidence_done(conn, sha, outcome, now_ms(), json.dumps(receipt) if receipt else None)
    return outcome
