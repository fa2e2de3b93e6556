"""Last period beside this one: the same unit's answers in the previous campaign of the same
kind (kỳ trước / cùng kỳ năm trước)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.answers import Answer, deserialise
from engine.outline import Outline
from storage.campaigns import campaign_period
from storage.models import HANDED_IN, AnswerRow, Campaign, Submission


async def previous_campaign(session: AsyncSession, campaign: Campaign) -> Campaign | None:
    """The campaign before this one of the same kind: the same outline and kind of deadline, its
    period over before this one's begins; of those, the one that ended last."""
    start = campaign_period(campaign).start
    earlier = [
        other for other in await session.scalars(select(Campaign).where(
            Campaign.id != campaign.id, Campaign.outline_id == campaign.outline_id,
            Campaign.deadline_kind == campaign.deadline_kind))
        if campaign_period(other).end < start
    ]
    return max(earlier, key=lambda other: (campaign_period(other).end, other.id), default=None)


async def previous_answers(session: AsyncSession, campaign: Campaign, unit_id: int, outline: Outline
                           ) -> dict[str, Answer]:
    """The unit's answers in the previous campaign of the same kind, if it handed that report in
    (a draft's figures are no one's last period); only questions this outline still asks."""
    before = await previous_campaign(session, campaign)
    if before is None:
        return {}
    submission_id = await session.scalar(select(Submission.id).where(
        Submission.campaign_id == before.id, Submission.unit_id == unit_id,
        Submission.status.in_(HANDED_IN)))
    if submission_id is None:
        return {}
    rows = await session.execute(select(AnswerRow.question, AnswerRow.kind, AnswerRow.value)
                                 .where(AnswerRow.submission_id == submission_id))
    return {name: deserialise(outline.question(name), kind, value)
            for name, kind, value in rows if outline.has_question(name)}
