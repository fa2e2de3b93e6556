"""How the workbook's sheets look on screen and on paper: column widths that fit their labels,
A4 landscape, header rows (and the unit's columns) repeated on every printed page, the
campaign's period in the page header, page numbers in the footer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from xlsxwriter.worksheet import Worksheet

from deadlines.periods import Period

A4 = 9  # paperSize 9: A4 (ECMA-376 §18.3.1.63)
MIN_WIDTH, MAX_WIDTH = 10.0, 60.0
# A wrapped header reads well on up to three lines: a column needs a third of its label's width.
HEADER_LINES = 3
MARGIN_INCHES = 0.4
LINE_POINTS = 15.0  # a line of the default font, in points
# Characters of text per unit of column width (the width of a "0"): measured in LibreOffice on
# Vietnamese labels, whose letters are narrower than a digit on average.
CHARACTERS_PER_WIDTH = 1.25
# Pixels per unit of column width (a "0" of the default font, XlsxWriter's max_digit_width): a
# width is given in (fractional) pixels so that the file stores the width itself, to 1/256,
# without the cell padding XlsxWriter adds to a width given in characters.
DIGIT_PIXELS = 7


def wrapped_height(cells: Iterable[tuple[str, float]]) -> float:
    """The height (points) of a row whose `cells` (text, column width) wrap: LibreOffice does
    not fit row heights of a workbook it opens, so the row says how tall it is."""
    lines = max((math.ceil(text_width(text) / (width * CHARACTERS_PER_WIDTH)) for text, width in cells),
                default=1)
    return LINE_POINTS * max(lines, 1)


def period_heading(period: Period | None) -> str | None:
    """"Kỳ báo cáo từ ngày 15/12/2026 đến ngày 14/10/2027", or None without a period."""
    return None if period is None else "Kỳ báo cáo " + period.text()


def text_width(value: object) -> float:
    """How wide a value shows, in characters of the default font."""
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return 17.0  # "01/11/2027 09:00", with room for the font's wider digits
    if isinstance(value, date):
        return 11.0
    if isinstance(value, float):
        return len(f"{value:,.1f}")
    if isinstance(value, int):
        return len(f"{value:,}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def fitted_widths(headers: Sequence[str], rows: Iterable[Sequence[object]], *,
                  wrapped_headers: bool = False) -> list[float]:
    """Per column, the widest value (within MIN_WIDTH–MAX_WIDTH, plus a little air) and room
    for its header: all of it, or a third of it where headers wrap."""
    widths = [text_width(h) / (HEADER_LINES if wrapped_headers else 1) for h in headers]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], text_width(value))
    return [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]


def set_widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths):
        sheet.set_column_pixels(index, index, width * DIGIT_PIXELS)


def print_setup(sheet: Worksheet, *, title_rows: tuple[int, int], title_columns: str | None = None,
                fit_width: bool = True, scale: int | None = None, heading: str | None = None) -> None:
    """A4 landscape; `title_rows` (first and last, numbered from 1 as on screen) repeated atop
    every page and `title_columns` (e.g. "A:B") at the left; all columns on one page's width
    when `fit_width` (as many pages down as it takes), else at `scale` per cent; the sheet's
    name and `heading` in the page header, "Trang 2/5" below."""
    sheet.set_landscape()
    sheet.set_paper(A4)
    if fit_width:
        sheet.fit_to_pages(1, 0)
    if scale is not None:
        sheet.set_print_scale(scale)
    sheet.repeat_rows(title_rows[0] - 1, title_rows[1] - 1)
    if title_columns:
        sheet.repeat_columns(title_columns)
    sheet.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=0.6, bottom=0.6)
    sheet.set_header("&C" + sheet.get_name() + (f" — {heading}" if heading else ""), {"margin": 0.3})
    sheet.set_footer("&CTrang &P/&N", {"margin": 0.3})
