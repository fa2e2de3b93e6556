"""A campaign of 130 units as the VP office sees it near the due date: most handed in, some late,
some still drafting or not started, a few whose figures stand out, difficulties and proposals in
their own words. Shared by the tests of the city summary, the workbook and the chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from deadlines.periods import Period
from documents import UnitReport
from engine.answers import NONE_ANSWER, Answer, AnswerKind
from engine.conversation import ReportEngine
from engine.views import State

UNITS = 130
DEADLINE = date(2027, 10, 29)  # "trước ngày 31/10/2027", a Sunday: the Friday before
TODAY = date(2027, 11, 3)
PERIOD = Period(date(2026, 12, 15), date(2027, 10, 14))
# Index → status: three in four handed in, the rest drafting, sent back or not started.
STATUS_CYCLE = ("submitted", "accepted", "submitted", "in_progress", "submitted", "resubmitted",
                "accepted", "not_started", "submitted", "returned")
HANDED_IN = frozenset({"submitted", "resubmitted", "accepted"})
NOT_REGISTERED = (4, 8)  # the only units without an account on the national portal (10.1.a)
LAGGING = 12  # this unit resolved half its dossiers late: far below the city's on-time share
DIFFICULTY = ("Thiếu công chức có chuyên môn về kiểm soát thủ tục hành chính; "
              "đường truyền mạng tại bộ phận Một cửa chập chờn")
PROPOSAL = "Đề nghị Sở Thông tin và Truyền thông nâng cấp hệ thống thông tin giải quyết thủ tục hành chính"


def unit_name(index: int) -> str:
    return f"Phường Số {index}" if index % 2 else f"Xã Số {index}"


def scaled(answers: dict[str, Answer], factor: int, engine: ReportEngine) -> dict[str, Answer]:
    """Every whole-number figure multiplied: the outline's cross-checks are linear, so they hold."""
    outline = engine.outline
    return {name: Answer.of(answer.value * factor)
            if answer.kind is AnswerKind.VALUE and outline.question(name).type == "integer" else answer
            for name, answer in answers.items()}


def campaign_units(engine: ReportEngine, answers: dict[str, Answer], *, previous: bool = True
                   ) -> list[UnitReport]:
    """The 130 units' reports; with `previous`, each unit's last-period figures beside them."""
    order = [q.name for q in engine.outline.asked_questions if q.name in answers]
    reports = []
    for index in range(UNITS):
        status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
        own = scaled(answers, 1 + index % 5, engine)
        if index == LAGGING:
            resolved = own["dossiers_on_time"].value + own["dossiers_late"].value
            own["dossiers_on_time"] = Answer.of(resolved // 2)
            own["dossiers_late"] = Answer.of(resolved - resolved // 2)
        if index in NOT_REGISTERED:
            own["national_portal_account_registered"] = Answer.of("no")
        if index % 6 == 0:  # nothing to say: the outline's "không có"
            for name in ("implementation_difficulties", "difficulties_specific", "recommend_guidance",
                         "proposed_solutions"):
                if name in own:
                    own[name] = NONE_ANSWER
        elif index % 6 == 1:  # the same words as others (a shared template)
            own["difficulties_specific"] = Answer.of(DIFFICULTY)
            own["proposed_solutions"] = Answer.of(PROPOSAL)
        else:
            own["difficulties_specific"] = Answer.of(
                f"Số hồ sơ trực tuyến tại {unit_name(index)} còn thấp, người dân chưa quen nộp qua mạng")
            own["proposed_solutions"] = Answer.of(f"{unit_name(index)} đề xuất tập huấn thêm cho công chức")
        if status in ("in_progress", "returned"):
            # A draft: its first answers, and a proposal already written (not to be quoted yet).
            own = {name: own[name] for name in (*order[: 10 + index % 40], "proposed_solutions")}
        elif status == "not_started":
            own = {}
        submitted_at = None
        if status in HANDED_IN or status == "returned":
            # 08:15 in Cần Thơ, one to two weeks before the deadline; every ninth comes in late.
            submitted_at = datetime(2027, 10, 18, 1, 15, tzinfo=UTC) + timedelta(days=index % 10)
            if index % 9 == 0:
                submitted_at = datetime(2027, 11, 1, 2, 0, tzinfo=UTC)
        last = scaled(answers, 1 + (index + 1) % 4, engine) if previous and index % 13 else {}
        reports.append(UnitReport(
            f"{31000 + index}", unit_name(index), "commune", None, status, submitted_at, DEADLINE, own,
            engine.calculated(State(answers=own, unit_level="commune")),
            previous={name: answer for name, answer in last.items()
                      if engine.outline.question(name).numeric}))
    return reports


def previous_reports(engine: ReportEngine, answers: dict[str, Answer]) -> list[UnitReport]:
    """Last year's handed-in reports of the same units, for the city's totals of last period."""
    return [UnitReport(r.unit_code, r.unit_name, r.unit_level, None, "accepted",
                       datetime(2026, 10, 20, 1, 0, tzinfo=UTC), date(2026, 10, 30), r.previous,
                       engine.calculated(State(answers=dict(r.previous), unit_level="commune")))
            for r in campaign_units(engine, answers) if r.previous]
