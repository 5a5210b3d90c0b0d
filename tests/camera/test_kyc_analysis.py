"""The KYC desk's analysis on documents rendered here (tests/kycdocs.py: OCR-B MRZs, a real photographed face) and
photographed: real Tesseract OCR of the MRZ, real dlib face detection and matching, a still taken from a running
camera playing a video of the document. Nothing mocked; nothing downloaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from camera.config import parse_camera_config
from camera.hub import CameraHub
from camera.kyc import MATCH_THRESHOLD, FaceModel, assess_document, decode_image, read_qr
from terminal.core.kyc import customer_details, mrz_from_ocr
from terminal.kyc import analyse
from tests.kycdocs import (
    Person,
    Photo,
    blank_wall,
    broken,
    grace_hopper,
    id_card,
    jpeg,
    passport_page,
    photograph,
    selfie,
    write_video,
)

TODAY = date(2026, 12, 2)
ANNA = Person()


@pytest.fixture(scope="module")
def faces() -> FaceModel:
    return FaceModel.shared()


@pytest.fixture(scope="module")
def page() -> object:
    return passport_page(ANNA)


def _details(person: Person = ANNA, document_type: str = "passport", **changes: str) -> object:
    return customer_details({**person.details(document_type), **changes}, TODAY)


def test_a_photographed_passport_reads_matches_and_finds_the_same_face(faces: FaceModel, page: object) -> None:
    found = analyse(_details(), {"front": photograph(page), "selfie": selfie()}, TODAY, faces)
    assert found.problems == [], found.problems
    assert found.mrz is not None and found.mrz.valid and found.mrz.format == "TD3"
    assert (found.mrz.surname, found.mrz.given_names, found.mrz.document_number) == ("ERIKSSON", "ANNA MARIA",
                                                                                    "L898902C3")
    assert found.mrz.birth_date == ANNA.date_of_birth and found.mrz.expiry_date == ANNA.document_expiry
    assert found.mismatches == []
    assert found.faces == {"document": 1, "selfie": 1}
    assert found.match_score is not None and found.match_score >= MATCH_THRESHOLD and found.same_person
    shot = found.shots["front"]
    assert shot.document_found and shot.sharp and shot.glare_ok
    assert "Same person" in found.verdict()


def test_an_id_card_is_read_from_its_back(faces: FaceModel) -> None:
    front, back = id_card(ANNA)
    found = analyse(_details(document_type="id_card"),
                    {"front": photograph(front), "back": photograph(back, Photo(seed=3)), "selfie": selfie()},
                    TODAY, faces)
    assert found.problems == [], found.problems
    assert found.mrz is not None and found.mrz.format == "TD1" and found.mrz.document_number == "L898902C3"


def test_an_impostor_is_not_the_same_person(faces: FaceModel, page: object) -> None:
    found = analyse(_details(), {"front": photograph(page), "selfie": selfie(grace_hopper())}, TODAY, faces)
    assert found.match_score is not None and found.match_score < MATCH_THRESHOLD and found.same_person is False
    assert any("does not match the document's photo" in p for p in found.problems)
    assert "Not the same person" in found.verdict()


def test_a_wrong_check_digit_is_named(faces: FaceModel) -> None:
    forged = passport_page(ANNA, mrz=broken(ANNA, "birth_date"))
    found = analyse(_details(), {"front": photograph(forged), "selfie": selfie()}, TODAY, faces)
    assert found.mrz is not None and not found.mrz.valid and found.mrz.checks["birth_date"] is False
    assert any("check digit of the birth date" in p for p in found.problems)


def test_what_was_typed_is_compared_with_the_mrz(faces: FaceModel, page: object) -> None:
    found = analyse(_details(document_number="L898902C4", surname="Eriksen"),
                    {"front": photograph(page), "selfie": selfie()}, TODAY, faces)
    assert {m.field for m in found.mismatches} == {"document_number", "surname"}
    [problem] = [p for p in found.problems if "typed" in p]
    assert "'L898902C4'" in problem and "'L898902C3'" in problem


def test_quality_checks_a_clerk_sees(faces: FaceModel, page: object) -> None:
    glare = assess_document(photograph(page, Photo(glare=0.12)))
    assert glare.document_found and not glare.glare_ok and any("Glare" in p for p in glare.problems())
    blurred = assess_document(photograph(page, Photo(blur=3.0)))
    assert not blurred.sharp and any("Blurred" in p for p in blurred.problems())
    crisp = assess_document(photograph(page))
    assert crisp.sharp and crisp.sharpness > 1.4 * blurred.sharpness
    wall = analyse(_details(), {"front": blank_wall(), "selfie": blank_wall()}, TODAY, faces)
    assert not wall.shots["front"].document_found
    assert wall.faces == {"document": 0, "selfie": 0} and wall.match_score is None
    assert any("No face found in the selfie" in p for p in wall.problems)
    assert any("machine-readable zone could not be read" in p for p in wall.problems)


def test_ocr_misreads_are_repaired_only_where_the_layout_says_so() -> None:
    """Readings Tesseract really gave on these documents: 1 for I in a name, 0 for O in a country code, S for 5 in
    a date. Repaired by position; a misread the check digits catch is refused."""
    read = mrz_from_ocr("P<UTOERIKSSON<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<\nL898902C36UT07408122F31041SO<<<<<<<<<<<<<<<4",
                        TODAY)
    assert read is not None and read.given_names == "ANNA MARIA" and read.nationality == "UTO"
    assert mrz_from_ocr("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTON08122F3104150<<<<<<<<<<<<<<<4",
                        TODAY) is None


def test_a_still_comes_from_the_running_camera(tmp_path: Path, faces: FaceModel, page: object) -> None:
    video = write_video(tmp_path / "desk.avi", [photograph(page)], seconds_each=3)
    config = parse_camera_config({"id": "desk", "name": "Desk", "kind": "security", "source": str(video),
                                  "loop": True, "width": 1280, "height": 720, "fps": 10, "recording": False})
    hub = CameraHub(tmp_path / "rec")
    hub.start([config])
    try:
        assert hub.wait_live(10)
        still = None
        for _ in range(100):
            try:
                still = hub.still("desk")
                break
            except LookupError:
                import time
                time.sleep(0.05)
        assert still is not None and still.shape[:2] == (720, 1280)
        found = analyse(_details(), {"front": still, "selfie": selfie()}, TODAY, faces)
        assert found.problems == [], found.problems
        with pytest.raises(LookupError):
            hub.still("nope")
    finally:
        hub.stop()


def test_a_phone_shows_its_account_qr_and_the_camera_reads_it() -> None:
    import io

    import cv2
    import numpy as np
    import segno

    out = io.BytesIO()
    segno.make_qr("HPACCT-7QX3MZ2K", error="m").save(out, kind="png", scale=8, border=4)
    code = cv2.imdecode(np.frombuffer(out.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    frame = blank_wall()
    frame[200:200 + code.shape[0], 500:500 + code.shape[1]] = code
    assert read_qr(photograph(frame, Photo(fill=0.9, tilt=0.02, light=0.1))) == "HPACCT-7QX3MZ2K"
    assert read_qr(blank_wall()) is None


def test_an_imported_file_must_be_an_image() -> None:
    from camera.kyc import ImageError

    assert decode_image(jpeg(selfie())).shape[2] == 3
    for data in (b"", b"hello", b"\xff\xd8\xff" + b"\x00" * 100):
        with pytest.raises(ImageError):
            decode_image(data)

