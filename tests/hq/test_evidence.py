"""Footage as evidence (issue 21, item 6), over real HTTP between a till and `hotpot-hq serve`: after-hours motion
at the till becomes an HQ alert; an HQ admin requests its footage in the console; the till's next sync uploads the
sealed segment that covers it (signed calls, in pieces), HQ checks it against the hash in the till's verified chain,
keeps it by CID in the KYC store and opens it with the key the till sealed to HQ; the console plays its frames and
hands out a copy with its proof. An upload cut off resumes where HQ's bytes end; a file altered at the till is refused
and raises an alert; a key for another segment is refused; sales go before footage; the rate is limited."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from camera.config import parse_camera_config
from camera.recorder import Recorder
from sync.client.http import HQClient, Refused
from sync.hq.kyc import cid_of_sha256
from sync.protocol import footage
from terminal.cameras import Cameras
from terminal.cli import main
from terminal.evidence import Throttle, send_evidence
from terminal.store import repos
from terminal.syncing import SyncService
from tests.camera.conftest import scene, write_video
from tests.camera.test_camera_incidents import THREE_AM, motion_at_night
from tests.conftest import TEST_PASSPHRASE
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer
from tests.hqkit import hq as hq_cli
from tests.web.consolekit import Client, make_user

JFIF = b"\xff\xd8\xff\xe0\x00\x10JFIF"


def _record(cams: Cameras, start: float, frames: int = 150) -> Path:
    """A sealed segment of the door camera from `start`, recorded as the hub records (ledger record included)."""
    config = parse_camera_config({"id": "door", "name": "Door", "kind": "security", "source": "usb:0",
                                  "width": 320, "height": 240, "fps": 15, "segment_s": 600})
    recorder = Recorder(config, cams.recordings, on_segment=cams._segment, sealer=cams._seal)
    for i in range(frames):
        recorder.write(scene(i), start + i / 15)
    segment = recorder.close()
    assert segment is not None
    return segment.path


def _night(make_till: Callable[..., Till], tmp_path: Path) -> tuple[Till, Cameras, Path]:
    """A till closed for the night, after-hours motion at its door camera and the segment that covers it."""
    till = make_till()
    manager = repos.get_user(till.term.store, "Nino")
    assert manager is not None
    till.term.close_shift(manager, till.term.x_report()["expected_cash"])
    with till.term.store.transaction() as conn:  # the test's uplink is fast; the default rate is a shop's
        repos.set_meta(conn, "evidence_rate_kib", "65536")
    cams = Cameras(till.term.data_dir)
    cams.save(manager, {"id": "door", "name": "Back door", "kind": "security", "source": "usb:0"})
    motion_at_night(cams, write_video(tmp_path / "moving.avi", 90, moving=True), THREE_AM, seconds=6)
    return till, cams, _record(cams, THREE_AM - 2)


def _request(hq: HQServer, till: Till, client: Client) -> int:
    alert = sql(hq.database_url, "SELECT id FROM alerts WHERE terminal_id = %s AND kind = 'motion_after_hours'",
                (till.id,))[0][0]
    answer = client.post(f"/console/alerts/{alert}/footage", {"reason": "someone at the door at 3 a.m."})
    assert answer.status_code == 303, answer.text
    found = re.search(r"/console/footage/(\d+)", answer.headers["location"])
    assert found
    return int(found.group(1))


def test_a_requested_incident_reaches_hq_verified_and_plays(make_till: Callable[..., Till], hq: HQServer,
                                                            tmp_path: Path) -> None:
    till, cams, segment = _night(make_till, tmp_path)
    sync = SyncService(till.term.data_dir, till.wallet)
    try:
        first = sync.run_once()
        assert first.ok, first.errors
        recorded = hashlib.sha256(segment.read_bytes()).hexdigest()
        assert sql(hq.database_url, "SELECT sha256, stored_at FROM camera_segments WHERE terminal_id = %s",
                   (till.id,)) == [(recorded, None)]  # HQ knows the hash from the chain; no footage was asked for

        admin = Client(hq, make_user(hq, "footage-admin", "hq_admin"))
        alerts_page = admin.get("/console/alerts").text
        assert "Request footage" in alerts_page
        request_id = _request(hq, till, admin)
        page = admin.get(f"/console/footage/{request_id}").text
        assert "waiting for the till" in page and recorded in page
        assert "Camera Back door at Counter" in page  # named as the till's camera_configured record names it

        second = sync.run_once()  # pulls the request, uploads the segment and its key
        assert second.ok, second.errors
        assert second.evidence is not None and second.evidence.stored == 1
        assert second.evidence.bytes == segment.stat().st_size
        manager = repos.get_user(till.term.store, "Nino")
        assert cams.alerts(manager)[0]["hq"] == "sent"  # the till's incident list says so too
    finally:
        sync.stop()
        cams.close()

    row = sql(hq.database_url, "SELECT blob, stored_at IS NOT NULL, received, size FROM camera_segments WHERE "
                               "terminal_id = %s", (till.id,))[0]
    assert row[0] == cid_of_sha256(recorded) and row[1] and row[2] == row[3] == segment.stat().st_size
    stored = hq.kyc_dir / row[0]  # beside the KYC cases, named by its CID
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == recorded and JFIF not in stored.read_bytes()
    outcome = till.term.store.one("SELECT outcome, receipt FROM evidence_uploads WHERE sha256 = ?", (recorded,))
    assert outcome is not None and outcome["outcome"] == "stored"
    assert json.loads(outcome["receipt"])["receipt"]["cid"] == row[0]

    page = admin.get(f"/console/footage/{request_id}").text
    assert "verified against the ledger" in page and "Download with proof" in page
    frame = admin.get(f"/console/footage/{request_id}/{recorded}/frames/0.jpg")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert frame.content.startswith(b"\xff\xd8")
    assert admin.get(f"/console/footage/{request_id}/{recorded}/frames/150.jpg").status_code == 404

    bundle = admin.get(f"/console/footage/{request_id}/{recorded}/download")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
        names = z.namelist()
        proof = json.loads(z.read(next(n for n in names if n.endswith(".proof.json"))))
        sealed = z.read(next(n for n in names if n.endswith(".hpv")))
        mjpeg = z.read(next(n for n in names if n.endswith(".mjpeg")))
    block_hash = sql(hq.database_url, "SELECT encode(hash, 'hex') FROM blocks WHERE terminal_id = %s AND height = "
                                      "%s", (till.id, proof["block"]["height"]))[0][0]
    assert proof["sha256"] == hashlib.sha256(sealed).hexdigest() == recorded and proof["block"]["hash"] == block_hash
    plain, complete = footage.open_sealed(sealed, bytes.fromhex(proof["segment_key"]))
    assert complete and mjpeg.count(b"\xff\xd8\xff") == 150 == len(footage.frames_of(plain)[1])

    audited = {r[0] for r in sql(hq.database_url, "SELECT action FROM audit_log WHERE actor = 'footage-admin'")}
    assert {"request_footage", "view_footage", "download_footage"} <= audited

    # Retention (here 0 days): a request on hold keeps its footage; released, the bytes and key go, the proof stays.
    env = {"HOTPOT_HQ_FOOTAGE_DAYS": "0", "HOTPOT_HQ_KYC_DIR": str(hq.kyc_dir)}
    assert admin.post(f"/console/footage/{request_id}/hold", {"reason": ""}).status_code == 422
    assert admin.post(f"/console/footage/{request_id}/hold", {"reason": "insurer claim 77"}).status_code == 303
    assert "0 recording(s)" in hq_cli(hq.database_url, "footage", "retention", env=env).stdout and stored.exists()
    assert "insurer claim 77" in admin.get(f"/console/footage/{request_id}").text
    assert admin.post(f"/console/footage/{request_id}/hold", {"release": "yes"}).status_code == 303
    assert "1 recording(s)" in hq_cli(hq.database_url, "footage", "retention", env=env).stdout
    assert not stored.exists()
    page = admin.get(f"/console/footage/{request_id}").text
    assert "deleted by retention" in page and recorded in page and block_hash in page
    assert admin.get(f"/console/footage/{request_id}/{recorded}/frames/0.jpg").status_code == 404
    assert {"hold_footage", "release_footage"} <= {r[0] for r in sql(
        hq.database_url, "SELECT action FROM audit_log WHERE actor = 'footage-admin'")}

    # A franchise manager of another franchise sees none of it; a compliance officer has no footage page.
    sql(hq.database_url, "INSERT INTO franchises (name) VALUES ('Saburtalo') ON CONFLICT DO NOTHING")
    other = Client(hq, make_user(hq, "footage-other", "franchise_manager", "Saburtalo"))
    assert other.get(f"/console/footage/{request_id}").status_code == 404
    assert other.get(f"/console/footage/{request_id}/{recorded}/frames/0.jpg").status_code == 404
    assert Client(hq, make_user(hq, "footage-kyc", "compliance")).get("/console/footage").status_code == 403


def test_an_upload_resumes_and_an_altered_file_or_a_wrong_key_is_refused(make_till: Callable[..., Till],
                                                                          hq: HQServer, tmp_path: Path) -> None:
    till, cams, segment = _night(make_till, tmp_path)
    later = _record(cams, THREE_AM + 4)  # the next segment, also inside the incident's window
    sync = SyncService(till.term.data_dir, till.wallet)
    try:
        assert sync.run_once().ok
        _request(hq, till, Client(hq, make_user(hq, "footage-admin2", "hq_admin")))
        first, second = (hashlib.sha256(p.read_bytes()).hexdigest() for p in (segment, later))
        client = HQClient(hq.url, till.id, till.wallet.signer.sign_digest)

        # Unsigned, or signed by another key: refused.
        plain = requests.put(f"{hq.url}/api/v1/terminals/{till.id}/evidence/{first}?offset=0", data=b"x", timeout=10)
        assert plain.status_code == 401

        # A cut-off upload: one piece arrives, then the line drops. The next sync carries on from HQ's count.
        piece = segment.read_bytes()[:100_000]
        assert client.put_evidence(first, 0, piece)["received"] == 100_000
        with pytest.raises(Refused) as wrong:
            client.put_evidence(first, 0, piece)
        assert wrong.value.status == 409 and wrong.value.body["error"]["received"] == 100_000

        # The later segment is altered on the till's disk (one byte in the middle).
        data = bytearray(later.read_bytes())
        data[len(data) // 2] ^= 0xFF
        later.write_bytes(bytes(data))

        round_ = sync.run_once()  # pulls the two wanted segments and sends them
        assert round_.ok, round_.errors
        report = round_.evidence
        assert report is not None and report.stored == 1 and report.refused == 1
        assert report.bytes == segment.stat().st_size - 100_000  # resumed, not restarted (refused bytes not counted)

        # A key envelope made for one segment does not open another.
        key = footage.key_for(segment.read_bytes()[:footage.HEAD_LEN], till.wallet.recording_key())
        with pytest.raises(Refused) as bad:
            client.put_evidence_key(first, footage.wrap_key(key, second, bytes.fromhex(till.enrollment[
                "hq_kyc_public_key"])))
        assert bad.value.status == 422 and bad.value.body["error"]["code"] == "bad_key"
        client.close()
    finally:
        sync.stop()
        cams.close()

    rows = dict(sql(hq.database_url, "SELECT sha256, (blob IS NOT NULL, stored_at IS NOT NULL, refused_at IS NOT "
                                     "NULL)::text FROM camera_segments WHERE terminal_id = %s", (till.id,)))
    assert rows == {first: "(t,t,f)", second: "(f,f,t)"}
    assert not (hq.kyc_dir / cid_of_sha256(second)).exists()
    assert not any((hq.kyc_dir / ".partial").iterdir())
    mismatch = sql(hq.database_url, "SELECT detail FROM alerts WHERE terminal_id = %s AND kind = "
                                    "'evidence_mismatch'", (till.id,))
    assert [d[0]["recorded"] for d in mismatch] == [second]
    assert till.term.store.scalar("SELECT outcome FROM evidence_uploads WHERE sha256 = ?", (second,)) == "refused"


def test_sales_go_first_and_the_rate_is_limited(make_till: Callable[..., Till], hq: HQServer,
                                               tmp_path: Path) -> None:
    till, cams, segment = _night(make_till, tmp_path)
    sync = SyncService(till.term.data_dir, till.wallet)
    try:
        assert sync.run_once().ok
        _request(hq, till, Client(hq, make_user(hq, "footage-admin3", "hq_admin")))
        sync.syncer.pull()  # type: ignore[union-attr]
        assert repos.evidence_summary(sync.store)["waiting"] == 1

        # Morning: a shift opens, a sale is sealed, its block waits; the footage job leaves the uplink to it.
        cashier = repos.get_user(till.term.store, "Giorgi")
        assert cashier is not None
        till.term.open_shift(cashier, 10_000)
        till.sell(1)
        till.seal()
        blocked = send_evidence(sync.store, sync.recordings, sync.client, till.wallet, Throttle(1 << 30),  # type: ignore[arg-type]
                                yield_to=lambda: sync.outbox.first_unacknowledged() is not None)
        assert blocked.bytes == 0 and blocked.unfinished

        # At 64 KiB/s (a clock that only moves when the throttle sleeps), 2 s of budget sends about 128 KiB.
        now = [0.0]
        slow = Throttle(64 * 1024, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
        sync.syncer.push()  # type: ignore[union-attr]
        turn = send_evidence(sync.store, sync.recordings, sync.client, till.wallet, slow, budget_s=2.0)  # type: ignore[arg-type]
        assert turn.unfinished and 64 * 1024 <= turn.bytes <= 3 * 64 * 1024
        assert now[0] >= (turn.bytes - 64 * 1024) / (64 * 1024)
        held = sql(hq.database_url, "SELECT received FROM camera_segments WHERE terminal_id = %s", (till.id,))[0][0]
        assert held == turn.bytes and till.term.store.scalar("SELECT sent FROM evidence_uploads") == turn.bytes
    finally:
        sync.stop()
        cams.close()


def test_a_camera_set_to_upload_all_sends_every_segment_unasked(make_till: Callable[..., Till], hq: HQServer,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    till = make_till()
    manager = repos.get_user(till.term.store, "Nino")
    with till.term.store.transaction() as conn:
        repos.set_meta(conn, "evidence_rate_kib", "65536")
    (till.term.data_dir / "video").mkdir()  # a file source only from the video folder
    video = write_video(till.term.data_dir / "video" / "door.avi", 90, moving=True)
    cams = Cameras(till.term.data_dir)
    cams.save(manager, {"id": "door", "name": "Door", "kind": "security", "source": str(video), "loop": True,
                        "width": 320, "height": 240, "fps": 15, "segment_s": 5, "upload_all": True})
    try:
        cams.start()
        deadline = time.monotonic() + 30
        while not cams.recordings_of(manager, "door") and time.monotonic() < deadline:
            time.sleep(0.2)
        cams.stop()  # closes the segment being written: its record too
        recorded = {r["sha256"] for r in cams.recordings_of(manager, "door")}
        assert recorded
        monkeypatch.setenv("HOTPOT_PASSPHRASE", TEST_PASSPHRASE)
        capsys.readouterr()
        assert main(["--data-dir", str(till.term.data_dir), "sync", "--once", "--json"]) == 0  # as an operator
        answer = json.loads(capsys.readouterr().out)
        assert answer["ok"] and answer["footage"]["stored"] == len(recorded) and answer["footage"]["bytes"] > 0
    finally:
        cams.close()
    stored = {r[0] for r in sql(hq.database_url, "SELECT sha256 FROM camera_segments WHERE terminal_id = %s AND "
                                                 "stored_at IS NOT NULL", (till.id,))}
    assert stored == recorded
    assert sql(hq.database_url, "SELECT count(*) FROM evidence_requests WHERE terminal_id = %s", (till.id,)) == [(0,)]
