from __future__ import annotations

import pytest

from terminal.core.errors import InvalidInput
from terminal.core.money import check_amount, format_gel, parse_gel, parse_tetri, percent_of


@pytest.mark.parametrize(("text", "tetri"), [("0", 0), ("2500", 2500), (" 17 ", 17), ("100000000", 100_000_000)])
def test_parse_tetri(text: str, tetri: int) -> None:
    assert parse_tetri(text) == tetri


@pytest.mark.parametrize("text", ["", "abc", "12.5", "-5", "1e3", "25 GEL", "100000001", "0x10", "１２"])
def test_parse_tetri_refuses_non_numeric_and_out_of_range(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tetri(text)


@pytest.mark.parametrize(("text", "tetri"), [("25", 2500), ("25.5", 2550), ("25,50", 2550), ("0.07", 7),
                                              ("12.34 ₾", 1234), ("3 GEL", 300)])
def test_parse_gel(text: str, tetri: int) -> None:
    assert parse_gel(text) == tetri


@pytest.mark.parametrize("text", ["12.345", "-1", "1.2.3", "ten", ""])
def test_parse_gel_refuses(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_gel(text)


def test_amounts_are_integers_never_floats_or_bools() -> None:
    with pytest.raises(InvalidInput):
        check_amount(12.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        check_amount(True)
    with pytest.raises(InvalidInput, match="more than zero"):
        check_amount(0, allow_zero=False)


def test_format_and_percent() -> None:
    assert format_gel(2550) == "25.50 ₾"
    assert format_gel(123456789) == "1,234,567.89 ₾"
    assert format_gel(-5) == "-0.05 ₾"
    assert percent_of(1999, 1000) == 200  # 10 % of 19.99 GEL, rounded half up
