"""The workbook's "Tổng hợp" sheet: per figure item the city total over the handed-in reports,
the units that gave it and those that answered "Không có"; per rate the share recomputed from
the totals (not an average of the units' rates); last period's beside it where known; then the
units per report status. Laid out to print on a few A4 landscape pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from deadlines.periods import Period
from documents.answer_cells import NOT_ARISING_TEXT
from documents.compare import change_percent
from documents.model import STATUS_LABELS, UnitReport
from documents.shares import COUNT_FORMAT, DECIMAL_FORMAT, SHARE_FORMAT, share, share_fraction
from documents.sheet_layout import LINE_POINTS, period_heading, print_setup, set_widths, wrapped_height
from documents.sheet_rows import Formats, SheetRows
from documents.totals import SUMMED_TYPES, Totals
from engine.figures import NOT_ARISING
from engine.outline import Outline
from engine.question import Question

DEFAULT_TITLE = "TỔNG HỢP SỐ LIỆU BÁO CÁO KIỂM SOÁT THỦ TỤC HÀNH CHÍNH"
HEADINGS = ("Số", "Nội dung", "Tổng cộng", "Số đơn vị có số liệu", "Số đơn vị báo cáo “Không có”")
COMPARED = ("Cùng kỳ năm trước", "Tăng, giảm so với cùng kỳ (%; tỷ lệ: điểm phần trăm)")
WIDTHS = (8, 62, 14, 12, 12, 14, 16)
POINTS_FORMAT = "+0.0;-0.0;0.0"  # a rate's change, in percentage points


def totals_sheet(sheet: SheetRows, cells: Formats, outline: Outline, reports: list[UnitReport],
                 summary: Totals, today: date, *, every_report: bool, period: Period | None,
                 previous: Totals | None, title: str | None) -> None:
    widths = WIDTHS if previous is not None else WIDTHS[:5]
    set_widths(sheet.worksheet, widths)

    def append(values: list[Any], tallest: Iterable[tuple[str, float]] = ()) -> None:
        height = wrapped_height(tallest)
        sheet.append(values, height if height > LINE_POINTS else None)

    heading_row = 5 if period is not None else 4
    print_setup(sheet.worksheet, title_rows=(heading_row, heading_row), heading=period_heading(period))
    append([cells.header(DEFAULT_TITLE + (f": {title.upper()}" if title else ""))])
    if period is not None:
        append([cells.header("Kỳ báo cáo: " + period.text())])
    counted = (f"báo cáo của tất cả {summary.all_units} đơn vị, kể cả báo cáo chưa nộp" if every_report
               else f"{summary.units} báo cáo đã nộp trên tổng số {summary.all_units} đơn vị")
    note = (f"Số liệu tổng hợp từ {counted} (tính đến ngày {today:%d/%m/%Y}). Tỷ lệ được tính lại từ số "
            "liệu tổng hợp; “—”: không phát sinh (mẫu số bằng 0).")
    append([None, cells.wrapped(note)], [(note, widths[1])])
    append([])
    headings = [*HEADINGS, *(COMPARED if previous is not None else ())]
    append([cells.header(text, wrap=True) for text in headings], zip(headings, widths, strict=True))
    count, rate = cells.formatted_column(COUNT_FORMAT), cells.formatted_column(SHARE_FORMAT)
    decimal = cells.formatted_column(DECIMAL_FORMAT)
    before_count = cells.formatted_column(COUNT_FORMAT)
    before_rate = cells.formatted_column(SHARE_FORMAT)
    change_rate = cells.formatted_column(SHARE_FORMAT)
    points = cells.formatted_column(POINTS_FORMAT)

    def figure(question: Question, value: Any, counts: Any, shares: Any) -> Any:
        if value is None:
            return None
        if value is NOT_ARISING:
            return NOT_ARISING_TEXT
        if question.format == "percent":
            return shares(share_fraction(value))
        if question.type == "decimal":
            return decimal(float(value))
        return counts(int(value) if question.format == "integer" or isinstance(value, int) else float(value))

    def beside(question: Question) -> list[Any]:
        """Last period's figure and the change, for columns F and G."""
        if previous is None or question.name not in previous:
            return []
        before, now = previous[question.name], summary.get(question.name)
        change: Any = None
        if not (before is NOT_ARISING or now is NOT_ARISING or now is None):
            if question.format == "percent":
                moved = share(Decimal(str(now)) - Decimal(str(before)))
                change = None if moved is None else points(float(moved))
            else:
                percent = change_percent(now, before)
                change = None if percent is None else change_rate(share_fraction(percent))
        return [figure(question, before, before_count, before_rate), change]

    for question in outline.questions:
        words = " ".join(question.label.vi.split())
        label, tallest = cells.wrapped(words), [(words, widths[1])]
        if question.type == "calculate":
            later = beside(question)
            append([question.number, label, figure(question, summary.get(question.name), count, rate),
                          *([None, None, *later] if later else [])], tallest)
        elif question.type in SUMMED_TYPES:
            append([question.number, label, figure(question, summary.get(question.name), count, rate),
                    summary.given[question.name], summary.none[question.name], *beside(question)],
                   tallest)
        elif question.type == "percent":  # a percentage is not summed across units
            append([question.number, label, None, summary.given[question.name],
                    summary.none[question.name]], tallest)
    append([])
    append([cells.header("Tình hình nộp báo cáo"), None, cells.header("Số đơn vị")])
    by_status = Counter(report.status for report in reports)
    for status, status_text in STATUS_LABELS.items():
        append([None, status_text, by_status.get(status, 0)])
    append([None, "Trễ hạn (nộp sau hạn hoặc quá hạn chưa nộp)",
                  sum(1 for report in reports if report.late_as_of(today))])
    append([None, cells.header("Tổng số đơn vị"), cells.header(len(reports))])
