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

# Calculated items keep 4 decimals and are rounded once more only where they print (shares at
# one decimal everywhere: chat, .docx, .xlsx); rounding to 2 here first made 4,3478% print 4,4%.
_KEPT = Decimal("0.0001")
SHARE_DECIMALS = 1
_SHARE_STEP = Decimal(1).scaleb(-SHARE_DECIMALS)


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
    """A calculated number as kept: 4 decimals, half up (printing rounds it once more)."""
    return Decimal(str(result)).quantize(_KEPT, ROUND_HALF_UP)


def share_rounded(value: Any) -> Decimal:
    """A share in per cent at the one precision every face prints: one decimal, half up."""
    return Decimal(str(value)).quantize(_SHARE_STEP, ROUND_HALF_UP)
