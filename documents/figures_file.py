"""Last year's figures read from a spreadsheet laid out like the consolidated workbook's
"Trả lời" sheet (documents.workbook): the round trip is to export one year and import it as the
previous one. Row 1 holds the question numbers ("4.3.a"), row 2 the labels, data start on row 3
with the unit's code in column A; the workbook's totals row ("Tổng cộng") is skipped. Only the
figures are read (whole numbers, numbers, percentages); "Không có" is the explicit nothing; an
empty cell is no figure.

Each figure is read by the same validators as the chat (engine.qtypes: the type's parser and its
bounds, a question's own min/max) and each unit's figures are held to the outline's own
constraints (a part never above its whole), so a file cannot bring in what an officer could not
type. Every fault is named with its row, its unit and its column, and all of them are reported at
once: nothing is imported from a file with any fault."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook

from documents.workbook import NONE_TEXT, TOTALS_LABEL
from engine.answers import NONE_ANSWER, Answer, expression_answers
from engine.expressions import ExpressionError, MissingReference
from engine.i18n import Translator
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES, AnswerProblem, AnswerWindow
from engine.question import Question
from engine.views import FigureMessage

SHEET = "Trả lời"
FIRST_DATA_ROW = 3
FIGURE_TYPES = frozenset({"integer", "decimal", "percent"})


class FiguresFileError(ValueError):
    """The file cannot be imported; `problems` names every fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class UnitFigures:
    """One unit's figures as read: the row they came from, and name → answer."""

    row: int
    code: str
    name: str
    answers: dict[str, Answer] = field(default_factory=dict)


def read_figures(outline: Outline, data: bytes, translator: Translator,
                 window: AnswerWindow | None = None) -> list[UnitFigures]:
    """The units' figures in the file; raise FiguresFileError naming every fault, the
    validators' own words rendered by `translator`."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise FiguresFileError([f"not an .xlsx workbook: {type(error).__name__}"]) from error
    if SHEET not in book.sheetnames:
        sheets = ", ".join(book.sheetnames)
        raise FiguresFileError([f"the workbook has no sheet {SHEET!r} (sheets: {sheets})"])
    rows = book[SHEET].iter_rows(values_only=True)
    numbers = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    columns: dict[int, Question] = {}
    for index, number in enumerate(numbers):
        question = _figure_question(outline, number)
        if question is not None:
            columns[index] = question
    if not columns:
        raise FiguresFileError([f"row 1 of sheet {SHEET!r} names no figure question of the outline "
                                "(expected question numbers such as 4.3.a)"])
    next(rows, None)  # the labels
    problems: list[str] = []
    units: list[UnitFigures] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(rows, start=FIRST_DATA_ROW):
        cells = list(row)
        code = str(cells[0]).strip() if cells and cells[0] is not None else ""
        name = str(cells[1]).strip() if len(cells) > 1 and cells[1] is not None else ""
        if code == TOTALS_LABEL:  # the workbook's own totals row, not a unit
            continue
        if not code:
            if any(cell not in (None, "") for cell in cells):
                problems.append(f"row {row_number}: no unit code in column A")
            continue
        where = f"row {row_number}, unit {code}" + (f" ({name})" if name else "")
        if code in seen:
            problems.append(f"{where}: the unit is also on row {seen[code]}")
            continue
        seen[code] = row_number
        answers: dict[str, Answer] = {}
        for index, question in columns.items():
            cell = cells[index] if index < len(cells) else None
            try:
                answer = _answer(question, cell, window or AnswerWindow())
            except AnswerProblem as problem:
                problems.append(f"{where}, column {question.number} ({_short(question)}): "
                                f"“{cell}”: {problem.message.render(translator)}")
                continue
            if answer is not None:
                answers[question.name] = answer
        problems.extend(f"{where}, column {question.number} ({_short(question)}): {message}"
                        for question, message in _broken_rules(outline, answers, translator))
        units.append(UnitFigures(row_number, code, name, answers))
    if problems:
        raise FiguresFileError(problems)
    return units


def _figure_question(outline: Outline, number: str) -> Question | None:
    for question in outline.questions:
        if question.number == number and question.asked and question.type in FIGURE_TYPES:
            return question
    return None


def _answer(question: Question, cell: Any, window: AnswerWindow) -> Answer | None:
    """A cell as the chat would take it typed: through the type's parser and its bounds."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, str) and cell.strip().casefold() == NONE_TEXT.casefold():
        return NONE_ANSWER
    return Answer.of(QUESTION_TYPES[question.type].read(_as_typed(cell), question, window))


def _as_typed(cell: Any) -> str:
    """A cell's value written as an officer types it: a number cell's decimals after a comma
    ("2,5"), never a dot, which the chat reads as a thousands separator ("1.234")."""
    if isinstance(cell, bool) or not isinstance(cell, int | float | Decimal):
        return str(cell)
    try:
        number = Decimal(str(cell))
    except InvalidOperation:
        return str(cell)
    if not number.is_finite():
        return str(cell)
    text = format(number, "f")
    return text.replace(".", ",")


def _broken_rules(outline: Outline, answers: dict[str, Answer], translator: Translator
                  ) -> list[tuple[Question, str]]:
    """The outline's constraints a unit's figures break, as the chat words them; a constraint
    that needs a figure the row does not give is not checked (as in the chat)."""
    values = expression_answers(outline, answers)
    broken = []
    for name in answers:
        question = outline.question(name)
        constraint, message = question.constraint, question.constraint_message
        if constraint is None or message is None or name not in values:
            continue
        try:
            satisfied = constraint.evaluate(values, {"unit_level": None}, values[name])
        except (MissingReference, ExpressionError):
            continue
        if satisfied is False or satisfied is None:
            figures = {ref: (outline.question(ref), values[ref]) for ref in constraint.references}
            figures["value"] = (question, values[name])
            broken.append((question, FigureMessage(message, figures).render(translator)))
    return broken


def _short(question: Question) -> str:
    label = " ".join(question.label.vi.split())
    return label if len(label) <= 60 else label[:57] + "…"
