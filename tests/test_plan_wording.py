"""The outline and the code say what Kế hoạch 20/KH-UBND says: the readings of the plan that
were once wrong, each held to the plan's own words (the seed, ../shared/seed)."""

from __future__ import annotations

import re

import pytest

from engine.outline import Outline, load_outline
from tests.conftest import REPO
from tests.test_outline_coverage import _seed_file

OUTLINE_FILE = REPO / "outlines" / "ke-hoach-20-2021.yaml"
ROMAN_HEADING = re.compile(r"^(?P<roman>[IVX]+)\.\s+\S")
NUMBERED = re.compile(r"^(?P<number>\d+)\.\s+\S")
LETTERED = re.compile(r"^(?P<letter>[a-zđ])\)\s+\S")
# What each citation of the plan in the code must find in the cited section.
CITED = {
    "VII.3": "chậm nhất trước 05 ngày làm việc tính từ ngày Đoàn kiểm tra đến làm việc",
    "II.2": "chậm nhất 10 ngày làm việc trước khi tiến hành kiểm tra",
    "V.1.d": "Chậm nhất sau 30 ngày làm việc, kể từ ngày nhận được kết luận kiểm tra",
    "VII.4.a": "trên 50% phòng, ban chuyên môn",
}


@pytest.fixture(scope="module")
def plan_sections() -> dict[str, str]:
    """The plan's text (before its Đề cương) by section: "VII", "VII.3", "V.1.d"."""
    path = _seed_file()
    if path is None:
        pytest.skip("the seed file is not beside the checkout")
    text = path.read_text(encoding="utf-8").split("ĐỀ CƯƠNG BÁO CÁO")[0]
    sections: dict[str, str] = {}
    roman = number = letter = ""
    for raw in text.splitlines():
        line = raw.strip()
        if match := ROMAN_HEADING.match(line):
            roman, number, letter = match["roman"], "", ""
        elif (match := NUMBERED.match(line)) and roman:
            number, letter = match["number"], ""
        elif (match := LETTERED.match(line)) and number:
            letter = match["letter"]
        keys = [roman, f"{roman}.{number}" if number else "", f"{roman}.{number}.{letter}" if letter else ""]
        for key in filter(None, keys):
            sections[key] = sections.get(key, "") + " " + line
    return sections


@pytest.fixture(scope="module")
def outline() -> Outline:
    return load_outline(OUTLINE_FILE)


def test_every_citation_of_the_plan_in_the_deadlines_names_the_right_section(
    plan_sections: dict[str, str]
) -> None:
    source = (REPO / "deadlines" / "plan.py").read_text(encoding="utf-8")
    cited = set(re.findall(r"§([IVX]+(?:\.\d+)?(?:\.[a-zđ])?)", source))
    assert cited, "deadlines/plan.py cites no section of the plan"
    assert cited <= set(CITED), f"citations with no words to check: {cited - set(CITED)}"
    for section in cited:
        assert CITED[section] in plan_sections[section], (section, plan_sections[section][:200])
    assert "§III.3" not in source  # III is the team's make-up; the 5 days are VII.3


def test_two_one_a_reads_if_assigned_in_the_law_as_the_law_means_it(outline: Outline) -> None:
    """"(nếu được giao trong luật)": the City may lay down procedures only where a law assigns
    it to (Law on Promulgation of Legal Documents 2015, art. 14(4)); not "if the law assigns
    the drafting to the agency"."""
    question = outline.question("ria_assigned")
    assert "được giao trong luật" in question.label.vi
    assert question.hint is not None and "khoản 4 Điều 14" in question.hint.vi
    assert "nếu được giao theo quy định của luật" not in question.hint.vi.lower()


def test_the_items_the_plan_asks_every_unit_have_no_unit_level_condition(outline: Outline) -> None:
    """One Đề cương for departments, districts and communes, and "ghi rõ “không có”" where a
    unit has nothing: no item is kept from a level of unit."""
    by_level = [q.name for q in outline.questions if q.relevant and "unit_level" in q.relevant.source]
    assert by_level == []


def test_self_assessment_is_asked_as_the_plan_asks_it(outline: Outline) -> None:
    """"Tự đánh giá mức độ hoàn thành …": the plan gives no scale to choose from."""
    question = outline.question("self_assessment")
    assert question.type == "text" and question.choices == ()


def test_difficulties_are_asked_once_each_where_the_plan_puts_them(outline: Outline) -> None:
    """Section 1's bullet joins the difficulties to direction, organisation and funds; II.3 is
    the assessment of the whole work: each says so and points to the other."""
    gate, detail = outline.question("implementation_difficulties_any"), outline.question(
        "implementation_difficulties")
    overall = outline.question("difficulties_specific")
    for question in (gate, detail):
        assert "chỉ đạo, điều hành" in question.label.vi and "kinh phí" in question.label.vi
    assert gate.hint is not None and "mục II.3" in gate.hint.vi
    assert overall.hint is not None and "mục 1.4.c" in overall.hint.vi
    assert detail.label.vi != overall.label.vi


def test_a_figure_of_the_period_does_not_say_the_year(outline: Outline) -> None:
    """A period figure covers the campaign's period (15/12 to 14/10 by default), not the year."""
    slips = [q.number for q in outline.questions if q.period and "trong năm" in q.label.vi]
    assert slips == []


def test_the_counts_the_plan_names_are_asked_as_figures(outline: Outline) -> None:
    """Apology letters for late dossiers (4.4), full online services, online payments (10.4),
    procedures with dossiers by post (KH 20, II.1.d): figures with their checks, not words in a
    hint."""
    for name, whole in (("late_dossiers_apologised", "dossiers_late"),
                        ("procedures_online_full", "procedures_online"),
                        ("online_payment_procedures", "procedures_total"),
                        ("online_payment_dossiers", "dossiers_total"),
                        ("procedures_with_postal_dossiers", "procedures_postal")):
        question = outline.question(name)
        assert question.type == "integer", name
        assert question.constraint is not None and question.constraint.references == {whole}, name
    rate = outline.question("late_dossiers_apology_rate")
    assert rate.calculate is not None and rate.calculate.references == {
        "late_dossiers_apologised", "dossiers_late"}

