"""The report after an inspection's conclusion (plan §II.2 and §V.1.d: within 30 working days,
what the unit did to remedy the shortcomings and handle the violations found): its own outline,
asked by campaigns of kind after_conclusion, with its figures checked and computed like the
Đề cương's."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal

import docx
import pytest

from documents import ReportDocumentInfo, UnitReport, build_report_docx
from documents.subject import report_opening, report_subject
from engine.answers import Answer
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.outline import Outline, load_outline
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


SELF_INSPECTION = "Tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính"
REMEDIATION = ("Tình hình, kết quả khắc phục hạn chế, tồn tại và xử lý vi phạm theo Kết luận kiểm tra "
               "công tác kiểm soát thủ tục hành chính")


def _paragraphs(outline: Outline, answers: dict[str, Answer]) -> list[str]:
    report = UnitReport("31144", "Phường Ninh Kiều", "commune", "Quận Ninh Kiều", "submitted", None,
                        date(2021, 6, 30), answers=answers)
    info = ReportDocumentInfo.for_unit(report, on=date(2021, 6, 20), campaign_title="Khắc phục 2021")
    document = docx.Document(io.BytesIO(build_report_docx(outline, report, info, VI)))
    return [" ".join(p.text.replace("\u00a0", " ").split()) for p in document.paragraphs]


def test_the_remediation_report_says_what_it_is(engine: ReportEngine, outline: Outline) -> None:
    """Its subject line and opening come from its own outline, not the Đề cương's."""
    texts = _paragraphs(engine.outline, {"conclusion_items_total": Answer.of(8)})
    assert f"{REMEDIATION} năm 2021" in texts
    opening = next(t for t in texts if t.startswith("Thực hiện Kế hoạch số 20/KH-UBND"))
    assert opening.endswith(f", Ủy ban nhân dân phường Ninh Kiều báo cáo {REMEDIATION[:1].lower()}"
                            f"{REMEDIATION[1:]} năm 2021 như sau:"), opening
    assert not any("thực hiện hoạt động kiểm soát" in t for t in texts)
    # The self-inspection report keeps its words.
    assert report_subject(outline) == SELF_INSPECTION
    assert report_opening(outline) == "báo cáo " + SELF_INSPECTION[:1].lower() + SELF_INSPECTION[1:]
    own = _paragraphs(outline, {})
    assert f"{SELF_INSPECTION} năm 2021" in own
    # An outline may state both; the report prints what it states.
    stated = dataclasses.replace(engine.outline, meta=engine.outline.meta.model_copy(update={
        "subject": "Kết quả khắc phục sau kiểm tra năm 2021",
        "opening": "báo cáo kết quả khắc phục theo Kết luận kiểm tra"}))
    texts = _paragraphs(stated, {})
    assert "Kết quả khắc phục sau kiểm tra năm 2021" in texts
    said = "phường Ninh Kiều báo cáo kết quả khắc phục theo Kết luận kiểm tra năm 2021 như sau:"
    assert any(t.endswith(said) for t in texts)
