"""Client mistakes get a fitting 4xx and the error body; signed terminal calls; staff tokens; operations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
import requests

from sync.hq.auth import load_or_create_jwt_secret
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload, hq, running_hq, signed_headers


def _error(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def test_bad_requests_to_ingest(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    url = f"{hq.url}/api/v1/terminals/{till.id}/blocks"
    _error(requests.post(url, data=b"{not json", headers={"content-type": "application/json"}, timeout=10), 400,
           "bad_json")
    _error(requests.post(url, data=b'{"blocks": []}', headers={"content-type": "text/plain"}, timeout=10), 415,
           "unsupported_media_type")
    _error(requests.post(url, json={"blocks": []}, timeout=10), 422, "invalid_request")
    _error(requests.post(url, json={"blocks": [{}]}, timeout=10), 422, "malformed_block")
    _error(requests.post(url, json={"blokz": []}, timeout=10), 422, "invalid_request")
    _error(requests.post(url, json=[1, 2], timeout=10), 422, "invalid_request")
    till.sell(2)
    till.seal()
    block = blocks_payload(till.term)[0]
    huge = dict(block, records=block["records"] * 6000)  # more records than a block may hold
    huge["header"] = dict(block["header"], record_count=12000)
    r = requests.post(url, json={"blocks": [huge]}, timeout=60)
    assert r.status_code in (413, 422), r.text
    _error(requests.post(url, data=b"x" * (33 * 2**20), headers={"content-type": "application/json"}, timeout=60),
           413, "body_too_large")


def test_unicode_and_sql_looking_text_is_stored_verbatim(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till(franchise="ვაკე'; DROP TABLE sales; --", node="Зал \"1\" \\ 🍲")
    from terminal.core.users import Role

    owner = till.term.owner()
    nasty = "Robert' OR 1 -- x"
    till.term.add_user(owner, nasty, Role.CASHIER, "4321")
    user = till.term.login(nasty, "4321")
    from terminal.core.orders import Tender
    from terminal.core.sales import DiscountRequest

    till.term.sell(owner, [("udon", 1)], [Tender("card", None, "ref ' OR 1=1 --")],
                   DiscountRequest(50, "გილოცავ 🎉 \\u0000 '"))
    till.term.sell(user, [("tofu", 1)], [Tender("cash")])
    till.seal()
    assert till.push(blocks_payload(till.term)).status_code == 200
    assert sql(hq.database_url, "SELECT count(*) FROM sales WHERE cashier = %s", (nasty,)) == [(1,)]
    assert sql(hq.database_url, "SELECT reference FROM payments p JOIN sales s USING (sale_id) WHERE s.terminal_id "
                                "= %s AND p.kind = 'card'", (till.id,)) == [("ref ' OR 1=1 --",)]
    [(name,)] = sql(hq.database_url, "SELECT f.name FROM terminals t JOIN nodes n ON n.id = t.node_id JOIN "
                                     "franchises f ON f.id = n.franchise_id WHERE t.id = %s", (till.id,))
    assert name == "ვაკე'; DROP TABLE sales; --"


def test_signed_terminal_calls(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    path = f"/api/v1/terminals/{till.id}/head"
    _error(requests.get(hq.url + path, timeout=10), 401, "signature_required")
    _error(requests.get(hq.url + path, headers={"X-Hotpot-Signature": "garbage"}, timeout=10), 401,
           "bad_signature_header")
    stale = signed_headers(till.wallet, till.id, "GET", path, timestamp_ms=time.time_ns() // 10**6 - 6 * 60_000)
    _error(requests.get(hq.url + path, headers=stale, timeout=10), 401, "stale_request")
    wrong_path = signed_headers(till.wallet, till.id, "GET", path + "x")
    _error(requests.get(hq.url + path, headers=wrong_path, timeout=10), 401, "bad_signature")
    good = signed_headers(till.wallet, till.id, "GET", path)
    r = requests.get(hq.url + path, headers=good, timeout=10)
    assert r.status_code == 200 and r.json() == {"terminal_id": till.id, "head": None}
    _error(requests.get(hq.url + path, headers=good, timeout=10), 401, "replayed_request")
    upath = f"/api/v1/terminals/{till.id}/updates?cursor=0"
    r = requests.get(hq.url + upath, headers=signed_headers(till.wallet, till.id, "GET", upath), timeout=10)
    assert r.status_code == 200 and r.json()["policies"][0]["version"] == 1
    sql(hq.database_url, "UPDATE terminals SET status = 'revoked' WHERE id = %s", (till.id,))
    _error(requests.get(hq.url + path, headers=signed_headers(till.wallet, till.id, "GET", path), timeout=10), 403,
           "terminal_revoked")


@pytest.fixture(scope="module")
def staff_tokens(hq: HQServer) -> dict[str, str]:
    from sync.hq.auth import hash_password

    tokens = {}
    for role in ("hq_admin", "auditor", "compliance"):
        sql(hq.database_url, "INSERT INTO staff_users (username, password_hash, role) VALUES (%s, %s, %s) "
                             "ON CONFLICT DO NOTHING", (role.replace("_", "-"), hash_password("long enough pw"), role))
        r = requests.post(f"{hq.url}/api/v1/staff/login", json={"username": role.replace("_", "-"),
                                                                "password": "long enough pw"}, timeout=10)
        assert r.status_code == 200, r.text
        tokens[role] = r.json()["access_token"]
    return tokens


def test_staff_tokens_and_roles(hq: HQServer, staff_tokens: dict[str, str]) -> None:
    url = f"{hq.url}/api/v1/staff/franchises"
    _error(requests.post(f"{hq.url}/api/v1/staff/login", json={"username": "hq-admin", "password": "nope"},
                         timeout=10), 401, "bad_credentials")
    _error(requests.get(url, timeout=10), 401, "token_required")
    _error(requests.get(url, headers={"authorization": "Bearer not-a-jwt"}, timeout=10), 401, "bad_token")
    secret = load_or_create_jwt_secret("", hq.key_dir)
    expired = jwt.encode({"sub": "hq-admin", "role": "hq_admin", "exp": int(time.time()) - 5}, secret, "HS256")
    _error(requests.get(url, headers={"authorization": f"Bearer {expired}"}, timeout=10), 401, "token_expired")
    forged = jwt.encode({"sub": "x", "role": "hq_admin", "exp": int(time.time()) + 60},
                        "a guess of the secret, 32+ bytes long", "HS256")
    _error(requests.get(url, headers={"authorization": f"Bearer {forged}"}, timeout=10), 401, "bad_token")
    auditor = {"authorization": f"Bearer {staff_tokens['auditor']}"}
    assert requests.get(url, headers=auditor, timeout=10).status_code == 200
    _error(requests.post(url, json={"name": "New"}, headers=auditor, timeout=10), 403, "forbidden")
    _error(requests.get(url, headers={"authorization": f"Bearer {staff_tokens['compliance']}"}, timeout=10), 403,
           "forbidden")


def test_staff_admin_flow_and_reports(make_till: Callable[..., Till], hq: HQServer,
                                      staff_tokens: dict[str, str]) -> None:
    admin = {"authorization": f"Bearer {staff_tokens['hq_admin']}"}
    r = requests.post(f"{hq.url}/api/v1/staff/franchises", json={"name": "Saburtalo"}, headers=admin, timeout=10)
    assert r.status_code == 201
    fid = r.json()["id"]
    _error(requests.post(f"{hq.url}/api/v1/staff/franchises", json={"name": "Saburtalo"}, headers=admin,
                         timeout=10), 409, "exists")
    _error(requests.post(f"{hq.url}/api/v1/staff/franchises", json={"name": "Nul\u0000l"}, headers=admin,
                         timeout=10), 422, "invalid_request")
    r = requests.post(f"{hq.url}/api/v1/staff/franchises/{fid}/nodes", json={"name": "Hall", "node_type": "own"},
                      headers=admin, timeout=10)
    assert r.status_code == 201
    item = {"name": {"ka": "ჩაი", "en": "Tea", "ru": "Чай"}, "category": "drinks", "price": 500, "available": 10}
    assert requests.put(f"{hq.url}/api/v1/staff/menu/green-tea", json=item, headers=admin, timeout=10).ok
    _error(requests.put(f"{hq.url}/api/v1/staff/menu/Bad Id", json=item, headers=admin, timeout=10), 422,
           "invalid_menu_item")
    _error(requests.put(f"{hq.url}/api/v1/staff/menu/tea2", json=dict(item, price=-1), headers=admin, timeout=10),
           422, "invalid_request")
    bad_policy = {"rate_num": 1, "rate_den": 1, "shares": {"own": {"owner": 5000}, "franchise": {"owner": 10000}}}
    _error(requests.post(f"{hq.url}/api/v1/staff/policies", json=bad_policy, headers=admin, timeout=10), 422,
           "invalid_policy")
    policy = {"rate_num": 2, "rate_den": 1, "shares": {"own": {"owner": 4800, "charity": 300, "customer": 4900},
                                                       "franchise": {"owner": 2500, "franchisee": 2400,
                                                                     "charity": 300, "customer": 4800}}}
    r = requests.post(f"{hq.url}/api/v1/staff/policies", json=policy, headers=admin, timeout=10)
    assert r.status_code == 201 and r.json()["version"] >= 2
    till = make_till()
    till.sell(4)
    till.seal()
    assert till.push(blocks_payload(till.term)).status_code == 200
    path = f"/api/v1/terminals/{till.id}/updates?cursor={till.enrollment['cursor']}"
    updates = requests.get(hq.url + path, headers=signed_headers(till.wallet, till.id, "GET", path), timeout=10).json()
    assert [m["id"] for m in updates["menu"]] == [] and updates["policies"] == []  # enrollment already had them
    day = time.strftime("%Y-%m-%d", time.gmtime())
    r = requests.get(f"{hq.url}/api/v1/staff/reports/sales?group=day&since={day}&until={day}", headers=admin,
                     timeout=10)
    assert r.status_code == 200 and r.json()[0]["sales"] >= 4
    tokens = requests.get(f"{hq.url}/api/v1/staff/reports/tokens", headers=admin, timeout=10).json()
    assert tokens["total"] == sum(tokens["by_party"].values()) > 0
    alerts = requests.get(f"{hq.url}/api/v1/staff/reports/alerts", headers=admin, timeout=10).json()
    assert isinstance(alerts["caps"], list)
    r = requests.get(f"{hq.url}/api/v1/staff/exports/sales.csv?since={day}&until={day}", headers=admin, timeout=10)
    assert r.status_code == 200 and r.text.splitlines()[0].startswith("sale_id,check_id")
    assert len(r.text.splitlines()) >= 5
    _error(requests.get(f"{hq.url}/api/v1/staff/exports/sales.csv?since={day}&until=2000-01-01", headers=admin,
                        timeout=10), 422, "invalid_request")
    r = requests.post(f"{hq.url}/api/v1/staff/terminals/{till.id}/revoke", headers=admin, timeout=10)
    assert r.json()["status"] == "revoked"
    assert sql(hq.database_url, "SELECT count(*) FROM audit_log WHERE action = 'revoke_terminal'") == [(1,)]


def test_operations(hq: HQServer) -> None:
    assert requests.get(f"{hq.url}/api/health", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{hq.url}/api/ready", timeout=10).json() == {"status": "ready"}
    text = requests.get(f"{hq.url}/metrics", timeout=10).text
    for name in ("hotpot_hq_requests_total", "hotpot_hq_request_seconds", "hotpot_hq_blocks_ingested_total",
                 "hotpot_hq_block_rejections_total", "hotpot_hq_pool_connections"):
        assert name in text
    assert requests.get(f"{hq.url}/openapi.json", timeout=10).json()["info"]["title"] == "HotPot Spot HQ"
    _error(requests.get(f"{hq.url}/api/v1/nothing-here", timeout=10), 404, "not_found")


def test_public_endpoints_are_rate_limited(hq_db: str, tmp_path: Path) -> None:
    with running_hq(hq_db, tmp_path, extra_env={"HOTPOT_HQ_PUBLIC_RATE": "3"}) as server:
        codes = [requests.post(f"{server.url}/api/v1/staff/login", json={"username": "xyz", "password": "y"},
                               timeout=10).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_migrations_are_detected_and_idempotent(pg_server: object) -> None:
    from tests.pg import PgServer

    assert isinstance(pg_server, PgServer)
    url = pg_server.create_database("t_hq_unmigrated")
    try:
        r = hq(url, "verify-chain", "NOPE", check=False)
        assert r.returncode != 0
        from sync.hq.db import migrate, pending_migrations

        assert pending_migrations(url) == ["0001_initial", "0002_default_policy", "0003_terminal_books",
                                          "0004_kyc_cases", "0005_token_ledger",
                                          "0006_token_expiry", "0007_token_reversal",
                                          "0008_console", "0009_sales_daily", "0010_screening_lists",
                               "0011_kyc_review", "0012_kyc_retention", "0013_monthly_partitions",
                               "0014_items_daily", "0015_terminal_contact", "0016_menu_modifiers",
                               "0017_evidence"]
        migrate(url)
        assert pending_migrations(url) == []
        assert migrate(url) == []  # idempotent
    finally:
        pg_server.drop_database("t_hq_unmigrated")


def test_hq_refuses_a_menu_item_every_terminal_would_refuse(make_till: Callable[..., Till], hq: HQServer,
                                                            staff_tokens: dict[str, str]) -> None:
    """One vocabulary: a category no terminal knows is a 422 at HQ, so it can never block a terminal's updates;
    what HQ accepts, a real terminal applies."""
    from terminal.syncing import TerminalOutbox

    admin = {"authorization": f"Bearer {staff_tokens['hq_admin']}"}
    till = make_till()
    item = {"name": {"ka": "სუპი", "en": "Soup", "ru": "Суп"}, "category": "soups", "price": 900, "available": 5}
    r = requests.put(f"{hq.url}/api/v1/staff/menu/tom-yum", json=item, headers=admin, timeout=10)
    _error(r, 422, "invalid_menu_item")
    assert "soups" in r.json()["error"]["message"]
    assert sql(hq.database_url, "SELECT count(*) FROM menu_items WHERE id = 'tom-yum'") == [(0,)]
    _error(requests.put(f"{hq.url}/api/v1/staff/menu/tom-yum", json=dict(item, category="broth", ingredients=[
        {"name": "chili", "grams": -1, "kcal": 3}]), headers=admin, timeout=10), 422, "invalid_menu_item")
    # Authentication comes before validation: no token and a bad body is 401, not 422.
    _error(requests.put(f"{hq.url}/api/v1/staff/menu/tom-yum", json={"nonsense": 1}, timeout=10), 401,
           "token_required")
    assert requests.put(f"{hq.url}/api/v1/staff/menu/tom-yum", json=dict(item, category="broth"), headers=admin,
                        timeout=10).ok
    path = f"/api/v1/terminals/{till.id}/updates?cursor={till.enrollment['cursor']}"
    updates = requests.get(hq.url + path, headers=signed_headers(till.wallet, till.id, "GET", path), timeout=10).json()
    TerminalOutbox(till.term.store, till.id).apply_updates(updates)
    assert till.term.menu()["tom-yum"].category == "broth"
