"""The HQ console in a real browser (Debian's chromium through Playwright, 1366x768) against `hotpot-hq serve` with
data from real terminals' ingest: sign in and out, the dashboard's figures against SQL, enrolling a real terminal
with a code made in the console, a menu change a terminal pulls, revoking, acknowledging an alert, and a screenshot
of every page. tests/web/test_console_roles.py checks who may see and do what."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from playwright import sync_api as playwright

from sync.hq.api.consolekit import money
from terminal.core.orders import Tender
from terminal.setup import create_terminal
from terminal.store import repos
from terminal.syncing import SyncService, enroll
from tests.conftest import TEST_PASSPHRASE
from tests.hq.conftest import Till, hq, hq_db, make_till, sql  # noqa: F401 (fixtures: a real HQ, enrolled tills)
from tests.hq.test_claims import _sync
from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli
from tests.web.consolekit import PASSWORD, browser, make_user, shot

expect = playwright.expect
VENDOR = Path(__file__).resolve().parents[2] / "sync" / "hq" / "web" / "static" / "vendor"


def test_the_vendored_htmx_is_the_pinned_release() -> None:
    data = (VENDOR / "htmx-2.0.11.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert "Zero-Clause BSD" in (VENDOR / "htmx-2.0.11.LICENSE").read_text()


def test_an_admin_runs_the_chain_from_the_console(make_till: Callable[..., Till], hq: HQServer,  # noqa: F811
                                                  tmp_path: Path) -> None:
    make_user(hq, "ana", "hq_admin")
    till = make_till()
    till.sell(3)
    _sync(till)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    [(takings,)] = sql(hq.database_url, "SELECT coalesce(sum(total), 0) FROM sales WHERE created_at >= %s", (today,))
    assert takings > 0
    sql(hq.database_url, "INSERT INTO alerts (terminal_id, kind, detail) VALUES (%s, 'invalid_block', "
                         "'{\"height\": 7, \"reason\": \"wrong_total\"}')", (till.id,))
    code = ""
    with browser() as page:
        page.goto(f"{hq.url}/console/")
        expect(page).to_have_url(f"{hq.url}/console/login?next=/console/")
        assert page.locator("input[type=hidden][name*=csrf]").count() == 1
        shot(page, "login")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", "wrong password")
        page.click("button.primary")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        expect(page.locator("h1")).to_contain_text("Dashboard")
        expect(page.locator("main")).to_contain_text(money(int(takings)))
        shot(page, "dashboard")

        page.click("nav >> text=Terminals")
        expect(page.locator("table.list")).to_contain_text(till.id)
        expect(page.locator("table.list")).to_contain_text("Counter")
        import importlib.metadata
        expect(page.locator("table.list tr", has_text=till.id)).to_contain_text(
            importlib.metadata.version("hotpotspot"))  # the version the terminal reported with its blocks
        page.fill("input[name=franchise]", "Saburtalo")
        page.fill("input[name=node]", "Pekini")
        page.fill("input[name=terminal]", "Counter 9")
        page.click("text=Make a code")
        code = page.get_by_test_id("enroll-code").inner_text().strip()
        assert len(code) >= 8
        expect(page.locator(".qr svg")).to_be_visible()
        shot(page, "terminals-enroll")

        # A real terminal enrolls with the code the console made.
        term, _ = create_terminal(tmp_path / "new", franchise="Saburtalo", terminal_name="Counter 9", demo=True,
                                  passphrase=TEST_PASSPHRASE)
        wallet = term.unlock(TEST_PASSPHRASE)
        try:
            owner = repos.get_user(term.store, "Giorgi")
            assert owner is not None
            term.open_shift(owner, 0)
            term.sell(owner, [("udon", 1)], [Tender("cash")])  # sold before it enrolled: its mint waits at HQ
            enroll(term, wallet, hq.url, code)
            new_id = term.terminal_id
            service = SyncService(term.data_dir, wallet)
            try:
                assert service.run_once().ok
            finally:
                service.stop()
        finally:
            term.close()
        page.goto(f"{hq.url}/console/terminals")
        expect(page.locator("table.list")).to_contain_text(new_id)
        expect(page.locator("tr", has_text=new_id)).to_contain_text("1 early sales held")
        page.click(f"a[href='/console/terminals/{new_id}']")
        page.check("input[name=confirm]")
        page.click("text=Confirm")
        expect(page.get_by_role("status")).to_contain_text("Early sales confirmed")
        assert sql(hq.database_url, "SELECT bool_and(confirmed) FROM token_mints WHERE terminal_id = %s",
                   (new_id,)) == [(True,)]
        page.goto(f"{hq.url}/console/terminals")
        page.click(f"a[href='/console/terminals/{till.id}']")
        expect(page.locator("h1")).to_contain_text(till.id)
        shot(page, "terminal")

        # The menu: udon's price changes; the till pulls it with its next sync.
        [(udon_before,)] = sql(hq.database_url, "SELECT data FROM menu_items WHERE id = 'udon'")
        page.goto(f"{hq.url}/console/menu?edit=udon")
        page.fill("input[name=price]", "9.90")
        page.click("text=Save item")
        expect(page.get_by_role("status")).to_contain_text("Menu item saved")
        shot(page, "menu")
        [(udon_after,)] = sql(hq.database_url, "SELECT data FROM menu_items WHERE id = 'udon'")
        assert udon_after == {**udon_before, "price": 990}  # what the form does not show is kept
        _sync(till)
        assert repos.load_menu(till.term.store)["udon"].price == 990

        # Revoke the terminal enrolled above, with a reason.
        page.goto(f"{hq.url}/console/terminals")
        row = page.locator("tr", has_text=new_id)
        row.locator("summary").click()
        row.locator("input[name=reason]").fill("replaced by a new till")
        row.locator("input[name=confirm]").check()
        row.locator("button.danger").click()
        expect(page.get_by_role("status")).to_contain_text("Terminal revoked")
        assert sql(hq.database_url, "SELECT status FROM terminals WHERE id = %s", (new_id,)) == [("revoked",)]

        # The alert, acknowledged with a note.
        page.click("nav >> text=Alerts")
        alert = page.locator("tr", has_text="wrong_total")
        alert.locator("input[name=note]").fill("checked the till: a test block")
        shot(page, "alerts")
        alert.locator("button").click()
        expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")
        assert sql(hq.database_url, "SELECT acknowledged_by, note FROM alerts WHERE terminal_id = %s AND "
                                    "kind = 'invalid_block'", (till.id,)) == [("ana", "checked the till: a test block")]

        for name in ("franchises", "policies", "reports", "tokens", "kyc", "audit", "staff"):
            page.click(f"nav a[href='/console/{name}']")
            expect(page).to_have_url(f"{hq.url}/console/{name}")
            expect(page.locator(f"nav a[href='/console/{name}']")).to_have_attribute("aria-current", "page")
            shot(page, name)
        hq_cli(hq.database_url, "tokens", "enter", env={"HOTPOT_HQ_KEY_DIR": str(hq.key_dir)})
        page.goto(f"{hq.url}/console/tokens")
        [(minted, reversed_)] = sql(hq.database_url, "SELECT minted, reversed FROM token_ledger_head")
        expect(page.locator(".tiles")).to_contain_text(f"{minted - reversed_:,}")
        assert minted > 0
        shot(page, "tokens")
        page.goto(f"{hq.url}/console/reports?group=franchise")
        [(vake_sales,)] = sql(hq.database_url, "SELECT count(*) FROM sales s JOIN nodes n ON n.id = s.node_id JOIN "
                                               "franchises f ON f.id = n.franchise_id WHERE f.name = 'Vake'")
        expect(page.locator("table.list tr", has_text="Vake").locator("td").nth(1)).to_have_text(str(vake_sales))
        page.goto(f"{hq.url}/console/reports?group=item")
        expect(page.locator("table.list")).to_contain_text("udon")
        shot(page, "reports-items")
        page.goto(f"{hq.url}/console/audit")
        expect(page.locator("table.list")).to_contain_text("revoke_terminal")

        # Usable on a 1024x768 screen too.
        page.set_viewport_size({"width": 1024, "height": 768})
        for name in ("", "terminals", "alerts"):
            page.goto(f"{hq.url}/console/{name}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1024, name  # no sideways scrolling
            shot(page, f"{name or 'dashboard'}-1024")
        page.set_viewport_size({"width": 1366, "height": 768})

        # Georgian and Russian, chosen in the top bar and remembered for the user.
        page.goto(f"{hq.url}/console/")
        page.click("form.lang button[value=ka]")
        expect(page.locator("h1")).to_contain_text("მთავარი")
        shot(page, "dashboard-ka")
        page.click("nav a[href='/console/terminals']")
        expect(page.locator("h1")).to_have_text("ტერმინალები")
        shot(page, "terminals-ka")
        page.click("form.lang button[value=ru]")
        expect(page.locator("h1")).to_have_text("Терминалы")
        shot(page, "terminals-ru")
        page.click("nav a[href='/console/reports']")
        shot(page, "reports-ru")

        page.click("form[action='/console/logout'] button")
        expect(page).to_have_url(f"{hq.url}/console/login")
        page.goto(f"{hq.url}/console/terminals")
        expect(page).to_have_url(f"{hq.url}/console/login?next=/console/terminals")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        expect(page.locator("h1")).to_have_text("Терминалы")  # back where they were going, in their language
