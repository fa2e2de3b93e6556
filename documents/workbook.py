"""The VP office's spreadsheet of every unit's report (.xlsx), and the same answers as CSV.

Layout of the workbook (openpyxl in write-only mode, so 10,000 units stream through):

- "Đơn vị": one row per unit: code, name, level, superior unit, status, time of (last)
  submission, deadline, late ("Có"/"Không").
- "Trả lời": one row per unit: code, name, status, then one column per outline question (asked
  and calculated, in outline order). TWO header rows: row 1 holds the question numbers
  ("4.3.a"), row 2 the labels; data start on row 3. Figures are numbers (int or float cells),
  dates are date cells, "không có" is the text "Không có" (never 0, never empty), an unanswered
  or skipped item is an empty cell. Percentages and rates are numbers from 0 to 100 (12.5 means
  12,5%); their labels end in "(%)".
- "Tổng hợp": per figure item: total over the submitted reports, units that gave a figure,
  units that answered "Không có"; per calculated item: the rate recomputed from the totals with
  the outline's `calculate` expression (not an average of the units' rates). Below it, the
  number of units per status and the number of late units.

`build_csv` writes the columns of "Trả lời" with ONE combined header row ("4.3.a Label"),
UTF-8 with a BOM (so Excel detects the encoding), comma-separated, numbers with a dot decimal
point, dates as ISO yyyy-mm-dd. A text answer starting with = + - @ is prefixed with an
apostrophe so that a spreadsheet does not run it as a formula."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from deadlines.periods import Period
from documents.compare import change_percent
from documents.model import (
    LEVEL_LABELS,
    STATUS_LABELS,
    SUBMITTED_STATUSES,
    UnitReport,
    local_datetime,
    status_label,
)
from documents.totals import SUMMED_TYPES, Totals, totals
from engine.answers import Answer, AnswerKind
from engine.figures import NOT_ARISING, NOT_ARISING_MARK
from engine.outline import Outline
from engine.question import Question

__all__ = ["answer_columns", "build_csv", "build_workbook", "totals"]

NONE_TEXT = "Không có"
NOT_ARISING_TEXT = NOT_ARISING_MARK  # a rate whose denominator is 0: "—", never 0
YES_NO_TEXT = {"yes": "Có", "no": "Không"}
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
RATE_FORMAT = "0.00"
UNIT_HEADERS = ("Mã đơn vị", "Tên đơn vị", "Trạng thái")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CellValue = int | float | Decimal | str | date | datetime | None


@dataclass(frozen=True)
class AnswerColumn:
    """One question's column in "Trả lời" and in the CSV."""

    question: Question
    value: Callable[[Any], CellValue]  # a VALUE answer's value (or a calculated Decimal) → cell

    @property
    def number(self) -> str:
        return self.question.number

    @property
    def label(self) -> str:
        label = " ".join(self.question.label.vi.split())
        is_rate = self.question.type == "percent" or self.question.format == "percent"
        return f"{label} (%)" if is_rate else label


def answer_columns(outline: Outline) -> list[AnswerColumn]:
    """The question columns of "Trả lời" and of the CSV, in outline order."""
    return [AnswerColumn(q, _converter(q)) for q in outline.questions]


def _converter(question: Question) -> Callable[[Any], CellValue]:
    kind = question.type
    if kind == "integer" or (kind == "calculate" and question.format == "integer"):
        return _whole_number
    if kind in ("decimal", "percent", "calculate"):
        return float
    if kind == "date":
        return _identity
    if kind == "yes_no":
        return lambda value: YES_NO_TEXT.get(value, str(value))
    if kind == "select_one":
        labels = {choice.value: choice.label.vi for choice in question.choices}
        return lambda value: labels.get(value, str(value))
    return _text


def _whole_number(value: Any) -> CellValue:
    """A count as a number; one too large for a spreadsheet's cell (saved before figures had
    bounds) as its digits, in full, rather than a failed export."""
    number = int(value)
    return number if abs(number) < 10**15 else str(Decimal(number))


def _identity(value: Any) -> CellValue:
    return value  # type: ignore[no-any-return]


def _text(value: Any) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


# (name, calculated?, converter) per column: what the row loop needs, looked up once.
_Plan = list[tuple[str, bool, Callable[[Any], Any]]]


def _plan(columns: Sequence[AnswerColumn], wrap: Callable[[AnswerColumn], Callable[[Any], Any]] | None = None,
          ) -> _Plan:
    return [(c.question.name, c.question.type == "calculate", wrap(c) if wrap else c.value) for c in columns]


def _row_values(report: UnitReport, plan: _Plan) -> list[Any]:
    """Code, name, status, then one value per column: None when unanswered or skipped."""
    answers, calculated = report.answers, report.calculated
    row: list[Any] = [report.unit_code, _text(report.unit_name), status_label(report.status)]
    append = row.append
    value_kind, none_kind = AnswerKind.VALUE, AnswerKind.NONE
    for name, is_calculated, convert in plan:
        if is_calculated:
            rate = calculated.get(name)
            append(None if rate is None else NOT_ARISING_TEXT if rate is NOT_ARISING else convert(rate))
            continue
        answer: Answer | None = answers.get(name)
        if answer is None:
            append(None)
        elif answer.kind is value_kind:
            append(convert(answer.value))
        elif answer.kind is none_kind:
            append(NONE_TEXT)
        else:
            append(None)
    return row


# ----- the workbook ------------------------------------------------------------------------------


def build_workbook(
    outline: Outline,
    reports: Iterable[UnitReport],
    today: date,
    *,
    statuses: Collection[str] | None = SUBMITTED_STATUSES,
    period: Period | None = None,
    previous: Totals | None = None,
) -> bytes:
    """The .xlsx of the units' reports (see the module's doc for the layout). `today` decides
    lateness of units that have not submitted; `statuses` which reports the totals count;
    `period` is the reporting period, named under the title of "Tổng hợp" and in the file's
    properties; `previous`, the totals of the previous campaign of the same kind, adds to
    "Tổng hợp" last period's figure and the change (columns F and G)."""
    reports = list(reports)
    workbook = Workbook(write_only=True)
    if period is not None:
        workbook.properties.title = f"{outline.meta.title.vi} — Kỳ báo cáo: {period.text()}"
    cells = _Cells(workbook)
    _units_sheet(workbook.create_sheet("Đơn vị"), reports, today, cells)
    columns = answer_columns(outline)
    _answers_sheet(workbook.create_sheet("Trả lời"), reports, columns, cells)
    summary = totals(outline, reports, statuses=statuses)
    _totals_sheet(workbook.create_sheet("Tổng hợp"), outline, reports, summary, today, cells,
                  every_report=statuses is None, period=period, previous=previous)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Cells:
    """Styled write-only cells, built on demand (a plain value needs no cell object)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.bold = Font(bold=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")

    def sheet_cell(self, sheet: WriteOnlyWorksheet, value: CellValue) -> Any:
        """`value` as written: dates in Vietnamese order, text that looks like a formula kept text."""
        if isinstance(value, datetime):
            return self._formatted(sheet, value, DATETIME_FORMAT)
        if isinstance(value, date):
            return self._formatted(sheet, value, DATE_FORMAT)
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value

    def text(self, sheet: WriteOnlyWorksheet, value: str) -> Any:
        return self.sheet_cell(sheet, value) if value.startswith("=") else value

    def header(self, sheet: WriteOnlyWorksheet, value: str, wrap: bool = False) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.font = self.bold
        if wrap:
            cell.alignment = self.wrap
        return cell

    def rate(self, sheet: WriteOnlyWorksheet, value: Decimal | None) -> Any:
        return None if value is None else self._formatted(sheet, float(value), RATE_FORMAT)

    @staticmethod
    def formatted_column(sheet: WriteOnlyWorksheet, number_format: str) -> Callable[[Any], Any]:
        """A writer of one column's formatted values that reuses a single cell: a write-only
        sheet writes each row as it is appended, so the cell is free again for the next row.
        (A styled cell per value costs more than the rest of the row.)"""
        cell = WriteOnlyCell(sheet)
        cell.number_format = number_format

        def bound(value: Any) -> Any:
            if value is None:
                return None
            cell.value = value
            return cell

        return bound

    @staticmethod
    def _formatted(sheet: WriteOnlyWorksheet, value: Any, number_format: str) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
        return cell


def _widths(sheet: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _units_sheet(sheet: WriteOnlyWorksheet, reports: list[UnitReport], today: date, cells: _Cells) -> None:
    headers = (*UNIT_HEADERS[:2], "Cấp", "Đơn vị cấp trên", "Trạng thái", "Thời điểm nộp",
               "Hạn nộp", "Trễ hạn")
    _widths(sheet, (12, 40, 16, 30, 22, 18, 12, 9))
    sheet.freeze_panes = "C2"
    sheet.append([cells.header(sheet, text) for text in headers])
    submitted_cell = cells.formatted_column(sheet, DATETIME_FORMAT)
    deadline_cell = cells.formatted_column(sheet, DATE_FORMAT)
    for report in reports:
        sheet.append([
            report.unit_code,
            cells.text(sheet, _text(report.unit_name)),
            LEVEL_LABELS.get(report.unit_level, report.unit_level),
            cells.text(sheet, _text(report.parent_name)) if report.parent_name else None,
            status_label(report.status),
            submitted_cell(local_datetime(report.submitted_at) if report.submitted_at else None),
            deadline_cell(report.deadline),
            "Có" if report.late_as_of(today) else "Không",
        ])


def _answers_sheet(
    sheet: WriteOnlyWorksheet, reports: list[UnitReport], columns: list[AnswerColumn], cells: _Cells
) -> None:
    _widths(sheet, (12, 36, 18, *(18 for _ in columns)))
    sheet.freeze_panes = "C3"
    blanks = ["" for _ in UNIT_HEADERS]
    sheet.append([*(cells.header(sheet, text) for text in UNIT_HEADERS),
                  *(cells.header(sheet, column.number) for column in columns)])
    sheet.append([*blanks, *(cells.header(sheet, column.label, wrap=True) for column in columns)])

    def for_sheet(column: AnswerColumn) -> Callable[[Any], Any]:
        # Only dates and formula-like text need a cell object; the rest go in as they are.
        convert = column.value
        if column.question.type == "date":
            dated = cells.formatted_column(sheet, DATE_FORMAT)
            return lambda value: dated(convert(value))
        if column.question.type == "text":
            return lambda value: cells.text(sheet, _text(value))
        if column.question.type == "calculate" and column.question.format != "integer":
            rate = cells.formatted_column(sheet, RATE_FORMAT)
            return lambda value: rate(convert(value))
        return convert

    plan = _plan(columns, for_sheet)
    for report in reports:
        row = _row_values(report, plan)
        row[1] = cells.text(sheet, row[1])
        sheet.append(row)


def _totals_sheet(
    sheet: WriteOnlyWorksheet,
    outline: Outline,
    reports: list[UnitReport],
    summary: Totals,
    today: date,
    cells: _Cells,
    every_report: bool,
    period: Period | None = None,
    previous: Totals | None = None,
) -> None:
    _widths(sheet, (10, 70, 16, 16, 18, 16, 18))
    sheet.append([cells.header(sheet, "TỔNG HỢP SỐ LIỆU: " + outline.meta.title.vi.upper())])
    if period is not None:
        sheet.append([cells.header(sheet, "Kỳ báo cáo: " + period.text())])
    counted = (f"báo cáo của tất cả {summary.all_units} đơn vị, kể cả báo cáo chưa nộp" if every_report
               else f"{summary.units} báo cáo đã nộp trên tổng số {summary.all_units} đơn vị")
    sheet.append([f"Số liệu tổng hợp từ {counted} (tính đến ngày {today:%d/%m/%Y}). "
                  "Tỷ lệ được tính lại từ số liệu tổng hợp; “—”: không phát sinh (mẫu số bằng 0)."])
    sheet.append([])
    headings = ["Số", "Nội dung", "Tổng cộng", "Số đơn vị có số liệu", "Số đơn vị báo cáo “Không có”"]
    if previous is not None:
        headings += ["Cùng kỳ năm trước", "Tăng, giảm so với cùng kỳ (%; tỷ lệ: điểm phần trăm)"]
    sheet.append([cells.header(sheet, text, wrap=True) for text in headings])

    def beside(question: Question) -> list[Any]:
        """Last period's figure and the change, for columns F and G."""
        if previous is None or question.name not in previous:
            return []
        before, now = previous[question.name], summary.get(question.name)
        if before is NOT_ARISING or now is NOT_ARISING or now is None:
            change = None
        elif question.format == "percent":
            change = float(Decimal(str(now)) - Decimal(str(before)))
        else:
            change = change_percent(now, before)
        return [NOT_ARISING_TEXT if before is NOT_ARISING else float(before) if isinstance(before, Decimal)
                else before, change]

    for question in outline.questions:
        label = " ".join(question.label.vi.split())
        if question.type == "calculate":
            rate = summary.get(question.name)
            shown = label + " (%)" if question.format == "percent" else label
            value: Any = (NOT_ARISING_TEXT if rate is NOT_ARISING
                          else int(rate) if isinstance(rate, Decimal) and question.format == "integer"
                          else cells.rate(sheet, rate if isinstance(rate, Decimal) else None))
            later = beside(question)
            sheet.append([question.number, shown, value, *([None, None, *later] if later else [])])
        elif question.type in SUMMED_TYPES:
            total = summary.get(question.name)
            figure: CellValue = (float(total) if isinstance(total, Decimal)
                                 else total if isinstance(total, int) else None)
            sheet.append([question.number, label, figure, summary.given[question.name],
                          summary.none[question.name], *beside(question)])
        elif question.type == "percent":  # a percentage is not summed across units
            sheet.append([question.number, label + " (%)", None, summary.given[question.name],
                          summary.none[question.name]])
    sheet.append([])
    sheet.append([cells.header(sheet, "Tình hình nộp báo cáo"), None,
                  cells.header(sheet, "Số đơn vị")])
    by_status = Counter(report.status for report in reports)
    for status, label in STATUS_LABELS.items():
        sheet.append([None, label, by_status.get(status, 0)])
    sheet.append([None, "Trễ hạn (nộp sau hạn hoặc quá hạn chưa nộp)",
                  sum(1 for report in reports if report.late_as_of(today))])
    sheet.append([None, "Tổng số đơn vị", len(reports)])


# ----- CSV ---------------------------------------------------------------------------------------


def build_csv(outline: Outline, reports: Iterable[UnitReport]) -> bytes:
    """The columns of "Trả lời" as CSV, one combined header row (see the module's doc)."""
    columns = answer_columns(outline)
    plan = _plan(columns)
    buffer = io.BytesIO()
    # Encoded as it is written: a text buffer of the whole file would take up to 4 bytes a
    # character (an emoji in one answer is enough), several times the size of the CSV.
    with io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="", write_through=True) as text:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([*UNIT_HEADERS, *(f"{column.number} {column.label}" for column in columns)])
        for report in reports:
            writer.writerow([_csv_value(value) for value in _row_values(report, plan)])
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
