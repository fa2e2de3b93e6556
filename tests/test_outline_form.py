"""The outline as a workbook (XLSForm-like: survey / choices / settings): export → import gives
the same outline, and a workbook with faults is refused with each fault named by sheet, row and
column, through the YAML loader's own checks."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from bot.cli import main
from documents.outline_form import export_outline
from documents.outline_form_read import read_outline_form
from engine.outline import Outline, OutlineError, default_outline_path, load_outline, parse_outline
from engine.outline_yaml import dump_outline

# Every key a question may have, in a small outline of its own.
EVERY_KEY = """\
outline:
  id: every-key
  version: "2027.1"
  title: {vi: "Đề cương đủ loại", en: "Every key"}
  source: "Thử nghiệm"
  subject: "Kết quả thử nghiệm"
  opening: "báo cáo kết quả thử nghiệm"
parts:
  - {number: "I", title: {vi: "Phần I", en: "Part I"}}
  - {number: "II", title: {vi: "Phần II", en: "Part II"}}
sections:
  - number: "I.1"
    part: "I"
    title: {vi: "Số liệu", en: "Figures"}
    short: {vi: "Số liệu", en: "Figures"}
    questions:
      - name: total
        number: "1.1"
        type: integer
        label: {vi: "Tổng số hồ sơ", en: "Total dossiers"}
        hint: {vi: "Kể cả hồ sơ trực tuyến.", en: "Online ones too."}
        period: true
        max: 500
      - name: late
        number: "1.2"
        type: integer
        label: {vi: "Số hồ sơ trễ hạn", en: "Late dossiers"}
        required: false
        constraint: ". <= ${total}"
        constraint_message: {vi: "Không quá {total}.", en: "At most {total}."}
        relevant: "${total} > 0"
      - name: share
        number: "1.3"
        type: percent
        label: {vi: "Tỷ lệ", en: "Share"}
        min: 12.5
        max: 99.75
      - name: late_rate
        number: "1.4"
        type: calculate
        format: percent
        label: {vi: "Tỷ lệ trễ hạn", en: "Late rate"}
        calculate: "${late} / ${total} * 100"
        warning: ". > 50"
        warning_message: {vi: "Trên một nửa ({value}).", en: "Over half ({value})."}
  - number: "II"
    part: "II"
    title: {vi: "Đánh giá", en: "Assessment"}
    short: {vi: "Đánh giá", en: "Assessment"}
    questions:
      - name: since
        number: "II.1"
        type: date
        label: {vi: "Ngày ban hành", en: "Issued on"}
        min: 2021-01-01
        max: 2027-12-31
      - name: grade
        number: "II.2"
        type: select_one
        label: {vi: "Tự đánh giá", en: "Self-assessment"}
        choices:
          - {value: good, label: {vi: "Tốt", en: "Good"}}
          - {value: fair, label: {vi: "Đạt", en: "Fair"}}
      - name: done
        number: "II.3"
        type: yes_no
        label: {vi: "Đã hoàn thành", en: "Done"}
      - name: notes
        number: "II.4"
        type: text
        label: {vi: "Ghi chú", en: "Notes"}
        max_length: 500
        compare_figures: true
"""


@pytest.fixture(scope="module")
def every_key(tmp_path_factory: pytest.TempPathFactory) -> Outline:
    path = tmp_path_factory.mktemp("outline") / "every-key.yaml"
    path.write_text(EVERY_KEY, encoding="utf-8")
    return load_outline(path)


def cells(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def round_trip(outline: Outline, tmp_path: Path) -> tuple[bytes, Outline]:
    exported = export_outline(outline)
    path = tmp_path / "de-cuong.xlsx"
    path.write_bytes(exported)
    return exported, read_outline_form(path)


@pytest.mark.parametrize("which", ["shipped", "every key"])
def test_export_then_import_gives_the_same_outline(which: str, every_key: Outline, tmp_path: Path) -> None:
    outline = load_outline(default_outline_path()) if which == "shipped" else every_key
    exported, imported = round_trip(outline, tmp_path)
    assert imported.as_json() == outline.as_json()
    assert imported.parts == outline.parts and imported.meta == outline.meta
    # Question by question, every key (where each came from in its file apart).
    assert [q.model_copy(update={"line": 0}) for q in imported.questions] == [
        q.model_copy(update={"line": 0}) for q in outline.questions]
    assert cells(export_outline(imported)) == cells(exported)
    # ... and what `outline import` writes reads back as the same outline too.
    written = parse_outline(dump_outline(imported, heading="Made from de-cuong.xlsx"), tmp_path / "o.yaml")
    assert written.as_json() == outline.as_json()


def test_the_workbook_speaks_xlsform(every_key: Outline) -> None:
    sheets = cells(export_outline(every_key))
    survey = [dict(zip(sheets["survey"][0], row, strict=True)) for row in sheets["survey"][1:]]
    assert [(row["type"], row["name"]) for row in survey[:3]] == [
        ("begin group", "I"), ("begin group", "I.1"), ("integer", "total")]
    assert survey[2]["label::Vietnamese (vi)"] == "Tổng số hồ sơ"
    assert survey[2]["hint::English (en)"] == "Online ones too."
    by_name = {row["name"]: row for row in survey}
    assert by_name["late"]["required"] == "no" and by_name["late"]["relevant"] == "${total} > 0"
    assert by_name["late_rate"]["calculation"] == "${late} / ${total} * 100"
    assert (by_name["share"]["min"], by_name["since"]["max"]) == ("12.5", "2027-12-31")
    assert by_name["grade"]["type"] == "select_one grade"
    assert sheets["choices"][1:] == [("grade", "good", "Tốt", "Good"), ("grade", "fair", "Đạt", "Fair")]
    settings = dict(zip(sheets["settings"][0], sheets["settings"][1], strict=True))
    assert (settings["form_id"], settings["version"]) == ("every-key", "2027.1")
    assert (settings["subject"], settings["opening"]) == ("Kết quả thử nghiệm", "báo cáo kết quả thử nghiệm")


def test_group_rows_may_be_spelt_either_way(every_key: Outline, tmp_path: Path) -> None:
    book = load_workbook(io.BytesIO(export_outline(every_key)))
    for (cell,) in book["survey"].iter_rows(min_row=2, max_col=1):
        if cell.value in ("begin group", "end group"):
            cell.value = cell.value.replace(" ", "_")
    book.save(tmp_path / "de-cuong.xlsx")
    assert read_outline_form(tmp_path / "de-cuong.xlsx").as_json() == every_key.as_json()


def _set(sheet: str, name: str | None, header: str, value: Any) -> Callable[[Workbook], None]:
    """A change to the cell of `header` on the row whose name is `name` (None: the first data row)."""
    def change(book: Workbook) -> None:
        rows = book[sheet]
        headers = [cell.value for cell in rows[1]]
        row = next(r for r in range(2, rows.max_row + 1)
                   if name is None or rows.cell(r, headers.index("name") + 1).value == name)
        rows.cell(row, headers.index(header) + 1).value = value
    return change


def _rename_header(sheet: str, header: str, new: str) -> Callable[[Workbook], None]:
    def change(book: Workbook) -> None:
        for cell in book[sheet][1]:
            if cell.value == header:
                cell.value = new
    return change


def _drop_last_row(book: Workbook) -> None:
    book["survey"].delete_rows(book["survey"].max_row)  # the part's end group


# (change, the fault's start "<sheet> sheet, row R, column C (header)", words of the fault)
BROKEN = [
    pytest.param(_set("survey", "notes", "label::English (en)", None),
                 "survey sheet, row 15, column E (label::English (en))", ["question 'notes'", "label.en"],
                 id="label missing in one language"),
    pytest.param(_set("survey", "notes", "relevant", "${totl} > 0"),
                 "survey sheet, row 15, column K (relevant)", ["unknown question ${totl}"],
                 id="unknown reference"),
    pytest.param(_set("survey", "done", "type", "boolean"),
                 "survey sheet, row 14, column A (type)", ["unknown type 'boolean'"], id="unknown type"),
    pytest.param(_set("survey", "total", "required", "maybe"),
                 "survey sheet, row 4, column J (required)", ["'maybe' is neither yes nor no"],
                 id="required neither yes nor no"),
    pytest.param(_set("survey", "share", "max", 120),
                 "survey sheet, row 6, column U (max)", ["percent question's max cannot exceed 100"],
                 id="percent above 100"),
    pytest.param(_set("survey", "late_rate", "format", None),
                 "survey sheet, row 7, column P (format)", ["needs a format"], id="calculate without format"),
    pytest.param(_set("choices", "fair", "name", "Đạt yêu cầu"),
                 "choices sheet, row 3, column B (name)", ["choices.1.value"], id="bad choice value"),
    pytest.param(_set("survey", "grade", "type", "select_one grades"),
                 "survey sheet, row 13, column A (type)", ["no choices listed under 'grades'"],  # and:
                 # "choices sheet, row 2, column A (list_name): no select_one question uses the list"
                 id="unknown choice list"),
    pytest.param(_set("settings", None, "version", None),
                 "settings sheet, row 2, column B (version)", ["outline.version"], id="no version"),
    pytest.param(_set("survey", "I.1", "label::Vietnamese (vi)", None),
                 "survey sheet, row 3, column D (label::Vietnamese (vi))", ["section I.1", "title.vi"],
                 id="section without its title"),
    pytest.param(_rename_header("survey", "hint::English (en)", "hint::Englsh (en)"),
                 "survey sheet, row 1, column I", ["unknown column 'hint::Englsh (en)'"],
                 id="misspelt column"),
    pytest.param(_drop_last_row, "survey sheet, row 10, column A (type)", ["no end group"],
                 id="group left open"),
]


@pytest.mark.parametrize(("change", "where", "words"), BROKEN)
def test_a_broken_workbook_is_refused_naming_sheet_row_and_column(
        change: Callable[[Workbook], None], where: str, words: list[str], every_key: Outline,
        tmp_path: Path) -> None:
    book = load_workbook(io.BytesIO(export_outline(every_key)))
    change(book)
    path = tmp_path / "de-cuong.xlsx"
    book.save(path)
    with pytest.raises(OutlineError) as caught:
        read_outline_form(path)
    problems = caught.value.problems
    named = [problem for problem in problems if problem.startswith(f"{path}: {where}: ")]
    assert len(named) == 1 and len(problems) <= 2, problems
    for word in words:
        assert word in named[0]


def test_outline_check_names_every_fault_of_a_workbook(every_key: Outline, tmp_path: Path) -> None:
    book = load_workbook(io.BytesIO(export_outline(every_key)))
    _set("survey", "total", "required", "maybe")(book)
    _set("survey", "notes", "max_length", "dài")(book)
    path = tmp_path / "de-cuong.xlsx"
    book.save(path)
    result = CliRunner().invoke(main, ["outline", "check", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: survey sheet, row 4, column J (required): 'maybe' is neither yes nor no",
        f"{path}: survey sheet, row 15, column V (max_length): 'dài' is not a whole number"]
    not_a_workbook = tmp_path / "notes.xlsx"
    not_a_workbook.write_text("không phải bảng tính", encoding="utf-8")
    refused = CliRunner().invoke(main, ["outline", "check", str(not_a_workbook)])
    assert refused.exit_code == 1 and "not an .xlsx workbook" in refused.stderr
