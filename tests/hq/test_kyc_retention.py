"""KYC retention with a moved clock, against a real HQ and a real terminal: cases taken at the counter and decided
through the staff API; then the retention jobs run as if 30 days, 91 days, a year and five years had passed.
Photographs go 90 days after the decision (the case is sealed again without them, under a new CID), an approval
lapses after 365 days (the terminal and the customer's page hear it), and a case's data goes 5 years after the
relationship ended, later when the customer's account was active since. Each step is audited and runs once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import requests

from sync.hq import kyc
from sync.hq.keys import load_or_create_keys
from sync.protocol.kyc import open_envelope
from terminal.kyc import list_cases, submit_case
from tests.hq.conftest import Till, sql
from tests.hq.test_claims import Phone, _sell, _sync
from tests.hq.test_kyc_desk import DETAILS, IMAGES
from tests.hq.test_kyc_review import _token
from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli
from tests.web.consolekit import make_user


def _retention(hq: HQServer, days: float) -> dict[str, int]:
    """The server's retention jobs, run as if `days` had passed."""
    keys = load_or_create_keys(hq.key_dir)

    async def run() -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(hq.database_url, autocommit=True) as conn:
            return await kyc.retention(conn, hq.kyc_dir, keys.kyc, now=datetime.now(UTC) + timedelta(days=days))

    with ThreadPoolExecutor(1) as worker:  # its own event loop (a browser test's thread has one running)
        return worker.submit(asyncio.run, run()).result()


def _blob(hq: HQServer, case_id: str) -> Any:
    return sql(hq.database_url, "SELECT blob FROM kyc_cases WHERE case_id = %s", (case_id,))[0][0]


def _kyc_state(hq: HQServer, account_id: str) -> dict[str, Any]:
    answer = requests.get(f"{hq.url}/api/v1/accounts/{account_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()["kyc"]
    return state


def test_retention_with_a_moved_clock(make_till: Callable[..., Till], hq: HQServer) -> None:
    make_user(hq, "tiko.c", "compliance")
    officer = _token(hq, "tiko.c")
    till = make_till()
    manager = till.term.login("Nino", "2222")
    phone = Phone()
    assert _kyc_state(hq, phone.id) == {"state": "none"}
    kept = submit_case(till.term, manager, DETAILS, IMAGES, account=phone.id, analysis={"match_score": 0.9})
    again = submit_case(till.term, manager, {**DETAILS, "surname": "Beridze"}, IMAGES, analysis={})
    sale, = _sell(till, 1)
    _sync(till)  # the blocks (with the kyc_submitted records) and the sealed cases go up

    # The ledger's record links the account before anyone opened the case: the customer sees it is in review.
    assert sql(hq.database_url, "SELECT account_id FROM kyc_submissions WHERE case_id = %s",
               (kept["case_id"],)) == [(phone.id,)]
    assert _kyc_state(hq, phone.id) == {"state": "in_review"}
    for case_id, decision, reason in ((kept["case_id"], "approve", "document and selfie agree"),
                                      (again["case_id"], "resubmit", "the selfie is too dark: take it again")):
        opened = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{case_id}?images=1", headers=officer, timeout=30)
        assert opened.status_code == 200 and set(opened.json()["images"]) == {"front", "back", "selfie"}
        decided = requests.post(f"{hq.url}/api/v1/staff/kyc/cases/{case_id}/decision", headers=officer,
                                json={"decision": decision, "reason": reason}, timeout=30)
        assert decided.status_code == 200, decided.text
    _sync(till)
    notes = {c["id"]: (c["status"], c["hq_note"]) for c in list_cases(till.term, manager)}
    assert notes == {kept["case_id"]: ("approved", None),  # a reason goes to the counter only to say what to bring
                     again["case_id"]: ("resubmission_requested", "the selfie is too dark: take it again")}
    state = _kyc_state(hq, phone.id)
    assert state["state"] == "verified" and state["transfers"] is True
    assert state["until"] == (datetime.now(UTC) + timedelta(days=365)).date().isoformat()

    assert _retention(hq, 30) == {"expired": 0, "images_deleted": 0, "data_deleted": 0}

    # 91 days on: the photographs go; the case is sealed again without them, under a new name.
    before = {case_id: _blob(hq, case_id) for case_id in (kept["case_id"], again["case_id"])}
    assert _retention(hq, 91) == {"expired": 0, "images_deleted": 2, "data_deleted": 0}
    assert _retention(hq, 91) == {"expired": 0, "images_deleted": 0, "data_deleted": 0}  # once only
    key = load_or_create_keys(hq.key_dir).kyc
    for case_id, old in before.items():
        new = _blob(hq, case_id)
        assert new != old and not (hq.kyc_dir / old).exists() and new == kyc.cid((hq.kyc_dir / new).read_bytes())
        header, plaintext = open_envelope((hq.kyc_dir / new).read_bytes(), key)
        doc = json.loads(plaintext)
        assert header["case_id"] == case_id and "images" not in doc
        assert set(doc["images_deleted"]) == {"front", "back", "selfie"} and doc["details"]["document_number"]
    opened = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{kept['case_id']}?images=1", headers=officer, timeout=30)
    assert opened.status_code == 200 and opened.json()["images"] == {}
    assert opened.json()["details"]["surname"] == DETAILS["surname"]

    # A year on: the approval lapses; the terminal and the customer's page hear it.
    assert _retention(hq, 366) == {"expired": 1, "images_deleted": 0, "data_deleted": 0}
    _sync(till)
    assert {c["id"]: c["status"] for c in list_cases(till.term, manager)}[kept["case_id"]] == "expired"
    assert _kyc_state(hq, phone.id) == {"state": "expired"}

    # Five years after the resubmission request ended that case, its data goes; the lapsed approval's five years
    # run from its lapse, and further while the customer's account is active.
    five = 5 * 365 + 2
    assert _retention(hq, five) == {"expired": 0, "images_deleted": 0, "data_deleted": 1}
    gone = before[again["case_id"]]
    assert _blob(hq, again["case_id"]) is None and not (hq.kyc_dir / gone).exists()
    deleted = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{again['case_id']}", headers=officer, timeout=30)
    assert deleted.status_code == 410 and deleted.json()["error"]["code"] == "case_deleted"
    assert sql(hq.database_url, "SELECT status, decision_reason FROM kyc_cases WHERE case_id = %s",
               (again["case_id"],)) == [("resubmission_requested", None)]

    assert phone.claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200
    with psycopg.connect(hq.database_url, autocommit=True) as conn:  # the account was last active 4 years on
        conn.execute("UPDATE token_ledger SET at = now() + interval '1460 days' WHERE seq = (SELECT max(seq) FROM "
                     "token_ledger_holders WHERE holder = %s)", (phone.id,))
    assert _retention(hq, 366 + five) == {"expired": 0, "images_deleted": 0, "data_deleted": 0}
    assert _retention(hq, 1460 + five) == {"expired": 0, "images_deleted": 0, "data_deleted": 1}
    assert sorted(p.name for p in hq.kyc_dir.iterdir()) == []

    audit = sql(hq.database_url, "SELECT action, count(*) FROM audit_log WHERE actor = 'system:retention' GROUP BY "
                                 "action ORDER BY action")
    assert audit == [("kyc_data_deleted", 2), ("kyc_expired", 1), ("kyc_images_deleted", 2)]
    out = hq_cli(hq.database_url, "kyc", "retention", env={"HOTPOT_HQ_KEY_DIR": str(hq.key_dir),
                                                             "HOTPOT_HQ_KYC_DIR": str(hq.kyc_dir)}).stdout
    assert "0 approval(s) expired" in out and "personal data of 0 case(s) deleted" in out
