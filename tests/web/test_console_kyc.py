"""KYC review in the console, in a real browser (Debian's chromium, 1366x768): a compliance officer opens the queue,
a case (decrypted for them, the read audited), sees the photo, the screening hit and the risk score with its parts,
dismisses a false positive, and two officers approve a high-risk case (four eyes)."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from PIL import Image
from playwright import sync_api as playwright

from tests.hq.conftest import Till, hq, hq_db, make_till, sql  # noqa: F401 (fixtures: a real HQ, enrolled tills)
from tests.hq.test_kyc_upload import _envelope, _put
from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli
from tests.web.consolekit import PASSWORD, browser, make_user, shot

expect = playwright.expect
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


def _photo(color: tuple[int, int, int]) -> str:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def _case(till: Till, surname: str, given: str, born: str, nationality: str) -> str:
    case_id = str(uuid.uuid4())
    details = {"surname": surname, "given_names": given, "date_of_birth": born, "nationality": nationality,
               "phone": "+995555000111", "document_type": "passport", "document_number": "P7654321",
               "document_expiry": "2030-01-01", "level": "basic"}
    doc = {"details": details, "account": None, "analysis": {"match_score": 0.67},
           "images": {"front": _photo((200, 180, 150)), "selfie": _photo((150, 120, 100))}}
    assert _put(till, case_id, _envelope(till, case_id, json.dumps(doc).encode())).status_code == 200
    return case_id


def _sign_in(page: object, hq: HQServer, who: str) -> None:  # noqa: F811
    page.goto(f"{hq.url}/console/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", who)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button.primary")  # type: ignore[attr-defined]
    expect(page.locator("h1")).to_contain_text("Dashboard")  # type: ignore[attr-defined]


def test_compliance_reviews_a_case_in_the_console(make_till: Callable[..., Till], hq: HQServer) -> None:  # noqa: F811
    hq_cli(hq.database_url, "lists", "import", "--format", "un", str(FIXTURES / "consolidated.xml"))
    make_user(hq, "nana.kyc", "compliance")
    make_user(hq, "levan.kyc", "compliance")
    till = make_till()
    listed = _case(till, "KIM", "JONG UN", "1984-01-08", "PRK")
    namesake = _case(till, "KIM", "JONG UN", "1984-05-05", "GEO")  # same name and year, another person
    later = _case(till, "BERIDZE", "NIKOLOZ", "1971-05-16", "GEO")  # on no list until the FtM import below
    with browser() as page:
        _sign_in(page, hq, "nana.kyc")
        page.goto(f"{hq.url}/console/kyc")
        expect(page.locator("table.list")).to_contain_text("not screened yet")
        shot(page, "kyc-queue")
        page.click(f"a[href='/console/kyc/{namesake}']")
        expect(page.locator("h1")).to_contain_text("JONG UN KIM")
        expect(page.locator(".photos img")).to_have_count(2)
        hit = page.locator("tr", has_text="KPi.999")
        expect(hit).to_contain_text("KIM JONG UN")
        hit.locator("input[name=reason]").fill("born in May, Georgian passport since birth: another person")
        hit.locator("button").click()
        expect(page.get_by_role("status")).to_contain_text("Hit dismissed")
        [(level, parts)] = sql(hq.database_url, "SELECT risk_level, risk_parts FROM kyc_cases WHERE case_id = %s",
                               (namesake,))
        assert level == "low" and parts == {"base": 10}

        page.goto(f"{hq.url}/console/kyc/{listed}")
        expect(page.locator(".tiles")).to_contain_text("90")
        expect(page.locator("main")).to_contain_text("On a sanctions list")
        shot(page, "kyc-case")
        page.select_option("select[name=decision]", "approve")
        page.fill("form[action$='/decision'] input[name=reason]", "identity confirmed by video call")
        page.click("text=Save decision")
        expect(page.get_by_role("status")).to_contain_text("First approval saved")
        page.goto(f"{hq.url}/console/kyc/{listed}")
        page.select_option("select[name=decision]", "approve")
        page.fill("form[action$='/decision'] input[name=reason]", "again")
        page.click("text=Save decision")
        expect(page.get_by_role("alert")).to_contain_text("second compliance")
        page.click("form[action='/console/logout'] button")
        expect(page).to_have_url(f"{hq.url}/console/login")

        _sign_in(page, hq, "levan.kyc")
        page.goto(f"{hq.url}/console/kyc/{listed}")
        page.select_option("select[name=decision]", "approve")
        page.fill("form[action$='/decision'] input[name=reason]", "agreed after review")
        page.click("text=Save decision")
        expect(page.get_by_role("status")).to_contain_text("Decision saved")

        # A customer approved while on no list; a new list version names them: screening again raises an alert.
        page.goto(f"{hq.url}/console/kyc/{later}")
        expect(page.locator("main")).to_contain_text("No list entry matches this customer.")
        page.fill("form[action$='/decision'] input[name=reason]", "documents in order")
        page.click("text=Save decision")
        hq_cli(hq.database_url, "lists", "import", "--format", "ftm", str(FIXTURES / "ftm.jsonl"))
        page.goto(f"{hq.url}/console/kyc")
        page.click("text=Screen them again")
        expect(page.get_by_role("status")).to_contain_text("screened again")
        page.goto(f"{hq.url}/console/alerts")
        expect(page.locator("table.list")).to_contain_text("Approved customer on a new list")
        shot(page, "kyc-rescreen-alert")
        page.click(f"a[href='/console/kyc/{later}']")  # the alert links to the case
        expect(page.locator("h1")).to_contain_text("NIKOLOZ BERIDZE")

        # Retention, 91 days and then 5 years on: the photographs go, then the case's data; the decision stays.
        from tests.hq.test_kyc_retention import _retention
        with psycopg.connect(hq.database_url, autocommit=True) as conn:  # the namesake, rejected today
            conn.execute("UPDATE kyc_cases SET status = 'rejected', decided_at = now(), ended_at = now() WHERE "
                         "case_id = %s", (namesake,))
        assert _retention(hq, 91)["images_deleted"] == 3
        page.goto(f"{hq.url}/console/kyc/{listed}")
        expect(page.locator(".photos")).to_contain_text("The photos were deleted on")
        expect(page.locator("main")).to_contain_text("P7654321")
        assert _retention(hq, 5 * 365 + 2)["data_deleted"] == 1
        page.goto(f"{hq.url}/console/kyc/{namesake}")
        expect(page.locator(".notice")).to_contain_text("personal data of this case was deleted")
        expect(page.locator("main")).not_to_contain_text("P7654321")
        shot(page, "kyc-case-deleted")
    assert sql(hq.database_url, "SELECT status, first_approver, decided_by FROM kyc_cases WHERE case_id = %s",
               (listed,)) == [("expired", "nana.kyc", "levan.kyc")]  # lapsed in the 5 years
    [(detail,)] = sql(hq.database_url, "SELECT detail FROM alerts WHERE kind = 'kyc_rescreen_hit'")
    assert detail["case_id"] == later and detail["kind"] == "pep" and detail["list"] == "ftm"
    reads = sql(hq.database_url, "SELECT actor, count(*) FROM audit_log WHERE action = 'kyc_read' GROUP BY actor "
                                 "ORDER BY actor")
    assert dict(reads)["nana.kyc"] >= 3 and dict(reads)["levan.kyc"] >= 1
