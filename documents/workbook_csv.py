"""The answers of the workbook's "Trả lời" sheet as CSV, for other tools.

ONE combined header row ("4.3.a Label"), UTF-8 with a BOM (so Excel detects the encoding),
comma-separated, numbers with a dot decimal point (rates from 0 to 100, 12.5 meaning 12,5%),
dates as ISO yyyy-mm-dd. A text answer starting with = + - @ is prefixed with an apostrophe so
that a spreadsheet does not run it as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from documents.answer_cells import UNIT_HEADERS, CellValue, answer_columns, plan, row_values
from documents.model import UnitReport
from engine.outline import Outline

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def build_csv(outline: Outline, reports: Iterable[UnitReport]) -> bytes:
    """The columns of "Trả lời" as CSV, one combined header row (see the module's doc)."""
    columns = answer_columns(outline)
    steps = plan(columns)
    buffer = io.BytesIO()
    # Encoded as it is written: a text buffer of the whole file would take up to 4 bytes a
    # character (an emoji in one answer is enough), several times the size of the CSV.
    with io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="", write_through=True) as text:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([*UNIT_HEADERS, *(f"{column.number} {column.label}" for column in columns)])
        for report in reports:
            writer.writerow([_csv_value(value) for value in row_values(report, steps)])
        text.flush()
        return buffer.getvalue()


def _csv_value(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)
