"""A scripted officer: what a conscientious commune officer types for each question of the outline.

Figures are chosen to satisfy every cross-field rule and are typed the Vietnamese way."""

from __future__ import annotations

from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.question import Question
from engine.views import QuestionView, State

FIGURES = {
    "publication_decisions_in_force": "12",
    "procedures_total": "1.234",
    "procedures_one_stop": "1 100",  # the same procedures as 8.3.a
    "procedures_postal": "300",
    "procedures_online": "450",
    "procedures_online_full": "120",
    "dossiers_total": "2.500",
    "dossiers_new": "2.300",
    "dossiers_carried_over": "200",
    "dossiers_one_stop": "2.000",
    "dossiers_online": "400",
    "dossiers_postal": "100",
    "dossiers_on_time": "2.450",
    "dossiers_late": "50",
    "results_postal": "90",
    "late_dossiers_apologised": "40",
    "feedback_total": "7",
    "feedback_about_regulations": "3",
    "feedback_about_conduct": "4",
    "feedback_transferred": "7",
    "feedback_resolved": "6",
    "procedures_at_one_stop_desk": "1.100",
    "inspections_count": "2",
    "subunits_handling_procedures": "8",
    "subunits_self_inspected": "5",
    "online_payment_procedures": "200",
    "online_payment_dossiers": "350",
    "procedures_with_postal_dossiers": "25",
}
BY_TYPE = {
    "text": "Đã thực hiện đầy đủ theo kế hoạch <số 15/KH-UBND> & đúng tiến độ 👍",
    "integer": "3",
    "decimal": "12,5",
    "percent": "12,5%",
    "yes_no": "có",
    "select_one": "1",
    "date": "15/03/2026",
}
# Every few text items the officer has nothing to report, as the outline's closing note asks.
NONE_EVERY = 5


def typed_answer(question: Question, index: int) -> str:
    if question.name in FIGURES:
        return FIGURES[question.name]
    if question.type == "text" and index % NONE_EVERY == 0:
        return "không có"
    return BY_TYPE[question.type]


def script_for(engine: ReportEngine, unit_level: str = "commune") -> list[str]:
    """The lines typed to answer the whole outline, in the order the engine asks."""
    return [line for _question, line in scripted_turns(engine, unit_level)]


def scripted_turns(engine: ReportEngine, unit_level: str = "commune") -> list[tuple[str, str]]:
    """(question, line typed for it) for the whole outline, in the order the engine asks."""
    state = engine.resume(State(answers={}, unit_level=unit_level)).state
    turns: list[tuple[str, str]] = []
    while state.cursor is not None:
        view = engine.view_at(state, state.cursor)
        assert isinstance(view, QuestionView)
        line = typed_answer(view.question, len(turns))
        outcome = engine.step(state, parse_text(line))
        assert outcome.saved, f"the script's answer {line!r} to {view.question.name} was refused"
        turns.append((view.question.name, line))
        state = outcome.state
    return turns
