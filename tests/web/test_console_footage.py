"""The footage page in Debian's chromium (issue 21, item 6): from the alert, an HQ admin requests the footage; after
the till's sync the page shows it verified against the ledger; the player plays, pauses, steps and seeks through
frames HQ decrypts in memory; the proof is on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from terminal.syncing import SyncService
from tests.hq.conftest import Till, hq, hq_db, make_till  # noqa: F401 (fixtures: a real HQ, enrolled tills)
from tests.hq.test_evidence import _night
from tests.hqkit import HQServer
from tests.web.consolekit import PASSWORD, browser, make_user, shot


def test_an_admin_requests_and_plays_an_incidents_footage(make_till: Callable[..., Till],  # noqa: F811
                                                          hq: HQServer, tmp_path: Path) -> None:  # noqa: F811
    till, cams, segment = _night(make_till, tmp_path)
    sync = SyncService(till.term.data_dir, till.wallet)
    make_user(hq, "eka.admin", "hq_admin")
    try:
        assert sync.run_once().ok
        with browser() as page:
            page.goto(f"{hq.url}/console/login")
            page.fill("input[name=username]", "eka.admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")
            page.goto(f"{hq.url}/console/alerts")
            row = page.locator("tr", has_text="Motion after hours")
            row.locator("input[name=reason]").fill("someone at the back door at 3 a.m.")
            row.locator("text=Request footage").click()
            expect(page.get_by_role("status")).to_contain_text("Footage requested")
            expect(page.locator("main")).to_contain_text("waiting for the till")

            assert sync.run_once().ok  # the till hears of it and uploads
            page.reload()
            expect(page.locator(".segment .pill")).to_contain_text("verified against the ledger")
            player = page.locator("figure.player")
            output = player.locator("output")
            expect(output).to_have_text("1 / 150")
            player.locator("[data-act=fwd]").click()
            expect(output).to_have_text("2 / 150")
            player.locator("[data-act=play]").click()
            expect(player.locator("[data-act=play]")).to_have_text("Pause")
            page.wait_for_timeout(600)
            player.locator("[data-act=play]").click()
            expect(player.locator("[data-act=play]")).to_have_text("Play")
            played = int(output.inner_text().split(" / ")[0])
            assert played > 3
            player.locator("input[type=range]").fill("120")
            expect(output).to_have_text("121 / 150")
            page.wait_for_function("document.querySelector('figure.player img').complete && "
                                   "document.querySelector('figure.player img').naturalWidth === 320")
            expect(page.locator("dl.proof")).to_contain_text(segment.name)
            shot(page, "footage")
            page.goto(f"{hq.url}/console/alerts")
            expect(page.locator("tr", has_text="Motion after hours").locator("a", has_text="Footage")).to_be_visible()
    finally:
        sync.stop()
        cams.close()
