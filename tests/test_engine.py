"""The conversation engine on the real outline (Kế hoạch 20/KH-UBND), driven as an officer drives it.

Every test feeds typed lines through `engine.commands.parse_text` into `engine.step(state, turn)`
and threads `outcome.state` into the next step, the way the handlers do. Messages are rendered
with the real gettext translator, so the assertions are on what the officer reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from engine.answers import NONE_ANSWER, SKIPPED_ANSWER, Answer, AnswerKind
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES
from engine.question import Question
from engine.views import (
    Action,
    ClosedView,
    CompletedView,
    ConfirmSubmitView,
    ContentsView,
    HelpView,
    Mode,
    Notice,
    NoticeKind,
    Outcome,
    ProgressView,
    QuestionView,
    ReviewView,
    State,
    SubmitBlockedView,
    SubmittedView,
)
from locales.translation import translator

VI = translator("vi")
EN = translator("en")


# ----- helpers ----------------------------------------------------------------------------------

def values(**given: Any) -> dict[str, Answer]:
    """Answers by name: plain values become VALUE answers; Answer objects are kept as they are."""
    return {name: v if isinstance(v, Answer) else Answer.of(v) for name, v in given.items()}


def say(engine: ReportEngine, state: State, *lines: str) -> Outcome:
    """Type each line in turn, as the officer would; the outcome of the last one."""
    assert lines
    outcome: Outcome | None = None
    for line in lines:
        outcome = engine.step(state, parse_text(line))
        state = outcome.state
    assert outcome is not None
    return outcome


def texts(notices: Iterable[Notice], kind: NoticeKind, translator_: Any = VI) -> list[str]:
    return [n.message.render(translator_) for n in notices if n.kind is kind]


def at(outcome: Outcome) -> str:
    """The name of the question on screen."""
    assert isinstance(outcome.view, QuestionView), f"expected a question, got {outcome.view!r}"
    return outcome.view.question.name


def assert_reopened(outcome: Outcome, changed: str, reopened: tuple[str, ...]) -> str:
    """The new figure was kept; the figures it contradicts were withdrawn and are asked again.
    Returns the explanation (the broken rule, naming the figures)."""
    assert changed in outcome.saved
    assert outcome.cleared == reopened
    for name in reopened:
        assert name not in outcome.state.answers
    assert at(outcome) == reopened[0]
    warnings = texts(outcome.notices, NoticeKind.WARNING)
    assert len(warnings) == len(reopened), outcome.notices
    return warnings[0]


def assert_rejected(outcome: Outcome, state: State, name: str) -> str:
    """The answer was refused: nothing saved, answers unchanged, still on `name`; the error text."""
    assert outcome.saved == {}
    assert outcome.state.answers == state.answers
    assert at(outcome) == name
    assert outcome.state.cursor == name
    errors = texts(outcome.notices, NoticeKind.ERROR)
    assert len(errors) == 1, outcome.notices
    return errors[0]


def assert_saved(outcome: Outcome, name: str, answer: Answer) -> None:
    assert outcome.saved == {name: answer}, texts(outcome.notices, NoticeKind.ERROR)
    assert outcome.state.answers[name] == answer
    assert texts(outcome.notices, NoticeKind.ERROR) == []


# Figures that respect every rule of the outline; an integer not listed is answered 0.
FIGURES = {
    "publication_decisions_in_force": "12",
    "procedures_total": "1.234",
    "procedures_one_stop": "1.100",  # the same procedures as 8.3.a (cross-checked)
    "procedures_postal": "800",
    "procedures_online": "1 000",
    "procedures_online_full": "600",
    "dossiers_total": "12.345",
    "dossiers_new": "12.000",
    "dossiers_carried_over": "345",
    "dossiers_one_stop": "10.000",
    "dossiers_online": "2.000",
    "dossiers_postal": "345",
    "dossiers_on_time": "12.000",
    "dossiers_late": "300",
    "results_postal": "123",
    "late_dossiers_apologised": "250",
    "feedback_total": "10",
    "feedback_about_regulations": "4",
    "feedback_about_conduct": "6",
    "feedback_transferred": "3",
    "feedback_resolved": "5",
    "procedures_at_one_stop_desk": "1.100",
    "inspections_count": "2",
    "subunits_handling_procedures": "10",
    "subunits_self_inspected": "6",
    "online_payment_procedures": "300",
    "online_payment_dossiers": "1.500",
}


def typed_answer(question: Question) -> str:
    """A valid answer of the question's type, typed the way an officer types it."""
    return {
        "text": f"Nội dung mục {question.number}: đã thực hiện đầy đủ <b>&</b> 👍",
        "integer": FIGURES.get(question.name, "0"),
        "decimal": "12,5",
        "percent": "50%",
        "yes_no": "có",
        "select_one": "1",
        "date": "15/03/2021",
    }[question.type]


def walk(
    engine: ReportEngine, unit_level: str = "commune", later: frozenset[str] = frozenset()
) -> tuple[Outcome, list[str]]:
    """Answer every question the bot asks (typing "sau" the first time for those in `later`)
    until the report is complete; the last outcome and the names in the order asked."""
    outcome = engine.resume(State(answers={}, unit_level=unit_level))
    asked: list[str] = []
    postponed: set[str] = set()
    while isinstance(outcome.view, QuestionView):
        question = outcome.view.question
        assert len(asked) < 200, "the walk does not end"
        if question.name in later and question.name not in postponed:
            postponed.add(question.name)
            outcome = say(engine, outcome.state, "sau")
            assert outcome.saved == {question.name: SKIPPED_ANSWER}
            continue
        before = outcome.state
        outcome = say(engine, before, typed_answer(question))
        assert question.name in outcome.saved, (
            question.name, texts(outcome.notices, NoticeKind.ERROR))
        asked.append(question.name)
    return outcome, asked


@pytest.fixture(scope="module")
def completed(engine: ReportEngine) -> State:
    """A commune's report with every question answered, not yet submitted."""
    outcome, _asked = walk(engine)
    assert isinstance(outcome.view, CompletedView)
    return outcome.state


# ----- the action words -------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "action"), [
    ("không có", Action.NONE), ("Không có", Action.NONE), ("KHÔNG CÓ", Action.NONE),
    ("khong co", Action.NONE), ("  không   có ", Action.NONE), ("k co", Action.NONE),
    ("kco", Action.NONE), ("none", Action.NONE), ("N/A", Action.NONE),
    ("lại", Action.BACK), ("Lại", Action.BACK), ("lai", Action.BACK), ("quay lại", Action.BACK),
    ("trở lại", Action.BACK), ("back", Action.BACK), ("/back", Action.BACK),
    ("sau", Action.SKIP), ("để sau", Action.SKIP), ("bỏ qua", Action.SKIP), ("SAU", Action.SKIP),
    ("later", Action.SKIP), ("skip", Action.SKIP), ("/skip", Action.SKIP),
    ("tiếp", Action.CONTINUE), ("tiep tuc", Action.CONTINUE), ("Tiếp tục", Action.CONTINUE),
    ("báo cáo", Action.CONTINUE), ("/baocao", Action.CONTINUE), ("continue", Action.CONTINUE),
    ("mục lục", Action.CONTENTS), ("MỤC LỤC", Action.CONTENTS), ("muc luc", Action.CONTENTS),
    ("/mucluc", Action.CONTENTS), ("menu", Action.CONTENTS), ("contents", Action.CONTENTS),
    ("tiến độ", Action.PROGRESS), ("tien do", Action.PROGRESS), ("/tiendo", Action.PROGRESS),
    ("progress", Action.PROGRESS),
    ("xem", Action.REVIEW), ("Xem lại", Action.REVIEW), ("/xem", Action.REVIEW),
    ("review", Action.REVIEW),
    ("nộp", Action.SUBMIT), ("Nộp", Action.SUBMIT), ("nop", Action.SUBMIT),
    ("nộp báo cáo", Action.SUBMIT), ("/nop", Action.SUBMIT), ("/NOP", Action.SUBMIT),
    ("submit", Action.SUBMIT), ("Submit", Action.SUBMIT),
    ("xác nhận", Action.CONFIRM), ("XÁC NHẬN", Action.CONFIRM), ("xac nhan", Action.CONFIRM),
    ("xác nhận nộp", Action.CONFIRM), ("confirm", Action.CONFIRM),
    ("hướng dẫn", Action.HELP), ("/huongdan", Action.HELP), ("trợ giúp", Action.HELP),
    ("help", Action.HELP), ("/help", Action.HELP), ("?", Action.HELP),
    # Everything else is an answer, kept exactly as typed.
    ("không", Action.ANSWER), ("Không", Action.ANSWER), ("có", Action.ANSWER),
    ("k", Action.ANSWER), ("0", Action.ANSWER), ("1.234", Action.ANSWER),
    ("Không có gì để báo cáo thêm", Action.ANSWER), ("xem xét lại quy trình", Action.ANSWER),
    ("nộp đúng hạn 100%", Action.ANSWER),
])
def test_action_words(typed: str, action: Action) -> None:
    turn = parse_text(typed)
    assert turn.action is action
    if action is Action.ANSWER:
        assert turn.text == typed


@pytest.mark.parametrize(("typed", "target"), [
    ("mục lục 4.3.a", "4.3.a"),
    ("Mục lục  II", "II"),
    ("muc luc 4", "4"),
    ("mục lục 4.3.đ", "4.3.đ"),
    ("/mucluc 11.2.đ", "11.2.đ"),
])
def test_contents_word_with_a_target(typed: str, target: str) -> None:
    turn = parse_text(typed)
    assert turn.action is Action.CONTENTS
    assert turn.target == target


# ----- "không có" -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["không có", "Không có", "khong co", "KHÔNG CÓ", "Khong Co", "k co"])
def test_none_is_stored_as_its_own_kind_of_answer(engine: ReportEngine, typed: str) -> None:
    outcome = say(engine, State(answers={}), typed)
    answer = outcome.saved["guidance_documents"]
    assert answer.kind is AnswerKind.NONE
    assert answer == NONE_ANSWER
    assert answer.value is None
    assert answer != Answer.of(0) and answer != Answer.of("")
    assert answer.given
    assert outcome.state.answers["guidance_documents"] == NONE_ANSWER
    assert at(outcome) == "control_urging"  # counts as answered: the bot moves on
    assert texts(outcome.notices, NoticeKind.SAVED) == ["Đã lưu: Không có"]


@pytest.mark.parametrize(("name", "typed", "stored"), [
    ("guidance_documents", "không có", NONE_ANSWER),
    ("guidance_documents", "0", Answer.of("0")),
    ("dossiers_total", "không có", NONE_ANSWER),
    ("dossiers_total", "0", Answer.of(0)),
    ("implementation_difficulties_any", "0", NONE_ANSWER),
    ("implementation_difficulties_any", "không có", NONE_ANSWER),
    ("implementation_difficulties_any", "không", Answer.of("no")),
    ("implementation_difficulties_any", "1", Answer.of("yes")),
    ("self_assessment", "không có", NONE_ANSWER),
    ("self_assessment", "0", Answer.of("0")),  # asked in words now, as the plan asks it
    ("review_plan_date", "không có", NONE_ANSWER),
    ("inspection_forms", "KHÔNG CÓ", NONE_ANSWER),
])
def test_none_per_question_type(engine: ReportEngine, name: str, typed: str, stored: Answer) -> None:
    outcome = say(engine, State(answers={}, cursor=name), typed)
    assert_saved(outcome, name, stored)


def test_none_counts_as_answered_in_progress_and_submit(
    engine: ReportEngine, completed: State
) -> None:
    state = State(answers=values(guidance_documents=NONE_ANSWER, control_urging="Đã đôn đốc"))
    progress = say(engine, state, "tiến độ").view
    assert isinstance(progress, ProgressView)
    section_one = next(p for p in progress.sections if p.section.number == "I.1")
    assert section_one.given == 2
    assert "guidance_documents" not in {q.name for q in engine.missing_required(state)}

    answers = {**completed.answers, "other_matters": NONE_ANSWER, "inspections_count": NONE_ANSWER}
    confirm = say(engine, replace(completed, answers=answers), "nộp").view
    assert isinstance(confirm, ConfirmSubmitView)
    assert confirm.none_count == 2
    assert confirm.given == confirm.total


def test_none_for_a_figure_counts_as_zero_in_the_rules(engine: ReportEngine) -> None:
    state = State(answers=values(dossiers_total=NONE_ANSWER), cursor="dossiers_new")
    message = assert_rejected(say(engine, state, "5"), state, "dossiers_new")
    assert "(5)" in message and "(0)" in message
    assert_saved(say(engine, state, "không có"), "dossiers_new", NONE_ANSWER)
    assert_saved(say(engine, state, "0"), "dossiers_new", Answer.of(0))


# ----- cross-field rules ------------------------------------------------------------------------

# "part ≤ whole": (question, the whole it is part of)
AT_MOST_RULES = [
    ("procedures_one_stop", "procedures_total"),
    ("procedures_postal", "procedures_total"),
    ("procedures_online", "procedures_total"),
    ("procedures_online_full", "procedures_online"),  # full online (3.1.g): of those online (3.1.e)
    ("dossiers_new", "dossiers_total"),
    ("dossiers_one_stop", "dossiers_total"),
    ("dossiers_online", "dossiers_total"),
    ("dossiers_postal", "dossiers_new"),  # received by post: of the newly received (4.3.e ≤ 4.3.b)
    ("dossiers_on_time", "dossiers_total"),
    ("late_dossiers_apologised", "dossiers_late"),  # apologised for (4.4.b): of the late (4.3.i)
    ("feedback_about_regulations", "feedback_total"),
    ("feedback_transferred", "feedback_total"),
    ("feedback_resolved", "feedback_total"),
    ("procedures_at_one_stop_desk", "procedures_total"),
    ("subunits_self_inspected", "subunits_handling_procedures"),
    ("online_payment_procedures", "procedures_total"),  # 10.4.b ≤ 3.1.c
    ("online_payment_dossiers", "dossiers_total"),  # 10.4.c ≤ 4.3.a
    ("procedures_with_postal_dossiers", "procedures_postal"),  # 11.4.b ≤ 3.1.đ
]

# "a + b = whole" and "a + b ≤ whole": (question, answers before it, refused, accepted, figures named)
SUM_RULES = [
    ("dossiers_carried_over", {"dossiers_total": 1234, "dossiers_new": 1000},
     ["200", "235", "1.234"], ["234"], ["(1.000)", "(200)", "(1.234)"]),
    ("dossiers_late", {"dossiers_total": 1234, "dossiers_on_time": 1200},
     ["35", "1.000"], ["34", "0"], ["(1.200)", "(35)", "(1.234)"]),
    ("feedback_about_conduct", {"feedback_total": 1234, "feedback_about_regulations": 1000},
     ["200", "235"], ["234"], ["(1.000)", "(200)", "(1.234)"]),
    # Results returned by post are of the dossiers resolved (on time + late), not of the total.
    ("results_postal", {"dossiers_total": 5000, "dossiers_on_time": 1000, "dossiers_late": 234},
     ["1.235", "5.000"], ["1.234", "0"], ["(1.235)", "(1.000)", "(234)"]),
]


def test_the_rule_tables_cover_every_constraint_of_the_outline(outline: Outline) -> None:
    constrained = {q.name for q in outline.questions if q.constraint is not None}
    covered = {name for name, _whole in AT_MOST_RULES} | {rule[0] for rule in SUM_RULES}
    assert constrained == covered


@pytest.mark.parametrize(("name", "whole"), AT_MOST_RULES)
def test_a_part_cannot_exceed_its_whole(engine: ReportEngine, name: str, whole: str) -> None:
    state = State(answers=values(**{whole: 1234}), cursor=name)
    refused = say(engine, state, "1.235")
    message = assert_rejected(refused, state, name)
    assert "(1.235)" in message and "1.234)" in message  # formatted the Vietnamese way
    english = texts(refused.notices, NoticeKind.ERROR, EN)[0]
    assert "(1,235)" in english and "1,234)" in english

    assert_saved(say(engine, state, "1.234"), name, Answer.of(1234))
    assert_saved(say(engine, state, "0"), name, Answer.of(0))


@pytest.mark.parametrize(("name", "before", "refused", "accepted", "figures"), SUM_RULES)
def test_sum_rules(
    engine: ReportEngine, name: str, before: dict[str, int], refused: list[str],
    accepted: list[str], figures: list[str],
) -> None:
    state = State(answers=values(**before), cursor=name)
    first = assert_rejected(say(engine, state, refused[0]), state, name)
    for figure in figures:
        assert figure in first
    for typed in refused[1:]:
        assert_rejected(say(engine, state, typed), state, name)
    for typed in accepted:
        outcome = say(engine, state, typed)
        assert name in outcome.saved, texts(outcome.notices, NoticeKind.ERROR)


def test_a_broken_total_is_refused_the_moment_it_is_typed(engine: ReportEngine) -> None:
    outcome = say(engine, State(answers={}), "mục lục 4.3.a")
    assert at(outcome) == "dossiers_total"
    outcome = say(engine, outcome.state, "1.234")
    assert at(outcome) == "dossiers_new"
    refused = say(engine, outcome.state, "1.235")
    assert_rejected(refused, outcome.state, "dossiers_new")
    outcome = say(engine, refused.state, "1.000")
    assert at(outcome) == "dossiers_carried_over"
    before = outcome.state
    refused = say(engine, before, "200")
    message = assert_rejected(refused, before, "dossiers_carried_over")
    assert message == ("Số hồ sơ mới tiếp nhận (1.000) cộng số hồ sơ từ kỳ trước chuyển qua (200) "
                       "phải bằng tổng số hồ sơ giải quyết (1.234).")
    outcome = say(engine, refused.state, "234")
    assert outcome.saved == {"dossiers_carried_over": Answer.of(234)}
    assert at(outcome) == "dossiers_one_stop"
    for name, typed, kept in [("dossiers_one_stop", "1.235", "1.234"), ("dossiers_online", "2.000", "1.234"),
                              ("dossiers_postal", "1.001", "1.000")]:  # by post: of the 1.000 new
        assert_rejected(say(engine, outcome.state, typed), outcome.state, name)
        outcome = say(engine, outcome.state, kept)
        assert name in outcome.saved
    assert at(outcome) == "dossiers_on_time"
    outcome = say(engine, outcome.state, "1.200")
    refused = say(engine, outcome.state, "35")
    assert "(1.200)" in assert_rejected(refused, outcome.state, "dossiers_late")


@pytest.mark.parametrize(("name", "whole"), AT_MOST_RULES)
def test_lowering_a_whole_below_an_answered_part_reopens_the_part(
    engine: ReportEngine, name: str, whole: str
) -> None:
    state = State(answers=values(**{whole: 2000, name: 1500}), cursor=whole)
    message = assert_reopened(say(engine, state, "1.234"), whole, (name,))
    assert "(1.500)" in message and "1.234)" in message
    assert_saved(say(engine, state, "1.500"), whole, Answer.of(1500))


def test_going_back_to_change_a_figure_checks_the_figures_that_depend_on_it(
    engine: ReportEngine,
) -> None:
    state = State(answers={}, cursor="dossiers_total")
    outcome = say(engine, state, "1.234", "1.000", "234")
    assert at(outcome) == "dossiers_one_stop"
    back = say(engine, outcome.state, "lại", "lại", "lại")
    assert at(back) == "dossiers_total"
    assert isinstance(back.view, QuestionView)
    assert back.view.current == Answer.of(1234)
    message = assert_reopened(say(engine, back.state, "1.000"), "dossiers_total",
                              ("dossiers_carried_over",))
    assert message == ("Số hồ sơ mới tiếp nhận (1.000) cộng số hồ sơ từ kỳ trước chuyển qua (234) "
                       "phải bằng tổng số hồ sơ giải quyết (1.000).")
    # "không có" for the total is 0 for the rules: both parts no longer fit and are asked again.
    assert_reopened(say(engine, back.state, "không có"), "dossiers_total",
                    ("dossiers_new", "dossiers_carried_over"))
    # The same total again is fine, and the bot goes on to the first open question after it.
    outcome = say(engine, back.state, "1.234")
    assert outcome.saved == {"dossiers_total": Answer.of(1234)}
    assert outcome.cleared == ()
    assert at(outcome) == "dossiers_one_stop"


@pytest.mark.parametrize(("changed", "typed", "reopened", "figures"), [
    ("dossiers_new", "900", "dossiers_carried_over", ["(900)", "(234)", "(1.234)"]),
    ("dossiers_on_time", "1.100", "dossiers_late", ["(1.100)", "(200)", "(1.234)"]),
    ("feedback_about_regulations", "3", "feedback_about_conduct", ["(3)", "(6)", "(10)"]),
    ("feedback_total", "11", "feedback_about_conduct", ["(4)", "(6)", "(11)"]),
])
def test_changing_one_addend_reopens_the_figure_that_no_longer_adds_up(
    engine: ReportEngine, changed: str, typed: str, reopened: str, figures: list[str]
) -> None:
    answers = values(dossiers_total=1234, dossiers_new=1000, dossiers_carried_over=234,
                     dossiers_on_time=1000, dossiers_late=200,
                     feedback_total=10, feedback_about_regulations=4, feedback_about_conduct=6)
    state = State(answers=answers, cursor=changed)
    message = assert_reopened(say(engine, state, typed), changed, (reopened,))
    for figure in figures:
        assert figure in message


def test_an_officer_can_correct_a_balanced_triple(engine: ReportEngine) -> None:
    """Changing one figure of new + carried-over = total keeps the new figure, withdraws the one
    that no longer adds up, says why, and asks it again."""
    start = State(answers=values(dossiers_total=1234, dossiers_new=1000, dossiers_carried_over=234))
    outcome = say(engine, replace(start, cursor="dossiers_new"), "900")
    assert_reopened(outcome, "dossiers_new", ("dossiers_carried_over",))
    info = texts(outcome.notices, NoticeKind.INFO)
    assert any("4.3.c" in text and "nhập lại" in text for text in info)

    corrected = say(engine, outcome.state, "334").state
    assert corrected.answers["dossiers_new"] == Answer.of(900)
    assert corrected.answers["dossiers_carried_over"] == Answer.of(334)


def test_an_own_rule_still_refuses_outright(engine: ReportEngine) -> None:
    start = State(answers=values(dossiers_total=1234, dossiers_new=1000))
    assert_rejected(say(engine, replace(start, cursor="dossiers_carried_over"), "200"), start,
                    "dossiers_carried_over")


# ----- calculated items -------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "name", "expected"), [
    # 4.3.g: received by post, of the NEW dossiers (4.3.b), never of the total with carried-over ones.
    ({"dossiers_total": 1000, "dossiers_new": 200, "dossiers_postal": 25},
     "dossiers_postal_rate", Decimal("12.50")),
    ({"dossiers_total": 9, "dossiers_new": 3, "dossiers_postal": 1}, "dossiers_postal_rate",
     Decimal("33.3333")),
    ({"dossiers_total": 9, "dossiers_new": 3, "dossiers_postal": 2}, "dossiers_postal_rate",
     Decimal("66.6667")),
    # 4.3.l: results returned by post, of the dossiers RESOLVED (on time + late).
    ({"dossiers_total": 500, "dossiers_on_time": 150, "dossiers_late": 50, "results_postal": 20},
     "results_postal_rate", Decimal("10.00")),
    # 4.3.m–p: resolved, pending, on-time and late shares, computed, never asked.
    ({"dossiers_total": 500, "dossiers_on_time": 150, "dossiers_late": 50}, "dossiers_resolved",
     Decimal("200")),
    ({"dossiers_total": 500, "dossiers_on_time": 150, "dossiers_late": 50}, "dossiers_pending",
     Decimal("300")),
    ({"dossiers_total": 500, "dossiers_on_time": 150, "dossiers_late": 50}, "dossiers_on_time_rate",
     Decimal("75.00")),
    ({"dossiers_total": 500, "dossiers_on_time": 150, "dossiers_late": 50}, "dossiers_late_rate",
     Decimal("25.00")),
    ({"dossiers_total": 500, "dossiers_on_time": 2, "dossiers_late": 1}, "dossiers_late_rate",
     Decimal("33.3333")),
    ({"procedures_total": 200, "procedures_at_one_stop_desk": 150},
     "one_stop_desk_rate", Decimal("75.00")),
    ({"subunits_handling_procedures": 10, "subunits_self_inspected": 5},
     "self_inspection_coverage", Decimal("50.00")),
    ({"subunits_handling_procedures": 8, "subunits_self_inspected": 8},
     "self_inspection_coverage", Decimal("100.00")),
])
def test_calculated_rates(
    engine: ReportEngine, given: dict[str, Any], name: str, expected: Decimal
) -> None:
    calculated = engine.calculated(State(answers=values(**given)))
    assert calculated[name] == expected


@pytest.mark.parametrize(("given", "absent"), [
    ({"dossiers_total": 200}, "dossiers_postal_rate"),  # not all figures in yet
    ({"dossiers_total": 200, "dossiers_postal": SKIPPED_ANSWER}, "dossiers_postal_rate"),
    ({"subunits_handling_procedures": 0}, "self_inspection_coverage"),  # not relevant
])
def test_calculated_rates_wait_for_their_figures(
    engine: ReportEngine, given: dict[str, Any], absent: str
) -> None:
    assert absent not in engine.calculated(State(answers=values(**given)))


@pytest.mark.parametrize(("given", "name"), [
    ({"dossiers_new": 0, "dossiers_postal": 0}, "dossiers_postal_rate"),
    ({"dossiers_new": NONE_ANSWER, "dossiers_postal": NONE_ANSWER}, "dossiers_postal_rate"),
    ({"dossiers_on_time": 0, "dossiers_late": 0, "results_postal": 0}, "results_postal_rate"),
    ({"dossiers_on_time": 0, "dossiers_late": NONE_ANSWER}, "dossiers_on_time_rate"),
    ({"dossiers_on_time": 0, "dossiers_late": 0}, "dossiers_late_rate"),
    ({"procedures_total": 0, "procedures_at_one_stop_desk": 0}, "one_stop_desk_rate"),
])
def test_a_rate_of_nothing_does_not_arise_and_is_never_zero(
    engine: ReportEngine, given: dict[str, Any], name: str
) -> None:
    """A denominator of 0 (or "không có") makes the rate "—" (không phát sinh), not 0%."""
    state = State(answers=values(**given))
    assert engine.calculated(state)[name] is NOT_ARISING
    item = next(item for _section, items in engine.review(state).sections for item in items
                if item.question.name == name)
    shown = QUESTION_TYPES["calculate"].show(item.calculated, item.question, VI)
    assert shown == "— (không phát sinh)"
    assert QUESTION_TYPES["calculate"].show(item.calculated, item.question, EN) == "— (none arising)"


def test_zero_total_typed_through_the_conversation_does_not_crash(engine: ReportEngine) -> None:
    outcome = say(engine, State(answers={}, cursor="dossiers_total"), "0", "0", "0", "0", "0", "0")
    assert outcome.state.answers["dossiers_postal"] == Answer.of(0)
    assert engine.calculated(outcome.state)["dossiers_postal_rate"] is NOT_ARISING
    review = say(engine, outcome.state, "xem").view
    assert isinstance(review, ReviewView)


@pytest.mark.parametrize(("inspected", "coverage"), [
    ("0", "(0,0%)"), ("5", "(50,0%)"), ("6", None), ("10", None),
])
def test_self_inspection_coverage_warning(
    engine: ReportEngine, inspected: str, coverage: str | None
) -> None:
    state = State(answers=values(subunits_handling_procedures=10), cursor="subunits_self_inspected")
    outcome = say(engine, state, inspected)
    assert outcome.saved == {"subunits_self_inspected": Answer.of(int(inspected))}  # never blocks
    warnings = texts(outcome.notices, NoticeKind.WARNING)
    if coverage is None:
        assert warnings == []
        assert say(engine, outcome.state, "tiến độ").view.warnings == ()  # type: ignore[union-attr]
        return
    assert len(warnings) == 1
    assert coverage in warnings[0]
    assert "trên 50%" in warnings[0]
    views: list[tuple[str, type[ProgressView | ReviewView]]] = [("tiến độ", ProgressView),
                                                                ("xem", ReviewView)]
    for word, view_type in views:
        view = say(engine, outcome.state, word).view
        assert isinstance(view, view_type)
        assert [n.kind for n in view.warnings] == [NoticeKind.WARNING]


def test_coverage_warning_in_english(engine: ReportEngine) -> None:
    state = State(answers=values(subunits_handling_procedures=10), cursor="subunits_self_inspected")
    warning = texts(say(engine, state, "5").notices, NoticeKind.WARNING, EN)[0]
    assert "(50.0%)" in warning and "more than 50%" in warning


def test_coverage_warning_shows_again_when_the_base_changes(engine: ReportEngine) -> None:
    state = State(answers=values(subunits_handling_procedures=10, subunits_self_inspected=6),
                  cursor="subunits_handling_procedures")
    outcome = say(engine, state, "12")
    assert outcome.saved == {"subunits_handling_procedures": Answer.of(12)}
    warnings = texts(outcome.notices, NoticeKind.WARNING)
    assert len(warnings) == 1 and "(50,0%)" in warnings[0]


# ----- the same concept asked in two places -----------------------------------------------------

# (the later question, the earlier one asking the same, the earlier one's number): the two must
# agree, or the officer is told, naming the other question, without either being refused.
CROSS_CHECKS = [
    ("procedures_at_one_stop_desk", "procedures_one_stop", "3.1.d"),  # 8.3.a = 3.1.d
]


def test_the_cross_check_table_covers_every_asked_question_with_a_warning(outline: Outline) -> None:
    warned = {q.name for q in outline.asked_questions if q.warning is not None}
    assert warned == {later for later, _earlier, _number in CROSS_CHECKS}


@pytest.mark.parametrize(("later", "earlier", "number"), CROSS_CHECKS)
def test_two_answers_to_one_concept_must_agree_or_the_officer_is_told(
    engine: ReportEngine, completed: State, later: str, earlier: str, number: str
) -> None:
    agreed = State(answers=values(procedures_total=1234, **{earlier: 1100}), cursor=later)
    outcome = say(engine, agreed, "1.100")
    assert outcome.saved == {later: Answer.of(1100)}
    assert texts(outcome.notices, NoticeKind.WARNING) == []

    # At the moment of answering: saved (the officer decides which is wrong), and told.
    outcome = say(engine, agreed, "1.000")
    assert outcome.saved == {later: Answer.of(1000)}
    warning = texts(outcome.notices, NoticeKind.WARNING)
    assert len(warning) == 1
    own = engine.outline.question(later).number
    assert f"mục {own}: 1.000" in warning[0] and f"mục {number} (1.100)" in warning[0]
    assert "phải bằng nhau" in warning[0]
    english = texts(outcome.notices, NoticeKind.WARNING, EN)[0]
    assert f"item {own}: 1,000" in english and f"item {number} (1,100)" in english

    # Correcting the earlier figure instead: told again when it is typed, quiet once they agree.
    answered = replace(outcome.state, cursor=earlier)
    assert len(texts(say(engine, answered, "1.050").notices, NoticeKind.WARNING)) == 1
    assert texts(say(engine, answered, "1.000").notices, NoticeKind.WARNING) == []

    # At submission: the confirmation lists it, as progress and the review do.
    differing = replace(completed, answers={**completed.answers, later: Answer.of(1000)})
    asked = say(engine, differing, "nộp").view
    assert isinstance(asked, ConfirmSubmitView)
    shown = [n.message.render(VI) for n in asked.warnings]
    assert any(f"mục {number}" in line for line in shown), shown
    assert say(engine, completed, "nộp").view.warnings == ()  # type: ignore[union-attr]


# ----- relevance --------------------------------------------------------------------------------

@pytest.mark.parametrize("unit_level", ["department", "district", "commune"])
def test_the_plan_asks_every_unit_every_item(engine: ReportEngine, unit_level: str) -> None:
    """The plan sends one Đề cương to departments, districts and communes alike, with its
    own conditions ("nếu được giao trong luật", "nếu có") and a closing note asking a unit with
    nothing to report to write "không có": I.2 and 10.5 are asked of every unit, I.2's details
    behind its own yes/no."""
    state = State(answers={}, unit_level=unit_level)
    names = {q.name for q in engine.relevant_questions(state)}
    assert {"ria_assigned", "electronic_certified_copies"} <= names
    assert not ({"ria_assessment", "ria_comments_response"} & names)  # until 2.1.a is "có"
    section_two = next(p for p in engine.section_progress(state) if p.section.number == "I.2")
    assert section_two.total == 3
    after_one = State(answers={}, cursor="implementation_difficulties_any", unit_level=unit_level)
    assert at(say(engine, after_one, "không")) == "ria_assigned"
    assert at(say(engine, State(answers={}, cursor="ria_assigned", unit_level=unit_level),
                  "không")) == "publication_status"


# (unit level, gate, answer, details it shows when the answer is "yes" / a positive number)
GATES = [
    ("commune", "implementation_difficulties_any", ["implementation_difficulties"]),
    ("department", "ria_assigned", ["ria_assessment", "ria_comments_response"]),
    ("commune", "ria_assigned", ["ria_assessment", "ria_comments_response"]),
    ("commune", "interlinked_proposals_any", ["interlinked_proposals"]),
]


@pytest.mark.parametrize(("unit_level", "gate", "details"), GATES)
@pytest.mark.parametrize(("typed", "shown"), [
    ("có", True), ("Có", True), ("1", True),
    ("không", False), ("khong", False), ("chưa", False), ("2", False),
    ("không có", False), ("0", False),
])
def test_a_yes_no_gate_shows_or_hides_its_details(
    engine: ReportEngine, unit_level: str, gate: str, details: list[str], typed: str, shown: bool,
) -> None:
    state = State(answers={}, cursor=gate, unit_level=unit_level)
    before = engine.resume(state).view
    assert isinstance(before, QuestionView) and before.question.name == gate
    outcome = say(engine, state, typed)
    assert gate in outcome.saved
    view = outcome.view
    assert isinstance(view, QuestionView)
    relevant = {q.name for q in engine.relevant_questions(outcome.state)}
    if shown:
        assert view.question.name == details[0]
        assert view.position == before.position + 1
        assert view.total == before.total
        assert set(details) <= relevant
    else:
        assert view.question.name not in details
        assert view.position == before.position + 1
        assert view.total == before.total - len(details)
        assert not (set(details) & relevant)


@pytest.mark.parametrize(("typed", "shown"), [("10", True), ("1", True), ("0", False),
                                              ("không có", False)])
def test_self_inspected_is_asked_only_of_units_with_sub_units(
    engine: ReportEngine, typed: str, shown: bool
) -> None:
    state = State(answers={}, cursor="subunits_handling_procedures")
    before = engine.resume(state).view
    assert isinstance(before, QuestionView)
    outcome = say(engine, state, typed)
    assert isinstance(outcome.view, QuestionView)
    assert (outcome.view.question.name == "subunits_self_inspected") is shown
    assert outcome.view.total == before.total - (0 if shown else 1)


def test_changing_a_gate_to_no_drops_its_detail_from_progress_and_review(engine: ReportEngine) -> None:
    state = State(answers={}, cursor="implementation_difficulties_any")
    outcome = say(engine, state, "có", "Thiếu cán bộ chuyên trách")
    assert outcome.state.answers["implementation_difficulties"] == Answer.of("Thiếu cán bộ chuyên trách")
    progress = say(engine, outcome.state, "tiến độ").view
    assert isinstance(progress, ProgressView)
    section_one = next(p for p in progress.sections if p.section.number == "I.1")
    assert (section_one.given, section_one.total) == (2, 6)

    outcome = say(engine, outcome.state, "mục lục 1.4.b", "không")
    assert outcome.saved == {"implementation_difficulties_any": Answer.of("no")}
    progress = say(engine, outcome.state, "tiến độ").view
    assert isinstance(progress, ProgressView)
    section_one = next(p for p in progress.sections if p.section.number == "I.1")
    assert (section_one.given, section_one.total) == (1, 5)
    review = say(engine, outcome.state, "xem").view
    assert isinstance(review, ReviewView)
    reviewed = {item.question.name for _section, items in review.sections for item in items}
    assert "implementation_difficulties" not in reviewed
    assert "implementation_difficulties_any" in reviewed


# ----- navigation -------------------------------------------------------------------------------

def test_first_prompt_is_the_first_question(engine: ReportEngine, outline: Outline) -> None:
    state = State(answers={})
    total = len(engine.counted_questions(state))
    for outcome in (engine.resume(state), say(engine, state, "tiếp")):
        view = outcome.view
        assert isinstance(view, QuestionView)
        assert view.question.name == outline.asked_questions[0].name == "guidance_documents"
        assert view.section.number == "I.1"
        assert (view.position, view.total) == (1, total)
        assert view.current is None
        assert outcome.saved == {}


def test_answer_back_reanswer_skip(engine: ReportEngine) -> None:
    outcome = engine.resume(State(answers={}))
    total = outcome.view.total  # type: ignore[union-attr]

    outcome = say(engine, outcome.state, "Đã ban hành 3 văn bản")
    assert outcome.saved == {"guidance_documents": Answer.of("Đã ban hành 3 văn bản")}
    assert texts(outcome.notices, NoticeKind.SAVED) == ["Đã lưu: Đã ban hành 3 văn bản"]
    assert at(outcome) == "control_urging"
    assert (outcome.view.position, outcome.view.total) == (2, total)  # type: ignore[union-attr]

    outcome = say(engine, outcome.state, "lại")
    assert outcome.saved == {}
    assert at(outcome) == "guidance_documents"
    assert outcome.view.current == Answer.of("Đã ban hành 3 văn bản")  # type: ignore[union-attr]
    assert outcome.view.position == 1  # type: ignore[union-attr]

    outcome = say(engine, outcome.state, "Đã ban hành 4 văn bản")
    assert outcome.saved == {"guidance_documents": Answer.of("Đã ban hành 4 văn bản")}
    assert at(outcome) == "control_urging"

    outcome = say(engine, outcome.state, "sau")
    assert outcome.saved == {"control_urging": SKIPPED_ANSWER}
    assert outcome.state.answers["control_urging"].kind is AnswerKind.SKIPPED
    assert not outcome.state.answers["control_urging"].given
    assert at(outcome) == "control_staffing"
    assert outcome.view.position == 3  # type: ignore[union-attr]
    assert texts(outcome.notices, NoticeKind.INFO)

    outcome = say(engine, outcome.state, "Một lãnh đạo phụ trách")
    assert at(outcome) == "control_funding"  # not back to the skipped one
    assert "control_urging" in {q.name for q in engine.missing_required(outcome.state)}

    outcome = say(engine, outcome.state, "lại", "lại")
    assert at(outcome) == "control_urging"
    assert outcome.view.current == SKIPPED_ANSWER  # type: ignore[union-attr]
    outcome = say(engine, outcome.state, "Đã đôn đốc hằng tháng")
    assert outcome.saved == {"control_urging": Answer.of("Đã đôn đốc hằng tháng")}
    assert at(outcome) == "control_funding"  # the next unanswered, not the next in order


def test_back_at_the_first_question_stays_and_says_so(engine: ReportEngine) -> None:
    outcome = say(engine, State(answers={}), "lại")
    assert at(outcome) == "guidance_documents"
    assert texts(outcome.notices, NoticeKind.INFO) == ["Đây là câu hỏi đầu tiên của đề cương."]


def test_skipped_questions_come_back_after_everything_else(engine: ReportEngine) -> None:
    later = frozenset({"control_urging", "dossiers_total", "self_assessment"})
    outcome, asked = walk(engine, later=later)
    assert isinstance(outcome.view, CompletedView)
    assert asked[-3:] == ["control_urging", "dossiers_total", "self_assessment"]
    # Its parts were accepted meanwhile (a rule waits for all its figures) and still hold.
    assert outcome.state.answers["dossiers_total"] == Answer.of(12345)


def test_back_from_the_completed_report_goes_to_the_last_question(
    engine: ReportEngine, completed: State
) -> None:
    outcome = say(engine, completed, "lại")
    assert at(outcome) == "other_recommendations"


@pytest.mark.parametrize(("typed", "expected"), [
    ("4", "handling_legal_basis"),
    ("I.4", "handling_legal_basis"),
    ("i.4", "handling_legal_basis"),
    ("mục 4", "handling_legal_basis"),
    ("Mục 11", "prior_inspection_followup"),
    ("II", "overall_effectiveness"),
    ("ii", "overall_effectiveness"),
    ("III", "future_directions"),
    ("IV", "recommend_policy_changes"),
    ("4.3.a", "dossiers_total"),
    ("câu 4.3.a", "dossiers_total"),
    ("4.3.A", "dossiers_total"),
    ("4.3.d", "dossiers_one_stop"),
    ("4.3.đ", "dossiers_online"),
    ("4.3.Đ", "dossiers_online"),
    ("3.1.d", "procedures_one_stop"),
    ("3.1.đ", "procedures_postal"),
    ("II.2", "self_assessment"),
    ("1.2", "control_urging"),
    ("dossiers_total", "dossiers_total"),
])
def test_contents_then_a_target_jumps_there(engine: ReportEngine, typed: str, expected: str) -> None:
    state = State(answers=values(guidance_documents="x"), cursor="control_urging")
    contents = say(engine, state, "mục lục")
    assert isinstance(contents.view, ContentsView)
    assert contents.state.mode is Mode.CONTENTS
    assert contents.view.sections == engine.section_progress(state)
    outcome = say(engine, contents.state, typed)
    assert at(outcome) == expected
    assert outcome.state.mode is Mode.ANSWERING
    assert outcome.state.cursor == expected
    # The same in one line: "mục lục 4.3.a".
    assert at(say(engine, state, f"mục lục {typed}")) == expected


def test_a_section_jump_lands_on_its_first_open_question(engine: ReportEngine) -> None:
    state = State(answers=values(handling_legal_basis="x", one_stop_implementation="y",
                                 guidance_documents="z", control_urging="w"))
    assert at(say(engine, state, "mục lục", "4")) == "dossiers_total"
    assert at(say(engine, state, "mục lục", "1")) == "control_staffing"
    full = values(**{q.name: "x" for q in engine.outline.section("III").questions})
    assert at(say(engine, State(answers=full), "mục lục", "III")) == "future_directions"


@pytest.mark.parametrize("typed", ["99", "4.9.z", "V", "11.2.đ"])
def test_an_unknown_target_stays_in_contents(engine: ReportEngine, typed: str) -> None:
    state = State(answers={}, cursor="control_urging")
    outcome = say(engine, state, "mục lục", typed)
    assert isinstance(outcome.view, ContentsView)
    assert outcome.state.mode is Mode.CONTENTS
    assert outcome.saved == {}
    errors = texts(outcome.notices, NoticeKind.ERROR)
    assert len(errors) == 1 and f"“{typed}”" in errors[0]
    # Still in the contents: the next target works.
    assert at(say(engine, outcome.state, "4")) == "handling_legal_basis"


def test_free_text_after_the_contents_answers_the_open_question(engine: ReportEngine) -> None:
    """Only what looks like a section or question number jumps: an officer who opened the
    contents (a button, on Telegram) and then types an answer has it saved."""
    state = State(answers={}, cursor="control_urging")
    outcome = say(engine, state, "mục lục", "báo cáo năm")
    assert outcome.saved == {"control_urging": Answer.of("báo cáo năm")}
    assert outcome.state.mode is Mode.ANSWERING


def test_continue_leaves_the_contents_where_the_officer_was(engine: ReportEngine) -> None:
    state = State(answers=values(guidance_documents="x"), cursor="control_urging")
    outcome = say(engine, state, "mục lục", "tiếp")
    assert at(outcome) == "control_urging"
    assert outcome.state.mode is Mode.ANSWERING
    # After "tiếp", "4" is an answer again, not a jump.
    outcome = say(engine, outcome.state, "4")
    assert outcome.saved == {"control_urging": Answer.of("4")}


@pytest.mark.parametrize(("answered", "cursor", "expected"), [
    (["guidance_documents", "control_urging", "control_staffing"], None, "control_funding"),
    (["guidance_documents"], "dossiers_total", "dossiers_total"),
    (["guidance_documents"], "implementation_difficulties", "control_urging"),  # its gate is open
    ([], None, "guidance_documents"),
])
def test_resume(engine: ReportEngine, answered: list[str], cursor: str | None, expected: str) -> None:
    state = State(answers=values(**{name: "x" for name in answered}), cursor=cursor,
                  mode=Mode.CONTENTS)
    outcome = engine.resume(state)
    assert at(outcome) == expected
    assert outcome.state.cursor == expected
    assert outcome.state.mode is Mode.ANSWERING


def test_resume_a_finished_report(engine: ReportEngine, completed: State) -> None:
    assert isinstance(engine.resume(replace(completed, cursor=None)).view, CompletedView)
    assert isinstance(engine.resume(replace(completed, submitted=True)).view, ClosedView)


def test_help(engine: ReportEngine) -> None:
    assert isinstance(say(engine, State(answers={}), "hướng dẫn").view, HelpView)


# ----- progress and review ----------------------------------------------------------------------

def test_progress_per_section(engine: ReportEngine) -> None:
    state = State(answers=values(guidance_documents="x", control_urging=NONE_ANSWER,
                                 control_staffing=SKIPPED_ANSWER, dossiers_total=100,
                                 overall_effectiveness="y"))
    outcome = say(engine, state, "tiến độ")
    view = outcome.view
    assert isinstance(view, ProgressView)
    assert outcome.state == state and outcome.saved == {}
    by_section = {p.section.number: (p.given, p.total) for p in view.sections}
    assert [p.section.number for p in view.sections] == [s.number for s in engine.outline.sections]
    assert by_section["I.1"] == (2, 6)
    assert by_section["I.2"] == (0, 3)  # 2.1.a, and the two details that wait on it
    assert by_section["I.4"] == (1, 14)
    assert by_section["II"] == (1, 5)
    assert view.given == sum(p.given for p in view.sections) == 4
    assert view.total == sum(p.total for p in view.sections) == len(engine.counted_questions(state))
    section_one = next(p for p in view.sections if p.section.number == "I.1")
    assert "control_staffing" in {q.name for q in section_one.missing_required}
    assert not section_one.complete


def test_progress_of_a_completed_report(engine: ReportEngine, completed: State) -> None:
    view = say(engine, completed, "tiến độ").view
    assert isinstance(view, ProgressView)
    assert view.given == view.total == len(engine.relevant_questions(completed))
    assert all(p.complete for p in view.sections)
    assert view.warnings == ()  # 6 of 10 sub-units self-inspected: above 50%


def test_review_lists_every_relevant_question_and_calculated_item(engine: ReportEngine) -> None:
    answers = values(guidance_documents=NONE_ANSWER, dossiers_total=300, dossiers_new=200,
                     dossiers_postal=25, control_urging=SKIPPED_ANSWER)
    state = State(answers=answers)
    outcome = say(engine, state, "xem")
    review = outcome.view
    assert isinstance(review, ReviewView)
    assert outcome.state == state and outcome.saved == {}
    items = {item.question.name: item for _section, items in review.sections for item in items}
    relevant = {q.name for q in engine.relevant_questions(state)}
    assert {name for name, item in items.items() if item.question.asked} == relevant
    assert "implementation_difficulties" not in items  # its yes/no is not answered
    assert items["guidance_documents"].answer == NONE_ANSWER
    assert items["control_urging"].answer == SKIPPED_ANSWER
    assert items["dossiers_total"].answer == Answer.of(300)
    assert items["control_staffing"].answer is None
    assert items["dossiers_postal_rate"].calculated == Decimal("12.50")
    assert "results_postal_rate" not in items  # its figures are not in yet
    assert [s.number for s, _items in review.sections] == [s.number for s in engine.outline.sections]


def test_review_of_a_completed_report(engine: ReportEngine, completed: State) -> None:
    review = say(engine, completed, "xem").view
    assert isinstance(review, ReviewView)
    items = {item.question.name: item for _section, items in review.sections for item in items}
    for question in engine.relevant_questions(completed):
        assert items[question.name].answer == completed.answers[question.name]
    calculated = engine.calculated(completed)
    assert set(calculated) == {"dossiers_postal_rate", "results_postal_rate", "one_stop_desk_rate",
                               "self_inspection_coverage", "dossiers_resolved", "dossiers_pending",
                               "dossiers_on_time_rate", "dossiers_late_rate",
                               "late_dossiers_apology_rate"}
    for name, value in calculated.items():
        assert items[name].calculated == value
    assert calculated["self_inspection_coverage"] == Decimal("60.00")
    assert calculated["dossiers_postal_rate"] == Decimal("2.875")  # 345 of the 12.000 new
    assert calculated["dossiers_resolved"] == Decimal("12300")  # 12.000 on time + 300 late
    assert calculated["dossiers_pending"] == Decimal("45")  # 12.345 - 12.300
    assert calculated["results_postal_rate"] == Decimal("1.00")  # 123 of the 12.300 resolved
    assert calculated["dossiers_on_time_rate"] == Decimal("97.561")
    assert calculated["dossiers_late_rate"] == Decimal("2.439")
    assert calculated["late_dossiers_apology_rate"] == Decimal("83.3333")  # 250 of the 300 late


# ----- submit -----------------------------------------------------------------------------------

def test_submit_with_required_items_missing_is_blocked(engine: ReportEngine) -> None:
    state = State(answers=values(guidance_documents="x", control_urging=SKIPPED_ANSWER))
    outcome = say(engine, state, "nộp")
    view = outcome.view
    assert isinstance(view, SubmitBlockedView)
    assert not outcome.submit and not outcome.state.submitted
    missing = [q.name for q in view.missing]
    expected = [q.name for q in engine.relevant_questions(state)
                if q.required and q.name != "guidance_documents"]
    assert missing == expected
    assert "control_urging" in missing  # skipped is still missing
    assert "review_plan_date" not in missing  # optional
    assert "implementation_difficulties" not in missing  # only if the unit says "có"


def test_submit_blocked_by_a_single_missing_item(engine: ReportEngine, completed: State) -> None:
    answers = {**completed.answers, "dossiers_late": SKIPPED_ANSWER}
    answers.pop("publicity")
    view = say(engine, replace(completed, answers=answers), "nộp").view
    assert isinstance(view, SubmitBlockedView)
    assert [q.name for q in view.missing] == ["publicity", "dossiers_late"]


def test_optional_items_do_not_block_submission(engine: ReportEngine, completed: State) -> None:
    answers = {k: v for k, v in completed.answers.items() if k != "review_plan_date"}
    view = say(engine, replace(completed, answers=answers), "nộp").view
    assert isinstance(view, ConfirmSubmitView)
    assert view.given == view.total - 1


@pytest.mark.parametrize("confirm", ["xác nhận", "XÁC NHẬN", "xac nhan", "confirm", "đồng ý", "ok", "có"])
def test_submit_then_confirm(engine: ReportEngine, completed: State, confirm: str) -> None:
    outcome = say(engine, completed, "nộp")
    view = outcome.view
    assert isinstance(view, ConfirmSubmitView)
    total = len(engine.relevant_questions(completed))
    assert (view.given, view.none_count, view.total) == (total, 0, total)
    assert outcome.state.mode is Mode.CONFIRMING
    assert not outcome.submit and not outcome.state.submitted

    outcome = say(engine, outcome.state, confirm)
    assert isinstance(outcome.view, SubmittedView)
    assert (outcome.view.given, outcome.view.total) == (total, total)
    assert outcome.submit
    assert outcome.state.submitted
    assert outcome.state.answers == completed.answers


@pytest.mark.parametrize("other", ["thôi", "không", "chưa", "abc", "lại", "tiến độ", "mục lục", "sau"])
def test_anything_else_cancels_the_confirmation(
    engine: ReportEngine, completed: State, other: str
) -> None:
    asked = say(engine, completed, "nộp").state
    outcome = say(engine, asked, other)
    assert not outcome.submit and not outcome.state.submitted
    assert not isinstance(outcome.view, SubmittedView)
    assert outcome.state.mode is not Mode.CONFIRMING
    assert outcome.saved == {}
    # A later "xác nhận" asks again instead of submitting.
    again = say(engine, outcome.state, "xác nhận")
    assert isinstance(again.view, ConfirmSubmitView)
    assert not again.submit


def test_confirm_without_submit_only_asks(engine: ReportEngine, completed: State) -> None:
    outcome = say(engine, completed, "xác nhận")
    assert isinstance(outcome.view, ConfirmSubmitView)
    assert not outcome.submit and not outcome.state.submitted


@pytest.fixture(scope="module")
def submitted(engine: ReportEngine, completed: State) -> State:
    outcome = say(engine, completed, "nộp", "xác nhận")
    assert outcome.submit
    return outcome.state


@pytest.mark.parametrize("typed", ["25", "không có", "lại", "sau", "tiếp", "nộp", "xác nhận",
                                   "Nội dung sửa lại"])
def test_a_submitted_report_cannot_be_changed(
    engine: ReportEngine, submitted: State, typed: str
) -> None:
    outcome = say(engine, submitted, typed)
    assert isinstance(outcome.view, ClosedView)
    assert outcome.state == submitted
    assert outcome.saved == {} and not outcome.submit
    assert texts(outcome.notices, NoticeKind.INFO) == [
        "Báo cáo của đơn vị đã được nộp; không thể thay đổi câu trả lời."]


@pytest.mark.parametrize(("typed", "view_type"), [
    ("xem", ReviewView), ("tiến độ", ProgressView), ("mục lục", ContentsView),
    ("hướng dẫn", HelpView),
])
def test_a_submitted_report_can_still_be_read(
    engine: ReportEngine, submitted: State, typed: str, view_type: type
) -> None:
    outcome = say(engine, submitted, typed)
    assert isinstance(outcome.view, view_type)
    assert outcome.saved == {} and not outcome.submit
    assert outcome.state.submitted


def test_jumping_from_the_contents_of_a_submitted_report_is_refused(
    engine: ReportEngine, submitted: State
) -> None:
    outcome = say(engine, submitted, "mục lục", "4.3.a")
    assert isinstance(outcome.view, ClosedView)
    assert outcome.saved == {}


# ----- the whole outline ------------------------------------------------------------------------

@pytest.mark.parametrize("unit_level", ["commune", "district", "department"])
def test_the_whole_outline_can_be_completed_and_submitted(
    engine: ReportEngine, unit_level: str
) -> None:
    outcome = engine.resume(State(answers={}, unit_level=unit_level))
    total = outcome.view.total  # type: ignore[union-attr]
    asked: list[str] = []
    while isinstance(outcome.view, QuestionView):
        view = outcome.view
        assert view.question.name not in asked, f"asked twice: {view.question.name}"
        assert view.position == len(asked) + 1
        assert view.total == total  # every gate answered "có": nothing drops out
        outcome = say(engine, outcome.state, typed_answer(view.question))
        assert outcome.saved == {view.question.name: outcome.state.answers[view.question.name]}, (
            view.question.name, texts(outcome.notices, NoticeKind.ERROR))
        assert texts(outcome.notices, NoticeKind.ERROR) == []
        assert texts(outcome.notices, NoticeKind.WARNING) == []
        asked.append(view.question.name)

    assert isinstance(outcome.view, CompletedView)
    state = outcome.state
    relevant = [q.name for q in engine.relevant_questions(state)]
    assert asked == relevant  # in the outline's order
    assert len(asked) == total
    assert {"ria_assigned", "ria_assessment", "electronic_certified_copies"} <= set(asked)
    assert state.answers["dossiers_total"] == Answer.of(12345)
    assert state.answers["procedures_online"] == Answer.of(1000)
    assert state.answers["self_assessment"].kind is AnswerKind.VALUE
    assert engine.missing_required(state) == ()

    typing_more = say(engine, state, "thêm nữa")
    assert isinstance(typing_more.view, CompletedView)
    assert texts(typing_more.notices, NoticeKind.INFO)

    outcome = say(engine, state, "nộp")
    assert isinstance(outcome.view, ConfirmSubmitView)
    assert (outcome.view.given, outcome.view.total) == (total, total)
    outcome = say(engine, outcome.state, "xác nhận")
    assert isinstance(outcome.view, SubmittedView)
    assert outcome.submit and outcome.state.submitted
