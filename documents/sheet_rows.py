"""A workbook sheet written row after row, as the VP office's workbook is built: XlsxWriter in
constant-memory mode writes each row out once the next begins, so 10,000 units stream through
without the sheet in memory.

A value goes in as it is (text always as text, never as a formula; a number as a number; None
as an empty cell), or `Styled` with its format (bold, wrapped, a number format)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NamedTuple

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

# Text is written with write_string, so these only guard what else might go through write().
_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False}


def streaming_workbook(buffer: io.BytesIO) -> Workbook:
    return Workbook(buffer, _OPTIONS)


class Styled(NamedTuple):
    value: Any
    format: Format


class SheetRows:
    """Rows appended in order to one worksheet (zero-based `next_row`)."""

    def __init__(self, worksheet: Worksheet) -> None:
        self.worksheet = worksheet
        self.next_row = 0

    def append(self, values: Iterable[Any], height: float | None = None) -> None:
        """One row; `height` in points, for a row whose wrapped text LibreOffice would not fit."""
        row, self.next_row = self.next_row, self.next_row + 1
        sheet = self.worksheet
        if height is not None:
            sheet.set_row(row, height)
        for column, value in enumerate(values):
            if value is None:
                continue
            style = None
            if type(value) is Styled:
                value, style = value
            if isinstance(value, str):
                sheet.write_string(row, column, value, style)
            elif isinstance(value, date):  # and datetime
                sheet.write_datetime(row, column, value, style)
            else:
                sheet.write_number(row, column, value, style)


class Formats:
    """The workbook's cell formats, each made once (a workbook keeps one record per format)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._made: dict[tuple[str | None, bool, bool], Format] = {}

    def get(self, number_format: str | None = None, *, bold: bool = False, wrap: bool = False) -> Format:
        key = (number_format, bold, wrap)
        made = self._made.get(key)
        if made is None:
            properties: dict[str, Any] = {"bold": bold}
            if number_format is not None:
                properties["num_format"] = number_format
            if wrap:
                # At the bottom, as the figures beside them: a label's last line reads with its figure.
                properties.update(text_wrap=True, valign="bottom")
            made = self._made[key] = self.workbook.add_format(properties)
        return made

    def header(self, value: Any, wrap: bool = False) -> Styled:
        return Styled(value, self.get(bold=True, wrap=wrap))

    def wrapped(self, value: str) -> Styled:
        return Styled(value, self.get(wrap=True))

    def formatted_column(self, number_format: str) -> Callable[[Any], Any]:
        """A column's values shown in `number_format`; text ("Không có", "—") and None as they are."""
        style = self.get(number_format)

        def bound(value: Any) -> Any:
            return value if value is None or isinstance(value, str) else Styled(value, style)

        return bound
