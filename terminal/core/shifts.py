"""Cash sessions: the float, cash in and out, the X report at any time and the Z report that closes the shift."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from terminal.core.errors import InvalidInput
from terminal.core.money import Tetri, check_amount

CASH_IN, CASH_OUT = "in", "out"


@dataclass(frozen=True)
class ShiftTotals:
    """Everything an X or Z report shows, computed from the shift's own rows."""

    float_amount: Tetri
    sales_count: int
    gross_sales: Tetri
    discounts: Tetri
    cash_sales: Tetri
    card_sales: Tetri
    refunds_count: int
    cash_refunds: Tetri
    card_refunds: Tetri
    cash_in: Tetri
    cash_out: Tetri

    @property
    def net_sales(self) -> Tetri:
        return self.cash_sales + self.card_sales - self.cash_refunds - self.card_refunds

    @property
    def expected_cash(self) -> Tetri:
        return self.float_amount + self.cash_sales - self.cash_refunds + self.cash_in - self.cash_out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["net_sales"] = self.net_sales
        data["expected_cash"] = self.expected_cash
        return data


@dataclass(frozen=True)
class ZReport:
    totals: ShiftTotals
    counted_cash: Tetri

    @property
    def variance(self) -> Tetri:
        """Counted minus expected: negative is cash missing from the drawer."""
        return self.counted_cash - self.totals.expected_cash

    def to_dict(self) -> dict[str, Any]:
        return {**self.totals.to_dict(), "counted_cash": self.counted_cash, "variance": self.variance}


def check_float(amount: int) -> Tetri:
    return check_amount(amount, "opening float")


def check_cash_movement(direction: str, amount: int, expected_cash: Tetri) -> Tetri:
    if direction not in (CASH_IN, CASH_OUT):
        raise InvalidInput("Cash movement must be 'in' or 'out'.")
    check_amount(amount, f"cash {direction} amount", allow_zero=False)
    if direction == CASH_OUT and amount > expected_cash:
        raise InvalidInput("Cannot take out more cash than the drawer should hold.")
    return amount
