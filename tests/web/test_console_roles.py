"""Who may see and do what in the HQ console, over real HTTP against `hotpot-hq serve` with real terminals' data:
a franchise manager sees only their franchise (in every list, and 403 on another's terminal), an auditor reads but
cannot change anything, a form without its CSRF token is refused, the login is rate-limited, a deactivated user is
signed out at once, logout ends the session on the server."""

from __future__ import annotations

from collections.abc import Callable

from tests.hq.conftest import Till, hq, hq_db, make_till, sql  # noqa: F401 (fixtures: a real HQ, enrolled tills)
from tests.hq.test_claims import _sync
from tests.hqkit import HQServer
from tests.web.consolekit import Client, make_user


def _two_franchises(make_till: Callable[..., Till]) -> tuple[Till, Till]:  # noqa: F811
    vake, rustaveli = make_till("Vake"), make_till("Rustaveli", "Center")
    for till, n in ((vake, 2), (rustaveli, 3)):
        till.sell(n)
        _sync(till)
    return vake, rustaveli


def test_a_franchise_manager_sees_only_their_franchise(make_till: Callable[..., Till],  # noqa: F811
                                                       hq: HQServer) -> None:  # noqa: F811
    vake, rustaveli = _two_franchises(make_till)
    make_user(hq, "nino.vake", "franchise_manager", "Vake")
    nino = Client(hq, "nino.vake")
    assert nino.signed_in
    terminals = nino.get("/console/terminals")
    assert terminals.status_code == 200 and vake.id in terminals.text and rustaveli.id not in terminals.text
    assert nino.get(f"/console/terminals/{vake.id}").status_code == 200
    other = nino.get(f"/console/terminals/{rustaveli.id}")
    assert other.status_code == 403 and "another franchise" in other.text
    board = nino.get("/console/").text
    assert "Vake" in board and "Rustaveli" not in board
    report = nino.get("/console/reports.csv?group=node")
    assert report.status_code == 200 and "Vake / Main" in report.text and "Rustaveli" not in report.text
    assert nino.get("/console/reports.csv?group=node").text.count("\n") == 2  # the header and Vake's one node
    for page in ("/console/staff", "/console/policies", "/console/tokens", "/console/kyc", "/console/audit"):
        assert nino.get(page).status_code == 403, page
    # Writes that are HQ's are refused, and change nothing.
    answer = nino.post(f"/console/terminals/{rustaveli.id}/revoke", {"reason": "x", "confirm": "yes"})
    assert answer.status_code == 403
    assert sql(hq.database_url, "SELECT status FROM terminals WHERE id = %s", (rustaveli.id,)) == [("active",)]
    # Acknowledging another franchise's alert changes nothing either.
    sql(hq.database_url, "INSERT INTO alerts (terminal_id, kind) VALUES (%s, 'fork')", (rustaveli.id,))
    [(alert_id,)] = sql(hq.database_url, "SELECT max(id) FROM alerts WHERE terminal_id = %s", (rustaveli.id,))
    assert nino.post("/console/alerts/acknowledge", {"id": str(alert_id), "note": "not mine"}).status_code == 404
    assert sql(hq.database_url, "SELECT acknowledged_at FROM alerts WHERE id = %s", (alert_id,)) == [(None,)]
    # Totals on the dashboard are the franchise's own, as SQL has them.
    [(vake_sales,)] = sql(hq.database_url, "SELECT count(*) FROM sales WHERE terminal_id = %s", (vake.id,))
    assert f"<b>{vake_sales}</b>" in nino.get("/console/").text or f">{vake_sales}<" in nino.get("/console/").text


def test_an_auditor_reads_everything_and_changes_nothing(make_till: Callable[..., Till],  # noqa: F811
                                                         hq: HQServer) -> None:  # noqa: F811
    vake, _ = _two_franchises(make_till)
    make_user(hq, "eka.audit", "auditor")
    eka = Client(hq, "eka.audit")
    for page in ("/console/", "/console/terminals", "/console/franchises", "/console/menu", "/console/policies",
                 "/console/reports", "/console/alerts", "/console/tokens", "/console/audit"):
        answer = eka.get(page)
        assert answer.status_code == 200, page
        assert 'action="/console/terminals/enroll"' not in answer.text and "Revoke" not in answer.text
    assert eka.get("/console/staff").status_code == 403
    before = sql(hq.database_url, "SELECT count(*) FROM enrollment_codes")
    for path, data in (("/console/terminals/enroll", {"franchise": "X", "terminal": "Y"}),
                       (f"/console/terminals/{vake.id}/revoke", {"reason": "x", "confirm": "yes"}),
                       ("/console/franchises", {"name": "New"}), ("/console/menu/udon/retire", {"confirm": "yes"}),
                       ("/console/staff", {"username": "mallory", "role": "hq_admin", "password": "x" * 20})):
        assert eka.post(path, data).status_code == 403, path
    assert sql(hq.database_url, "SELECT count(*) FROM enrollment_codes") == before
    assert sql(hq.database_url, "SELECT status FROM terminals WHERE id = %s", (vake.id,)) == [("active",)]
    assert sql(hq.database_url, "SELECT count(*) FROM staff_users WHERE username = 'mallory'") == [(0,)]


def test_csrf_sessions_and_deactivation(hq: HQServer) -> None:  # noqa: F811
    make_user(hq, "root.admin", "hq_admin")
    make_user(hq, "gio.manager", "auditor")
    admin, gio = Client(hq, "root.admin"), Client(hq, "gio.manager")
    assert admin.signed_in and gio.signed_in
    # A form posted without the session's CSRF token (or with another session's) does nothing.
    answer = admin.post("/console/franchises", {"name": "Forged"}, csrf=False)
    assert answer.status_code == 403 and "expired" in answer.text
    forged = admin.http.post(f"{hq.url}/console/franchises", data={"name": "Forged", "csrf_token": gio.csrf()},
                             headers={"Cookie": f"hq_console={admin.cookie}"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 403
    assert sql(hq.database_url, "SELECT count(*) FROM franchises WHERE name = 'Forged'") == [(0,)]
    assert admin.post("/console/franchises", {"name": "Real"}).status_code == 303
    [(real,)] = sql(hq.database_url, "SELECT id FROM franchises WHERE name = 'Real'")
    assert admin.post("/console/franchises", {"name": "Real"}).status_code == 422  # exists: said on the page
    assert admin.post(f"/console/franchises/{real}/nodes", {"name": "", "node_type": "own"}).status_code == 422
    assert admin.post(f"/console/franchises/{real}/nodes", {"name": "Plaza", "node_type": "own"}).status_code == 303
    [(node,)] = sql(hq.database_url, "SELECT id FROM nodes WHERE name = 'Plaza'")
    assert admin.post(f"/console/nodes/{node}", {"name": "Plaza 2", "node_type": "franchise"}).status_code == 303
    assert sql(hq.database_url, "SELECT name, node_type FROM nodes WHERE id = %s", (node,)) == [
        ("Plaza 2", "franchise")]
    assert admin.post(f"/console/franchises/{real}", {"name": "Real Foods"}).status_code == 303
    # The cookie is HttpOnly, Secure, SameSite=Strict; a tampered one is no session.
    flags = admin.login_answer.headers["set-cookie"].lower()
    assert "httponly" in flags and "secure" in flags and "samesite=strict" in flags
    tampered = admin.http.get(f"{hq.url}/console/", headers={"Cookie": f"hq_console={admin.cookie[:-2]}xx"},
                              allow_redirects=False, timeout=10)
    assert tampered.status_code == 303 and "/console/login" in tampered.headers["location"]
    # Deactivated: signed out at the next request, and cannot sign in again.
    assert gio.get("/console/").status_code == 200
    assert admin.post("/console/staff/gio.manager", {"role": "auditor", "franchise_id": ""}).status_code == 303
    assert sql(hq.database_url, "SELECT active FROM staff_users WHERE username = 'gio.manager'") == [(False,)]
    assert gio.get("/console/").status_code == 303
    assert not Client(hq, "gio.manager").signed_in
    # Logout ends the session on the server: the old cookie no longer works.
    cookie = admin.cookie
    assert admin.post("/console/logout", {}).status_code == 303
    again = admin.http.get(f"{hq.url}/console/", headers={"Cookie": f"hq_console={cookie}"}, allow_redirects=False,
                           timeout=10)
    assert again.status_code == 303
    # An admin cannot lock themself out.
    other = Client(hq, "root.admin")
    answer = other.post("/console/staff/root.admin", {"role": "auditor", "franchise_id": "", "active": "yes"})
    assert answer.status_code == 422 and "another HQ admin" in answer.text


def test_the_sign_in_is_rate_limited(hq: HQServer) -> None:  # noqa: F811
    """The test HQ allows 1000 public attempts a minute; a fresh server with the default (30) refuses the 31st."""
    import requests

    from tests.hqkit import running_hq

    with running_hq(hq.database_url, hq.key_dir.parent / "limited", extra_env={"HOTPOT_HQ_PUBLIC_RATE": "5"}) as hq2:
        codes = [requests.post(f"{hq2.url}/console/login", data={"username": "x", "password": "y"},
                               allow_redirects=False, timeout=10).status_code for _ in range(7)]
        assert codes[:5] == [403] * 5 and codes[5:] == [429, 429], codes  # 403: no sign-in form cookie
        assert requests.get(f"{hq2.url}/console/login", timeout=10).status_code == 200  # the form itself is not
