"""The VP office's review of a unit's report: return it for revision with a reason, or accept
it; the unit's officers hear of either through the outbox."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales.translation import translator
from storage.models import Campaign, Identity, Officer, Submission, SubmissionStatus, Unit
from storage.outbox import Outgoing, enqueue
from storage.reports import Actor, mark_reviewed


class ReviewResult(StrEnum):
    DONE = "done"
    NOT_HANDED_IN = "not_handed_in"  # nothing to review: still a draft, or returned already
    ALREADY_ACCEPTED = "already_accepted"


async def review_submission(
    session: AsyncSession, submission: Submission, actor: Actor, accept: bool, reason: str = "",
) -> ReviewResult:
    status = SubmissionStatus(submission.status)
    if status is SubmissionStatus.ACCEPTED:
        return ReviewResult.ALREADY_ACCEPTED
    if not status.handed_in:
        return ReviewResult.NOT_HANDED_IN
    await mark_reviewed(session, submission, actor, accepted=accept, reason=reason)
    await _tell_unit(session, submission, accept, reason)
    return ReviewResult.DONE


async def _tell_unit(session: AsyncSession, submission: Submission, accepted: bool, reason: str) -> None:
    unit = await session.get(Unit, submission.unit_id)
    campaign = await session.get(Campaign, submission.campaign_id)
    assert unit is not None and campaign is not None
    rows = await session.execute(
        select(Identity, Officer).join(Officer, Officer.id == Identity.officer_id)
        .where(Officer.unit_id == unit.id, Identity.chat_id.is_not(None)))
    event = "accept" if accepted else "return"
    for row in rows:
        identity, officer = row[0], row[1]
        t = translator(officer.locale)
        if accepted:
            text = t.gettext("🏁 Văn phòng UBND thành phố đã tiếp nhận báo cáo “{campaign}” của {unit}. "
                             "Cảm ơn anh/chị.").format(campaign=campaign.title, unit=unit.name)
            buttons = None
        else:
            text = t.gettext("↩️ Văn phòng UBND thành phố đề nghị chỉnh sửa báo cáo “{campaign}” của {unit}. "
                             "Lý do: {reason}. Anh/chị chỉnh sửa các câu cần thiết rồi nộp lại.").format(
                campaign=campaign.title, unit=unit.name, reason=reason)
            buttons = [[{"text": t.gettext("Xem lại báo cáo"), "data": "a:review:",
                         "word": t.gettext("xem")}]]
        key = f"{event}:{submission.id}:{submission.updated_at.isoformat()}:{identity.id}"
        await enqueue(session, key, identity.channel, identity.chat_id or "", event, Outgoing(text, buttons))
