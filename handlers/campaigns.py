"""The VP office's campaign work: create a campaign, record a unit's inspection visit or the
date it received the conclusion, and list every unit's deadline. Used by the CLI and the chats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.periods import Period
from deadlines.plan import check_visit_notice
from deadlines.schedule import DeadlineKind, ReminderSettings
from deadlines.workdays import WorkingCalendar
from engine.text import vietnamese_order
from handlers.outline_versions import outline_engine
from handlers.overview import Progress, campaign_overview
from handlers.reminders import campaign_members
from storage.campaigns import ensure_campaign
from storage.conclusion_items import set_conclusion_items
from storage.models import Campaign, CampaignUnit, Unit
from storage.outbox import drop_unit_reminders

# What each kind of campaign asks when the VP office names no outline: after an inspection's
# conclusion, what the unit did about it (plan §II.2 and §V.1.d), not the Đề cương again.
KIND_OUTLINES: Final = {DeadlineKind.AFTER_CONCLUSION.value: "khac-phuc-ket-luan-kiem-tra-2021.yaml"}


def outline_for(kind: str, configured: str) -> str:
    """The outline a new campaign of `kind` asks: its kind's own, else the configured one."""
    return KIND_OUTLINES.get(kind, configured)


class CampaignProblem(ValueError):
    """What the VP office asked cannot be done; the message says why (English, for the CLI)."""


async def campaign_by_code(session: AsyncSession, code: str) -> Campaign | None:
    return await session.scalar(select(Campaign).where(Campaign.code == code.strip()))


async def create_campaign(
    session: AsyncSession, code: str, title: str, kind: str, deadline: date, outline_file: str,
    reminders: ReminderSettings | None = None, period: Period | None = None, units: Sequence[Unit] = (),
) -> Campaign:
    """A new campaign; `period` is the span its figures cover (by default the one Decree
    09/2019/NĐ-CP's cut-off dates give for the deadline: deadlines.periods.default_period).
    A fixed-date campaign takes every reporting unit, or only `units` when some are given."""
    if kind not in {k.value for k in DeadlineKind}:
        raise CampaignProblem(f"unknown kind {kind!r}")
    if await campaign_by_code(session, code) is not None:
        raise CampaignProblem(f"a campaign with code {code!r} exists already")
    if period is not None and kind == DeadlineKind.FIXED_DATE and period.start > deadline:
        raise CampaignProblem(f"the reporting period starts ({period.start:%d/%m/%Y}) after the "
                              f"deadline ({deadline:%d/%m/%Y})")
    outline = outline_engine(outline_file).outline
    campaign = await ensure_campaign(session, code=code, title=title, outline=outline,
                                     outline_file=outline_file, deadline=deadline, deadline_kind=kind,
                                     period=period)
    campaign.settings = (reminders or ReminderSettings()).to_json()
    if kind == DeadlineKind.FIXED_DATE:
        session.add_all(CampaignUnit(campaign_id=campaign.id, unit_id=unit_id)
                        for unit_id in sorted({unit.id for unit in units}))
    return campaign


async def _unit_dates(session: AsyncSession, campaign: Campaign, unit: Unit) -> CampaignUnit:
    record = await session.scalar(select(CampaignUnit).where(
        CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == unit.id))
    if record is None:
        record = CampaignUnit(campaign_id=campaign.id, unit_id=unit.id)
        session.add(record)
    return record


async def set_visit(
    session: AsyncSession, campaign: Campaign, unit: Unit, visit: date, notice_given: date,
    unscheduled: bool, calendar: WorkingCalendar,
) -> None:
    """Record (or move) the team's visit; refused with the earliest lawful date when the notice
    is shorter than the plan allows (10 working days, 3 for an unscheduled inspection)."""
    if campaign.deadline_kind != DeadlineKind.BEFORE_VISIT:
        raise CampaignProblem("this campaign's deadlines do not count from inspection visits")
    check_visit_notice(notice_given, visit, unscheduled, calendar)
    record = await _unit_dates(session, campaign, unit)
    record.visit_date, record.notice_date, record.unscheduled = visit, notice_given, unscheduled
    await drop_unit_reminders(session, campaign.id, unit.id, "visit date moved")


async def set_conclusion(session: AsyncSession, campaign: Campaign, unit: Unit, received: date) -> None:
    if campaign.deadline_kind != DeadlineKind.AFTER_CONCLUSION:
        raise CampaignProblem("this campaign's deadlines do not count from inspection conclusions")
    record = await _unit_dates(session, campaign, unit)
    record.conclusion_date = received
    await drop_unit_reminders(session, campaign.id, unit.id, "conclusion date moved")


async def record_conclusion_items(session: AsyncSession, campaign: Campaign, unit: Unit,
                                  requirements: Sequence[str]) -> tuple[str, ...]:
    """Record what each item of the unit's inspection conclusion required: the unit's report
    then asks about each (handlers.outline_versions.outline_of)."""
    if campaign.deadline_kind != DeadlineKind.AFTER_CONCLUSION:
        raise CampaignProblem("only a campaign of kind after_conclusion reports on conclusion items")
    return await set_conclusion_items(session, campaign.id, unit.id, requirements)


@dataclass(frozen=True)
class UnitDeadline:
    unit: Unit
    deadline: date
    progress: Progress


async def unit_deadlines(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar
                         ) -> list[UnitDeadline]:
    progress = {item.unit.id: item.progress for item in (await campaign_overview(session, campaign)).units}
    members = await campaign_members(session, campaign, calendar)
    return sorted((UnitDeadline(m.unit, m.deadline, progress.get(m.unit.id, Progress.NOT_STARTED))
                   for m in members), key=lambda d: (d.deadline, vietnamese_order(d.unit.name)))
