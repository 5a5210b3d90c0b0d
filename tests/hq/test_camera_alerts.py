"""A till's camera incidents reach HQ's alert list through the ledger (issue 21, item 1): after-hours motion from the
till's real detector, synced as signed blocks to a real HQ, is one open HQ alert per incident with its count and time
span; the till's acknowledgement and note show on it; the console lists it by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terminal.cameras import Cameras
from terminal.store import repos
from tests.camera.conftest import write_video
from tests.camera.test_camera_incidents import THREE_AM, motion_at_night
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, blocks_payload
from tests.web.consolekit import Client, make_user


def _synced(till: Till) -> None:
    till.seal()
    r = till.push(blocks_payload(till.term))
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} <= {"accepted", "duplicate"}, r.text


def test_incidents_reach_hqs_alert_list(make_till: Callable[..., Till], hq: HQServer, tmp_path: Any) -> None:
    till = make_till()
    term = till.term
    manager = repos.get_user(term.store, "Nino")
    assert manager is not None
    term.close_shift(manager, term.x_report()["expected_cash"])  # the restaurant is closed for the night
    cams = Cameras(term.data_dir)
    try:
        motion_at_night(cams, write_video(tmp_path / "moving.avi", 90, moving=True), THREE_AM)
        incident = cams.alerts(manager)[0]
        _synced(till)
        rows = sql(hq.database_url, "SELECT kind, detail, acknowledged_at FROM alerts WHERE terminal_id = %s AND "
                                    "kind = 'motion_after_hours'", (till.id,))
        assert len(rows) == 1
        kind, detail, acknowledged = rows[0]
        assert (detail["alert_id"], detail["camera_id"], detail["count"]) == (incident["id"], "door",
                                                                               incident["count"])
        assert (detail["first_at_ms"], detail["last_at_ms"]) == (incident["at_ms"], incident["last_at_ms"])
        assert acknowledged is None

        cams.acknowledge(manager, incident["id"], "a cat")
        _synced(till)
        detail = sql(hq.database_url, "SELECT detail FROM alerts WHERE terminal_id = %s AND kind = "
                                      "'motion_after_hours'", (till.id,))[0][0]
        assert (detail["acknowledged_at_till_by"], detail["till_note"]) == ("Nino", "a cat")
    finally:
        cams.close()

    client = Client(hq, make_user(hq, "alert-admin", "hq_admin"))
    page = client.get("/console/alerts")
    assert page.status_code == 200 and "Motion after hours" in page.text and "a cat" in page.text
