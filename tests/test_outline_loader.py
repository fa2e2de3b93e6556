"""The outline loader and `kstthc-bot outline check|show`: a broken outline file is refused with
every fault named by file, line and question, so whoever writes next year's outline can fix it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import get_settings
from engine.outline import Outline, OutlineError, default_outline_path, load_outline

# A small valid outline; broken questions are appended after `total` (line 13).
BASE = """\
outline:
  id: test-outline
  version: "1"
  title: {vi: "Đề cương thử", en: "Test outline"}
parts:
  - {number: "I", title: {vi: "Phần I", en: "Part I"}}
sections:
  - number: "I.1"
    part: "I"
    title: {vi: "Mục một", en: "Section one"}
    short: {vi: "Mục một", en: "One"}
    questions:
      - name: total
        number: "1.1"
        type: integer
        label: {vi: "Tổng số", en: "Total"}
"""
TOTAL_LINE = 13


def question_yaml(*lines: str) -> str:
    """One question of the `questions:` list, its keys given as "key: value" lines."""
    first, *rest = lines
    return "".join(["      - " + first + "\n", *("        " + line + "\n" for line in rest)])


def write(tmp_path: Path, extra: str, name: str = "outline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line containing `needle`."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if needle in line]
    return found[occurrence - 1]


def problems(path: Path) -> list[str]:
    with pytest.raises(OutlineError) as caught:
        load_outline(path)
    assert caught.value.path == path
    assert caught.value.problems
    return caught.value.problems


BROKEN = [
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: number", 'label: {vi: "X", en: "X"}'),
        "broken", ["unknown type 'number'", "integer"], id="unknown type"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: text", 'label: {vi: "Chỉ tiếng Việt"}'),
        "broken", ["label.en", "required"], id="missing label.en"),
    pytest.param(
        question_yaml('name: Tổng số', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}'),
        "Tổng số", ["name", "snake_case"], id="bad name"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= ${unknown_question}"',
                      'constraint_message: {vi: "({value})", en: "({value})"}'),
        "broken", ["constraint", "unknown question ${unknown_question}"], id="unknown reference"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= ${total}"'),
        "broken", ["constraint needs a constraint_message"], id="constraint without message"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= ${total}"',
                      'constraint_message: {vi: "({value}) > ({tong_so})", en: "({value}) > ({total})"}'),
        "broken", ["constraint_message.vi", "{tong_so}", "does not use"], id="unused placeholder"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: calculate", 'label: {vi: "X", en: "X"}',
                      'calculate: "${total} * 2"'),
        "broken", ["calculate", "format"], id="calculate without format"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: select_one", 'label: {vi: "X", en: "X"}',
                      'choices: [{value: only, label: {vi: "Duy nhất", en: "Only"}}]'),
        "broken", ["select_one", "two choices"], id="select_one with one choice"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= (${total}"',
                      'constraint_message: {vi: "({value})", en: "({value})"}'),
        "broken", ["constraint", "cannot parse expression"], id="expression does not parse"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= total"',
                      'constraint_message: {vi: "({value})", en: "({value})"}'),
        "broken", ["constraint", "unknown name(s) total", "${name}"], id="bare name in expression"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", "colour: red",
                      'label: {vi: "X", en: "X"}'),
        "broken", ["colour", "not permitted"], id="unknown key"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: calculate", "format: percent",
                      'label: {vi: "X", en: "X"}', 'calculate: "${total} * 2"', 'warning: ". > 50"'),
        "broken", ["warning needs a warning_message"], id="warning without message"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: text", 'label: {vi: "X", en: "X"}',
                      'relevant: ". > 0"'),
        "broken", ["relevant cannot use '.'"], id="relevant uses the current value"),
    pytest.param(
        question_yaml('name: broken', 'number: "1.2"', "type: integer", 'label: {vi: "X", en: "X"}',
                      'constraint: ". <= ${broken}"',
                      'constraint_message: {vi: "({value})", en: "({value})"}'),
        "broken", ["refers to the question itself"], id="constraint refers to itself"),
]


@pytest.mark.parametrize(("extra", "question", "fragments"), BROKEN)
def test_a_broken_question_is_named_by_file_line_and_name(
    tmp_path: Path, extra: str, question: str, fragments: list[str]
) -> None:
    path = write(tmp_path, extra)
    found = problems(path)
    assert len(found) == 1, found
    line = line_of(path, f"- name: {question}")
    assert found[0].startswith(f"{path}:{line}: question {question!r}: "), found[0]
    for fragment in fragments:
        assert fragment in found[0]


def test_a_duplicate_name_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, question_yaml(
        "name: total", 'number: "1.2"', "type: text", 'label: {vi: "X", en: "X"}'))
    found = problems(path)
    assert found == [f"{path}:{line_of(path, '- name: total', 2)}: question 'total': "
                     f"duplicate name (first used on line {TOTAL_LINE})"]


@pytest.mark.parametrize(("extra", "fault_line", "fragment"), [
    pytest.param('      - name: broken\n\tnumber: "1.2"\n', 18, "'\\t'", id="tab"),
    pytest.param('      - name: broken\n         number: "1.2"\n        type: text\n', 18,
                 "mapping values are not allowed", id="bad indentation"),
    pytest.param('      - name: broken\n        number: "1.2"\n        type: text\n'
                 '        label: {vi: "X", en: "X"\n', 20, "line 20", id="unclosed brace"),
    pytest.param('      - name: broken\n        number: "1.2"\n        choices: [a, b\n'
                 '        type: text\n', 19, "line 19", id="unclosed bracket"),
])
def test_invalid_yaml_names_the_line(tmp_path: Path, extra: str, fault_line: int, fragment: str) -> None:
    path = write(tmp_path, extra)
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:")
    assert "not valid YAML" in found[0]
    assert fragment in found[0]
    named = int(found[0].removeprefix(f"{path}:").split(":")[0])
    assert fault_line <= named <= len(path.read_text(encoding="utf-8").splitlines()) + 1
    if named != fault_line:
        assert f"line {fault_line}" in found[0]


def test_every_fault_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, question_yaml(
        "name: first_broken", 'number: "1.2"', "type: number", 'label: {vi: "X", en: "X"}',
    ) + question_yaml(
        "name: second_broken", 'number: "1.3"', "type: text", 'label: {vi: "X"}',
    ) + question_yaml(
        "name: third_broken", 'number: "1.4"', "type: integer", 'label: {vi: "X", en: "X"}',
        'constraint: ". <= ${nothing_here}"', 'constraint_message: {vi: "({value})", en: "({value})"}',
    ))
    found = problems(path)
    assert len(found) == 3
    for problem, name in zip(found, ["first_broken", "second_broken", "third_broken"], strict=True):
        assert problem.startswith(f"{path}:{line_of(path, f'- name: {name}')}: question {name!r}: ")


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "khong-co.yaml"
    found = problems(path)
    assert found == [f"{path}: cannot read: No such file or directory"]


def test_the_base_outline_is_valid(tmp_path: Path) -> None:
    loaded = load_outline(write(tmp_path, ""))
    assert [q.name for q in loaded.questions] == ["total"]
    assert loaded.question("total").line == TOTAL_LINE


# ----- the real outline -------------------------------------------------------------------------

def test_the_real_outline_loads(outline: Outline) -> None:
    assert outline.meta.id == "kstthc-2021"
    assert [s.number for s in outline.sections] == (
        [f"I.{n}" for n in range(1, 12)] + ["II", "III", "IV"])
    assert [p.number for p in outline.parts] == ["I", "II", "III", "IV"]
    names = [q.name for q in outline.questions]
    assert len(names) == len(set(names))
    numbers = [q.number for q in outline.questions]
    assert len(numbers) == len(set(numbers))
    for question in outline.questions:
        assert question.label.vi and question.label.en
        assert question.line > 0
        assert outline.section_of(question.name).number == question.section_number


# ----- kstthc-bot outline check / show ------------------------------------------------------------

def test_outline_check_of_the_real_outline() -> None:
    path = default_outline_path()
    result = CliRunner().invoke(main, ["outline", "check", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    loaded = load_outline(path)
    asked = len(loaded.asked_questions)
    calculated = len(loaded.questions) - asked
    assert str(path) in lines[0] and "OK" in lines[0]
    assert f"{len(loaded.sections)} sections, {asked} questions, {calculated} calculated" in lines[0]


def test_outline_check_of_a_broken_file(tmp_path: Path) -> None:
    path = write(tmp_path, question_yaml(
        "name: first_broken", 'number: "1.2"', "type: number", 'label: {vi: "X", en: "X"}',
    ) + question_yaml(
        "name: second_broken", 'number: "1.3"', "type: integer", 'label: {vi: "X", en: "X"}',
        'constraint: ". <= ${total}"',
    ))
    result = CliRunner().invoke(main, ["outline", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors == problems(path)
    assert errors[0].startswith(f"{path}:{line_of(path, '- name: first_broken')}: question 'first_broken'")
    assert errors[1].startswith(f"{path}:{line_of(path, '- name: second_broken')}: question 'second_broken'")


def test_outline_check_of_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, '      - name: broken\n\tnumber: "1.2"\n')
    result = CliRunner().invoke(main, ["outline", "check", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:18: not valid YAML")


def _show_json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["outline", "show", "--json", *args])
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_outline_show_json_of_the_configured_outline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outline: Outline
) -> None:
    monkeypatch.delenv("KSTTHC_OUTLINE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    try:
        shown = _show_json([])
    finally:
        get_settings.cache_clear()
    assert shown == _show_json([str(default_outline_path())])
    assert shown["id"] == outline.meta.id


def test_outline_show_json_lists_every_question(outline: Outline) -> None:
    shown = _show_json([str(default_outline_path())])
    assert [s["number"] for s in shown["sections"]] == [s.number for s in outline.sections]
    questions = [q for section in shown["sections"] for q in section["questions"]]
    assert [q["name"] for q in questions] == [q.name for q in outline.questions]
    for entry, question in zip(questions, outline.questions, strict=True):
        assert entry["section"] == question.section_number
        assert entry["number"] == question.number
        assert entry["type"] == question.type
        assert entry["label"] == {"vi": question.label.vi, "en": question.label.en}
        assert entry["required"] is (question.required and question.asked)
        assert entry["constraint"] == (question.constraint.source if question.constraint else None)
        assert entry["relevant"] == (question.relevant.source if question.relevant else None)
    by_name = {q["name"]: q for q in questions}
    assert by_name["dossiers_carried_over"]["constraint"] == "${dossiers_new} + . == ${dossiers_total}"
    assert by_name["dossiers_carried_over"]["section"] == "I.4"
    assert by_name["dossiers_carried_over"]["number"] == "4.3.c"
    assert by_name["ria_assessment"]["relevant"] == "${ria_assigned} == 'yes'"
    assert by_name["procedures_at_one_stop_desk"]["warning"] == ". != ${procedures_one_stop}"
    assert by_name["review_plan_date"]["required"] is False
    assert by_name["dossiers_postal_rate"]["required"] is False  # calculated: never asked
    assert by_name["dossiers_postal_rate"]["format"] == "percent"
    assert by_name["guidance_documents"]["label"]["vi"].startswith("Việc ban hành")  # not escaped
    assert by_name["self_assessment"]["choices"] == []  # asked in words, as the plan asks it


def test_outline_show_of_a_broken_file(tmp_path: Path) -> None:
    path = write(tmp_path, question_yaml(
        "name: broken", 'number: "1.2"', "type: number", 'label: {vi: "X", en: "X"}'))
    result = CliRunner().invoke(main, ["outline", "show", "--json", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "question 'broken'" in result.stderr
