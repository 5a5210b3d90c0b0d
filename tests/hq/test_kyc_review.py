"""KYC review through the staff API against a real HQ: a terminal uploads sealed cases, the lists are imported, a
compliance officer opens a case (decrypted in memory, audited with the parts read), sees its screening hits and
DOMAIN.md's risk score, and decides; a high-risk case needs a second compliance officer; admins and auditors are
refused the personal data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from tests.hq.conftest import Till, sql
from tests.hq.test_kyc_upload import _envelope, _put
from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli
from tests.web.consolekit import PASSWORD, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


def _token(hq: HQServer, username: str) -> dict[str, str]:
    answer = requests.post(f"{hq.url}/api/v1/staff/login", json={"username": username, "password": PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def _case(till: Till, surname: str, given: str, born: str, nationality: str) -> str:
    case_id = str(uuid.uuid4())
    details = {"surname": surname, "given_names": given, "date_of_birth": born, "nationality": nationality,
               "phone": "+995555000111", "document_type": "passport", "document_number": "P1234567",
               "document_expiry": "2030-01-01", "level": "basic"}
    plaintext = json.dumps({"details": details, "account": None, "analysis": {"face_match": 0.71},
                            "images": {"front": "/9j/4AAQ", "selfie": "/9j/4AAQ"}}).encode()
    assert _put(till, case_id, _envelope(till, case_id, plaintext)).status_code == 200
    return case_id


def test_compliance_reviews_screened_cases_with_four_eyes(make_till: Callable[..., Till], hq: HQServer) -> None:
    for fmt, name in (("ofac", "sdn.xml"), ("un", "consolidated.xml")):
        hq_cli(hq.database_url, "lists", "import", "--format", fmt, str(FIXTURES / name))
    for user, role in (("nana.c", "compliance"), ("levan.c", "compliance"), ("ana.a", "hq_admin"),
                       ("eka.au", "auditor")):
        make_user(hq, user, role)
    till = make_till()
    plain = _case(till, "KAPANADZE", "TAMAR", "1990-03-04", "GEO")
    listed = _case(till, "KIM", "JONG UN", "1984-01-08", "PRK")
    nana, levan = _token(hq, "nana.c"), _token(hq, "levan.c")

    for refused in (_token(hq, "ana.a"), _token(hq, "eka.au")):
        answer = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{listed}", headers=refused, timeout=30)
        assert answer.status_code == 403
    assert sql(hq.database_url, "SELECT count(*) FROM audit_log WHERE action = 'kyc_read'") == [(0,)]

    low = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{plain}", headers=nana, timeout=30).json()
    assert low["details"]["surname"] == "KAPANADZE" and low["hits"] == []
    assert low["risk"] == {"score": 10, "level": "low", "parts": {"base": 10}}
    assert low["images"] == {"front": 6, "selfie": 6}  # sizes unless asked for
    high = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{listed}?images=1", headers=nana, timeout=30).json()
    assert [h["ref"] for h in high["hits"]] == ["KPi.999"] and high["hits"][0]["listed_name"] == "KIM JONG UN"
    assert high["risk"]["level"] == "high" and high["risk"]["parts"] == {"base": 10, "nationality": 30,
                                                                          "sanctions": 50}
    assert high["images"]["front"] == "/9j/4AAQ"
    reads = sql(hq.database_url, "SELECT actor, target, detail FROM audit_log WHERE action = 'kyc_read' ORDER BY id")
    assert reads == [("nana.c", plain, {"parts": ["details", "analysis"]}),
                     ("nana.c", listed, {"parts": ["details", "analysis", "images"]})]

    queue = requests.get(f"{hq.url}/api/v1/staff/kyc/cases?status=submitted", headers=nana, timeout=30).json()
    order = [c["case_id"] for c in queue if c["case_id"] in (plain, listed)]
    assert order == [listed, plain]  # the riskiest first

    url = f"{hq.url}/api/v1/staff/kyc/cases/{listed}/decision"
    assert requests.post(url, json={"decision": "approve", "reason": ""}, headers=nana, timeout=30).status_code == 422
    first = requests.post(url, json={"decision": "approve", "reason": "list entry is another person"},
                          headers=nana, timeout=30).json()
    assert first == {"case_id": listed, "status": "submitted", "awaiting": "second_approval"}
    again = requests.post(url, json={"decision": "approve", "reason": "sure"}, headers=nana, timeout=30)
    assert again.status_code == 409 and again.json()["error"]["code"] == "four_eyes"
    second = requests.post(url, json={"decision": "approve", "reason": "agreed: DOB and photo differ"},
                           headers=levan, timeout=30).json()
    assert second == {"case_id": listed, "status": "approved"}
    assert sql(hq.database_url, "SELECT status, decided_by, first_approver FROM kyc_cases WHERE case_id = %s",
               (listed,)) == [("approved", "levan.c", "nana.c")]
    late = requests.post(url, json={"decision": "reject", "reason": "x"}, headers=levan, timeout=30)
    assert late.status_code == 409

    low_url = f"{hq.url}/api/v1/staff/kyc/cases/{plain}/decision"
    assert requests.post(low_url, json={"decision": "resubmit", "reason": "selfie too dark"}, headers=levan,
                         timeout=30).json()["status"] == "resubmission_requested"
    assert requests.get(f"{hq.url}/api/v1/staff/kyc/cases/not-a-case", headers=nana, timeout=30).status_code == 404


def test_the_decision_reaches_the_terminal_that_took_the_case(make_till: Callable[..., Till],
                                                              hq: HQServer) -> None:
    from terminal.kyc import list_cases, submit_case
    from terminal.syncing import SyncService
    from tests.hq.test_kyc_desk import DETAILS, IMAGES

    make_user(hq, "mari.c", "compliance")
    till = make_till()
    manager = till.term.login("Nino", "2222")
    case = submit_case(till.term, manager, DETAILS, IMAGES, analysis={"match_score": 0.88})

    def sync() -> None:
        service = SyncService(till.term.data_dir, till.wallet)
        try:
            assert service.run_once().ok
        finally:
            service.stop()

    sync()  # the sealed case goes up
    mari = _token(hq, "mari.c")
    opened = requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{case['case_id']}", headers=mari, timeout=30).json()
    assert opened["details"]["surname"] == "Kvaratskhelia" and opened["analysis"] == {"match_score": 0.88}
    assert opened["risk"]["level"] == "low"
    decided = requests.post(f"{hq.url}/api/v1/staff/kyc/cases/{case['case_id']}/decision", headers=mari, timeout=30,
                            json={"decision": "approve", "reason": "document, selfie and MRZ agree"})
    assert decided.json()["status"] == "approved"
    sync()  # the decision comes back with the updates
    [listed] = list_cases(till.term, manager)
    assert listed["status"] == "approved"
    cursor = int(till.term.store.meta("kyc_cursor") or 0)
    assert cursor > 0
    sync()
    assert int(till.term.store.meta("kyc_cursor") or 0) == cursor


def test_an_approved_adult_transfers_and_a_minor_does_not(make_till: Callable[..., Till], hq: HQServer) -> None:
    from tests.hq.test_claims import Phone, _sell, _sync

    make_user(hq, "dato.c", "compliance")
    dato = _token(hq, "dato.c")
    till = make_till()
    first, second, third = _sell(till, 3)
    _sync(till)
    adult, friend, minor = Phone(), Phone(), Phone()
    for phone, sale in ((adult, first), (friend, second), (minor, third)):
        assert phone.claim(hq, sale.sale.check.id, token=sale.secret.token).status_code == 200
    share = first.sale.parts["customer"]

    def send(phone: Phone, to: str, amount: int) -> requests.Response:
        return requests.post(f"{hq.url}/api/v1/transfers", json=phone.signed({"to": to, "amount": amount}),
                             timeout=30)

    assert send(adult, friend.id, 100).json()["error"]["code"] == "kyc_required"  # no case yet
    for phone, born in ((adult, "1990-01-01"), (minor, "2012-06-01")):
        case_id = str(uuid.uuid4())
        details = {"surname": "BERIDZE", "given_names": "LUKA", "date_of_birth": born, "nationality": "GEO",
                   "phone": "+995599000000", "document_type": "id_card", "document_number": "01A234567",
                   "document_expiry": "2031-01-01", "level": "basic"}
        body = json.dumps({"details": details, "account": phone.id, "analysis": {}, "images": {}}).encode()
        assert _put(till, case_id, _envelope(till, case_id, body)).status_code == 200
        assert requests.get(f"{hq.url}/api/v1/staff/kyc/cases/{case_id}", headers=dato, timeout=30).ok
        assert requests.post(f"{hq.url}/api/v1/staff/kyc/cases/{case_id}/decision", headers=dato, timeout=30,
                             json={"decision": "approve", "reason": "checked"}).json()["status"] == "approved"

    assert "18 or older" in send(minor, friend.id, 10).json()["error"]["message"]
    assert send(adult, adult.id, 10).status_code == 422
    assert send(adult, "HC" + "0" * 32, 10).json()["error"]["code"] == "unknown_account"
    assert send(adult, friend.id, share + 1).json()["error"]["code"] == "insufficient_balance"
    sent = send(adult, friend.id, 100)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["balance"] == share - 100 and body["receipt"]["entry"]["kind"] == "transfer"
    assert body["receipt"]["entry"]["moves"] == [[adult.id, -100], [friend.id, 100]]
    balances = dict(sql(hq.database_url, "SELECT holder, balance FROM token_balances WHERE holder IN (%s, %s)",
                        (adult.id, friend.id)))
    assert balances == {adult.id: share - 100, friend.id: second.sale.parts["customer"] + 100}
    env = {"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)}
    assert "Token ledger OK" in hq_cli(hq.database_url, "verify-ledger", env=env).stdout
