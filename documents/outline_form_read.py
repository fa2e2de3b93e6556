"""The outline read back from its XLSForm-like workbook (documents.outline_form): the sheets are
turned into the mappings the YAML loader reads and checked by the loader itself
(engine.outline.build_outline), so a workbook passes exactly where the YAML file would. Every
fault names the sheet, the row and the column, and all of them are reported at once."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from documents.outline_form import (
    BEGIN_GROUP,
    CHOICE_COLUMNS,
    CHOICES,
    END_GROUP,
    SETTINGS,
    SETTINGS_COLUMNS,
    SURVEY,
    SURVEY_COLUMNS,
    Column,
)
from engine.outline import LANGUAGES, LINE_KEY, Fault, Outline, OutlineError, build_outline
from engine.outline_yaml import dump_outline

REQUIRED_HEADERS = {SURVEY: ("type", "name"), CHOICES: ("list_name", "name"),
                    SETTINGS: ("form_id", "version")}
COLUMNS = {SURVEY: SURVEY_COLUMNS, CHOICES: CHOICE_COLUMNS, SETTINGS: SETTINGS_COLUMNS}
# XLSForm accepts both spellings of the group rows.
GROUP_SPELLINGS = {"begin_group": BEGIN_GROUP, "end_group": END_GROUP}
FLAGS = {"yes": True, "true": True, "có": True, "no": False, "false": False, "không": False}
# What a group row may fill in besides its type: a part its number (name) and title, a section
# its short title too.
GROUP_KEYS = ({"type", "name", "label"}, {"type", "name", "label", "short"})
# A group's columns in the loader's words: its number is the group's name, its title the label.
GROUP_COLUMNS = {"name": "number", "label": "title", "short": "short", LINE_KEY: LINE_KEY}
GROUP_FIELDS = {"number": "name", "title": "label"}
# Faults the question-type table finds name no key: the column each is about.
MESSAGE_COLUMNS = ((r"select_one needs|choice values|min and max apply", "type"),
                   (r"a calculate question needs a calculate", "calculate"),
                   (r"a calculate question needs a format", "format"),
                   (r"a percent question's max|max ", "max"), (r"min ", "min"))


@dataclass
class _Sheet:
    name: str
    letters: dict[str, str] = field(default_factory=dict)  # header → column letter
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # row, header → value


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.sheets: dict[str, _Sheet] = {}
        self.choice_rows: dict[int, list[int]] = {}  # a question's survey row → its choices' rows

    def fault(self, sheet: str, row: int, column: Column | None, message: str) -> None:
        where = f"{self.path}: {sheet} sheet, row {row}"
        if column is not None:
            letter = self.sheets[sheet].letters.get(column.header) if sheet in self.sheets else None
            where += f", column {letter or '(missing)'} ({column.header})"
        self.problems.append(f"{where}: {message}")

    def read(self, data: bytes) -> Outline:
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise OutlineError(self.path, [f"{self.path}: not an .xlsx workbook: "
                                           f"{type(error).__name__}"]) from error
        self.sheets = {name: self._sheet(book[name]) for name in COLUMNS if name in book.sheetnames}
        missing = [name for name in (SURVEY, SETTINGS) if name not in self.sheets]
        if missing:
            raise OutlineError(self.path, [f"{self.path}: the workbook has no sheet {name!r} "
                                           f"(sheets: {', '.join(book.sheetnames)})" for name in missing])
        raw = {"outline": self._meta(), **self._survey(self._choices()), LINE_KEY: 1}
        if self.problems:
            raise OutlineError(self.path, self.problems)
        try:
            outline = build_outline(self.path, raw, "")
        except OutlineError as error:
            for fault in error.faults:
                self._place(fault)
            raise OutlineError(self.path, self.problems, error.faults) from error
        return replace(outline, text=dump_outline(outline))

    def _sheet(self, worksheet: Any) -> _Sheet:
        sheet = _Sheet(worksheet.title)
        rows = worksheet.iter_rows(values_only=True)
        headers = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        known = {column.header for column in COLUMNS[sheet.name]}
        for index, header in enumerate(headers, start=1):
            if header and header not in known:
                self.problems.append(f"{self.path}: {sheet.name} sheet, row 1, column "
                                     f"{get_column_letter(index)}: unknown column {header!r} "
                                     f"(known: {', '.join(sorted(known))})")
            elif header:
                sheet.letters[header] = get_column_letter(index)
        for header in REQUIRED_HEADERS[sheet.name]:
            if header not in sheet.letters:
                self.problems.append(f"{self.path}: {sheet.name} sheet, row 1: no column {header!r}")
        for number, cells in enumerate(rows, start=2):
            values = {headers[i]: cell for i, cell in enumerate(cells)
                      if i < len(headers) and headers[i] in sheet.letters and not _blank(cell)}
            if values:
                sheet.rows.append((number, values))
        return sheet

    def _values(self, sheet: str, row: int, cells: dict[str, Any]) -> dict[str, Any]:
        """A row's cells as the loader's keys, a text of each language under its key."""
        data: dict[str, Any] = {LINE_KEY: row}
        for column in COLUMNS[sheet]:
            if column.header not in cells:
                continue
            value = self._cell(sheet, row, column, cells[column.header])
            if column.language is None:
                data[column.key] = value
            else:
                data.setdefault(column.key, {LINE_KEY: row})[column.language] = value
        return data

    def _cell(self, sheet: str, row: int, column: Column, value: Any) -> Any:
        if column.kind == "flag":
            flag = value if isinstance(value, bool) else FLAGS.get(_text(value).lower())
            if flag is None:
                self.fault(sheet, row, column, f"{_text(value)!r} is neither yes nor no")
            return flag
        if column.kind == "count":
            if isinstance(value, bool) or not re.fullmatch(r"\d+", _text(value)):
                self.fault(sheet, row, column, f"{_text(value)!r} is not a whole number")
                return None
            return int(_text(value))
        if column.kind == "bound":
            if isinstance(value, datetime):
                return value.date()
            return Decimal(str(value)) if isinstance(value, float) else value
        return _text(value)

    def _meta(self) -> dict[str, Any]:
        rows = self.sheets[SETTINGS].rows
        if not rows:
            self.fault(SETTINGS, 2, None, "no row: the outline's form_id, version and title go here")
            return {}
        row, cells = rows[0]
        meta = self._values(SETTINGS, row, cells)
        meta.pop("default_language", None)  # Vietnamese: the language officers are asked in
        return meta

    def _choices(self) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        lists: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row, cells in self.sheets[CHOICES].rows if CHOICES in self.sheets else []:
            choice = self._values(CHOICES, row, cells)
            lists.setdefault(str(choice.pop("list_name", "")), []).append((row, choice))
        return lists

    def _survey(self, lists: dict[str, list[tuple[int, dict[str, Any]]]]) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        sections: list[dict[str, Any]] = []
        groups: list[int] = []  # the rows of the groups open: a part's, then a section's
        used: set[str] = set()
        type_column = SURVEY_COLUMNS[0]
        for row, cells in self.sheets[SURVEY].rows:
            kind = _text(cells.get("type", "")).lower()
            kind = GROUP_SPELLINGS.get(kind, kind)
            values = self._values(SURVEY, row, cells)
            if kind == END_GROUP:
                if not groups:
                    self.fault(SURVEY, row, type_column, "end group without a begin group")
                else:
                    groups.pop()
                continue
            if kind == BEGIN_GROUP:
                self._group(row, values, len(groups), parts, sections)
                groups.append(row)
                continue
            if not kind:
                self.fault(SURVEY, row, type_column, "the row has content but no type")
                continue
            if len(groups) != 2:
                self.fault(SURVEY, row, type_column, "a question goes inside a section's group, "
                                                     "itself inside its part's group")
                continue
            if kind.startswith("select_one"):
                values.update(type="select_one", choices=self._choice_list(row, kind, lists, used))
            sections[-1]["questions"].append(values)
        for row in groups:
            self.fault(SURVEY, row, type_column, "this group has no end group")
        for name in sorted(set(lists) - used):
            self.fault(CHOICES, lists[name][0][0], CHOICE_COLUMNS[0],
                       f"no select_one question uses the list {name!r}")
        return {"parts": parts, "sections": sections}

    def _group(self, row: int, values: dict[str, Any], depth: int,
               parts: list[dict[str, Any]], sections: list[dict[str, Any]]) -> None:
        if depth > 1:
            self.fault(SURVEY, row, SURVEY_COLUMNS[0], "groups nest two deep only: a part's group, "
                                                       "and in it its sections' groups")
            return
        for column in SURVEY_COLUMNS:
            if column.key in values and column.key not in GROUP_KEYS[depth]:
                self.fault(SURVEY, row, column, f"not used on a {('part', 'section')[depth]}'s group row")
        group = {key: values[column] for column, key in GROUP_COLUMNS.items() if column in values}
        if depth == 0:
            parts.append(group)
        else:
            sections.append({**group, "part": parts[-1].get("number"), "questions": []})

    def _choice_list(self, row: int, kind: str, lists: dict[str, list[tuple[int, dict[str, Any]]]],
                     used: set[str]) -> list[dict[str, Any]]:
        name = kind.removeprefix("select_one").strip()
        if name not in lists:
            self.fault(SURVEY, row, SURVEY_COLUMNS[0],
                       f"no choices listed under {name!r} in the choices sheet (column list_name)"
                       if name else "select_one needs the name of its list: select_one LIST")
            return []
        used.add(name)
        self.choice_rows[row] = [choice_row for choice_row, _ in lists[name]]
        return [choice for _, choice in lists[name]]

    def _place(self, fault: Fault) -> None:
        """Name a fault the loader found by the sheet, row and column it came from."""
        message = fault.text().replace(" on line ", " on row ")
        key = fault.field or ""
        if fault.message.startswith("outline."):
            self.fault(SETTINGS, fault.line, _column(SETTINGS, key), message)
            return
        steps = key.split(".")
        if fault.question and steps[0] == "choices" and len(steps) > 2 and steps[1].isdigit():
            rows = self.choice_rows.get(fault.line, [])
            index = int(steps[1])
            if index < len(rows):
                self.fault(CHOICES, rows[index], _column(CHOICES, ".".join(steps[2:])), message)
                return
        if not fault.question:
            steps[0] = GROUP_FIELDS.get(steps[0], steps[0])
        elif not key:
            steps[0] = next((column for pattern, column in MESSAGE_COLUMNS
                             if re.match(pattern, fault.message)), "")
        self.fault(SURVEY, fault.line, _column(SURVEY, ".".join(steps)), message)


def read_outline_form(path: Path) -> Outline:
    """The outline in the workbook at `path`; raise OutlineError naming every fault's sheet,
    row and column."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OutlineError(path, [f"{path}: cannot read: {error.strerror}"]) from error
    return _Reader(path).read(data)


def _column(sheet: str, key: str) -> Column | None:
    """The column of a loader's key ("label.en", "calculate", "value")."""
    name, _, rest = key.partition(".")
    language = rest.split(".")[0] if rest.split(".")[0] in LANGUAGES else None
    candidates = [c for c in COLUMNS[sheet] if c.key == name and (language is None or c.language == language)]
    return candidates[0] if candidates else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: a number typed into a text column as it reads ("2021.1", "4")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
