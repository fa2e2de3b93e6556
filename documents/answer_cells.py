"""The units' answers as spreadsheet values, one column per outline question: what the
workbook's "Trả lời" sheet and the CSV share.

Figures are numbers (int or float), dates are dates, "không có" is the text "Không có" (never
0, never empty), an unanswered or skipped item is None, a rate whose denominator is 0 is "—".
Rates here are numbers from 0 to 100 (12.5 for 12,5%); the workbook turns them into fractions
under its percent format."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from documents.model import UnitReport, status_label
from engine.answers import Answer, AnswerKind
from engine.figures import NOT_ARISING, NOT_ARISING_MARK
from engine.outline import Outline
from engine.question import Question

NONE_TEXT = "Không có"
NOT_ARISING_TEXT = NOT_ARISING_MARK  # a rate whose denominator is 0: "—", never 0
YES_NO_TEXT = {"yes": "Có", "no": "Không"}
UNIT_HEADERS = ("Mã đơn vị", "Tên đơn vị", "Trạng thái")
PREVIOUS_SUFFIX = " (kỳ trước)"  # row 1 of a last-period column: "4.3.a (kỳ trước)"
CellValue = int | float | Decimal | str | date | datetime | None
# Control characters other than tab and line breaks: XML cannot hold them, a cell drops them.
_CONTROL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037]")


@dataclass(frozen=True)
class AnswerColumn:
    """One question's column in "Trả lời" and in the CSV."""

    question: Question
    value: Callable[[Any], CellValue]  # a VALUE answer's value (or a calculated Decimal) → cell

    @property
    def number(self) -> str:
        return self.question.number

    @property
    def rate(self) -> bool:
        return self.question.type == "percent" or self.question.format == "percent"

    @property
    def label(self) -> str:
        label = " ".join(self.question.label.vi.split())
        return f"{label} (%)" if self.rate else label


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
    return text


def _whole_number(value: Any) -> CellValue:
    """A count as a number; one too large for a spreadsheet's cell (saved before figures had
    bounds) as its digits, in full, rather than a failed export."""
    number = int(value)
    return number if abs(number) < 10**15 else str(Decimal(number))


def _identity(value: Any) -> CellValue:
    return value  # type: ignore[no-any-return]


def text(value: Any) -> str:
    return _CONTROL_CHARACTERS.sub("", str(value))


class Source(Enum):
    """Where a column's value comes from in a unit's report."""

    ANSWER = 0
    CALCULATED = 1
    PREVIOUS = 2  # the unit's answer in the previous campaign of the same kind


# (name, source, converter) per column: what the row loop needs, looked up once.
Plan = list[tuple[str, Source, Callable[[Any], Any]]]


def plan(columns: Sequence[AnswerColumn], wrap: Callable[[AnswerColumn], Callable[[Any], Any]] | None = None,
         ) -> Plan:
    return [(c.question.name, Source.CALCULATED if c.question.type == "calculate" else Source.ANSWER,
             wrap(c) if wrap else c.value) for c in columns]


def row_values(report: UnitReport, steps: Plan) -> list[Any]:
    """Code, name, status, then one value per column: None when unanswered or skipped."""
    answers, calculated, previous = report.answers, report.calculated, report.previous
    row: list[Any] = [report.unit_code, text(report.unit_name), status_label(report.status)]
    append = row.append
    value_kind, none_kind = AnswerKind.VALUE, AnswerKind.NONE
    for name, source, convert in steps:
        if source is Source.CALCULATED:
            rate = calculated.get(name)
            append(None if rate is None else NOT_ARISING_TEXT if rate is NOT_ARISING else convert(rate))
            continue
        answer: Answer | None = (answers if source is Source.ANSWER else previous).get(name)
        if answer is None:
            append(None)
        elif answer.kind is value_kind:
            append(convert(answer.value))
        elif answer.kind is none_kind:
            append(NONE_TEXT)
        else:
            append(None)
    return row
