"""HQ input and auth, as an attacker and a careless operator would try them: CSV cells that a spreadsheet would run,
a staff token outliving its account, a forged X-Forwarded-For, a login that tells known names from unknown ones."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import requests

from sync.hq.auth import hash_password
from terminal.core.orders import Tender
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload, running_hq


def _login(hq: HQServer, username: str, password: str = "long enough pw") -> requests.Response:
    return requests.post(f"{hq.url}/api/v1/staff/login", json={"username": username, "password": password},
                         timeout=10)


def _user(hq: HQServer, username: str, role: str) -> dict[str, str]:
    sql(hq.database_url, "INSERT INTO staff_users (username, password_hash, role) VALUES (%s, %s, %s)",
        (username, hash_password("long enough pw"), role))
    r = _login(hq, username)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def test_csv_export_defuses_formula_cells(make_till: Callable[..., Till], hq: HQServer) -> None:
    admin = _user(hq, "csv-admin", "hq_admin")
    till = make_till(franchise='=HYPERLINK("http://evil.example","click")', node="+Main")
    till.sell(1)
    till.seal()
    assert till.push(blocks_payload(till.term)).status_code == 200
    day = time.strftime("%Y-%m-%d", time.gmtime())
    r = requests.get(f"{hq.url}/api/v1/staff/exports/sales.csv?since={day}&until={day}", headers=admin, timeout=10)
    assert r.status_code == 200
    row = next(line for line in r.text.splitlines() if till.id in line)
    assert "'=HYPERLINK" in row and ",'+Main," in row and ",=" not in row and ",+" not in row


def test_a_staff_token_stops_working_when_its_account_does(hq: HQServer) -> None:
    url = f"{hq.url}/api/v1/staff/franchises"
    for change in ("UPDATE staff_users SET active = false WHERE username = %s",
                   "UPDATE staff_users SET role = 'compliance' WHERE username = %s",
                   "DELETE FROM staff_users WHERE username = %s"):
        name = f"gone-{len(change)}"
        token = _user(hq, name, "auditor")
        assert requests.get(url, headers=token, timeout=10).status_code == 200
        sql(hq.database_url, change, (name,))
        r = requests.get(url, headers=token, timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "account_disabled", (change, r.text)


def test_a_forged_forwarded_for_does_not_dodge_the_rate_limit(hq_db: str, tmp_path: Path) -> None:
    with running_hq(hq_db, tmp_path, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "3"}) as server:
        codes = [requests.post(f"{server.url}/api/v1/staff/login", json={"username": "xyz", "password": "y"},
                               headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=10).status_code
                 for n in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_an_unknown_login_name_costs_what_a_wrong_password_costs(hq: HQServer) -> None:
    _user(hq, "timing-user", "auditor")

    def median_ms(username: str) -> float:
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            assert _login(hq, username, "wrong password").status_code == 401
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    known, unknown = median_ms("timing-user"), median_ms("no-such-user")
    # The password hash (scrypt) is most of a login: without the dummy hash an unknown name answered ~9x faster.
    assert unknown > known * 0.5, (known, unknown)


def test_an_update_the_terminal_cannot_apply_never_stops_the_feed(make_till: Callable[..., Till],
                                                                 hq: HQServer) -> None:
    """An item HQ should never have issued (written straight into its database, as an older HQ could have) reaches
    a real terminal over HTTP: the terminal applies the rest, records and shows what it refused, moves its cursor
    on, and applies the next updates; HQ raises an alert when the record arrives."""
    import json

    from terminal.syncing import SyncService

    admin = _user(hq, "feed-admin", "hq_admin")
    till = make_till()
    bad = {"id": "tom-yum", "name": {"ka": "სუპი", "en": "Soup", "ru": "Суп"}, "category": "soups", "price": 900,
           "available": 5, "active": True}
    sql(hq.database_url, "INSERT INTO menu_items (id, data, active, update_seq) VALUES ('tom-yum', %s, true, "
                         "nextval('update_seq'))", (json.dumps(bad),))
    good = {"name": {"ka": "ჩაი", "en": "Green tea", "ru": "Зелёный чай"}, "category": "drinks", "price": 450,
            "available": 40}
    assert requests.put(f"{hq.url}/api/v1/staff/menu/green-tea", json=good, headers=admin, timeout=10).ok
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        first = service.run_once()
    finally:
        service.stop()
    assert first.ok, first.errors
    menu = till.term.menu()
    assert "green-tea" in menu and "tom-yum" not in menu
    status = till.term.status()
    assert "tom-yum" in status["last_error"] and "unknown category 'soups'" in status["last_error"]
    cursor = int(till.term.store.meta("hq_cursor") or 0)
    assert cursor >= 1
    # The next update goes through, and clears the error; the refusal reached HQ as an alert.
    assert requests.put(f"{hq.url}/api/v1/staff/menu/green-tea", json=dict(good, price=500), headers=admin,
                        timeout=10).ok
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        second = service.run_once()
    finally:
        service.stop()
    assert second.ok and second.applied_updates == 1, second
    till.term.reload_reference_data()
    assert till.term.menu()["green-tea"].price == 500 and till.term.status()["last_error"] is None
    alerts = sql(hq.database_url, "SELECT detail FROM alerts WHERE terminal_id = %s AND kind = 'update_refused'",
                 (till.id,))
    assert len(alerts) == 1 and alerts[0][0]["what"] == "menu item 'tom-yum'"


def test_the_checks_claim_link_points_at_hqs_own_claim_page(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    cashier = till.term.login("Giorgi", "3333")
    sale = till.term.sell(cashier, [("udon", 1)], [Tender("cash")])
    assert sale.sale.check.claim_url.startswith(f"{hq.url}/c/claim/{sale.sale.check.id}#")
