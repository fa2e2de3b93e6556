"""One way to print figures and shares in every document: counts "1.234", shares with ONE
decimal ("4,3%", "98,0%"), the same digits the workbook shows with its number format "0.0%".

Shares are rounded half up to one decimal before anything prints them, and the workbook stores
that rounded share, so the .docx and the .xlsx never disagree in the last digit (4,35% is 4,4%
in both). A share whose denominator is 0 did not arise: "—", never 0%."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from engine.figures import NOT_ARISING, NOT_ARISING_MARK, SHARE_DECIMALS, share_rounded
from engine.number_format import format_number

# Spreadsheet number formats: counts with thousands separators, shares as real percentages.
COUNT_FORMAT = "#,##0"
SHARE_FORMAT = "0." + "0" * SHARE_DECIMALS + "%"
DECIMAL_FORMAT = "#,##0.0#"
NOT_ARISING_TEXT = f"{NOT_ARISING_MARK} (không phát sinh)"


def share(value: Any) -> Decimal | None:
    """A share in per cent (12.345 for 12,345%) rounded half up to the documents' precision;
    None for nothing or a share that did not arise."""
    if value is None or value is NOT_ARISING:
        return None
    return share_rounded(value)


def share_fraction(value: Any) -> float | None:
    """The share as a spreadsheet cell holds it under SHARE_FORMAT (12,3% is 0.123)."""
    rounded = share(value)
    return None if rounded is None else float(rounded / 100)


def share_text(value: Any, locale: str = "vi", *, arising_note: bool = False) -> str:
    """"4,3%", "98,0%"; "—" where it did not arise ("— (không phát sinh)" with the note)."""
    if value is NOT_ARISING:
        return NOT_ARISING_TEXT if arising_note else NOT_ARISING_MARK
    rounded = share(value)
    if rounded is None:
        return ""
    return _fixed(rounded, locale) + "%"


def points_text(value: Any, locale: str = "vi") -> str:
    """A difference of shares in percentage points, at the shares' precision ("2,5")."""
    rounded = share(value)
    return "" if rounded is None else _fixed(rounded, locale)


def count_text(value: Any, locale: str = "vi") -> str:
    """A count or another figure as the officer writes it: "1.234", "12,5"."""
    if value is NOT_ARISING:
        return NOT_ARISING_MARK
    return "" if value is None else format_number(Decimal(str(value)), locale)


def _fixed(value: Decimal, locale: str) -> str:
    """Exactly SHARE_DECIMALS decimals, in the locale's way ("98,0"; "98.0" in English)."""
    pattern = "#,##0." + "0" * SHARE_DECIMALS
    return str(format_decimal(value, format=pattern, locale=locale, decimal_quantization=True))
