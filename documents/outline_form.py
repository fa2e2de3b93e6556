"""The outline as an XLSForm-like workbook, for the VP office to edit in a spreadsheet: sheets
`survey` (parts and sections as nested groups, one row per question), `choices` and `settings`,
in the vocabulary ODK and KoboToolbox authors know. docs/outline-format.md gives the mapping;
documents.outline_form_read reads it back through the YAML loader's own checks."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.outline import LANGUAGES, Outline, Section
from engine.outline_yaml import question_data
from engine.question import Question

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
LANGUAGE_NAMES = {"vi": "Vietnamese (vi)", "en": "English (en)"}
BEGIN_GROUP, END_GROUP = "begin group", "end group"
YES, NO = "yes", "no"


def translated(column: str, language: str) -> str:
    """XLSForm's header of a text in one language: "label::Vietnamese (vi)"."""
    return f"{column}::{LANGUAGE_NAMES[language]}"


@dataclass(frozen=True)
class Column:
    """One survey column: its header, the question's key it holds (and the language of a
    text), and how a cell is read: "text", "flag" (yes / no), "count" or "bound"."""

    header: str
    key: str
    language: str | None = None
    kind: str = "text"


def _texts(column: str, key: str | None = None) -> list[Column]:
    return [Column(translated(column, language), key or column, language) for language in LANGUAGES]


# In the order of a question's keys in the YAML file; `calculation` is XLSForm's name.
SURVEY_COLUMNS: tuple[Column, ...] = (
    Column("type", "type"),
    Column("name", "name"),
    Column("number", "number"),
    *_texts("label"),
    *_texts("short"),
    *_texts("hint"),
    Column("required", "required", kind="flag"),
    Column("relevant", "relevant"),
    Column("constraint", "constraint"),
    *_texts("constraint_message"),
    Column("calculation", "calculate"),
    Column("format", "format"),
    Column("warning", "warning"),
    *_texts("warning_message"),
    Column("min", "min", kind="bound"),
    Column("max", "max", kind="bound"),
    Column("max_length", "max_length", kind="count"),
    Column("period", "period", kind="flag"),
    Column("compare_figures", "compare_figures", kind="flag"),
)
CHOICE_COLUMNS: tuple[Column, ...] = (Column("list_name", "list_name"), Column("name", "value"),
                                      *_texts("label"))
SETTINGS_COLUMNS: tuple[Column, ...] = (Column("form_id", "id"), Column("version", "version"),
                                        *_texts("form_title", "title"), Column("source", "source"),
                                        Column("subject", "subject"), Column("opening", "opening"),
                                        Column("default_language", "default_language"))
DEFAULT_LANGUAGE = LANGUAGE_NAMES["vi"]


def export_outline(outline: Outline) -> bytes:
    """The outline as an .xlsx workbook."""
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = SURVEY
    choices, settings = book.create_sheet(CHOICES), book.create_sheet(SETTINGS)
    _header(survey, SURVEY_COLUMNS)
    _header(choices, CHOICE_COLUMNS)
    _header(settings, SETTINGS_COLUMNS)
    meta = outline.meta
    settings.append([meta.id, meta.version, meta.title.vi, meta.title.en, meta.source,
                     meta.subject or None, meta.opening or None, DEFAULT_LANGUAGE])
    for part_number, sections in _by_part(outline):
        part = outline.part(part_number)
        survey.append(_row({"type": BEGIN_GROUP, "name": part.number, "label": part.title.model_dump()}))
        for section in sections:
            survey.append(_row({"type": BEGIN_GROUP, "name": section.number,
                                "label": section.title.model_dump(),
                                "short": section.short.model_dump()}))
            for question in section.questions:
                survey.append(_row(question_cells(question)))
                for choice in question.choices:
                    choices.append([question.name, choice.value, choice.label.vi, choice.label.en])
            survey.append(_row({"type": END_GROUP}))
        survey.append(_row({"type": END_GROUP}))
    for sheet in (survey, choices, settings):
        _lay_out(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _by_part(outline: Outline) -> list[tuple[str, list[Section]]]:
    """Sections grouped under their part, parts in their order. The workbook nests sections in
    their part's group, so an outline whose sections leave their part's order is refused."""
    grouped: list[tuple[str, list[Section]]] = [(part.number, []) for part in outline.parts]
    position = {number: index for index, (number, _) in enumerate(grouped)}
    last = 0
    for section in outline.sections:
        index = position[section.part]
        if index < last:
            raise ValueError(f"section {section.number} comes after a section of a later part: "
                             "a workbook lists the sections part by part")
        grouped[index][1].append(section)
        last = index
    return grouped


# How a question's value is written in its cell, by the column's kind.
WRITE: dict[str, Callable[[Any], Any]] = {
    "text": lambda value: value,
    "flag": lambda value: YES if value else NO,
    "count": lambda value: value,
    "bound": lambda value: _bound_cell(value),
}


def question_cells(question: Question) -> dict[str, Any]:
    """The question's row: its keys as the YAML file would write them (engine.outline_yaml),
    a select_one's list named after the question, `required` said on every asked question."""
    data = question_data(question)
    if question.type == "select_one":
        data["type"] = f"select_one {question.name}"
    data.pop("choices", None)
    if question.asked:
        data["required"] = question.required
    return data


def _bound_cell(value: Any) -> str | int:
    """A bound as typed in the YAML file: a date as yyyy-mm-dd text (a date cell would come
    back as a time), a non-integral number as its exact text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return str(Decimal(str(value)))


def _row(data: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for column in SURVEY_COLUMNS:
        value = data.get(column.key)
        if isinstance(value, dict):
            value = value.get(column.language or "")
        cells.append(None if value is None else WRITE[column.kind](value))
    return cells


def _header(sheet: Worksheet, columns: tuple[Column, ...]) -> None:
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _lay_out(sheet: Worksheet) -> None:
    """Columns as wide as their content (within reason), long texts wrapped."""
    for index, column_cells in enumerate(sheet.iter_cols(values_only=True), start=1):
        widest = max((len(str(value)) for value in column_cells if value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), 60)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and len(cell.value) > 58:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
