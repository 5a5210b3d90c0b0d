"""Sync on the terminal: its store as the sync client's Outbox, enrollment with HQ, and the background jobs
(seal, push, pull) on their own thread and their own database connection."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sync.client.http import HQClient, SyncError
from sync.client.outbox import OutboxBlock
from sync.client.syncer import QuarantineStop, Syncer, backoff_s
from sync.protocol.blocks import BlockHeader
from sync.protocol.messages import enrollment_digest
from terminal.backup import DailyBackup
from terminal.core.errors import InvalidInput, WrongState
from terminal.core.kyc import STATUSES as KYC_STATUSES
from terminal.core.menu import MenuItem, menu_item_from_dict
from terminal.core.tokens import TokenPolicy, policy_from_dict
from terminal.evidence import SLICE_S, EvidenceReport, Throttle, rate_of, send_evidence
from terminal.kyc import upload_pending
from terminal.ledger import progress
from terminal.ledger.journal import append_record
from terminal.ledger.sealer import SealPolicy, load_blocks, seal_pending
from terminal.services import Terminal, now_ms
from terminal.store import repos
from terminal.store.db import Store, open_store
from terminal.wallet.hd import Wallet

logger = logging.getLogger(__name__)


class TerminalOutbox:
    """sync.client's Outbox over the terminal's store (a connection of its own: the sync thread's)."""

    def __init__(self, store: Store, terminal_id: str) -> None:
        self.store = store
        self.terminal_id = terminal_id

    def blocks_from(self, height: int, limit: int, *, max_records: int) -> list[OutboxBlock]:
        out: list[OutboxBlock] = []
        records = 0
        for block, _ in load_blocks(self.store, height):
            if out and (len(out) >= limit or records + block.header.record_count > max_records):
                break
            out.append(OutboxBlock(block.height, block.hash.hex(), block.encode(), block.header.record_count))
            records += block.header.record_count
        return out

    def first_unacknowledged(self) -> int | None:
        return progress.first_unacknowledged(self.store.conn)

    def backlog(self) -> int:
        return progress.backlog(self.store.conn)

    def acknowledge(self, height: int, receipt: dict[str, Any], signature: str) -> None:
        with self.store.transaction() as conn:
            progress.acknowledge(conn, height, receipt, signature, now_ms())

    def quarantine(self, height: int, reason: str, detail: str) -> None:
        with self.store.transaction() as conn:
            progress.quarantine(conn, height, reason, detail, now_ms())
            repos.set_meta(conn, "sync_last_error", f"HQ refused block {height}: {reason}")

    def quarantined_height(self) -> int | None:
        return progress.quarantined_height(self.store.conn)

    def updates_cursor(self) -> int:
        return int(self.store.meta("hq_cursor") or 0)

    def claims_cursor(self) -> int:
        return int(self.store.meta("claims_cursor") or 0)

    def kyc_cursor(self) -> int:
        return int(self.store.meta("kyc_cursor") or 0)

    def apply_updates(self, updates: dict[str, Any]) -> None:
        """Validate everything first, then one transaction: the items, the policies, their records, the cursor."""
        with self.store.transaction() as conn:
            self.apply_updates_in(conn, updates, now_ms())

    def apply_updates_in(self, conn: sqlite3.Connection, updates: dict[str, Any], at: int, *,
                         whole_menu: bool = False) -> None:
        """Apply HQ's updates inside the caller's transaction. The menu version becomes HQ's cursor whenever menu
        items arrive (sales record it; HQ checks their prices against that version). With whole_menu (enrollment),
        HQ's menu replaces the local one: items HQ does not sell are taken off."""
        items, policies, refused = _usable(updates)
        cursor = int(updates["cursor"])
        for what, problem in refused:
            # One update this terminal cannot apply must not hold back every later one: it is skipped (HQ sends
            # the item again when it is changed), recorded, and shown, and the rest is applied.
            append_record(conn, self.terminal_id, "update_refused", {"what": what, "problem": problem[:1000]}, at)
            logger.warning("HQ update refused: %s: %s", what, problem)
        if refused:  # kept until an update applies cleanly (a contact with HQ does not clear it)
            repos.set_meta(conn, "sync_update_error", f"HQ's update of {refused[0][0]} could not be applied: "
                                                      f"{refused[0][1]}" + (f" (and {len(refused) - 1} more)"
                                                                             if len(refused) > 1 else ""))
        elif items or policies:
            repos.set_meta(conn, "sync_update_error", "")
        if whole_menu:
            repos.take_off_menu_except(conn, [i.id for i in items])
        if items or whole_menu:
            repos.save_menu_items(conn, items)
            append_record(conn, self.terminal_id, "menu_loaded",
                          {"source": "hq", "version": cursor, "prices": {i.id: i.price for i in items}}, at)
            repos.set_meta(conn, "menu_version", str(cursor))
        for policy in policies:
            repos.save_policy(conn, policy, at)
            append_record(conn, self.terminal_id, "policy_received", policy.to_dict(), at)
        repos.set_meta(conn, "hq_cursor", str(cursor))
        claims = [c for c in updates.get("claims", []) if isinstance(c, dict) and isinstance(c.get("check_id"), str)
                  and isinstance(c.get("claimed_at_ms"), int)]
        for claim in claims:  # informational: which checks' shares customers took (History shows it)
            repos.mark_claimed(conn, claim["check_id"], claim["claimed_at_ms"])
        if isinstance(updates.get("claims_cursor"), int):
            repos.set_meta(conn, "claims_cursor", str(updates["claims_cursor"]))
        for decision in updates.get("kyc", []):  # HQ's decisions on the cases taken here (the KYC list shows them)
            if isinstance(decision, dict) and isinstance(decision.get("case_id"), str) and \
                    decision.get("status") in KYC_STATUSES:
                note = decision.get("note")
                repos.set_kyc_status(conn, decision["case_id"], decision["status"],
                                     note[:500] if isinstance(note, str) and note else None)
        if isinstance(updates.get("kyc_cursor"), int):
            repos.set_meta(conn, "kyc_cursor", str(updates["kyc_cursor"]))
        wanted = [s for s in updates.get("evidence", []) if isinstance(s, str) and len(s) == 64
                  and all(c in "0123456789abcdef" for c in s)]
        if wanted:  # footage HQ asked for (staff requested an incident's segments): the upload job sends it
            repos.want_evidence(conn, wanted, "requested", at)

    def note_contact(self, ok: bool, error: str | None) -> None:
        with self.store.transaction() as conn:
            repos.set_meta(conn, "sync_last_contact_ms" if ok else "sync_last_failure_ms", str(now_ms()))
            repos.set_meta(conn, "sync_last_error", error or "")


def _usable(updates: dict[str, Any]) -> tuple[list[MenuItem], list[TokenPolicy], list[tuple[str, str]]]:
    """HQ's updates this terminal can apply, and (what, why) for each it cannot."""
    items: list[MenuItem] = []
    policies: list[TokenPolicy] = []
    refused: list[tuple[str, str]] = []
    for data in updates.get("menu", []):
        try:
            items.append(menu_item_from_dict(data))
        except InvalidInput as exc:
            name = data.get("id") if isinstance(data, dict) else None
            refused.append((f"menu item {name!r}" if isinstance(name, str) else "a menu item", exc.message))
    for data in updates.get("policies", []):
        try:
            policies.append(policy_from_dict(data))
        except InvalidInput as exc:
            version = data.get("version") if isinstance(data, dict) else None
            refused.append((f"token policy {version!r}", exc.message))
    return items, policies, refused


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_hq_url(hq_url: str, *, insecure: bool = False) -> None:
    """HQ is reached over https; plain http only on this machine, or when asked for (--insecure, a test network):
    the terminal's pushes are signed, but HQ's menu, policy and answers would not be protected on the way."""
    parsed = urlsplit(hq_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput("The HQ address must start with https:// (for example https://hq.example.org).")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS and not insecure:
        raise InvalidInput(f"The HQ address {hq_url} is plain http: HQ is reached over https://. For a test network "
                           "without TLS, enroll with --insecure.")


def enroll(term: Terminal, wallet: Wallet, hq_url: str, code: str, *, insecure: bool = False) -> dict[str, Any]:
    """Register this terminal's keys with HQ using a one-time code; keep HQ's keys, policy and menu."""
    if term.enrolled():
        raise WrongState(f"This terminal is already enrolled with {term.hq_url}.")
    check_hq_url(hq_url, insecure=insecure)
    code = code.strip()
    signing = wallet.signer.public_key.hex()
    body = {"code": code, "terminal_id": term.terminal_id, "account_xpub": wallet.account_xpub,
            "signing_public_key": signing,
            "signature": wallet.signer.sign_digest(enrollment_digest(code, term.terminal_id, wallet.account_xpub,
                                                                      signing)).hex()}
    client = HQClient(hq_url, term.terminal_id)
    try:
        answer = client.enroll(body)
    except SyncError as exc:
        raise WrongState(f"Enrollment failed: {exc}") from None
    finally:
        client.close()
    outbox = TerminalOutbox(term.store, term.terminal_id)
    with term.store.transaction() as conn:  # HQ's menu, policy, keys and the enrolled record: all or nothing
        outbox.apply_updates_in(conn, {"cursor": answer.get("cursor", 0), "menu": answer.get("menu") or [],
                                       "policies": [answer["policy"]] if answer.get("policy") else []}, now_ms(),
                                whole_menu=True)
        claim_base = answer.get("claim_base_url")
        if not isinstance(claim_base, str) or not claim_base.startswith(("https://", "http://")):
            claim_base = hq_url.rstrip("/") + "/c"  # an HQ from before it said where its claim page is
        for key, value in (("hq_url", hq_url.rstrip("/")), ("hq_receipt_key", answer["hq_receipt_public_key"]),
                           ("hq_kyc_key", answer["hq_kyc_public_key"]), ("node_type", answer["node_type"]),
                           ("claim_base_url", claim_base), ("hq_insecure", "1" if insecure else "")):
            repos.set_meta(conn, key, value)
        append_record(conn, term.terminal_id, "enrolled", {"hq_url": hq_url.rstrip("/"),
                                                           "node_type": answer["node_type"]}, now_ms())
    term.node_type = answer["node_type"]
    term.claim_base_url = claim_base
    term.reload_reference_data()  # HQ's menu and policy from the next sale on
    return answer


@dataclass
class SyncRound:
    sealed_blocks: int = 0
    acknowledged: int = 0
    records: int = 0
    applied_updates: int = 0
    kyc_uploaded: int = 0
    evidence: EvidenceReport | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class SyncService:
    """The background jobs: seal (policy: 500 records or 5 s), push right after a seal and every 5 s while
    anything is pending (with backoff after failures), pull every 60 s. One job at a time, on one thread, over a
    database connection of its own; stop() lets a job finish, or abandons its request, without harm to the state.

    With local_only (a terminal not enrolled yet, as the counter app allows) only the seal job runs."""

    def __init__(self, data_dir: Path, wallet: Wallet, *, seal_policy: SealPolicy | None = None,
                 push_every_s: float = 5.0, pull_every_s: float = 60.0, seal_every_s: float = 1.0,
                 on_change: Callable[[], None] | None = None, local_only: bool = False,
                 backup_check_s: float = 600.0, evidence_every_s: float = 3.0) -> None:
        self.store = open_store(data_dir)
        self.terminal_id = self.store.terminal_id()
        hq_url, key = self.store.meta("hq_url"), self.store.meta("hq_receipt_key")
        if not (hq_url and key) and not local_only:
            self.store.close()
            raise WrongState("This terminal is not enrolled with HQ yet; run 'hotpot-terminal enroll'.")
        if hq_url:
            try:
                check_hq_url(hq_url, insecure=self.store.meta("hq_insecure") == "1")
            except InvalidInput:
                self.store.close()
                raise
        self.wallet = wallet
        self.outbox = TerminalOutbox(self.store, self.terminal_id)
        self.client: HQClient | None = None
        self.syncer: Syncer | None = None  # None: not enrolled, only the seal job runs
        if hq_url and key:
            self.client = HQClient(hq_url, self.terminal_id, wallet.signer.sign_digest)
            self.syncer = Syncer(self.outbox, self.client, bytes.fromhex(key))
        # The automatic local backup (at most daily; checked every backup_check_s, first a minute after start).
        self.daily_backup = DailyBackup(data_dir, self.terminal_id, wallet, self.store.meta, self._set_meta)
        self.backup_check_s = backup_check_s
        self.seal_policy = seal_policy or SealPolicy()
        self.push_every_s, self.pull_every_s, self.seal_every_s = push_every_s, pull_every_s, seal_every_s
        self.on_change = on_change
        self.recordings = Path(data_dir) / "recordings"
        self.evidence_every_s = evidence_every_s
        self.throttle = Throttle(rate_of(self.store))
        self._failures = self._evidence_failures = 0
        self._next_push_at = self._next_evidence_at = 0.0
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    @property
    def enrolled(self) -> bool:
        return self.syncer is not None

    # --- one round, for `sync --once` and tests ---

    def run_once(self, evidence_budget_s: float = float("inf")) -> SyncRound:
        result = SyncRound()
        with self._lock:
            result.sealed_blocks = len(self._seal(force=True))
            syncer = self.syncer
            if syncer is None:
                self._changed()
                return result
            self._tell_backlog()
            try:
                report = syncer.push()
                result.acknowledged, result.records = report.acknowledged, report.records
            except SyncError as exc:
                result.errors.append(f"push: {exc}")
            try:
                result.kyc_uploaded = self._send_kyc()
            except (SyncError, WrongState) as exc:
                result.errors.append(f"kyc: {exc}")
            self._tell_backlog()  # after the push: what is left
            try:
                result.applied_updates = syncer.pull()
            except (SyncError, InvalidInput) as exc:
                result.errors.append(f"pull: {exc}")
            try:  # footage HQ asked for, after everything else (the CLI's round sends all of it)
                result.evidence = self._send_evidence(budget_s=evidence_budget_s)
            except (SyncError, WrongState, OSError) as exc:
                result.errors.append(f"evidence: {exc}")
            self.outbox.note_contact(not result.errors, "; ".join(result.errors) or None)
        return result

    # --- the background jobs ---

    def start(self) -> None:
        self._scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                              job_defaults={"max_instances": 1, "coalesce": True,
                                                            "misfire_grace_time": 30})
        self._scheduler.add_job(self._seal_job, "interval", seconds=self.seal_every_s, id="seal")
        if self.enrolled:
            self._scheduler.add_job(self._push_job, "interval", seconds=self.push_every_s, id="push")
            self._scheduler.add_job(self._pull_job, "interval", seconds=self.pull_every_s, id="pull",
                                    next_run_time=None)
            self._scheduler.add_job(self._evidence_job, "interval", seconds=self.evidence_every_s, id="evidence")
        self._scheduler.add_job(self._backup_job, "interval", seconds=self.backup_check_s, id="backup",
                                next_run_time=datetime.now().astimezone() + timedelta(
                                    seconds=min(60.0, self.backup_check_s)))
        self._scheduler.start()
        if self.enrolled:
            self._scheduler.modify_job("pull", next_run_time=datetime.now().astimezone())  # pull once right away

    def stop(self, wait: bool = True) -> None:
        if self._scheduler is not None:
            if self.client is not None:
                self.client.close()  # abandons a request in flight: its job fails cleanly, nothing half-applied
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None
        self.store.close()

    def _send_kyc(self) -> int:
        """Sealed KYC cases to HQ, each kept here until HQ's receipt for it verifies (then the copy goes)."""
        if self.client is None or not repos.kyc_upload_waiting(self.store):
            return 0
        key = self.store.meta("hq_receipt_key")
        assert key is not None
        return upload_pending(self.store, self.client.put_kyc_case, bytes.fromhex(key))

    def _send_evidence(self, budget_s: float) -> EvidenceReport | None:
        if self.client is None or not repos.evidence_summary(self.store)["waiting"]:
            return None
        self.throttle.rate = rate_of(self.store)
        return send_evidence(self.store, self.recordings, self.client, self.wallet, self.throttle, budget_s=budget_s,
                             yield_to=lambda: self.outbox.first_unacknowledged() is not None)

    def _evidence_job(self) -> None:
        """A turn of footage upload (at most SLICE_S, and never while a sealed block waits: sales go first)."""
        if self.syncer is None or time.monotonic() < max(self._next_push_at, self._next_evidence_at):
            return
        with self._lock:
            if self.outbox.first_unacknowledged() is not None:
                return
            try:
                report = self._send_evidence(budget_s=SLICE_S)
            except (SyncError, WrongState, OSError) as exc:
                # Its own backoff: a refused piece of footage must not slow the sales' pushes down.
                self._evidence_failures += 1
                self._next_evidence_at = time.monotonic() + backoff_s(self._evidence_failures)
                self.outbox.note_contact(not exc.retryable if isinstance(exc, SyncError) else True,
                                         f"footage: {exc}")
                logger.info("footage upload failed: %s", exc)
                report = None
            else:
                self._evidence_failures = 0
        if report is not None and (report.stored or report.missing or report.refused or report.bytes):
            self._changed()

    def _seal(self, *, force: bool) -> list[BlockHeader]:
        return seal_pending(self.store, self.terminal_id, self.wallet.signer.sign_digest, now_ms,
                            policy=self.seal_policy, force=force)

    def _seal_job(self) -> None:
        with self._lock:
            sealed = self._seal(force=False)
        if sealed:
            self._changed()
            self._push_job()  # right after a seal

    def _push_job(self) -> None:
        syncer = self.syncer
        if syncer is None or time.monotonic() < self._next_push_at:
            return
        with self._lock:
            blocks_waiting = self.outbox.first_unacknowledged() is not None
            if not blocks_waiting and not repos.kyc_upload_waiting(self.store):
                return
            self._tell_backlog()
            try:
                report = syncer.push() if blocks_waiting else None
                uploaded = self._send_kyc()
            except QuarantineStop as exc:
                self.outbox.note_contact(True, str(exc))
            except (SyncError, WrongState) as exc:
                self._failures += 1
                delay = backoff_s(self._failures)
                self._next_push_at = time.monotonic() + delay
                self.outbox.note_contact(False, str(exc))
                logger.info("push failed (%s); next try in %.1f s", exc, delay)
            else:
                self._failures = 0
                self.outbox.note_contact(True, None)
                if uploaded or (report is not None and report.acknowledged):
                    self._changed()
                return
        self._changed()  # a failure or a stop is news for a status bar too

    def _pull_job(self) -> None:
        syncer = self.syncer
        if syncer is None:
            return
        with self._lock:
            self._tell_backlog()
            try:
                if syncer.pull():
                    self._changed()
                self.outbox.note_contact(True, None)
            except (SyncError, InvalidInput) as exc:
                self.outbox.note_contact(False, f"pull: {exc}")

    def _tell_backlog(self) -> None:
        if self.client is not None:
            self.client.backlog = self.outbox.backlog()

    def _set_meta(self, key: str, value: str) -> None:
        with self.store.transaction() as conn:
            repos.set_meta(conn, key, value)

    def _backup_job(self) -> None:
        try:
            folder = self.daily_backup.run()
        except Exception as exc:  # a full or missing backup disk must not stop the counter: kept for the status
            logger.warning("the daily backup failed: %s", exc)
            self._changed()
            return
        if folder is not None:
            logger.info("daily backup written to %s", folder)
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

