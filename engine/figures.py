"""What a calculated item can be besides a number: "không phát sinh", a rate with nothing to
be a share of (its denominator is 0).

A rate of 0 dossiers is not 0%: nothing arose to be received or returned by post, and a clerk
summing the units' rates must not read a zero there. The outline writes a rate as a plain
division (`${a} / ${b} * 100`); when every figure it uses is given and the division is by zero,
the item is `NOT_ARISING`, shown as "—" (không phát sinh). An item whose figures are not all
given yet is simply absent, as before."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, final

_CENT = Decimal("0.01")


@final
class NotArising:
    """The one value of a calculated item whose denominator is 0."""

    _instance: NotArising | None = None

    def __new__(cls) -> NotArising:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_ARISING"

    def __reduce__(self) -> str:
        return "NOT_ARISING"


NOT_ARISING: Final = NotArising()
NOT_ARISING_MARK = "—"  # printed where a rate does not arise (with "không phát sinh" in words)

CalculatedValue = Decimal | NotArising


def rounded(result: Any) -> Decimal:
    """A calculated number as reports print it: 2 decimals, half up."""
    return Decimal(str(result)).quantize(_CENT, ROUND_HALF_UP)
