"""The VP office's overview of a campaign: who has submitted, who is at work, who has not begun."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.i18n import Translator
from storage.models import AnswerRow, Campaign, Submission, SubmissionStatus, Unit, UnitLevel


class Progress(StrEnum):
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    progress: Progress
    answered: int


@dataclass
class CampaignOverview:
    campaign: Campaign
    units: list[UnitProgress] = field(default_factory=list)

    def count(self, progress: Progress) -> int:
        return sum(1 for item in self.units if item.progress is progress)

    def with_progress(self, progress: Progress) -> list[UnitProgress]:
        return [item for item in self.units if item.progress is progress]


async def campaign_overview(session: AsyncSession, campaign: Campaign) -> CampaignOverview:
    """Every reporting unit (all but the province itself) with its progress in the campaign."""
    answered = dict((await session.execute(
        select(Submission.unit_id, func.count(AnswerRow.id))
        .join(AnswerRow, AnswerRow.submission_id == Submission.id, isouter=True)
        .where(Submission.campaign_id == campaign.id).group_by(Submission.unit_id)
    )).tuples().all())
    submitted = set(await session.scalars(
        select(Submission.unit_id).where(Submission.campaign_id == campaign.id,
                                         Submission.status == SubmissionStatus.SUBMITTED)
    ))
    units = await session.scalars(
        select(Unit).where(Unit.level != UnitLevel.PROVINCE).order_by(Unit.level, Unit.name)
    )
    overview = CampaignOverview(campaign)
    for unit in units:
        count = int(answered.get(unit.id, 0))
        if unit.id in submitted:
            progress = Progress.SUBMITTED
        elif count:
            progress = Progress.IN_PROGRESS
        else:
            progress = Progress.NOT_STARTED
        overview.units.append(UnitProgress(unit, progress, count))
    return overview


def overview_texts(overview: CampaignOverview, translator: Translator) -> list[str]:
    """Counts first, then the units in each state: what the VP office chases."""
    _ = translator.gettext
    headings = {
        Progress.SUBMITTED: _("✅ Đã nộp ({count}):"),
        Progress.IN_PROGRESS: _("✏️ Đang thực hiện ({count}):"),
        Progress.NOT_STARTED: _("◻️ Chưa bắt đầu ({count}):"),
    }
    texts = [_("TIẾN ĐỘ “{campaign}”, hạn nộp {deadline}: {submitted} đã nộp · {in_progress} đang "
               "thực hiện · {not_started} chưa bắt đầu (tổng {total} đơn vị).").format(
        campaign=overview.campaign.title, deadline=overview.campaign.deadline.strftime("%d/%m/%Y"),
        submitted=overview.count(Progress.SUBMITTED),
        in_progress=overview.count(Progress.IN_PROGRESS),
        not_started=overview.count(Progress.NOT_STARTED), total=len(overview.units))]
    for progress, heading in headings.items():
        units = overview.with_progress(progress)
        if not units:
            continue
        lines = [heading.format(count=len(units))]
        lines.extend(f"  • {item.unit.name} ({item.unit.code})"
                     + (_(" — {answered} câu đã trả lời").format(answered=item.answered)
                        if progress is Progress.IN_PROGRESS else "")
                     for item in units)
        texts.append("\n".join(lines))
    return texts
