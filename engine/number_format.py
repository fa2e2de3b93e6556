"""A figure as an officer writes it, in their language: "1.234,5" in Vietnamese, "1,234.5" in
English (every chat message, document and workbook shows figures this way)."""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import lru_cache

from babel import Locale
from babel.numbers import parse_pattern

# babel's format_decimal with this pattern, parsed once (with the locale, most of its cost).
NUMBER_PATTERN = parse_pattern("#,##0.##")


@lru_cache(maxsize=8)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def format_number(value: Decimal | int | float, locale: str) -> str:
    """A figure as the officer writes it ("1.234,5"), whatever its size: the decimal context's
    default 28 digits would make a 27-digit figure fail to round, so it gets the digits it needs."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if not number.is_finite():
        return str(number)
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + 8)
        context.Emax = max(context.Emax, number.adjusted() + 8)
        return str(NUMBER_PATTERN.apply(number, _locale(locale)))
