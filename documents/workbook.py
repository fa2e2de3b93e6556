"""The VP office's spreadsheet of every unit's report (.xlsx).

Layout (written row after row, documents.sheet_rows, so 10,000 units stream through):

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
from datetime import date
from typing import Any

from deadlines.periods import Period
from documents.answer_cells import (
    NONE_TEXT,
    NOT_ARISING_TEXT,
    PREVIOUS_SUFFIX,
    UNIT_HEADERS,
    AnswerColumn,
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
from documents.sheet_rows import Formats, SheetRows, Styled, streaming_workbook
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
    buffer = io.BytesIO()
    heading = period_heading(period)
    with streaming_workbook(buffer) as workbook:  # closing it writes the file
        workbook.set_properties({"title": (title or DEFAULT_TITLE.capitalize()) + (
            f" — Kỳ báo cáo: {period.text()}" if period is not None else "")})
        cells = Formats(workbook)
        _units_sheet(SheetRows(workbook.add_worksheet("Đơn vị")), reports, today, cells, heading)
        summary = totals(outline, reports, statuses=statuses)
        _answers_sheet(SheetRows(workbook.add_worksheet("Trả lời")), reports, answer_columns(outline), cells,
                       heading, summary)
        totals_sheet(SheetRows(workbook.add_worksheet("Tổng hợp")), cells, outline, reports, summary, today,
                     every_report=statuses is None, period=period, previous=previous, title=title)
    return buffer.getvalue()


def _units_sheet(sheet: SheetRows, reports: list[UnitReport], today: date, cells: Formats,
                 heading: str | None) -> None:
    headers = (*UNIT_HEADERS[:2], "Cấp", "Đơn vị cấp trên", "Trạng thái", "Thời điểm nộp",
               "Hạn nộp", "Trễ hạn")
    rows = [[r.unit_code, r.unit_name, LEVEL_LABELS.get(r.unit_level, r.unit_level), r.parent_name,
             status_label(r.status), r.submitted_at, r.deadline, "Không"] for r in reports[:SAMPLED_ROWS]]
    set_widths(sheet.worksheet, fitted_widths(headers, rows))
    print_setup(sheet.worksheet, title_rows=(1, 1), heading=heading)
    sheet.worksheet.freeze_panes("C2")
    sheet.append([cells.header(text) for text in headers])
    submitted_cell = cells.formatted_column(DATETIME_FORMAT)
    deadline_cell = cells.formatted_column(DATE_FORMAT)
    late = handed_in = 0
    for report in reports:
        is_late = report.late_as_of(today)
        late += is_late
        handed_in += report.submitted
        sheet.append([
            report.unit_code,
            text(report.unit_name),
            LEVEL_LABELS.get(report.unit_level, report.unit_level),
            text(report.parent_name) if report.parent_name else None,
            status_label(report.status),
            submitted_cell(local_datetime(report.submitted_at) if report.submitted_at else None),
            deadline_cell(report.deadline),
            "Có" if is_late else "Không",
        ])
    sheet.append([cells.header(TOTALS_LABEL), cells.header(f"{len(reports)} đơn vị"), None,
                  None, cells.header(f"Đã nộp: {handed_in}"), None, None,
                  cells.header(f"Có: {late}")])


def _answers_sheet(sheet: SheetRows, reports: list[UnitReport], columns: list[AnswerColumn],
                   cells: Formats, heading: str | None, summary: Totals) -> None:
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
    set_widths(sheet.worksheet, [*unit_widths, *(width_of[c.question.name] for c, _ in laid_out)])
    # Too many columns to fit one page's width: at half size, the unit's code and name repeat
    # at the left of every page.
    print_setup(sheet.worksheet, title_rows=(1, 2), title_columns="A:B", fit_width=False,
                scale=ANSWERS_SCALE, heading=heading)
    sheet.worksheet.freeze_panes("C3")
    sheet.append([*(cells.header(h) for h in UNIT_HEADERS),
                  *(cells.header(c.number + (PREVIOUS_SUFFIX if before else "")) for c, before in laid_out)])
    labels = [(("Kỳ trước: " if before else "") + c.label, width_of[c.question.name])
              for c, before in laid_out]
    sheet.append([*(None for _ in UNIT_HEADERS), *(cells.header(label, wrap=True) for label, _ in labels)],
                 height=wrapped_height(labels))

    def for_sheet(column: AnswerColumn) -> Callable[[Any], Any]:
        # Only formatted values need a format; the rest go in as they are.
        convert, kind = column.value, column.question.type
        if kind == "date":
            dated = cells.formatted_column(DATE_FORMAT)
            return lambda value: dated(convert(value))
        if column.rate:
            rate = cells.formatted_column(SHARE_FORMAT)
            return lambda value: rate(share_fraction(value))
        if kind == "decimal" or (kind == "calculate" and column.question.format == "decimal"):
            decimal = cells.formatted_column(DECIMAL_FORMAT)
            return lambda value: decimal(convert(value))
        if kind in ("integer", "calculate"):
            count = cells.formatted_column(COUNT_FORMAT)
            return lambda value: count(convert(value))
        return convert

    steps: Plan = []
    for column, before in laid_out:
        name, source, convert = plan([column], for_sheet)[0]
        steps.append((name, Source.PREVIOUS if before else source, convert))
    for report in reports:
        sheet.append(row_values(report, steps))
    sheet.append(_totals_row(laid_out, summary, cells))


def _totals_row(laid_out: list[tuple[AnswerColumn, bool]], summary: Totals, cells: Formats) -> list[Any]:
    """The city's totals and recomputed rates under the units' columns (those of "Tổng hợp")."""
    row: list[Any] = [cells.header(TOTALS_LABEL), cells.header(f"{summary.units} báo cáo đã nộp"), None]
    for column, before in laid_out:
        value = None if before else summary.get(column.question.name)
        if value is None or isinstance(value, NotArising) or column.question.type == "percent":
            row.append(NOT_ARISING_TEXT if value is NOT_ARISING else None)
        else:
            number_format = SHARE_FORMAT if column.rate else (
                DECIMAL_FORMAT if column.question.type == "decimal" else COUNT_FORMAT)
            row.append(Styled(share_fraction(value) if column.rate else
                              float(value) if column.question.type == "decimal" else int(value),
                              cells.get(number_format, bold=True)))
    return row
