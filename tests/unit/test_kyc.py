"""KYC intake, the pure part: ICAO 9303's own specimen MRZs (Parts 4, 5 and 6) read with every check digit, broken
digits named, the case model, and typed details compared with the MRZ field by field."""

from __future__ import annotations

from datetime import date

import pytest

from terminal.core.errors import InvalidInput, WrongState
from terminal.core.kyc import (
    APPROVED,
    DRAFT,
    EXPIRED,
    SUBMITTED,
    TD1,
    TD2,
    TD3,
    age_on,
    check_digit,
    check_status_change,
    cross_check,
    customer_details,
    intake_problems,
    parse_mrz,
)

TODAY = date(2026, 11, 30)
# ICAO Doc 9303 specimens: Part 4 (TD3 passport), Part 5 (TD1 card), Part 6 (TD2).
TD3_SPECIMEN = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1_SPECIMEN = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD2_SPECIMEN = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"


def test_check_digits_of_the_specimens() -> None:
    assert check_digit("L898902C3") == 6 and check_digit("740812") == 2 and check_digit("120415") == 9
    assert check_digit("ZE184226B<<<<<") == 1 and check_digit("D23145890") == 7
    assert check_digit("<<<") == 0


@pytest.mark.parametrize(("text", "kind", "number"), [(TD3_SPECIMEN, TD3, "L898902C3"),
                                                       (TD1_SPECIMEN, TD1, "D23145890"),
                                                       (TD2_SPECIMEN, TD2, "D23145890")])
def test_the_icao_specimens_read_and_verify(text: str, kind: str, number: str) -> None:
    mrz = parse_mrz(text, TODAY)
    assert mrz.valid, mrz.problems
    assert (mrz.format, mrz.document_number, mrz.issuing_state, mrz.nationality) == (kind, number, "UTO", "UTO")
    assert (mrz.surname, mrz.given_names, mrz.sex) == ("ERIKSSON", "ANNA MARIA", "F")
    assert mrz.birth_date == date(1974, 8, 12) and mrz.expiry_date == date(2012, 4, 15)
    assert set(mrz.checks) >= {"document_number", "birth_date", "expiry_date", "composite"}
    if kind == TD3:
        assert mrz.optional_data == "ZE184226B" and mrz.checks["personal_number"]


@pytest.mark.parametrize(("line", "position", "named"), [
    (1, 9, "document number"), (1, 19, "birth date"), (1, 27, "expiry date"), (1, 42, "personal number"),
    (1, 43, "composite"),
])
def test_a_broken_check_digit_is_named(line: int, position: int, named: str) -> None:
    lines = TD3_SPECIMEN.splitlines()
    digit = lines[line][position]
    lines[line] = lines[line][:position] + str((int(digit) + 1) % 10) + lines[line][position + 1:]
    mrz = parse_mrz("\n".join(lines), TODAY)
    assert not mrz.valid and any(named in p for p in mrz.problems), mrz.problems


def test_a_changed_character_breaks_the_composite_too() -> None:
    lines = TD1_SPECIMEN.splitlines()
    lines[1] = lines[1][:18] + "X" + lines[1][19:]  # optional data is covered only by the composite
    mrz = parse_mrz("\n".join(lines), TODAY)
    assert mrz.checks == {"document_number": True, "birth_date": True, "expiry_date": True, "composite": False}


def test_a_long_td1_document_number_runs_into_the_optional_data() -> None:
    number = "D23145890AB1"  # 12 characters: 9 in place, the rest and its check digit in the optional data
    digit = str(check_digit(number))
    l1 = f"I<UTO{number[:9]}<{number[9:]}{digit}".ljust(30, "<")
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 += str(check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]))
    mrz = parse_mrz(f"{l1}\n{l2}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<", TODAY)
    assert mrz.valid and mrz.document_number == number


@pytest.mark.parametrize("text", ["", "P<UTO", "X" * 44 + "\n" + "Y" * 43, TD3_SPECIMEN.replace("<", "-")])
def test_what_is_not_an_mrz_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_mrz(text, TODAY)


def _details(**change: object) -> dict[str, object]:
    return {"surname": "Eriksson", "given_names": "Anna Maria", "date_of_birth": "1974-08-12", "nationality": "UTO",
            "phone": "+995 555 12 34 56", "document_type": "passport", "document_number": "L898902C3",
            "document_expiry": "2031-04-15", **change}


def test_typed_details_are_compared_with_the_mrz_field_by_field() -> None:
    mrz = parse_mrz(TD3_SPECIMEN, TODAY)
    details = customer_details(_details(document_expiry="2012-04-15"), TODAY)
    assert cross_check(details, mrz) == []
    wrong = customer_details(_details(given_names="Anna Marie", document_number="L898902C4",
                                      document_expiry="2012-04-15"), TODAY)
    assert [(m.field, m.typed, m.read) for m in cross_check(wrong, mrz)] == [
        ("given_names", "ANNA MARIE", "ANNA MARIA"), ("document_number", "L898902C4", "L898902C3")]


def test_intake_problems_expired_document_and_minors() -> None:
    expired = customer_details(_details(document_expiry="2012-04-15"), TODAY)
    assert any("expired" in p for p in intake_problems(expired, TODAY))
    minor = customer_details(_details(date_of_birth="2010-01-01"), TODAY)
    assert any("under 18" in p for p in intake_problems(minor, TODAY))
    assert intake_problems(customer_details(_details(), TODAY), TODAY) == []
    assert age_on(date(2008, 12, 1), TODAY) == 17 and age_on(date(2008, 11, 30), TODAY) == 18


@pytest.mark.parametrize(("change", "text"), [
    ({"surname": "ერიქსონი"}, "Latin letters"), ({"date_of_birth": "12.08.1974"}, "YYYY-MM-DD"),
    ({"nationality": "Georgia"}, "three-letter"), ({"phone": "555 12 34"}, "international"),
    ({"document_type": "licence"}, "passport or an id_card"), ({"document_number": "L8-98"}, "letters and digits"),
    ({"level": "gold"}, "basic or enhanced"), ({"colour": "red"}, "Unknown customer detail"),
    ({"surname": ""}, "surname is missing"), ({"date_of_birth": "2030-01-01"}, "in the past"),
])
def test_bad_details_are_refused(change: dict[str, object], text: str) -> None:
    with pytest.raises(InvalidInput, match=text):
        customer_details(_details(**change), TODAY)


def test_case_statuses_follow_domain_md() -> None:
    check_status_change(DRAFT, SUBMITTED)
    check_status_change(SUBMITTED, APPROVED)
    check_status_change(APPROVED, EXPIRED)
    with pytest.raises(WrongState):
        check_status_change(DRAFT, APPROVED)
    with pytest.raises(WrongState):
        check_status_change(EXPIRED, SUBMITTED)


def test_a_zone_of_the_right_shape_but_nonsense_is_read_as_invalid() -> None:
    mrz = parse_mrz("X" * 44 + "\n" + "Y" * 44, TODAY)
    assert not mrz.valid and mrz.birth_date is None and len(mrz.problems) >= 3
