"""The KYC desk's service: a customer's case is validated, sealed to HQ's KYC key while it is still in memory, and
only the sealed envelope is stored (with a `kyc_submitted` record that holds nothing personal) until HQ's receipt;
then the terminal's copy goes. Managers and owners only. Capture and analysis (camera/) come in front of this."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sync.protocol.kyc import MAX_ENVELOPE, seal
from sync.protocol.messages import verify_receipt
from terminal.core.errors import InvalidInput, NotAllowed, WrongState
from terminal.core.ids import uuid7
from terminal.core.kyc import REQUIRED_IMAGES, customer_details, intake_problems
from terminal.core.users import Role, User
from terminal.ledger.journal import append_record
from terminal.services import Terminal, now_ms
from terminal.store import repos
from terminal.store.db import Store

_JPEG = b"\xff\xd8\xff"
IMAGE_NAMES = ("front", "back", "selfie", "proof_of_address", "bank_statement")


def require_kyc_access(user: User | None) -> User:
    if user is None or not user.role.at_least(Role.MANAGER):
        raise NotAllowed("KYC intake is for managers and owners.")
    return user


def submit_case(term: Terminal, user: User, details: Mapping[str, Any], images: Mapping[str, bytes], *,
                account: str | None = None, analysis: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Seal a customer's case to HQ and keep only the envelope. `images` are JPEGs by name (front, back, selfie,
    and for an enhanced case proof_of_address and bank_statement); `analysis` is what the desk measured (MRZ read,
    faces, match score). Refuses, writing nothing, what HQ could not use."""
    who = require_kyc_access(user)
    hq_key = term.store.meta("hq_kyc_key")
    if not hq_key:
        raise WrongState("KYC cases go sealed to HQ's compliance key: enroll this terminal with HQ first.")
    at = now_ms()
    case = customer_details(details, datetime.fromtimestamp(at / 1000, UTC).date())
    problems = intake_problems(case, datetime.fromtimestamp(at / 1000, UTC).date())
    if problems:
        raise InvalidInput(" ".join(problems))
    unknown = sorted(set(images) - set(IMAGE_NAMES))
    if unknown:
        raise InvalidInput(f"Unknown KYC image {unknown[0]!r}; use {', '.join(IMAGE_NAMES)}.")
    missing = [name for name in REQUIRED_IMAGES[case.level] if not images.get(name)]
    if missing:
        raise InvalidInput(f"A {case.level} case needs a photo of the {missing[0].replace('_', ' ')}.")
    for name, data in images.items():
        if not data.startswith(_JPEG):
            raise InvalidInput(f"The {name.replace('_', ' ')} photo is not a JPEG image.")
    if account is not None and not (1 <= len(account) <= 100 and account.isprintable()):
        raise InvalidInput("The customer's account id is not one.")
    case_id = uuid7(at)
    # Plain JSON (scores are fractions): the plaintext is never hashed or signed, only sealed.
    plaintext = json.dumps({
        "details": case.to_dict(), "account": account, "analysis": dict(analysis or {}),
        "images": {name: base64.b64encode(data).decode("ascii") for name, data in sorted(images.items())},
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    envelope = seal(plaintext, {"case_id": case_id, "terminal_id": term.terminal_id, "level": case.level,
                                "created_at_ms": at}, bytes.fromhex(hq_key))
    data = envelope.encode()
    if len(data) > MAX_ENVELOPE:
        raise InvalidInput("The photos are too large together (over 10 MB sealed); take them at a lower resolution.")
    with term.store.transaction() as conn:
        repos.insert_kyc_case(conn, case_id, case.level, account, at, who.name, data, envelope.sha256)
        append_record(conn, term.terminal_id, "kyc_submitted",
                      {"case_id": case_id, "level": case.level, "account": account, "sha256": envelope.sha256,
                       "size": len(data), "user": who.name}, at)
    return {"case_id": case_id, "level": case.level, "status": "submitted", "sha256": envelope.sha256,
            "size": len(data)}


def list_cases(term: Terminal, user: User) -> list[dict[str, Any]]:
    """The terminal's cases: ids, levels, statuses, whether HQ holds them. Nothing personal."""
    require_kyc_access(user)
    return repos.kyc_cases(term.store)


def upload_pending(store: Store, put: Any, hq_receipt_key: bytes) -> int:
    """Send every case HQ has not acknowledged (oldest first) through `put(case_id, envelope) -> answer`; a case
    counts as uploaded only when HQ's receipt verifies and names this envelope's hash. Returns how many."""
    done = 0
    for case_id, envelope, sha in repos.kyc_cases_to_upload(store):
        answer = put(case_id, envelope)
        receipt, signature = answer.get("receipt"), answer.get("receipt_signature")
        if not (isinstance(receipt, dict) and isinstance(signature, str)
                and receipt.get("sha256") == sha and receipt.get("case_id") == case_id
                and verify_receipt(receipt, signature, hq_receipt_key)):
            raise WrongState(f"HQ's receipt for KYC case {case_id} does not verify; the case stays to be sent.")
        with store.transaction() as conn:
            repos.acknowledge_kyc_case(conn, case_id, json.dumps(answer), now_ms())
        done += 1
    return done
