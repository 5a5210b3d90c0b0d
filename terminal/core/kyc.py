"""KYC intake at the counter, the pure part: the case model of DOMAIN.md (levels, statuses, the customer's details)
and ICAO 9303 machine-readable zones (TD1 ID cards 3×30, TD2 and TD3 passports 2×36 and 2×44) with every check digit
and the composite verified, ages and expiry computed, and the typed details compared field by field with the MRZ."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from terminal.core.errors import InvalidInput, WrongState

# --- the case -----------------------------------------------------------------------------------------------------

BASIC, ENHANCED = "basic", "enhanced"
LEVELS = (BASIC, ENHANCED)
DRAFT, SUBMITTED, APPROVED, REJECTED, RESUBMISSION_REQUESTED, EXPIRED = (
    "draft", "submitted", "approved", "rejected", "resubmission_requested", "expired")
STATUSES = (DRAFT, SUBMITTED, APPROVED, REJECTED, RESUBMISSION_REQUESTED, EXPIRED)
_NEXT_STATUS = {DRAFT: {SUBMITTED}, SUBMITTED: {APPROVED, REJECTED, RESUBMISSION_REQUESTED},
                RESUBMISSION_REQUESTED: {SUBMITTED}, APPROVED: {EXPIRED}, REJECTED: set(), EXPIRED: set()}
APPROVAL_VALID_DAYS = 365
ADULT_AGE = 18
DOCUMENT_TYPES = ("passport", "id_card")
# What each level needs photographed (DOMAIN.md): an enhanced case adds proof of address and a bank statement.
REQUIRED_IMAGES = {BASIC: ("front", "selfie"), ENHANCED: ("front", "selfie", "proof_of_address", "bank_statement")}


def check_status_change(current: str, new: str) -> None:
    if new not in _NEXT_STATUS.get(current, set()):
        raise WrongState("A KYC case that is {current} cannot become {new}.",
                         current=current.replace("_", " "), new=new.replace("_", " "))


@dataclass(frozen=True)
class CustomerDetails:
    """What the clerk types from the document, in its Latin (MRZ) spelling."""

    surname: str
    given_names: str
    date_of_birth: date
    nationality: str  # ICAO 9303 three-letter code (GEO, UTO, ...)
    phone: str
    document_type: str
    document_number: str
    document_expiry: date
    level: str = BASIC

    def to_dict(self) -> dict[str, Any]:
        return {"surname": self.surname, "given_names": self.given_names,
                "date_of_birth": self.date_of_birth.isoformat(), "nationality": self.nationality, "phone": self.phone,
                "document_type": self.document_type, "document_number": self.document_number,
                "document_expiry": self.document_expiry.isoformat(), "level": self.level}


_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_DOC_NUMBER = re.compile(r"^[A-Z0-9]{1,30}$")
_NAME_PART = re.compile(r"^[A-Za-z][A-Za-z' -]{0,79}$")
DETAIL_FIELDS = ("surname", "given_names", "date_of_birth", "nationality", "phone", "document_type",
                 "document_number", "document_expiry", "level")


def _date(value: object, what: str) -> date:
    if not isinstance(value, str):
        raise InvalidInput("The {what} must be a date written YYYY-MM-DD.", what=what)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("The {what} must be a date written YYYY-MM-DD, not {value!r}.",
                           what=what, value=value) from None


def customer_details(data: Mapping[str, Any], today: date) -> CustomerDetails:
    """Validate what was typed. Names are the document's Latin spelling (as printed in its MRZ)."""
    unknown = sorted(set(data) - set(DETAIL_FIELDS))
    if unknown:
        raise InvalidInput("Unknown customer detail {value!r}.", value=unknown[0])
    missing = [f for f in DETAIL_FIELDS if f != "level" and not data.get(f)]
    if missing:
        raise InvalidInput("The customer's {detail} is missing.", detail=missing[0].replace("_", " "))
    surname, given = str(data["surname"]).strip(), str(data["given_names"]).strip()
    for what, value in (("surname", surname), ("given names", given)):
        if not _NAME_PART.fullmatch(value):
            raise InvalidInput("The {what} must be written in Latin letters as on the document's MRZ, not {value!r}.",
                               what=what, value=value)
    born, expiry = _date(data["date_of_birth"], "date of birth"), _date(data["document_expiry"], "document expiry")
    if born >= today:
        raise InvalidInput("The date of birth must be in the past.")
    nationality = str(data["nationality"]).strip().upper()
    if not _COUNTRY.fullmatch(nationality):
        raise InvalidInput("The nationality is the document's three-letter code, such as GEO.")
    phone = re.sub(r"[ ()-]", "", str(data["phone"]))
    if not _PHONE.fullmatch(phone):
        raise InvalidInput("The phone number must be in international form, such as +995 555 12 34 56.")
    if data["document_type"] not in DOCUMENT_TYPES:
        raise InvalidInput("The document is a passport or an id_card.")
    number = str(data["document_number"]).strip().upper().replace(" ", "")
    if not _DOC_NUMBER.fullmatch(number):
        raise InvalidInput("The document number is letters and digits only.")
    level = data.get("level") or BASIC
    if level not in LEVELS:
        raise InvalidInput("The KYC level is basic or enhanced.")
    return CustomerDetails(surname, given, born, nationality, phone, str(data["document_type"]), number, expiry,
                           level)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def intake_problems(details: CustomerDetails, today: date) -> list[str]:
    """What stops an intake before anything is captured: an expired document, a customer under 18."""
    problems = []
    if details.document_expiry < today:
        problems.append(f"The document expired on {details.document_expiry.isoformat()}.")
    if age_on(details.date_of_birth, today) < ADULT_AGE:
        problems.append(f"The customer is under {ADULT_AGE}; moving tokens needs an adult's verified case.")
    return problems


# --- ICAO 9303 machine-readable zones ---------------------------------------------------------------------------

TD1, TD2, TD3 = "TD1", "TD2", "TD3"
_SHAPES = {(3, 30): TD1, (2, 36): TD2, (2, 44): TD3}
_MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")


def check_digit(text: str) -> int:
    """ICAO 9303 Part 3: weights 7, 3, 1 over digits (their value), letters (A=10 … Z=35) and '<' (0), modulo 10."""
    total = 0
    for i, ch in enumerate(text):
        value = 0 if ch == "<" else int(ch) if ch.isdigit() else ord(ch) - 55
        total += value * (7, 3, 1)[i % 3]
    return total % 10


@dataclass
class Mrz:
    """A machine-readable zone as read, with every check."""

    format: str
    document_code: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: date | None
    sex: str
    expiry_date: date | None
    optional_data: str
    checks: dict[str, bool] = field(default_factory=dict)  # field -> its check digit holds
    problems: list[str] = field(default_factory=list)
    text: str = ""  # the zone's lines, as parsed

    @property
    def valid(self) -> bool:
        return not self.problems and all(self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "document_code": self.document_code, "issuing_state": self.issuing_state,
                "document_number": self.document_number, "surname": self.surname, "given_names": self.given_names,
                "nationality": self.nationality,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None, "sex": self.sex,
                "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
                "optional_data": self.optional_data, "checks": dict(self.checks), "valid": self.valid,
                "problems": list(self.problems), "text": self.text}


def _field(text: str) -> str:
    return text.replace("<", " ").strip()


def _names(text: str) -> tuple[str, str]:
    primary, _, secondary = text.partition("<<")
    return _field(primary), " ".join(_field(secondary).split())


def _yymmdd(text: str, today: date, *, expiry: bool) -> date | None:
    """A YYMMDD date: expiry dates are this century; a birth year later than this year's is last century."""
    if not text.isdigit():
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    century = 2000 if expiry or yy <= today.year % 100 else 1900
    try:
        return date(century + yy, mm, dd)
    except ValueError:
        return None


def parse_mrz(text: str, today: date) -> Mrz:
    """Read a TD1, TD2 or TD3 machine-readable zone (lines separated by line breaks; spaces ignored). Raises
    InvalidInput when it is not one at all; a zone with a wrong check digit is returned with `valid` False and the
    failed checks named in `problems`."""
    lines = [re.sub(r"\s", "", line).upper() for line in text.strip().splitlines() if line.strip()]
    shape = (len(lines), len(lines[0]) if lines else 0)
    kind = _SHAPES.get(shape)
    if kind is None or any(len(line) != shape[1] for line in lines):
        raise InvalidInput("This is not a machine-readable zone: expected 3 lines of 30 characters (ID card) or 2 "
                           "lines of 36 or 44 (passport).")
    if not all(_MRZ_CHARS.fullmatch(line) for line in lines):
        raise InvalidInput("A machine-readable zone holds only A-Z, 0-9 and '<'.")
    mrz = _td1(lines, today) if kind == TD1 else _td2_td3(lines, today, kind)
    mrz.text = "\n".join(lines)
    return mrz


def _checked(mrz: Mrz, name: str, data: str, digit: str) -> None:
    ok = digit.isdigit() and check_digit(data) == int(digit)
    mrz.checks[name] = ok
    if not ok:
        mrz.problems.append(f"The check digit of the {name.replace('_', ' ')} does not match.")


def _td1(lines: list[str], today: date) -> Mrz:
    l1, l2, l3 = lines
    number, number_digit, optional1 = l1[5:14], l1[14], l1[15:30]
    if number_digit == "<" and optional1.strip("<"):  # a number over 9 characters runs on into the optional data
        rest = optional1.rstrip("<")
        number, number_digit, optional1 = number + rest[:-1], rest[-1], ""
    surname, given = _names(l3)
    mrz = Mrz(TD1, _field(l1[0:2]), _field(l1[2:5]), number.replace("<", ""), surname, given, _field(l2[15:18]),
              _yymmdd(l2[0:6], today, expiry=False), _field(l2[7]), _yymmdd(l2[8:14], today, expiry=True),
              _field(optional1 + l2[18:29]))
    _checked(mrz, "document_number", number, number_digit)
    _checked(mrz, "birth_date", l2[0:6], l2[6])
    _checked(mrz, "expiry_date", l2[8:14], l2[14])
    _checked(mrz, "composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    return _dates_read(mrz)


def _td2_td3(lines: list[str], today: date, kind: str) -> Mrz:
    l1, l2 = lines
    width = len(l1)
    surname, given = _names(l1[5:])
    optional_end = width - 2 if kind == TD3 else width - 1
    mrz = Mrz(kind, _field(l1[0:2]), _field(l1[2:5]), l2[0:9].replace("<", ""), surname, given, _field(l2[10:13]),
              _yymmdd(l2[13:19], today, expiry=False), _field(l2[20]), _yymmdd(l2[21:27], today, expiry=True),
              _field(l2[28:optional_end]))
    _checked(mrz, "document_number", l2[0:9], l2[9])
    _checked(mrz, "birth_date", l2[13:19], l2[19])
    _checked(mrz, "expiry_date", l2[21:27], l2[27])
    if kind == TD3:
        if l2[28:42].strip("<") or l2[42] != "<":  # the personal number has its own check digit ('<' when empty)
            _checked(mrz, "personal_number", l2[28:42], "0" if l2[42] == "<" else l2[42])
        _checked(mrz, "composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    else:
        _checked(mrz, "composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    return _dates_read(mrz)


def _dates_read(mrz: Mrz) -> Mrz:
    if mrz.birth_date is None:
        mrz.problems.append("The date of birth in the machine-readable zone is not a date.")
    if mrz.expiry_date is None:
        mrz.problems.append("The expiry date in the machine-readable zone is not a date.")
    return mrz


# --- typed against read -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    field: str
    typed: str
    read: str


def _letters(text: str) -> str:
    """Names as the MRZ writes them: Latin letters only, upper case, accents dropped, anything else a space."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Z]+", " ", plain.upper()).split())


def cross_check(details: CustomerDetails, mrz: Mrz) -> list[Mismatch]:
    """Every typed field the MRZ also holds, compared; each difference is shown to the clerk, never passed over."""
    pairs = [
        ("surname", _letters(details.surname), _letters(mrz.surname)),
        ("given_names", _letters(details.given_names), _letters(mrz.given_names)),
        ("date_of_birth", details.date_of_birth.isoformat(), mrz.birth_date.isoformat() if mrz.birth_date else ""),
        ("nationality", details.nationality, mrz.nationality),
        ("document_number", details.document_number, mrz.document_number),
        ("document_expiry", details.document_expiry.isoformat(),
         mrz.expiry_date.isoformat() if mrz.expiry_date else ""),
        ("document_type", details.document_type, "passport" if mrz.document_code.startswith("P") else "id_card"),
    ]
    return [Mismatch(name, typed, read) for name, typed, read in pairs if typed != read]


# --- an MRZ as OCR reads it ---------------------------------------------------------------------------------------

# Per format, per line: what each position holds. a: letters (and '<'), n: digits (and '<'), x: either.
_MASKS = {
    TD3: ("a" * 44, "x" * 9 + "n" + "aaa" + "n" * 7 + "a" + "n" * 7 + "x" * 14 + "nn"),
    TD2: ("a" * 36, "x" * 9 + "n" + "aaa" + "n" * 7 + "a" + "n" * 7 + "x" * 7 + "n"),
    TD1: ("a" * 5 + "x" * 9 + "n" + "x" * 15, "n" * 7 + "a" + "n" * 7 + "aaa" + "x" * 11 + "n", "a" * 30),
}
_WIDTHS = {TD3: 44, TD2: 36, TD1: 30}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2", "S": "5", "G": "6",
             "B": "8"}
_SWAPS = {**_TO_LETTER, **{k: v for k, v in _TO_DIGIT.items() if k in "OISBZG"}}  # look-alikes either way


def _fit(line: str, width: int) -> str:
    """A line of about the right length made exactly `width`: OCR drops or doubles a '<' inside a long run of
    fillers, so the longest run gives or takes the difference."""
    while len(line) != width:
        runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<+", line)]
        if not runs:
            return line[:width].ljust(width, "<")
        _, start, end = max(runs)
        line = line[:end] + "<" + line[end:] if len(line) < width else line[:start] + line[start + 1:]
    return line


def _masked(line: str, mask: str) -> str:
    out = []
    for ch, kind in zip(line, mask, strict=True):
        if kind == "a" and ch.isdigit():
            ch = _TO_LETTER.get(ch, ch)
        elif kind == "n" and ch.isalpha():
            ch = _TO_DIGIT.get(ch, ch)
        out.append(ch)
    return "".join(out)


def mrz_from_ocr(raw: str, today: date) -> Mrz | None:
    """The machine-readable zone in an OCR reading, repaired where the ICAO layout says what a position may hold
    (a letter read as a digit in a name, an O in a date), or None when no reading has every check digit right.
    Ambiguous characters of the document number are tried both ways, and the check digit decides."""
    found = _mrz_readings(raw, today)
    return found[0] if found and found[0].valid else None


def mrz_as_read(raw: str, today: date) -> Mrz | None:
    """The zone in an OCR reading even when a check digit fails (to say which), or None when there is no zone."""
    found = _mrz_readings(raw, today)
    return found[0] if found else None


def _mrz_readings(raw: str, today: date) -> list[Mrz]:
    """[the valid reading] if a repair holds, else [the repaired reading as it is], else []."""
    lines = [re.sub(r"[^A-Z0-9<]", "", line.upper()) for line in raw.splitlines()]
    lines = [line for line in lines if len(line) >= 20]
    for kind in (TD3, TD1, TD2):
        width, masks = _WIDTHS[kind], _MASKS[kind]
        if len(lines) < len(masks):
            continue
        tail = lines[-len(masks):]
        if any(abs(len(line) - width) > 3 for line in tail):
            continue
        fixed = [_masked(_fit(line, width), mask) for line, mask in zip(tail, masks, strict=True)]
        try:
            first = parse_mrz("\n".join(fixed), today)
        except InvalidInput:
            continue
        for candidate in _number_variants(fixed, kind):
            mrz = parse_mrz("\n".join(candidate), today)
            if mrz.valid:
                return [mrz]
        return [first]
    return []


def _number_variants(lines: list[str], kind: str, limit: int = 16) -> list[list[str]]:
    """The lines as read, then with look-alike characters of the document number swapped (O/0, I/1, S/5, ...)."""
    row, start = (0, 5) if kind == TD1 else (1, 0)
    number = lines[row][start:start + 9]
    spots = [i for i, ch in enumerate(number) if ch in _SWAPS]
    out = [lines]
    for bits in range(1, min(limit, 2 ** len(spots))):
        chars = list(number)
        for j, i in enumerate(spots):
            if bits >> j & 1:
                chars[i] = _SWAPS[chars[i]]
        variant = list(lines)
        variant[row] = lines[row][:start] + "".join(chars) + lines[row][start + 9:]
        out.append(variant)
    return out
