"""A KYC case from the terminal's service to HQ: sealed in memory, nothing personal on the terminal's disk (database,
WAL, anything in its data folder), uploaded by the sync service with a verified receipt, retried after HQ was down,
the terminal's copy deleted after the receipt, and HQ's KYC key opening exactly what the clerk entered."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.hq.cli import enroll_code
from sync.hq.keys import load_or_create_keys
from sync.protocol.kyc import open_envelope
from terminal.core.errors import InvalidInput, NotAllowed, WrongState
from terminal.kyc import list_cases, submit_case
from terminal.setup import create_terminal
from terminal.syncing import SyncService, enroll
from tests.conftest import TEST_PASSPHRASE
from tests.hq.conftest import Till, sql
from tests.hqkit import HQServer, free_port, running_hq

DETAILS = {"surname": "Kvaratskhelia", "given_names": "Nino", "date_of_birth": "1990-05-17", "nationality": "GEO",
           "phone": "+995 555 12 34 56", "document_type": "passport", "document_number": "13AB45678",
           "document_expiry": "2031-02-01"}


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"  # start of image, then the JFIF segment (what OpenCV writes)


def _jpeg(tag: bytes) -> bytes:
    return JPEG_HEAD + tag + os.urandom(3000) + b"\xff\xd9"


IMAGES = {"front": _jpeg(b"front"), "back": _jpeg(b"back"), "selfie": _jpeg(b"selfie")}


def _plaintext_on_disk(data_dir: Path) -> list[str]:
    """Every file under the data folder that holds the typed name, the document number, the phone or a JPEG (its
    11-byte head: three bytes would turn up by chance in a megabyte of ciphertext)."""
    found = []
    for path in data_dir.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for needle in (b"Kvaratskhelia", b"KVARATSKHELIA", b"13AB45678", b"555 12 34", b"+995555123456",
                           b"BERIDZE", b"Beridze", b"+995599112233", JPEG_HEAD):
                if needle in blob:
                    found.append(f"{path.name}: {needle!r}")
    return found


def test_a_case_goes_sealed_to_hq_and_nothing_personal_stays(make_till: Callable[..., Till], hq: HQServer) -> None:
    till = make_till()
    manager = till.term.login("Nino", "2222")
    case = submit_case(till.term, manager, DETAILS, IMAGES, account="acct-7", analysis={"match_score": 0.91})
    assert case["status"] == "submitted" and case["level"] == "basic"
    assert _plaintext_on_disk(till.term.data_dir) == []  # before HQ has it: database, WAL, everything
    records = till.term.store.all("SELECT body FROM ledger_records WHERE type = 'kyc_submitted'")
    assert len(records) == 1 and b"Kvaratskhelia" not in bytes(records[0][0])
    service = SyncService(till.term.data_dir, till.wallet)
    try:
        result = service.run_once()
    finally:
        service.stop()
    assert result.ok and result.kyc_uploaded == 1, result
    [row] = till.term.store.all("SELECT envelope, receipt, sha256 FROM kyc_cases")
    assert row["envelope"] is None and json.loads(row["receipt"])["receipt"]["sha256"] == row["sha256"]
    [listed] = list_cases(till.term, manager)
    assert listed["uploaded"] and "surname" not in json.dumps(listed)
    [(name,)] = sql(hq.database_url, "SELECT blob FROM kyc_cases WHERE case_id = %s", (case["case_id"],))
    stored = (hq.kyc_dir / name).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == case["sha256"]
    header, plaintext = open_envelope(stored, load_or_create_keys(hq.key_dir).kyc)
    opened = json.loads(plaintext)
    assert header["case_id"] == case["case_id"] and opened["details"]["surname"] == "Kvaratskhelia"
    assert opened["details"]["phone"] == "+995555123456" and opened["account"] == "acct-7"
    assert {k: base64.b64decode(v) for k, v in opened["images"].items()} == IMAGES
    assert opened["analysis"] == {"match_score": 0.91}
    assert sql(hq.database_url, "SELECT count(*) FROM kyc_cases WHERE terminal_id = %s", (till.id,)) == [(1,)]
    assert _plaintext_on_disk(till.term.data_dir) == []


@pytest.mark.parametrize(("change", "images", "message"), [
    ({"document_expiry": "2020-01-01"}, IMAGES, "expired"),
    ({"date_of_birth": "2012-01-01"}, IMAGES, "under 18"),
    ({"surname": "ქვარაცხელია"}, IMAGES, "Latin letters"),
    ({}, {"front": IMAGES["front"]}, "photo of the selfie"),
    ({}, {**IMAGES, "front": b"GIF89a"}, "not a JPEG"),
])
def test_what_hq_could_not_use_is_refused_and_nothing_is_stored(make_till: Callable[..., Till], change: dict[str, str],
                                                                 images: dict[str, bytes], message: str) -> None:
    till = make_till()
    manager = till.term.login("Nino", "2222")
    records = till.term.status()["records"]
    with pytest.raises(InvalidInput, match=message):
        submit_case(till.term, manager, {**DETAILS, **change}, images)
    assert till.term.status()["records"] == records and list_cases(till.term, manager) == []


def test_cashiers_and_terminals_not_enrolled_cannot_take_cases(make_till: Callable[..., Till], tmp_path: Path) -> None:
    till = make_till()
    with pytest.raises(NotAllowed):
        submit_case(till.term, till.term.login("Giorgi", "3333"), DETAILS, IMAGES)
    term, _ = create_terminal(tmp_path / "alone", franchise="V", terminal_name="C", demo=True,
                              passphrase=TEST_PASSPHRASE)
    try:
        with pytest.raises(WrongState, match="enroll"):
            submit_case(term, term.login("Nino", "2222"), DETAILS, IMAGES)
    finally:
        term.close()


def test_an_upload_waits_out_hq_being_down(hq_db: str, tmp_path: Path) -> None:
    port = free_port()
    env = {"HOTPOT_HQ_KEY_DIR": str(tmp_path / "keys"), "HOTPOT_HQ_KYC_DIR": str(tmp_path / "kyc")}
    term, _ = create_terminal(tmp_path / "t", franchise="Down", terminal_name="C", demo=True,
                              passphrase=TEST_PASSPHRASE)
    wallet = term.unlock(TEST_PASSPHRASE)
    try:
        with running_hq(hq_db, tmp_path / "hq1", extra_env=env, port=port) as first:
            enroll(term, wallet, first.url, enroll_code(hq_db, "Down", "C", "Main", "franchise"))
        case = submit_case(term, term.login("Nino", "2222"), DETAILS, IMAGES)
        service = SyncService(term.data_dir, wallet)
        try:
            down = service.run_once()  # HQ is down: the case stays, sealed, to be sent
            assert not down.ok and down.kyc_uploaded == 0
            assert term.store.scalar("SELECT envelope IS NOT NULL FROM kyc_cases") == 1
            with running_hq(hq_db, tmp_path / "hq2", extra_env=env, port=port):
                up = service.run_once()
        finally:
            service.stop()
        assert up.ok and up.kyc_uploaded == 1, up
        assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in (tmp_path / "kyc").iterdir()] == [case["sha256"]]
        assert term.store.scalar("SELECT envelope IS NULL FROM kyc_cases") == 1
    finally:
        term.close()
