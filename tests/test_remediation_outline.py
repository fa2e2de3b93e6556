"""The report after an inspection's conclusion (plan §II.2 and §V.1.d: within 30 working days,
what the unit did to remedy the shortcomings and handle the violations found): its own outline,
asked by campaigns of kind after_conclusion, with its figures checked and computed like the
Đề cương's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.answers import Answer
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.outline import load_outline
from engine.views import NoticeKind, QuestionView, State
from handlers.campaigns import outline_for
from locales.translation import translator
from tests.conftest import REPO

VI = translator("vi")
FILE = "khac-phuc-ket-luan-kiem-tra-2021.yaml"


@pytest.fixture(scope="module")
def engine() -> ReportEngine:
    return ReportEngine(load_outline(REPO / "outlines" / FILE))


def say(engine: ReportEngine, state: State, text: str) -> tuple[State, list[str], list[str]]:
    outcome = engine.step(state, parse_text(text))
    errors = [n.message.render(VI) for n in outcome.notices if n.kind is NoticeKind.ERROR]
    saved = list(outcome.saved)
    return outcome.state, errors, saved


def test_a_conclusion_campaign_asks_the_remediation_report_not_the_outline_again() -> None:
    assert outline_for("after_conclusion", "ke-hoach-20-2021.yaml") == FILE
    assert outline_for("fixed_date", "ke-hoach-20-2021.yaml") == "ke-hoach-20-2021.yaml"
    assert outline_for("before_visit", "ke-hoach-20-2021.yaml") == "ke-hoach-20-2021.yaml"


def test_the_remediation_report_from_first_question_to_its_figures(engine: ReportEngine) -> None:
    state = engine.resume(State(answers={}, unit_level="commune")).state
    view = engine.view_at(state, state.cursor)
    assert isinstance(view, QuestionView) and view.question.name == "conclusion_reference"
    state, errors, _ = say(engine, state, "Kết luận số 12/KL-VPUB ngày 05/05/2021, nhận ngày 07/05/2021")
    state, errors, _ = say(engine, state, "8")  # 2.1.a: eight matters to remedy
    state, errors, saved = say(engine, state, "9")  # 2.1.b: more done than required
    assert saved == [] and errors == [
        "Số nội dung đã khắc phục, xử lý xong (9) không được lớn hơn tổng số nội dung Kết luận "
        "kiểm tra yêu cầu (mục 2.1.a: 8)."]
    state, errors, _ = say(engine, state, "5")
    state, errors, saved = say(engine, state, "4")  # 2.1.c: 5 done + 4 in progress > 8
    assert saved == [] and "(5)" in errors[0] and "(4)" in errors[0] and "8)" in errors[0]
    state, errors, saved = say(engine, state, "2")
    assert saved == ["conclusion_items_in_progress"] and errors == []
    calculated = engine.calculated(state)
    assert calculated["conclusion_items_not_started"] == Decimal("1")  # 8 − 5 − 2
    assert calculated["conclusion_items_done_rate"] == Decimal("62.50")  # 5 / 8
    # Not all done: the officer is asked why, and by when (2.4); no violation: 2.3.b is not asked.
    names = [q.name for q in engine.relevant_questions(state)]
    assert "remaining_items" in names
    state, _, _ = say(engine, state, "Đã niêm yết lại đầy đủ TTHC tại Bộ phận Một cửa (nội dung 1) …")
    state, _, _ = say(engine, state, "không")
    assert "violations_handling" not in [q.name for q in engine.relevant_questions(state)]
    assert state.cursor == "remaining_items"


def test_a_conclusion_with_nothing_to_remedy_is_not_a_rate_of_zero(engine: ReportEngine) -> None:
    state = State(answers={"conclusion_items_total": Answer.of(0), "conclusion_items_done": Answer.of(0),
                           "conclusion_items_in_progress": Answer.of(0)})
    assert engine.calculated(state)["conclusion_items_done_rate"] is NOT_ARISING
    assert "remaining_items" not in [q.name for q in engine.relevant_questions(state)]
