"""Test identity documents, made here rather than downloaded: a TD3 passport data page and a TD1 ID card (front and
back) rendered with Debian's OCR-B font (fonts-ocr-b) and ICAO 9303 machine-readable zones whose check digits are
right (or deliberately wrong), with scikit-image's `astronaut` as the holder's portrait; then "photographed" (on a
desk, perspective-warped, uneven light, blur, sensor noise) into frames and video files a camera source can play.
The impostor is another real face: matplotlib's sample `grace_hopper.jpg`.

The people and documents are fictional: the issuing state is ICAO's own specimen state UTO (Utopia)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from terminal.core.kyc import check_digit

OCR_B = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PX_PER_MM = 10
TD3_MM, TD1_MM = (125, 88), (85.6, 54)


@dataclass(frozen=True)
class Person:
    surname: str = "ERIKSSON"
    given_names: str = "ANNA MARIA"
    nationality: str = "UTO"
    date_of_birth: date = date(1974, 8, 12)
    sex: str = "F"
    document_number: str = "L898902C3"
    document_expiry: date = date(2031, 4, 15)
    phone: str = "+995555123456"

    def details(self, document_type: str = "passport", level: str = "basic") -> dict[str, str]:
        """The customer details as a clerk types them (the JSON of `kyc submit --details`)."""
        return {"surname": self.surname.title(), "given_names": self.given_names.title(),
                "date_of_birth": self.date_of_birth.isoformat(), "nationality": self.nationality,
                "phone": self.phone, "document_type": document_type, "document_number": self.document_number,
                "document_expiry": self.document_expiry.isoformat(), "level": level}


def _yymmdd(d: date) -> str:
    return d.strftime("%y%m%d")


def _pad(text: str, width: int) -> str:
    return text.replace(" ", "<")[:width].ljust(width, "<")


def _with_digit(text: str) -> str:
    return text + str(check_digit(text))


def td3_mrz(p: Person, *, break_digit: str | None = None) -> list[str]:
    """The two 44-character lines of a passport; `break_digit` ("document_number", "birth_date", "expiry_date",
    "composite") makes that check digit wrong."""
    line1 = _pad(f"P<{p.nationality}{p.surname}<<{p.given_names}", 44)
    number = _with_digit(_pad(p.document_number, 9))
    born = _with_digit(_yymmdd(p.date_of_birth))
    expiry = _with_digit(_yymmdd(p.document_expiry))
    personal = _pad("", 14) + "<"
    fields = {"document_number": number, "birth_date": born, "expiry_date": expiry}
    if break_digit in fields:
        f = fields[break_digit]
        fields[break_digit] = f[:-1] + str((int(f[-1]) + 1) % 10)
    number, born, expiry = fields["document_number"], fields["birth_date"], fields["expiry_date"]
    composite = check_digit(number + born + expiry + personal)
    if break_digit == "composite":
        composite = (composite + 1) % 10
    line2 = f"{number}{p.nationality}{born}{p.sex}{expiry}{personal}{composite}"
    assert len(line1) == len(line2) == 44
    return [line1, line2]


def td1_mrz(p: Person) -> list[str]:
    """The three 30-character lines of an ID card."""
    line1 = _pad(f"I<{p.nationality}" + _with_digit(_pad(p.document_number, 9)), 30)
    line2_head = _with_digit(_yymmdd(p.date_of_birth)) + p.sex + _with_digit(_yymmdd(p.document_expiry)) \
        + p.nationality + _pad("", 11)
    composite = check_digit(line1[5:30] + line2_head[0:7] + line2_head[8:15] + line2_head[18:29])
    line2 = line2_head + str(composite)
    line3 = _pad(f"{p.surname}<<{p.given_names}", 30)
    assert len(line1) == len(line2) == len(line3) == 30
    return [line1, line2, line3]


def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, a NASA photograph in the public domain), BGR."""
    from skimage import data
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def grace_hopper() -> np.ndarray:
    """matplotlib's sample photograph of Grace Hopper (a US Navy photograph in the public domain), BGR."""
    from matplotlib import cbook
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        data = np.frombuffer(f.read(), np.uint8)
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _portrait(face: np.ndarray, size: tuple[int, int]) -> Image.Image:
    crop = face[10:330, 110:370] if face.shape[:2] == (512, 512) else face  # head and shoulders
    rgb = cv2.cvtColor(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    return Image.fromarray(rgb)


def _mrz_font(chars: int, width_px: float) -> ImageFont.FreeTypeFont:
    """OCR-B at the size whose advance puts `chars` characters across `width_px` (ICAO: 2.54 mm a character)."""
    probe = ImageFont.truetype(OCR_B, 100)
    advance = probe.getlength("<" * chars) / chars
    return ImageFont.truetype(OCR_B, int(100 * (width_px / chars) / advance))


def _card(size_mm: tuple[float, float], tint: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    w, h = int(size_mm[0] * PX_PER_MM), int(size_mm[1] * PX_PER_MM)
    img = Image.new("RGB", (w, h), tint)
    draw = ImageDraw.Draw(img)
    for y in range(0, h, 6):  # a faint guilloche-like background pattern
        draw.line([(0, y), (w, y + 40)], fill=tuple(max(0, c - 12) for c in tint), width=1)
    return img, draw


def _mrz_block(img: Image.Image, lines: list[str], chars: int) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.size
    margin = 6 * PX_PER_MM
    font = _mrz_font(chars, chars * 2.54 * PX_PER_MM)
    draw.rectangle([0, h - margin - len(lines) * 5 * PX_PER_MM, w, h], fill=(250, 250, 246))
    for i, line in enumerate(reversed(lines)):
        draw.text((int(4 * PX_PER_MM), h - int(4 * PX_PER_MM) - (i + 1) * int(4.6 * PX_PER_MM)), line,
                  font=font, fill=(15, 15, 15))


def passport_page(p: Person, face: np.ndarray | None = None, *, mrz: list[str] | None = None) -> np.ndarray:
    """A TD3 passport data page (125 × 88 mm at 10 px/mm), BGR."""
    img, draw = _card(TD3_MM, (222, 232, 240))
    title, label, value = (ImageFont.truetype(SANS_BOLD, 34), ImageFont.truetype(SANS, 17),
                           ImageFont.truetype(SANS_BOLD, 26))
    draw.text((40, 18), "UTOPIA  ·  PASSPORT", font=title, fill=(30, 40, 90))
    img.paste(_portrait(astronaut() if face is None else face, (300, 390)), (40, 90))
    rows = [("Type / Code", f"P    {p.nationality}"), ("Surname", p.surname), ("Given names", p.given_names),
            ("Nationality", "UTOPIAN"), ("Date of birth", p.date_of_birth.strftime("%d %b %Y").upper()),
            ("Sex", p.sex), ("Passport No.", p.document_number),
            ("Date of expiry", p.document_expiry.strftime("%d %b %Y").upper())]
    for i, (name, text) in enumerate(rows):
        y = 86 + i * 50
        draw.text((380, y), name, font=label, fill=(80, 80, 110))
        draw.text((380, y + 18), text, font=value, fill=(10, 10, 20))
    _mrz_block(img, mrz or td3_mrz(p), 44)
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def id_card(p: Person, face: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A TD1 ID card, (front, back), 85.6 × 54 mm at 10 px/mm, BGR. The MRZ is on the back."""
    front, draw = _card(TD1_MM, (236, 226, 214))
    title, label, value = (ImageFont.truetype(SANS_BOLD, 28), ImageFont.truetype(SANS, 14),
                           ImageFont.truetype(SANS_BOLD, 21))
    draw.text((30, 14), "UTOPIA  ·  IDENTITY CARD", font=title, fill=(100, 40, 30))
    front.paste(_portrait(astronaut() if face is None else face, (230, 300)), (30, 70))
    rows = [("Surname", p.surname), ("Given names", p.given_names),
            ("Date of birth", p.date_of_birth.strftime("%d.%m.%Y")), ("Sex", p.sex),
            ("Card No.", p.document_number), ("Expiry", p.document_expiry.strftime("%d.%m.%Y"))]
    for i, (name, text) in enumerate(rows):
        draw.text((290, 70 + i * 52), name, font=label, fill=(110, 80, 70))
        draw.text((290, 86 + i * 52), text, font=value, fill=(20, 10, 10))
    back, draw = _card(TD1_MM, (230, 222, 212))
    draw.text((30, 20), "Issued by the Republic of Utopia", font=label, fill=(110, 80, 70))
    _mrz_block(back, td1_mrz(p), 30)
    return (cv2.cvtColor(np.asarray(front), cv2.COLOR_RGB2BGR), cv2.cvtColor(np.asarray(back), cv2.COLOR_RGB2BGR))


@dataclass(frozen=True)
class Photo:
    """How a document is photographed."""

    frame: tuple[int, int] = (1280, 720)
    fill: float = 0.6  # the document's width as a fraction of the frame's
    tilt: float = 0.06  # corner displacement, as a fraction of the document's width (perspective)
    blur: float = 0.8  # Gaussian sigma, px
    noise: float = 4.0  # sensor noise, grey levels
    light: float = 0.25  # how uneven the light is (0 = even)
    glare: float = 0.0  # a blown-out reflection's radius as a fraction of the document's width (0 = none)
    seed: int = 7


def _desk(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    base = np.full((h, w, 3), (52, 74, 96), np.uint8)  # a wooden counter top
    grain = (rng.normal(0, 6, (h, 1, 1)) + np.sin(np.arange(w) / 23.0)[None, :, None] * 5).astype(np.int16)
    return np.clip(base.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def photograph(doc: np.ndarray, photo: Photo = Photo()) -> np.ndarray:
    """The document lying on a desk, seen by a camera: perspective, uneven light, blur, noise (BGR frame)."""
    rng = np.random.default_rng(photo.seed)
    fw, fh = photo.frame
    dh, dw = doc.shape[:2]
    tw = fw * photo.fill
    th = tw * dh / dw
    cx, cy = fw / 2, fh / 2
    box = np.float32([[cx - tw / 2, cy - th / 2], [cx + tw / 2, cy - th / 2], [cx + tw / 2, cy + th / 2],
                      [cx - tw / 2, cy + th / 2]])
    box += rng.uniform(-photo.tilt, photo.tilt, box.shape).astype(np.float32) * tw
    matrix = cv2.getPerspectiveTransform(np.float32([[0, 0], [dw, 0], [dw, dh], [0, dh]]), box)
    out = _desk(photo.frame, rng)
    warped = cv2.warpPerspective(doc, matrix, photo.frame, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((dh, dw), 255, np.uint8), matrix, photo.frame)
    out[mask > 0] = warped[mask > 0]
    xs = np.linspace(1 - photo.light, 1 + photo.light / 3, fw)[None, :]
    ys = np.linspace(1, 1 - photo.light / 2, fh)[:, None]
    lit = out.astype(np.float32) * (xs * ys)[..., None]
    if photo.glare:
        gx, gy = cx + tw * 0.1, cy - th * 0.1
        yy, xx = np.mgrid[0:fh, 0:fw]
        r = photo.glare * tw
        lit += (np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * (r / 2) ** 2)) * 400)[..., None]
    if photo.blur:
        lit = cv2.GaussianBlur(lit, (0, 0), photo.blur)
    lit += rng.normal(0, photo.noise, lit.shape)
    return np.clip(lit, 0, 255).astype(np.uint8)


def selfie(face: np.ndarray | None = None, *, frame: tuple[int, int] = (1280, 720), seed: int = 3) -> np.ndarray:
    """The customer in front of the counter camera: the same face, turned a little, lit differently, scaled, noisy."""
    rng = np.random.default_rng(seed)
    img = astronaut() if face is None else face
    h, w = img.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-6, 6)), 1.0)
    img = cv2.warpAffine(img, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    img = cv2.convertScaleAbs(img, alpha=float(rng.uniform(0.85, 1.1)), beta=float(rng.uniform(-10, 15)))
    fw, fh = frame
    scale = fh * 0.9 / h
    small = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    out = np.full((fh, fw, 3), (90, 96, 104), np.uint8)
    x0, y0 = (fw - small.shape[1]) // 2, (fh - small.shape[0]) // 2
    out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return np.clip(out.astype(np.float32) + rng.normal(0, 3, out.shape), 0, 255).astype(np.uint8)


def blank_wall(frame: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """A camera looking at an empty wall: no document, no face."""
    return np.full((frame[1], frame[0], 3), (120, 126, 130), np.uint8)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def write_video(path: Path, frames: list[np.ndarray], *, seconds_each: float = 2.0, fps: int = 10) -> Path:
    """A Motion-JPEG AVI that shows each frame for `seconds_each` (a camera source plays it in a loop)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), float(fps), (w, h))
    assert writer.isOpened(), path
    for frame in frames:
        for _ in range(max(1, int(seconds_each * fps))):
            writer.write(frame)
    writer.release()
    return path


def broken(p: Person, what: str) -> list[str]:
    return td3_mrz(p, break_digit=what)


__all__ = ["Person", "Photo", "passport_page", "id_card", "photograph", "selfie", "grace_hopper", "astronaut", "jpeg",
           "write_video", "td3_mrz", "td1_mrz", "blank_wall", "broken"]
