"""The VP office's spreadsheet of every unit's report (.xlsx).

Layout (openpyxl in write-only mode, so 10,000 units stream through):

- "Đơn vị": one row per unit: code, name, level, superior unit, status, time of (last)
  submission, deadline, late ("Có"/"Không"); a last row of totals.
- "Trả lời": one row per unit: code, name, status, then one column per outline question (asked
  and calculated, in outline order), and beside each figure the unit's last-period figure
  where any unit has one (row 1 "4.3.a (kỳ trước)"). TWO header rows: row 1 holds the question
  numbers ("4.3.a"), row 2 the labels; data start on row 3 (documents.figures_file reads this
  layout back). Counts are whole numbers shown "#,##0", rates real fractions shown "0.0%"
  (0.125 shows 12,5%), dates date cells, "không có" the text "Không có" (never 0, never
  empty), an unanswered or skipped item an empty cell. A last row, "Tổng cộng", holds the
  city's totals and rates over the handed-in reports (the figures of "Tổng hợp").
- "Tổng hợp": see documents.workbook_totals.

Every sheet prints on A4 landscape with its header rows repeated and the reporting period in
the page header; "Đơn vị" and "Tổng hợp" fit the page's width."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from deadlines.periods import Period
from documents.answer_cells import (
    NONE_TEXT,
    NOT_ARISING_TEXT,
    PREVIOUS_SUFFIX,
    UNIT_HEADERS,
    AnswerColumn,
    CellValue,
    Plan,
    Source,
    answer_columns,
    plan,
    row_values,
    text,
)
from documents.model import LEVEL_LABELS, SUBMITTED_STATUSES, UnitReport, local_datetime, status_label
from documents.shares import COUNT_FORMAT, DECIMAL_FORMAT, SHARE_FORMAT, share_fraction
from documents.sheet_layout import fitted_widths, period_heading, print_setup, set_widths, wrapped_height
from documents.totals import Totals, totals
from documents.workbook_csv import build_csv
from documents.workbook_totals import DEFAULT_TITLE, totals_sheet
from engine.figures import NOT_ARISING, NotArising
from engine.outline import Outline

__all__ = ["NONE_TEXT", "TOTALS_LABEL", "answer_columns", "build_csv", "build_workbook", "totals"]

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
TOTALS_LABEL = "Tổng cộng"  # column A of a totals row; documents.figures_file skips the row
FIGURE_TYPES = frozenset({"integer", "decimal", "percent"})
ANSWERS_SCALE = 50  # per cent: "Trả lời" printed at half size
SAMPLED_ROWS = 200  # rows measured for column widths (a 10,000-unit export need not read all)


def build_workbook(
    outline: Outline,
    reports: Iterable[UnitReport],
    today: date,
    *,
    statuses: Collection[str] | None = SUBMITTED_STATUSES,
    period: Period | None = None,
    previous: Totals | None = None,
    title: str | None = None,
) -> bytes:
    """The .xlsx of the units' reports (see the module's doc for the layout). `today` decides
    lateness of units that have not submitted; `statuses` which reports the totals count;
    `period` is the reporting period, named atop "Tổng hợp", in every page header and in the
    file's properties; `previous`, the totals of the previous campaign of the same kind, adds to
    "Tổng hợp" last period's figure and the change; `title` is the campaign's title."""
    reports = list(reports)
    workbook = Workbook(write_only=True)
    heading = period_heading(period)
    workbook.properties.title = (title or DEFAULT_TITLE.capitalize()) + (
        f" — Kỳ báo cáo: {period.text()}" if period is not None else "")
    cells = _Cells(workbook)
    _units_sheet(workbook.create_sheet("Đơn vị"), reports, today, cells, heading)
    summary = totals(outline, reports, statuses=statuses)
    _answers_sheet(workbook.create_sheet("Trả lời"), reports, answer_columns(outline), cells, heading,
                   summary)
    totals_sheet(workbook.create_sheet("Tổng hợp"), cells, outline, reports, summary, today,
                 every_report=statuses is None, period=period, previous=previous, title=title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Cells:
    """Styled write-only cells, built on demand (a plain value needs no cell object)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.bold = Font(bold=True)
        # At the bottom, as the figures beside them: a label's last line reads with its figure.
        self.wrap = Alignment(wrap_text=True, vertical="bottom")

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

    def header(self, sheet: WriteOnlyWorksheet, value: Any, wrap: bool = False) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.font = self.bold
        if wrap:
            cell.alignment = self.wrap
        return cell

    def wrapped(self, sheet: WriteOnlyWorksheet, value: str) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.alignment = self.wrap
        return cell

    @staticmethod
    def formatted_column(sheet: WriteOnlyWorksheet, number_format: str) -> Callable[[Any], Any]:
        """A writer of one column's formatted values that reuses a single cell: a write-only
        sheet writes each row as it is appended, so the cell is free again for the next row.
        (A styled cell per value costs more than the rest of the row.)"""
        cell = WriteOnlyCell(sheet)
        cell.number_format = number_format

        def bound(value: Any) -> Any:
            if value is None or isinstance(value, str):  # "Không có", "—" stay plain text
                return value
            cell.value = value
            return cell

        return bound

    @staticmethod
    def _formatted(sheet: WriteOnlyWorksheet, value: Any, number_format: str) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
        return cell


def _units_sheet(sheet: WriteOnlyWorksheet, reports: list[UnitReport], today: date, cells: _Cells,
                 heading: str | None) -> None:
    headers = (*UNIT_HEADERS[:2], "Cấp", "Đơn vị cấp trên", "Trạng thái", "Thời điểm nộp",
               "Hạn nộp", "Trễ hạn")
    rows = [[r.unit_code, r.unit_name, LEVEL_LABELS.get(r.unit_level, r.unit_level), r.parent_name,
             status_label(r.status), r.submitted_at, r.deadline, "Không"] for r in reports[:SAMPLED_ROWS]]
    set_widths(sheet, fitted_widths(headers, rows))
    print_setup(sheet, title_rows="1:1", heading=heading)
    sheet.freeze_panes = "C2"
    sheet.append([cells.header(sheet, text) for text in headers])
    submitted_cell = cells.formatted_column(sheet, DATETIME_FORMAT)
    deadline_cell = cells.formatted_column(sheet, DATE_FORMAT)
    late = handed_in = 0
    for report in reports:
        is_late = report.late_as_of(today)
        late += is_late
        handed_in += report.submitted
        sheet.append([
            report.unit_code,
            cells.text(sheet, text(report.unit_name)),
            LEVEL_LABELS.get(report.unit_level, report.unit_level),
            cells.text(sheet, text(report.parent_name)) if report.parent_name else None,
            status_label(report.status),
            submitted_cell(local_datetime(report.submitted_at) if report.submitted_at else None),
            deadline_cell(report.deadline),
            "Có" if is_late else "Không",
        ])
    sheet.append([cells.header(sheet, TOTALS_LABEL), cells.header(sheet, f"{len(reports)} đơn vị"), None,
                  None, cells.header(sheet, f"Đã nộp: {handed_in}"), None, None,
                  cells.header(sheet, f"Có: {late}")])


def _answers_sheet(sheet: WriteOnlyWorksheet, reports: list[UnitReport], columns: list[AnswerColumn],
                   cells: _Cells, heading: str | None, summary: Totals) -> None:
    # A last-period column beside each figure some unit reported last period.
    had_before = {name for report in reports for name in report.previous}
    laid_out: list[tuple[AnswerColumn, bool]] = []
    for column in columns:
        laid_out.append((column, False))
        if column.question.name in had_before and column.question.type in FIGURE_TYPES:
            laid_out.append((column, True))
    sampled = [row_values(r, plan(columns)) for r in reports[:SAMPLED_ROWS]]
    unit_widths = fitted_widths(UNIT_HEADERS, sampled)
    question_widths = fitted_widths([c.label for c in columns], [row[3:] for row in sampled],
                                    wrapped_headers=True)
    width_of = {c.question.name: min(max(w, 12), 30) for c, w in zip(columns, question_widths, strict=True)}
    set_widths(sheet, [*unit_widths, *(width_of[c.question.name] for c, _ in laid_out)])
    # Too many columns to fit one page's width: at half size, the unit's code and name repeat
    # at the left of every page.
    print_setup(sheet, title_rows="1:2", title_columns="A:B", fit_width=False, scale=ANSWERS_SCALE,
                heading=heading)
    sheet.row_dimensions[2].height = wrapped_height(
        (("Kỳ trước: " if before else "") + c.label, width_of[c.question.name]) for c, before in laid_out)
    sheet.freeze_panes = "C3"
    blanks = ["" for _ in UNIT_HEADERS]
    sheet.append([*(cells.header(sheet, h) for h in UNIT_HEADERS),
                  *(cells.header(sheet, c.number + (PREVIOUS_SUFFIX if before else ""))
                    for c, before in laid_out)])
    sheet.append([*blanks, *(cells.header(sheet, ("Kỳ trước: " if before else "") + c.label, wrap=True)
                             for c, before in laid_out)])

    def for_sheet(column: AnswerColumn) -> Callable[[Any], Any]:
        # Only formatted values and formula-like text need a cell object; the rest go in as they are.
        convert, kind = column.value, column.question.type
        if kind == "date":
            dated = cells.formatted_column(sheet, DATE_FORMAT)
            return lambda value: dated(convert(value))
        if kind == "text":
            return lambda value: cells.text(sheet, text(value))
        if column.rate:
            rate = cells.formatted_column(sheet, SHARE_FORMAT)
            return lambda value: rate(share_fraction(value))
        if kind == "decimal" or (kind == "calculate" and column.question.format == "decimal"):
            decimal = cells.formatted_column(sheet, DECIMAL_FORMAT)
            return lambda value: decimal(convert(value))
        if kind in ("integer", "calculate"):
            count = cells.formatted_column(sheet, COUNT_FORMAT)
            return lambda value: count(convert(value))
        return convert

    steps: Plan = []
    for column, before in laid_out:
        name, source, convert = plan([column], for_sheet)[0]
        steps.append((name, Source.PREVIOUS if before else source, convert))
    for report in reports:
        row = row_values(report, steps)
        row[1] = cells.text(sheet, row[1])
        sheet.append(row)
    sheet.append(_totals_row(laid_out, summary, cells, sheet))


def _totals_row(laid_out: list[tuple[AnswerColumn, bool]], summary: Totals, cells: _Cells,
                sheet: WriteOnlyWorksheet) -> list[Any]:
    """The city's totals and recomputed rates under the units' columns (those of "Tổng hợp")."""
    row: list[Any] = [cells.header(sheet, TOTALS_LABEL),
                      cells.header(sheet, f"{summary.units} báo cáo đã nộp"), None]
    for column, before in laid_out:
        value = None if before else summary.get(column.question.name)
        if value is None or isinstance(value, NotArising) or column.question.type == "percent":
            row.append(NOT_ARISING_TEXT if value is NOT_ARISING else None)
        else:
            cell = WriteOnlyCell(sheet, share_fraction(value) if column.rate else
                                 float(value) if column.question.type == "decimal" else int(value))
            cell.number_format = SHARE_FORMAT if column.rate else (
                DECIMAL_FORMAT if column.question.type == "decimal" else COUNT_FORMAT)
            cell.font = cells.bold
            row.append(cell)
    return row
