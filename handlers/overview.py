"""The VP office's overview of a campaign: who has submitted, who is at work, who has not begun."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.workdays import WorkingCalendar
from engine.i18n import Translator
from engine.text import vietnamese_order
from handlers.due import campaign_due_text, campaign_period_text
from storage.campaigns import chosen_units
from storage.models import AnswerRow, Campaign, Submission, SubmissionStatus, Unit, UnitLevel


class Progress(StrEnum):
    """A unit's state in a campaign, as the VP office sees it."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"

    @property
    def handed_in(self) -> bool:
        return self in (Progress.SUBMITTED, Progress.RESUBMITTED, Progress.ACCEPTED)


PROGRESS_OF_STATUS = {SubmissionStatus.SUBMITTED: Progress.SUBMITTED,
                      SubmissionStatus.RETURNED: Progress.RETURNED,
                      SubmissionStatus.RESUBMITTED: Progress.RESUBMITTED,
                      SubmissionStatus.ACCEPTED: Progress.ACCEPTED}


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

    @property
    def handed_in(self) -> int:
        return sum(1 for item in self.units if item.progress.handed_in)

    @property
    def at_work(self) -> int:
        """Units with answers but nothing handed in: in progress, or returned for revision."""
        return self.count(Progress.IN_PROGRESS) + self.count(Progress.RETURNED)

    @property
    def at_risk(self) -> list[UnitProgress]:
        return [item for item in self.units if not item.progress.handed_in]

    def with_progress(self, progress: Progress) -> list[UnitProgress]:
        return [item for item in self.units if item.progress is progress]


async def campaign_overview(session: AsyncSession, campaign: Campaign) -> CampaignOverview:
    """Every reporting unit (all but the province itself; for a fixed-date campaign opened for
    some units, those) with its progress in the campaign."""
    answered = dict((await session.execute(
        select(Submission.unit_id, func.count(AnswerRow.id))
        .join(AnswerRow, AnswerRow.submission_id == Submission.id, isouter=True)
        .where(Submission.campaign_id == campaign.id).group_by(Submission.unit_id)
    )).all())
    statuses = dict((await session.execute(
        select(Submission.unit_id, Submission.status).where(Submission.campaign_id == campaign.id)
    )).all())
    chosen = await chosen_units(session, campaign)
    reporting = await session.scalars(select(Unit).where(Unit.level != UnitLevel.PROVINCE))
    units = sorted((unit for unit in reporting if chosen is None or unit.id in chosen),
                   key=lambda unit: (unit.level, vietnamese_order(unit.name)))  # Đ after D, Ô after O
    overview = CampaignOverview(campaign)
    for unit in units:
        count = int(answered.get(unit.id, 0))
        status = SubmissionStatus(statuses.get(unit.id, SubmissionStatus.DRAFT))
        if status in PROGRESS_OF_STATUS:
            progress = PROGRESS_OF_STATUS[status]
        elif count:
            progress = Progress.IN_PROGRESS
        else:
            progress = Progress.NOT_STARTED
        overview.units.append(UnitProgress(unit, progress, count))
    return overview


def overview_texts(overview: CampaignOverview, translator: Translator,
                   calendar: WorkingCalendar | None = None) -> list[str]:
    """Counts first, then the units in each state: what the VP office chases. The due date is
    worded as everywhere else (handlers.due), with the calendar's working days."""
    _ = translator.gettext
    headings = {
        Progress.ACCEPTED: _("🏁 Đã tiếp nhận ({count}):"),
        Progress.SUBMITTED: _("✅ Đã nộp ({count}):"),
        Progress.RESUBMITTED: _("✅ Đã nộp lại ({count}):"),
        Progress.RETURNED: _("↩️ Trả lại để chỉnh sửa ({count}):"),
        Progress.IN_PROGRESS: _("✏️ Đang thực hiện ({count}):"),
        Progress.NOT_STARTED: _("◻️ Chưa bắt đầu ({count}):"),
    }
    texts = [_("TIẾN ĐỘ “{campaign}” ({period}), hạn nộp {deadline}: {submitted} đã nộp · {in_progress} "
               "đang thực hiện · {not_started} chưa bắt đầu (tổng {total} đơn vị).").format(
        campaign=overview.campaign.title,
        period=campaign_period_text(overview.campaign, translator),
        deadline=campaign_due_text(overview.campaign, calendar or WorkingCalendar(), translator),
        submitted=overview.handed_in, in_progress=overview.at_work,
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
