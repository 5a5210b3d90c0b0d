"""The KYC desk's service: a customer's case is checked (camera/kyc measures the stills: the document found and
straightened, sharpness, glare, the MRZ read by OCR, faces found and compared; terminal/core/kyc says what the MRZ
means and whether it agrees with what was typed), sealed to HQ's KYC key while it is still in memory, and only the
sealed envelope is stored (with a `kyc_submitted` record that holds nothing personal) until HQ's receipt; then the
terminal's copy goes. Managers and owners only."""

from __future__ import annotations

import base64
import json
import multiprocessing
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from camera.kyc import (
    MATCH_THRESHOLD,
    FaceModel,
    ImageError,
    Shot,
    assess_document,
    assess_selfie,
    decode_image,
    encode_jpeg,
    match_score,
    read_mrz,
)
from sync.protocol.kyc import MAX_ENVELOPE, seal
from sync.protocol.messages import verify_receipt
from terminal.core.errors import InvalidInput, NotAllowed, WrongState
from terminal.core.ids import uuid7
from terminal.core.kyc import (
    REQUIRED_IMAGES,
    CustomerDetails,
    Mismatch,
    Mrz,
    cross_check,
    customer_details,
    intake_problems,
    mrz_as_read,
    mrz_from_ocr,
)
from terminal.core.users import Role, User
from terminal.ledger.journal import append_record
from terminal.services import Terminal, now_ms
from terminal.store import repos
from terminal.store.db import Store

_JPEG = b"\xff\xd8\xff"
IMAGE_NAMES = ("front", "back", "selfie", "proof_of_address", "bank_statement")


@dataclass
class Analysis:
    """What the desk found on a case's stills. `problems` stop the case; `warnings` are shown and kept."""

    shots: dict[str, Shot]
    mrz: Mrz | None = None
    mrz_attempts: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    match_score: float | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def faces(self) -> dict[str, int]:
        return {name: len(self.shots[key].faces) for name, key in (("document", "front"), ("selfie", "selfie"))
                if key in self.shots}

    @property
    def same_person(self) -> bool | None:
        return None if self.match_score is None else self.match_score >= MATCH_THRESHOLD

    def verdict(self) -> str:
        """The plain words a clerk reads next to the score."""
        if self.match_score is None:
            return "No comparison: a face is missing."
        if self.same_person:
            return f"Same person (score {self.match_score:.2f}; {MATCH_THRESHOLD:.2f} or more is a match)."
        return f"Not the same person (score {self.match_score:.2f}; a match needs {MATCH_THRESHOLD:.2f})."

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the analysis (goes into the sealed case and to the CLI; no pixels)."""
        mrz: dict[str, Any] = self.mrz.to_dict() if self.mrz else {"valid": False, "problems": [
            "No machine-readable zone was read."]}
        mrz["attempts"] = self.mrz_attempts
        mrz["mismatches"] = [{"field": m.field, "typed": m.typed, "read": m.read} for m in self.mismatches]
        return {"mrz": mrz, "faces": self.faces, "match_score": self.match_score,
                "match_threshold": MATCH_THRESHOLD, "same_person": self.same_person,
                "shots": {name: shot.checks() for name, shot in self.shots.items()},
                "problems": list(self.problems), "warnings": list(self.warnings),
                "seconds": round(self.seconds, 3)}


def _today(at_ms: int) -> date:
    return datetime.fromtimestamp(at_ms / 1000, UTC).date()


def analyse(details: CustomerDetails, stills: Mapping[str, np.ndarray], today: date,
            faces: FaceModel | None = None) -> Analysis:
    """Measure the stills (front, back, selfie; other pages are kept as they are) and compare them with what was
    typed. CPU work of a second or so: callers on a GUI run it on a worker thread."""
    started = time.perf_counter()
    model = faces or FaceModel.shared()
    shots: dict[str, Shot] = {}
    if "front" in stills:
        shots["front"] = assess_document(stills["front"], faces=model)
    if "back" in stills:
        shots["back"] = assess_document(stills["back"], faces=None)
    if "selfie" in stills:
        shots["selfie"] = assess_selfie(stills["selfie"], faces=model)
    out = Analysis(shots)
    # The MRZ: a passport has it on the data page (front), an ID card on the back.
    pages = ["back", "front"] if details.document_type == "id_card" else ["front", "back"]
    documents = [shots[p].document for p in pages if p in shots and shots[p].document is not None]
    # Check digits cover numbers and dates, not names: a reading whose digits hold may still have read an M as an
    # H. So the reader keeps going (other scales) until a valid reading also agrees with what was typed; if none
    # does, the first valid reading is the one shown, with its differences.
    first_valid: list[str] = []

    def agrees(raw: str) -> str | None:
        mrz = mrz_from_ocr(raw, today)
        if mrz is None:
            return None
        first_valid.append(raw)
        return raw if not cross_check(details, mrz) else None

    reading = read_mrz([d for d in documents if d is not None], agrees)
    out.mrz_attempts = len(reading.attempts)
    text = reading.text or (first_valid[0] if first_valid else None)
    if text is not None:
        out.mrz = mrz_from_ocr(text, today)
    else:
        out.mrz = next((m for m in (mrz_as_read(raw, today) for raw in reading.attempts) if m is not None), None)
    if out.mrz is None:
        where = "the back of the ID card" if details.document_type == "id_card" else "the passport's photo page"
        out.problems.append(f"The machine-readable zone could not be read: retake {where} flat, sharp and "
                            "without glare.")
    elif not out.mrz.valid:
        out.problems.append("The machine-readable zone does not hold: " + " ".join(out.mrz.problems)
                            + " The document may be altered, or the photo unreadable: retake it, and if it "
                            "stays so, do not accept the document.")
    else:
        out.mismatches = cross_check(details, out.mrz)
        if out.mismatches:
            out.problems.append("What was typed differs from the document: " + "; ".join(
                f"{m.field.replace('_', ' ')} typed {m.typed!r}, the MRZ reads {m.read!r}" for m in out.mismatches)
                + ".")
        if out.mrz.expiry_date and out.mrz.expiry_date < today:
            out.problems.append(f"The document expired on {out.mrz.expiry_date.isoformat()}.")
    front, selfie = shots.get("front"), shots.get("selfie")
    if front is not None and not front.faces:
        out.problems.append("No face found on the document's photo: photograph the page with the portrait.")
    if selfie is not None and not selfie.faces:
        out.problems.append("No face found in the selfie: the customer faces the camera, nothing covering it.")
    elif selfie is not None and len(selfie.faces) > 1:
        out.problems.append("More than one face in the selfie: only the customer may be in view.")
    if front is not None and selfie is not None and front.embedding is not None and selfie.embedding is not None \
            and len(selfie.faces) == 1:
        out.match_score = round(match_score(front.embedding, selfie.embedding), 3)
        if not out.same_person:
            out.problems.append("The selfie does not match the document's photo: " + out.verdict())
    for name, shot in shots.items():
        out.warnings.extend(f"{name}: {p}" for p in shot.problems() if "No face" not in p)
    out.seconds = time.perf_counter() - started
    return out


def read_document(stills: Mapping[str, np.ndarray], document_type: str, today: date) -> Mrz | None:
    """The MRZ of the photographed document alone (before anything is typed: the desk fills the form from it),
    or None when no reading holds."""
    pages = ["back", "front"] if document_type == "id_card" else ["front", "back"]
    documents = [assess_document(stills[p]).document for p in pages if p in stills]
    reading = read_mrz([d for d in documents if d is not None], lambda raw: raw if mrz_from_ocr(raw, today) else None)
    return mrz_from_ocr(reading.text, today) if reading.text else None


def assess(kind: str, image: np.ndarray, faces: FaceModel | None = None) -> Shot:
    """One still's quality checks, as the desk shows them under the shot (a selfie's face; a document's outline,
    sharpness and glare, and its portrait)."""
    model = faces or FaceModel.shared()
    if kind == "selfie":
        return assess_selfie(image, faces=model)
    return assess_document(image, faces=model if kind == "front" else None, with_embedding=False)


def _warm_up() -> bool:
    FaceModel.shared()
    return True


def _analyse_details(details: Mapping[str, Any], stills: Mapping[str, np.ndarray], today: date) -> Analysis:
    return analyse(customer_details(details, today), stills, today)


class DeskWorker:
    """The desk's heavy work (OCR, face detection and matching: a second or two of CPU, much of it holding
    Python's GIL inside dlib) in a process of its own, so the counter app's screen never stalls. Started with
    `spawn` (forking a Qt app with running threads is unsafe); the face models load there once. Stills and
    results travel through the pipe, in memory: nothing personal is written anywhere."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def warm_up(self) -> Future[bool]:
        return self._executor().submit(_warm_up)

    def assess(self, kind: str, image: np.ndarray) -> Future[Shot]:
        return self._executor().submit(assess, kind, image)

    def read_document(self, stills: Mapping[str, np.ndarray], document_type: str, today: date) -> Future[Mrz | None]:
        return self._executor().submit(read_document, dict(stills), document_type, today)

    def analyse(self, details: Mapping[str, Any], stills: Mapping[str, np.ndarray], today: date) -> Future[Analysis]:
        return self._executor().submit(_analyse_details, dict(details), dict(stills), today)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def today_here() -> date:
    return _today(now_ms())


def decode_stills(images: Mapping[str, bytes]) -> dict[str, np.ndarray]:
    """Imported photos (JPEG or PNG bytes) as frames; InvalidInput naming the one that is not an image."""
    out = {}
    for name, data in images.items():
        try:
            out[name] = decode_image(data, f"{name.replace('_', ' ')} photo")
        except ImageError as exc:
            raise InvalidInput(str(exc)) from None
    return out


def intake(term: Terminal, user: User, details: Mapping[str, Any], stills: Mapping[str, np.ndarray], *,
           account: str | None = None, faces: FaceModel | None = None,
           analysis: Analysis | None = None) -> dict[str, Any]:
    """The whole desk: check the typed details, analyse the stills (unless the desk already did, `analysis`),
    refuse with every reason when anything stops the case, else seal and store it. Nothing is written on a
    refusal. Returns the case (id, level, status) with the analysis."""
    who = require_kyc_access(user)
    if not term.store.meta("hq_kyc_key"):
        raise WrongState("KYC cases go sealed to HQ's compliance key: enroll this terminal with HQ first.")
    today = _today(now_ms())
    case = customer_details(details, today)
    problems = intake_problems(case, today)
    if problems:
        raise InvalidInput(" ".join(problems))
    unknown = sorted(set(stills) - set(IMAGE_NAMES))
    if unknown:
        raise InvalidInput("Unknown KYC image {image!r}; use {items}.", image=unknown[0], items=', '.join(IMAGE_NAMES))
    missing = [name for name in REQUIRED_IMAGES[case.level] if name not in stills]
    if missing:
        raise InvalidInput("A {level} case needs a photo of the {image}.",
                           level=case.level, image=missing[0].replace('_', ' '))
    found = analysis or analyse(case, stills, today, faces)
    if found.problems:
        raise InvalidInput(" ".join(found.problems))
    jpegs = {name: encode_jpeg(image) for name, image in stills.items()}
    result = submit_case(term, who, details, jpegs, account=account, analysis=found.to_dict())
    return {**result, **found.to_dict()}


def require_kyc_access(user: User | None) -> User:
    if user is None or not user.role.at_least(Role.MANAGER):
        raise NotAllowed("KYC intake is for managers and owners.")
    return user


def submit_case(term: Terminal, user: User, details: Mapping[str, Any], images: Mapping[str, bytes], *,
                account: str | None = None, analysis: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Seal a customer's case to HQ and keep only the envelope. `images` are JPEGs by name (front, back, selfie,
    and for an enhanced case proof_of_address and bank_statement); `analysis` is what the desk measured (MRZ read,
    faces, match score). Refuses, writing nothing, what HQ could not use."""
    who = require_kyc_access(user)
    hq_key = term.store.meta("hq_kyc_key")
    if not hq_key:
        raise WrongState("KYC cases go sealed to HQ's compliance key: enroll this terminal with HQ first.")
    at = now_ms()
    case = customer_details(details, datetime.fromtimestamp(at / 1000, UTC).date())
    problems = intake_problems(case, datetime.fromtimestamp(at / 1000, UTC).date())
    if problems:
        raise InvalidInput(" ".join(problems))
    unknown = sorted(set(images) - set(IMAGE_NAMES))
    if unknown:
        raise InvalidInput("Unknown KYC image {image!r}; use {items}.", image=unknown[0], items=', '.join(IMAGE_NAMES))
    missing = [name for name in REQUIRED_IMAGES[case.level] if not images.get(name)]
    if missing:
        raise InvalidInput("A {level} case needs a photo of the {image}.",
                           level=case.level, image=missing[0].replace('_', ' '))
    for name, data in images.items():
        if not data.startswith(_JPEG):
            raise InvalidInput("The {image} photo is not a JPEG image.", image=name.replace('_', ' '))
    if account is not None and not (1 <= len(account) <= 100 and account.isprintable()):
        raise InvalidInput("The customer's account id is not one.")
    case_id = uuid7(at)
    # Plain JSON (scores are fractions): the plaintext is never hashed or signed, only sealed.
    plaintext = json.dumps({
        "details": case.to_dict(), "account": account, "analysis": dict(analysis or {}),
        "images": {name: base64.b64encode(data).decode("ascii") for name, data in sorted(images.items())},
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    envelope = seal(plaintext, {"case_id": case_id, "terminal_id": term.terminal_id, "level": case.level,
                                "created_at_ms": at}, bytes.fromhex(hq_key))
    data = envelope.encode()
    if len(data) > MAX_ENVELOPE:
        raise InvalidInput("The photos are too large together (over 10 MB sealed); take them at a lower resolution.")
    with term.store.transaction() as conn:
        repos.insert_kyc_case(conn, case_id, case.level, account, at, who.name, data, envelope.sha256)
        append_record(conn, term.terminal_id, "kyc_submitted",
                      {"case_id": case_id, "level": case.level, "account": account, "sha256": envelope.sha256,
                       "size": len(data), "user": who.name}, at)
    return {"case_id": case_id, "level": case.level, "status": "submitted", "sha256": envelope.sha256,
            "size": len(data)}


def list_cases(term: Terminal, user: User) -> list[dict[str, Any]]:
    """The terminal's cases: ids, levels, statuses, whether HQ holds them. Nothing personal."""
    require_kyc_access(user)
    return repos.kyc_cases(term.store)


def upload_pending(store: Store, put: Any, hq_receipt_key: bytes) -> int:
    """Send every case HQ has not acknowledged (oldest first) through `put(case_id, envelope) -> answer`; a case
    counts as uploaded only when HQ's receipt verifies and names this envelope's hash. Returns how many."""
    done = 0
    for case_id, envelope, sha in repos.kyc_cases_to_upload(store):
        answer = put(case_id, envelope)
        receipt, signature = answer.get("receipt"), answer.get("receipt_signature")
        if not (isinstance(receipt, dict) and isinstance(signature, str)
                and receipt.get("sha256") == sha and receipt.get("case_id") == case_id
                and verify_receipt(receipt, signature, hq_receipt_key)):
            raise WrongState("HQ's receipt for KYC case {case_id} does not verify; the case stays to be sent.",
                             case_id=case_id)
        with store.transaction() as conn:
            repos.acknowledge_kyc_case(conn, case_id, json.dumps(answer), now_ms())
        done += 1
    return done
