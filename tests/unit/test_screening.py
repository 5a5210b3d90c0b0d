"""Screening lists in their published formats (fixtures written in each real layout: tests/fixtures/screening/) and
name matching across Latin, Cyrillic and Georgian spellings, with date of birth and nationality as evidence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sync.hq.screening import HIT_AT, Index, ListFormatError, name_key, read_list

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "screening"


def _read(fmt: str, name: str) -> list:
    return read_list(fmt, (FIXTURES / name).read_bytes())


def test_the_ofac_sdn_list() -> None:
    entries = _read("ofac", "sdn.xml")
    assert [e.ref for e in entries] == ["7643", "35096"]  # individuals only: the airline is not a person
    qadhafi, putin = entries
    assert qadhafi.name == "Muammar QADHAFI" and "Muammar GADDAFI" in qadhafi.aliases
    assert qadhafi.birth == ["1942"] and qadhafi.nationality == ["LY"] and qadhafi.programs == ["LIBYA2"]
    assert putin.birth == ["1952-10-07"] and putin.nationality == ["RU"]


def test_the_un_consolidated_list() -> None:
    kim, baradar = _read("un", "consolidated.xml")
    assert (kim.ref, kim.name, kim.aliases, kim.birth, kim.nationality) == (
        "KPi.999", "KIM JONG UN", ["Kim Jong-eun"], ["1984-01-08"], ["KP"])
    assert baradar.birth == ["1968"] and baradar.nationality == ["AF"] and baradar.programs == ["Taliban"]


def test_the_eu_financial_sanctions_file() -> None:
    [saddam] = _read("eu", "eu.xml")  # the bank is an enterprise, not a person
    assert (saddam.ref, saddam.name, saddam.aliases, saddam.birth, saddam.nationality, saddam.programs) == (
        "EU.27.28", "Saddam Hussein Al-Tikriti", ["Abu Ali"], ["1937-04-28"], ["IQ"], ["IRQ"])
    # The same file as CSV: one row per name, birth date and citizenship of an entity, grouped by its logical id
    assert _read("eu", "eu.csv") == [saddam]


def test_opensanctions_followthemoney_lines_carry_peps() -> None:
    pep, sanctioned = _read("ftm", "ftm.jsonl")  # a company and a person with no topic are not screening hits
    assert pep.kind == "pep" and "ნიკოლოზ ბერიძე" in pep.aliases and pep.nationality == ["GE"]
    assert sanctioned.kind == "sanction" and sanctioned.birth == ["1965"]


@pytest.mark.parametrize("fmt, data, says", [
    ("ofac", b"<notalist/>", "root element"), ("un", b"<CONSOLIDATED_LIST>", "well-formed"),
    ("ftm", b'{"schema": "Person"}\n', "line 1"), ("eu", b"name;born\nA;1990\n", "no column Entity_LogicalId"),
    ("ftm", b"\xff\xfe", "UTF-8"), ("csv", b"", "unknown list format")])
def test_a_file_that_is_not_the_list_it_claims_is_refused(fmt: str, data: bytes, says: str) -> None:
    with pytest.raises(ListFormatError, match=says):
        read_list(fmt, data)


def _index() -> Index:
    return Index(_read("ofac", "sdn.xml") + _read("un", "consolidated.xml") + _read("eu", "eu.xml")
                 + _read("ftm", "ftm.jsonl"))


def test_names_fold_across_scripts() -> None:
    assert name_key("Владимир Путин") == name_key("Vladimir Putin") == "putin vladimir"
    assert name_key("ვლადიმერ პუტინი") == "putin vladimer"  # the Georgian nominative -i goes
    assert name_key("Муаммар Каддафи") == name_key("Muammar Qaddafi")


@pytest.mark.parametrize("spelling", ["Vladimir Putin", "Владимир Путин", "ვლადიმერ პუტინი",
                                      "PUTIN, Vladimir Vladimirovich"])
def test_a_listed_latin_name_is_hit_in_every_script(spelling: str) -> None:
    [hit, *_] = _index().screen(spelling, date(1952, 10, 7), "RU")
    assert hit.entry.ref == "35096" and hit.score >= HIT_AT, hit
    assert hit.parts["date_of_birth"] > 0 and hit.parts["nationality"] > 0


@pytest.mark.parametrize("spelling", ["Муаммар Каддафи", "მუამარ კადაფი", "Moammar Khadafi"])
def test_aliases_and_transliterations_of_one_person(spelling: str) -> None:
    [hit, *_] = _index().screen(spelling, date(1942, 6, 7))
    assert hit.entry.ref == "7643" and hit.score >= HIT_AT, hit


def test_a_different_birth_year_lowers_the_score_and_the_nationality_too() -> None:
    index = _index()
    same = index.screen("Ivan Petrov", date(1965, 3, 1), "RU")
    other = index.screen("Ivan Petrov", date(1990, 3, 1), "GE")
    assert same and other and same[0].entry.ref == other[0].entry.ref == "NK-sanctioned-example"
    assert other[0].score < same[0].score
    assert other[0].parts["date_of_birth"] < 0 and other[0].parts["nationality"] < 0


def test_a_pep_in_georgian_script_and_nobody_for_an_unlisted_name() -> None:
    index = _index()
    [hit, *_] = index.screen("Nikoloz Beridze", date(1971, 5, 16), "GEO")  # the desk's alpha-3
    assert hit.entry.kind == "pep" and hit.score >= HIT_AT
    assert index.screen("Tamar Kapanadze", date(1990, 1, 1), "GE") == []
    assert index.screen("", None, None) == []


@pytest.mark.parametrize("nationality, born, pep, sanctioned, score, level, parts", [
    ("GE", date(1990, 1, 1), False, False, 10, "low", {"base": 10}),
    ("IR", date(1990, 1, 1), False, False, 40, "medium", {"base": 10, "nationality": 30}),
    ("ge", date(2009, 1, 2), False, False, 30, "low", {"base": 10, "age": 20}),       # 17 the day before
    ("GE", date(2008, 1, 1), False, False, 10, "low", {"base": 10}),                   # 18 today
    ("GE", date(1945, 1, 1), False, False, 30, "low", {"base": 10, "age": 20}),       # 81
    ("GE", date(1946, 1, 2), False, False, 10, "low", {"base": 10}),                   # 79
    ("GE", date(1990, 1, 1), True, False, 50, "medium", {"base": 10, "pep": 40}),
    ("KP", date(1990, 1, 1), True, False, 80, "high", {"base": 10, "nationality": 30, "pep": 40}),
    ("SY", date(1930, 1, 1), True, True, 100, "high", {"base": 10, "nationality": 30, "age": 20, "pep": 40,
                                                      "sanctions": 50}),
    ("AF", None, False, True, 90, "high", {"base": 10, "nationality": 30, "sanctions": 50}),
    (None, None, False, False, 10, "low", {"base": 10}),
    ("PRK", date(1990, 1, 1), False, False, 40, "medium", {"base": 10, "nationality": 30}),  # as the MRZ has it
    ("GEO", date(1990, 1, 1), False, False, 10, "low", {"base": 10}),
])
def test_the_risk_score_of_domain_md(nationality: str | None, born: date | None, pep: bool, sanctioned: bool,
                                     score: int, level: str, parts: dict[str, int]) -> None:
    from sync.hq.screening import risk

    result = risk(nationality, born, date(2026, 1, 1), pep, sanctioned)
    assert (result.score, result.level, result.parts) == (score, level, parts)
