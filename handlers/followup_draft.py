"""Plan 20 item 11.1, the follow-up of the last inspection's conclusion, drafted from the unit's
remediation report (issue 15): per item, what the conclusion required, what became of it and the
measures taken; without items, the report's counts. The officer accepts it or writes their own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.schedule import DeadlineKind
from engine.answers import Answer, AnswerKind
from engine.conclusion_items import item_count, measures_name, status_name
from engine.i18n import N_
from engine.outline import Outline
from engine.views import Outcome, State
from handlers.outline_versions import outline_of
from locales.translation import translator
from storage.conclusion_items import conclusion_items
from storage.models import Campaign, Unit
from storage.previous import last_handed_in
from storage.reports import load_answers

FOLLOWUP_QUESTION = "prior_inspection_followup"
# The remediation outline's counts (2.1.a–c), said in this order when it has no items.
COUNTS = (
    ("conclusion_items_total", N_("Tổng số nội dung Kết luận kiểm tra yêu cầu: {value}")),
    ("conclusion_items_done", N_("đã khắc phục: {value}")),
    ("conclusion_items_in_progress", N_("đang khắc phục: {value}")),
)
TEXTS = ("remediation_measures", "remaining_items")  # 2.2 measures taken, 2.4 what remains
# The draft is part of the unit's report, written in Vietnamese whatever the officer reads in.
REPORT_LANGUAGE = translator("vi")


def drafted_at(state: State, outcome: Outcome) -> bool:
    """Whether the turn stood at 11.1, answered it (perhaps accepting its draft) or shows it next."""
    shown = outcome.question_shown
    return FOLLOWUP_QUESTION in outcome.saved or \
        FOLLOWUP_QUESTION in (state.cursor, None if shown is None else shown.question.name)


async def followup_drafts(session: AsyncSession, unit: Unit, outline: Outline,
                          answers: dict[str, Answer]) -> dict[str, str]:
    """{11.1: the draft} while 11.1 is unanswered and the unit handed in a remediation report."""
    current = answers.get(FOLLOWUP_QUESTION)
    if not outline.has_question(FOLLOWUP_QUESTION) or (
            current is not None and current.kind is not AnswerKind.SKIPPED):
        return {}
    submission = await last_handed_in(session, unit.id, DeadlineKind.AFTER_CONCLUSION)
    campaign = None if submission is None else await session.get(Campaign, submission.campaign_id)
    if submission is None or campaign is None:
        return {}
    engine = await outline_of(session, campaign, unit)
    given = await load_answers(session, submission, engine.outline)
    requirements = await conclusion_items(session, campaign.id, unit.id)
    draft = _drafted(engine.outline, given, requirements)
    limit = outline.question(FOLLOWUP_QUESTION).max_length
    return {FOLLOWUP_QUESTION: draft if len(draft) <= limit else draft[:limit - 1].rstrip() + "…"} \
        if draft else {}


def _drafted(outline: Outline, given: dict[str, Answer], requirements: tuple[str, ...]) -> str:
    _ = REPORT_LANGUAGE.gettext
    lines = [_("Kết quả thực hiện Kết luận kiểm tra của lần kiểm tra trước (theo báo cáo khắc phục "
               "của đơn vị):")]
    if item_count(outline):
        for number, requirement in enumerate(requirements, start=1):
            status = _value(given, status_name(number))
            label = next((c.label.vi for c in outline.question(status_name(number)).choices
                          if c.value == status), _("chưa báo cáo"))
            measures = _value(given, measures_name(number))
            lines.append(f"{number}. {requirement} — {label}" + (f" — {measures}" if measures else ""))
    else:
        counts = [_(text).format(value=_value(given, name)) for name, text in COUNTS
                  if _value(given, name) is not None]
        if counts:
            lines.append("; ".join(counts) + ".")
    lines.extend(str(text) for text in (_value(given, name) for name in TEXTS) if text)
    return "\n".join(lines) if len(lines) > 1 else ""


def _value(given: dict[str, Answer], name: str) -> object:
    answer = given.get(name)
    return answer.value if answer is not None and answer.kind is AnswerKind.VALUE else None
