"""`hotpot-terminal kyc submit | list` (ARCHITECTURE.md) on a terminal enrolled at a real HQ, with photographed
documents made by tests/kycdocs.py: real OCR and face matching behind the CLI, the JSON contract, one-line refusals
that store nothing, and the case arriving sealed at HQ with the very photos and details that were given."""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from sync.hq.keys import load_or_create_keys
from sync.hq.kyc import cid_of_sha256
from sync.protocol.kyc import open_envelope
from terminal.cli import main
from terminal.syncing import SyncService
from tests.hq.conftest import Till
from tests.hq.test_kyc_desk import _plaintext_on_disk
from tests.hqkit import HQServer
from tests.kycdocs import (
    Person,
    blank_wall,
    broken,
    grace_hopper,
    id_card,
    jpeg,
    passport_page,
    photograph,
    selfie,
)

KETEVAN = Person(surname="BERIDZE", given_names="KETEVAN", nationality="GEO", document_number="13AB45678",
                 date_of_birth=date(1991, 3, 9), document_expiry=date(2032, 6, 30), phone="+995599112233")


class Desk:
    """The CLI of a till, as a manager (Nino) uses it."""

    def __init__(self, till: Till, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.till, self.folder, self.capsys = till, folder, capsys
        folder.mkdir(exist_ok=True)

    def file(self, name: str, data: bytes) -> str:
        path = self.folder / name
        path.write_bytes(data)
        return str(path)

    def run(self, *args: str, user: str = "Nino", pin: str = "2222") -> tuple[int, str, str]:
        code = main(["--data-dir", str(self.till.term.data_dir), "--user", user, "--pin", pin, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def submit(self, details: dict[str, str], front: bytes, selfie_jpeg: bytes, *extra: str,
               back: bytes | None = None) -> tuple[int, str, str]:
        args = ["kyc", "submit", "--details", self.file("case.json", json.dumps(details).encode()),
                "--front", self.file("front.jpg", front), "--selfie", self.file("selfie.jpg", selfie_jpeg)]
        if back is not None:
            args += ["--back", self.file("back.jpg", back)]
        return self.run(*args, *extra)

    def stored(self) -> tuple[int, int]:
        store = self.till.term.store
        return (store.scalar("SELECT count(*) FROM kyc_cases"),
                store.scalar("SELECT count(*) FROM ledger_records WHERE type = 'kyc_submitted'"))


@pytest.fixture
def desk(make_till: Callable[..., Till], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Desk:
    return Desk(make_till(), tmp_path / "photos", capsys)


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    page = passport_page(KETEVAN)
    return {"front": jpeg(photograph(page)), "selfie": jpeg(selfie()),
            "impostor": jpeg(selfie(grace_hopper())), "wall": jpeg(blank_wall()),
            "forged": jpeg(photograph(passport_page(KETEVAN, mrz=broken(KETEVAN, "document_number"))))}


def test_a_case_by_cli_reaches_hq_sealed(desk: Desk, photos: dict[str, bytes], hq: HQServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "temp"  # the temp folder of everything the intake runs (Python's and Tesseract's)
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    details = KETEVAN.details()
    code, out, err = desk.submit(details, photos["front"], photos["selfie"], "--account", "HPACCT-42", "--json")
    assert code == 0, err
    assert list(temp.rglob("*")) == []  # no picture of the document and no text read from it in a temp file
    case = json.loads(out)
    assert case["level"] == "basic" and case["status"] == "submitted"
    assert case["mrz"]["valid"] is True and case["mrz"]["document_number"] == "13AB45678"
    assert case["mrz"]["problems"] == [] and case["mrz"]["mismatches"] == []
    assert case["faces"] == {"document": 1, "selfie": 1} and case["match_score"] >= case["match_threshold"]
    assert _plaintext_on_disk(desk.till.term.data_dir) == []

    code, out, _ = desk.run("kyc", "list", "--json")
    [listed] = json.loads(out)
    assert code == 0 and listed["id"] == case["case_id"] and not listed["uploaded"]
    assert "BERIDZE" not in out.upper() and "13AB45678" not in out

    service = SyncService(desk.till.term.data_dir, desk.till.wallet)
    try:
        assert service.run_once().kyc_uploaded == 1
    finally:
        service.stop()
    header, plaintext = open_envelope((hq.kyc_dir / cid_of_sha256(case["sha256"])).read_bytes(),
                                      load_or_create_keys(hq.key_dir).kyc)
    opened = json.loads(plaintext)
    assert header["case_id"] == case["case_id"] and opened["account"] == "HPACCT-42"
    assert opened["details"]["surname"] == "Beridze" and opened["details"]["document_number"] == "13AB45678"
    assert opened["analysis"]["mrz"]["valid"] and opened["analysis"]["match_score"] == case["match_score"]
    front = cv2.imdecode(np.frombuffer(base64.b64decode(opened["images"]["front"]), np.uint8), cv2.IMREAD_COLOR)
    assert front.shape[:2] == (720, 1280)  # the photo itself, as the camera took it
    code, out, _ = desk.run("kyc", "list")
    assert code == 0 and "held by HQ" in out


def test_an_id_card_by_cli(desk: Desk) -> None:
    front, back = id_card(KETEVAN)
    code, out, err = desk.submit(KETEVAN.details("id_card"), jpeg(photograph(front)), jpeg(selfie()), "--json",
                                 back=jpeg(photograph(back)))
    assert code == 0, err
    assert json.loads(out)["mrz"]["format"] == "TD1"


@pytest.mark.parametrize(("what", "change", "front", "selfie_of", "reason"), [
    ("unreadable image", {}, "text", "selfie", "front photo is not a JPEG or PNG image"),
    ("no face in the selfie", {}, "front", "wall", "No face found in the selfie"),
    ("wrong check digit", {}, "forged", "selfie", "check digit of the document number does not match"),
    ("another person", {}, "front", "impostor", "does not match the document's photo"),
    ("expired document", {"document_expiry": "2024-06-30"}, "front", "selfie", "expired on 2024-06-30"),
    ("under 18", {"date_of_birth": "2012-03-09"}, "front", "selfie", "under 18"),
    ("typed differently", {"document_number": "13AB45679"}, "front", "selfie", "differs from the document"),
])
def test_bad_input_gets_one_line_exit_2_and_nothing_stored(desk: Desk, photos: dict[str, bytes], what: str,
                                                           change: dict[str, str], front: str, selfie_of: str,
                                                           reason: str) -> None:
    before = desk.stored()
    front_bytes = b"not an image at all" if front == "text" else photos[front]
    code, out, err = desk.submit({**KETEVAN.details(), **change}, front_bytes, photos[selfie_of], "--json")
    assert code == 2 and out == "", (what, out, err)
    assert err.count("\n") == 1 and err.startswith("error: ") and reason in err, (what, err)
    assert "Traceback" not in err
    assert desk.stored() == before == (0, 0)


def test_cashiers_are_refused_and_files_must_exist(desk: Desk, photos: dict[str, bytes]) -> None:
    code, _, err = desk.run("kyc", "list", user="Giorgi", pin="3333")
    assert code == 2 and "managers and owners" in err
    code, _, err = desk.run("kyc", "submit", "--details", "/nonexistent/case.json", "--front", "f.jpg", "--selfie",
                            "s.jpg")
    assert code == 2 and "cannot be read" in err and err.count("\n") == 1
    code, _, err = desk.submit({"surname": "X"}, photos["front"], photos["selfie"])
    assert code == 2 and "missing" in err
    assert desk.stored() == (0, 0)
