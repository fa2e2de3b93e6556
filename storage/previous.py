"""Last period beside this one: the same unit's answers in the previous campaign of the same
kind (kỳ trước / cùng kỳ năm trước)."""

from __future__ import annotations

from sqlalchemy import bindparam, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.answers import Answer, deserialise
from engine.outline import Outline
from storage.campaigns import campaign_period, stored_period
from storage.direct_sql import DirectStatement
from storage.models import HANDED_IN, AnswerRow, Campaign, Submission


async def previous_campaign(session: AsyncSession, campaign: Campaign) -> Campaign | None:
    """The campaign before this one of the same kind: the same outline and kind of deadline, its
    period over before this one's begins; of those, the one that ended last."""
    before = await previous_campaign_id(session, campaign)
    return None if before is None else await session.get(Campaign, before)


async def previous_campaign_id(session: AsyncSession, campaign: Campaign) -> int | None:
    """The id of `previous_campaign`, read as columns (on every answer)."""
    start = campaign_period(campaign).start
    candidates = await SAME_KIND.execute(session, {
        "campaign_id": campaign.id, "outline_id": campaign.outline_id, "kind": campaign.deadline_kind})
    earlier = [(period.end, other_id) for other_id, period in
               ((row[0], stored_period(*row[1:])) for row in candidates.rows) if period.end < start]
    return max(earlier, default=(None, None))[1]


async def previous_answers(session: AsyncSession, campaign: Campaign, unit_id: int, outline: Outline
                           ) -> dict[str, Answer]:
    """The unit's answers in the previous campaign of the same kind, if it handed that report in
    (a draft's figures are no one's last period); only questions this outline still asks."""
    before = await previous_campaign_id(session, campaign)
    if before is None:
        return {}
    rows = await HANDED_IN_ANSWERS.execute(session, {"campaign_id": before, "unit_id": unit_id})
    return {name: deserialise(outline.question(name), kind, value)
            for name, kind, value in rows.rows if outline.has_question(name)}


async def last_handed_in(session: AsyncSession, unit_id: int, kind: str) -> Submission | None:
    """The unit's report handed in last in a campaign of `kind` (its remediation report, say)."""
    return await session.scalar(
        select(Submission).join(Campaign, Campaign.id == Submission.campaign_id)
        .where(Submission.unit_id == unit_id, Campaign.deadline_kind == kind,
               Submission.status.in_(HANDED_IN))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc()).limit(1))


# Both run with every answer (load_state): compiled once (storage/direct_sql.py).
SAME_KIND = DirectStatement(
    select(Campaign.id, Campaign.period_start, Campaign.period_end, Campaign.deadline).where(
        Campaign.id != bindparam("campaign_id"), Campaign.outline_id == bindparam("outline_id"),
        Campaign.deadline_kind == bindparam("kind"))
)
HANDED_IN_ANSWERS = DirectStatement(
    select(AnswerRow.question, AnswerRow.kind, AnswerRow.value)
    .join(Submission, Submission.id == AnswerRow.submission_id)
    .where(Submission.campaign_id == bindparam("campaign_id"), Submission.unit_id == bindparam("unit_id"),
           or_(*(Submission.status == literal(status) for status in HANDED_IN)))
)
