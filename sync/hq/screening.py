"""Sanctions and PEP screening (DOMAIN.md "KYC / AML"): reading the lists in their published formats, and matching a
customer's name, date of birth and nationality against them. Pure: the caller stores the entries and the hits.

Formats (`read_list(format, data)`):
- `ofac`: the US Treasury's SDN list, `sdn.xml` (sdnList/sdnEntry: firstName, lastName, akaList, dateOfBirthList,
  nationalityList or citizenship in idList, programList). Individuals only; countries are named, not coded.
- `un`: the UN Security Council consolidated list, `consolidated.xml` (CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL:
  FIRST_NAME..FOURTH_NAME, INDIVIDUAL_ALIAS/ALIAS_NAME, INDIVIDUAL_DATE_OF_BIRTH/DATE or YEAR, NATIONALITY/VALUE).
- `eu`: the EU Financial Sanctions File, XML (export/sanctionEntity with subjectType code="person": nameAlias
  wholeName, birthdate year/birthdate, citizenship countryIso2Code) or its CSV (semicolon-separated, one row per
  name, birth date, citizenship... of an entity, grouped by Entity_LogicalId: NameAlias_WholeName,
  BirthDate_BirthDate / BirthDate_Year, Citizenship_CountryIso2Code, Entity_Regulation_Programme).
- `ftm`: OpenSanctions' FollowTheMoney entities, one JSON object per line (schema Person: properties name, alias,
  birthDate, nationality, topics — `sanction`, `role.pep`, ...). The one that carries PEPs.

Matching: every name is folded to a key — transliterated to Latin (anyascii: Georgian and Cyrillic alike), lower
case, apostrophes and punctuation dropped, a few spelling variants that transliterations disagree on merged (ph/f→p,
kh/q→k, dh→d, w→v, y→i, double letters once), a Georgian nominative -i after a consonant dropped, and the words
sorted. The names that share at least two words with the query (alike by RapidFuzz's ratio) are scored word by word:
each query word against its best listed word, averaged, less a little for each listed word the query left out (a
patronymic). A date of birth that agrees adds, one that disagrees takes away, and so does the nationality. Hits at or
above `HIT_AT` are reported with their score and parts.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from anyascii import anyascii
from rapidfuzz import fuzz

FORMATS = ("ofac", "un", "eu", "ftm")
HIT_AT = 85          # a final score at or above this is a hit a reviewer must look at
NAME_FLOOR = 75      # names scoring below this are not considered at all
DOB_AGREES, DOB_DIFFERS = 8, -15
NATIONALITY_AGREES, NATIONALITY_DIFFERS = 4, -6
SUBSET_WORD = 4      # a query that leaves out a listed word scores this much less per word
WORD_ALIKE = 75      # two words this alike (RapidFuzz ratio) may be one word spelled two ways


class ListFormatError(ValueError):
    """The file is not a list in the format it was said to be in."""


@dataclass
class Entry:
    """One listed person."""

    ref: str                          # the list's own id for the entry
    name: str
    aliases: list[str] = field(default_factory=list)
    birth: list[str] = field(default_factory=list)  # YYYY-MM-DD or YYYY
    nationality: list[str] = field(default_factory=list)  # ISO 3166 alpha-2, upper case
    kind: str = "sanction"            # sanction | pep
    programs: list[str] = field(default_factory=list)
    list_format: str = ""             # which list it came from (ofac, un, eu, ftm)


# --- names --------------------------------------------------------------------------------------------------------

_VARIANTS = ((re.compile(r"ph"), "p"), (re.compile(r"f"), "p"), (re.compile(r"kh"), "k"), (re.compile(r"q"), "k"),
             (re.compile(r"dh"), "d"), (re.compile(r"th"), "t"), (re.compile(r"w"), "v"), (re.compile(r"y"), "i"),
             (re.compile(r"(.)\1+"), r"\1"))
_GEORGIAN = re.compile(r"[\u10a0-\u10ff\u1c90-\u1cbf]")


def _word(word: str, georgian: bool) -> str:
    for pattern, repl in _VARIANTS:
        word = pattern.sub(repl, word)
    if georgian and len(word) > 3 and word.endswith("i") and word[-2] not in "aeiou":
        word = word[:-1]  # the Georgian nominative: პუტინი is Putin
    return word


def name_key(name: str) -> str:
    """The form every name is compared in (see the module's docstring)."""
    georgian = bool(_GEORGIAN.search(name))
    latin = anyascii(name).lower().replace("'", "").replace("`", "")
    words = [w for w in re.split(r"[^a-z0-9]+", latin) if w]
    return " ".join(sorted(_word(w, georgian) for w in words))


# --- reading the lists ----------------------------------------------------------------------------------------------

_COUNTRIES = {  # the country names OFAC and the UN write, for the nationalities that matter to the risk score and
    # to this chain's customers (an unknown name is kept out of the comparison rather than guessed)
    "afghanistan": "AF", "iran": "IR", "iran (islamic republic of)": "IR", "korea, north": "KP",
    "democratic people's republic of korea": "KP", "syria": "SY", "syrian arab republic": "SY", "iraq": "IQ",
    "russia": "RU", "russian federation": "RU", "georgia": "GE", "ukraine": "UA", "belarus": "BY",
    "armenia": "AM", "azerbaijan": "AZ", "turkey": "TR", "turkiye": "TR", "libya": "LY", "yemen": "YE",
    "lebanon": "LB", "venezuela": "VE", "cuba": "CU", "china": "CN", "united states": "US",
}
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}


# ICAO 9303 / ISO 3166 alpha-3 codes (what a passport's MRZ and the KYC desk carry) for the same countries.
_ALPHA3 = {"AFG": "AF", "IRN": "IR", "PRK": "KP", "SYR": "SY", "IRQ": "IQ", "RUS": "RU", "GEO": "GE", "UKR": "UA",
           "BLR": "BY", "ARM": "AM", "AZE": "AZ", "TUR": "TR", "LBY": "LY", "YEM": "YE", "LBN": "LB", "VEN": "VE",
           "CUB": "CU", "CHN": "CN", "USA": "US", "DEU": "DE", "GBR": "GB", "FRA": "FR", "ISR": "IL",
           "KAZ": "KZ", "UZB": "UZ", "TJK": "TJ", "KGZ": "KG", "TKM": "TM", "MDA": "MD", "POL": "PL"}


def _country(text: str | None) -> str | None:
    """A country as ISO alpha-2 from alpha-2, alpha-3 or the names the lists use; None when not known here."""
    text = (text or "").strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    if text.upper() in _ALPHA3:
        return _ALPHA3[text.upper()]
    return _COUNTRIES.get(text.lower())


def _birth(text: str | None) -> str | None:
    """'1966-04-10', '10 Apr 1966', 'Apr 1966', '1966' or 'circa 1966' as YYYY-MM-DD or YYYY."""
    text = (text or "").strip().lower().replace("circa", "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    match = re.fullmatch(r"(\d{1,2}) ([a-z]{3})[a-z]* (\d{4})", text)
    if match and match.group(2) in _MONTHS:
        return f"{match.group(3)}-{_MONTHS[match.group(2)]:02d}-{int(match.group(1)):02d}"
    match = re.search(r"\b(\d{4})\b", text)
    return match.group(1) if match else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: ET.Element, name: str) -> Iterator[ET.Element]:
    return (child for child in node.iter() if _local(child.tag) == name)


def _text(node: ET.Element, name: str) -> str:
    found = next(_children(node, name), None)
    return (found.text or "").strip() if found is not None else ""


def _parse_xml(data: bytes, root_name: str) -> ET.Element:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ListFormatError(f"not well-formed XML ({exc})") from None
    if _local(root.tag) != root_name:
        raise ListFormatError(f"the file's root element is <{_local(root.tag)}>, not <{root_name}>")
    return root


def _ofac(data: bytes) -> Iterator[Entry]:
    root = _parse_xml(data, "sdnList")
    for node in root:
        if _local(node.tag) != "sdnEntry" or _text(node, "sdnType") != "Individual":
            continue
        name = " ".join(p for p in (_text(node, "firstName"), _text(node, "lastName")) if p)
        aliases = [" ".join(p for p in (_text(a, "firstName"), _text(a, "lastName")) if p)
                   for a in _children(node, "aka")]
        births = [_birth(d.text) for d in _children(node, "dateOfBirth")]
        countries = [_country(c.text) for c in _children(node, "country")]
        yield Entry(_text(node, "uid"), name, [a for a in aliases if a], [b for b in births if b],
                    sorted({c for c in countries if c}), "sanction", [p.text or "" for p in _children(node, "program")])


def _un(data: bytes) -> Iterator[Entry]:
    root = _parse_xml(data, "CONSOLIDATED_LIST")
    for node in _children(root, "INDIVIDUAL"):
        name = " ".join(p for p in (_text(node, f) for f in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME",
                                                             "FOURTH_NAME")) if p)
        aliases = [(a.text or "").strip() for a in _children(node, "ALIAS_NAME")]
        births = []
        for born in _children(node, "INDIVIDUAL_DATE_OF_BIRTH"):
            births.append(_birth(_text(born, "DATE") or _text(born, "YEAR")))
        countries = [_country(v.text) for n in _children(node, "NATIONALITY") for v in _children(n, "VALUE")]
        yield Entry(_text(node, "REFERENCE_NUMBER") or _text(node, "DATAID"), name, [a for a in aliases if a],
                    [b for b in births if b], sorted({c for c in countries if c}), "sanction",
                    [_text(node, "UN_LIST_TYPE")])


def _eu(data: bytes) -> Iterator[Entry]:
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        yield from _eu_csv(data)
        return
    root = _parse_xml(data, "export")
    for node in _children(root, "sanctionEntity"):
        subject = next(_children(node, "subjectType"), None)
        if subject is None or subject.get("code") != "person":
            continue
        names = [a.get("wholeName", "").strip() for a in _children(node, "nameAlias")]
        names = [n for n in names if n]
        if not names:
            continue
        births = [_birth(b.get("birthdate") or b.get("year")) for b in _children(node, "birthdate")]
        countries = [_country(c.get("countryIso2Code")) for c in _children(node, "citizenship")]
        yield Entry(node.get("euReferenceNumber") or node.get("logicalId") or "", names[0], names[1:],
                    [b for b in births if b], sorted({c for c in countries if c}), "sanction",
                    [r.get("programme", "") for r in _children(node, "regulation")])


EU_CSV_COLUMNS = ("Entity_LogicalId", "Entity_SubjectType_ClassificationCode", "NameAlias_WholeName")


def _eu_csv(data: bytes) -> Iterator[Entry]:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    missing = [c for c in EU_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ListFormatError(f"not the EU sanctions CSV: no column {missing[0]} (the XML file works too)")
    people: dict[str, dict[str, list[str]]] = {}
    try:
        for row in reader:
            if (row.get("Entity_SubjectType_ClassificationCode") or "").strip() != "person":
                continue
            person = people.setdefault(row["Entity_LogicalId"].strip(), {
                "ref": [], "names": [], "births": [], "countries": [], "programmes": []})
            for key, column in (("ref", "Entity_EU_ReferenceNumber"), ("names", "NameAlias_WholeName"),
                                ("programmes", "Entity_Regulation_Programme"),
                                ("countries", "Citizenship_CountryIso2Code")):
                value = (row.get(column) or "").strip()
                if value and value not in person[key]:
                    person[key].append(value)
            born = _birth(row.get("BirthDate_BirthDate") or row.get("BirthDate_Year"))
            if born and born not in person["births"]:
                person["births"].append(born)
    except csv.Error as exc:
        raise ListFormatError(f"the EU sanctions CSV does not read as CSV ({exc})") from None
    for logical_id, person in people.items():
        if person["names"]:
            countries = sorted({c for c in (_country(x) for x in person["countries"]) if c})
            yield Entry((person["ref"] or [logical_id])[0], person["names"][0], person["names"][1:],
                        person["births"], countries, "sanction", person["programmes"])


def _ftm(data: bytes) -> Iterator[Entry]:
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if doc.get("schema") != "Person":
                continue
            props = doc["properties"]
            names = [str(n) for n in props.get("name", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ListFormatError(f"line {number} is not a FollowTheMoney entity") from None
        if not names:
            continue
        topics = set(props.get("topics", []))
        kind = "sanction" if any(t.startswith("sanction") for t in topics) else \
            "pep" if any(t.startswith("role.pep") for t in topics) else None
        if kind is None:
            continue  # neither sanctioned nor politically exposed: not a screening hit
        births = [_birth(str(b)) for b in props.get("birthDate", [])]
        countries = [_country(str(c)) for c in props.get("nationality", []) + props.get("citizenship", [])]
        yield Entry(str(doc.get("id", "")), names[0], names[1:] + [str(a) for a in props.get("alias", [])],
                    [b for b in births if b], sorted({c for c in countries if c}), kind, sorted(topics))


_READERS = {"ofac": _ofac, "un": _un, "eu": _eu, "ftm": _ftm}


def read_list(fmt: str, data: bytes) -> list[Entry]:
    """Every listed person in the file; ListFormatError when it is not a list of that format."""
    if fmt not in _READERS:
        raise ListFormatError(f"unknown list format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        entries = list(_READERS[fmt](data))
        for entry in entries:
            entry.list_format = fmt
    except UnicodeDecodeError:
        raise ListFormatError("the file is not UTF-8 text") from None
    return entries


# --- matching ---------------------------------------------------------------------------------------------------------


def _trigrams(word: str) -> set[str]:
    marked = f"^{word}$"
    return {marked[i:i + 3] for i in range(len(marked) - 2)}


@dataclass
class Hit:
    entry: Entry
    score: int
    name_score: int
    matched_name: str
    parts: dict[str, int]


class Index:
    """Entries ready to screen against: every name and alias folded once, and every distinct word of them indexed,
    so a query looks at the names that share its words (spelled alike) instead of at every name."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self.keys: list[list[str]] = []   # each name's folded words
        self.owner: list[int] = []        # the entry each name belongs to
        self.shown: list[str] = []        # the name as listed
        by_word: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            for name in dict.fromkeys([entry.name, *entry.aliases]):
                words = name_key(name).split()
                if words:
                    for word in set(words):
                        by_word.setdefault(word, []).append(len(self.keys))
                    self.keys.append(words)
                    self.owner.append(i)
                    self.shown.append(name)
        self.words = list(by_word)
        self.names_of = [by_word[w] for w in self.words]
        # Each word's letter trigrams (with its ends marked): a query word is compared only with the words that share
        # enough of them, not with every word of the list.
        grams: dict[str, list[int]] = {}
        for w, word in enumerate(self.words):
            for gram in _trigrams(word):
                grams.setdefault(gram, []).append(w)
        self.grams = grams

    def _alike(self, word: str) -> list[int]:
        """The list's words spelled like `word` (RapidFuzz ratio >= WORD_ALIKE)."""
        grams = _trigrams(word)
        counts: Counter[int] = Counter()
        for gram in grams:
            counts.update(self.grams.get(gram, ()))
        need = max(1, len(grams) // 3)
        return [w for w, n in counts.items() if n >= need and fuzz.ratio(word, self.words[w]) >= WORD_ALIKE]

    def _name_score(self, query: list[str], listed: list[str]) -> int:
        """Each query word against its best listed word (each used once), averaged; a listed word left over costs
        SUBSET_WORD (a patronymic the customer did not give), a query word matching nothing counts as 0."""
        left = list(listed)
        total = 0.0
        for word in sorted(query, key=len, reverse=True):
            if not left:
                break
            scores = [fuzz.ratio(word, other) for other in left]
            best = max(range(len(left)), key=scores.__getitem__)
            total += scores[best]
            left.pop(best)
        return int(round(total / len(query) - SUBSET_WORD * len(left)))

    def screen(self, name: str, born: date | None = None, nationality: str | None = None,
               limit: int = 10) -> list[Hit]:
        """The entries this person may be, best first, each with its score and what made it."""
        query = name_key(name).split()
        if not query:
            return []
        shared: dict[int, int] = {}
        for word in set(query):
            for w in self._alike(word):
                for position in self.names_of[w]:
                    shared[position] = shared.get(position, 0) + 1
        need = min(2, len(set(query)))
        best: dict[int, tuple[int, str]] = {}
        for position, count in shared.items():
            if count < need:
                continue
            score = self._name_score(query, self.keys[position])
            owner = self.owner[position]
            if score >= NAME_FLOOR and score > best.get(owner, (-1, ""))[0]:
                best[owner] = (score, self.shown[position])
        hits = []
        for owner, (name_score, shown) in best.items():
            entry = self.entries[owner]
            parts = {"name": name_score}
            if born is not None and entry.birth:
                years = {b[:4] for b in entry.birth}
                exact = {b for b in entry.birth if len(b) == 10}
                if born.isoformat() in exact or (str(born.year) in years and not exact):
                    parts["date_of_birth"] = DOB_AGREES
                elif str(born.year) not in years:
                    parts["date_of_birth"] = DOB_DIFFERS
            country = _country(nationality)
            if country and entry.nationality:
                parts["nationality"] = NATIONALITY_AGREES if country in entry.nationality else NATIONALITY_DIFFERS
            hits.append(Hit(entry, max(0, min(100, sum(parts.values()))), name_score, shown, parts))
        hits.sort(key=lambda h: (-h.score, h.entry.ref))
        return hits[:limit]


# --- risk ---------------------------------------------------------------------------------------------------------

HIGH_RISK_NATIONALITIES = frozenset({"AF", "IR", "KP", "SY"})


@dataclass
class Risk:
    score: int
    level: str                  # low | medium | high
    parts: dict[str, int]       # what made the score, each addition by its reason


def risk(nationality: str | None, born: date | None, today: date, pep: bool, sanctioned: bool) -> Risk:
    """DOMAIN.md's score (nationality as alpha-2 or the MRZ's alpha-3): 10 base, +30 nationality AF/IR/KP/SY, +20 age
    under 18 or over 80, +40 politically exposed, +50 a sanctions hit; at most 100; above 70 high, above 30 medium."""
    parts = {"base": 10}
    if _country(nationality) in HIGH_RISK_NATIONALITIES:
        parts["nationality"] = 30
    if born is not None:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age < 18 or age > 80:
            parts["age"] = 20
    if pep:
        parts["pep"] = 40
    if sanctioned:
        parts["sanctions"] = 50
    score = min(100, sum(parts.values()))
    return Risk(score, "high" if score > 70 else "medium" if score > 30 else "low", parts)
