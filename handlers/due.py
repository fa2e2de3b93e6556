"""A campaign's due date and reporting period, worded once for every place that shows them:
the greeting, progress, reminders, the VP office's digests, /hannop and the documents.

The plan says "trước ngày 31 tháng 10": that wording is shown as it is, and where the day is a
day off, the last working day it really means beside it ("trước ngày 31/10/2027 (Chủ nhật;
hạn thực tế: thứ Sáu, ngày 29/10/2027)"). A unit's own deadline (before an inspection visit,
after a conclusion) is a working day already and is shown as "chậm nhất ngày …"."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.periods import Period
from deadlines.schedule import DeadlineKind, UnitDates, unit_deadline
from deadlines.workdays import WorkingCalendar
from engine.i18n import Translator
from handlers.outline_versions import outline_of
from storage.campaigns import campaign_period
from storage.models import Campaign, CampaignUnit, Unit


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# As administrative documents write them mid-sentence ("thứ Sáu", "Chủ nhật").
VI_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def _weekday(day: date, translator: Translator) -> str:
    if translator.locale.startswith("vi"):
        return VI_WEEKDAYS[day.weekday()]
    return format_date(day, "EEEE", locale=translator.locale)


def weekday(day: date, translator: Translator) -> str:
    """The day of the week as the office writes it ("thứ Sáu", "Chủ nhật"; "Friday")."""
    return _weekday(day, translator)


def due_text(campaign: Campaign, real: date | None, translator: Translator) -> str:
    """The due date as every message words it: "trước ngày 31/10/2027", with the last working
    day beside it when that day is off; a unit's own deadline "chậm nhất ngày 20/10/2027";
    "chưa có lịch" while the date it counts from is not recorded."""
    _ = translator.gettext
    if campaign.deadline_kind != DeadlineKind.FIXED_DATE:
        if real is None:
            return _("theo lịch kiểm tra của từng đơn vị (chưa có lịch)")
        return _("chậm nhất ngày {real}").format(real=_day(real))
    nominal = campaign.deadline
    if real is None or real == nominal:
        return _("trước ngày {nominal}").format(nominal=_day(nominal))
    return _("trước ngày {nominal} ({nominal_weekday}, ngày nghỉ; hạn thực tế: {weekday}, ngày {real})"
             ).format(nominal=_day(nominal), nominal_weekday=_weekday(nominal, translator),
                      weekday=_weekday(real, translator), real=_day(real))


def campaign_due_text(campaign: Campaign, calendar: WorkingCalendar, translator: Translator) -> str:
    """The campaign's due date for the VP office: the fixed date, or "per unit" otherwise."""
    if campaign.deadline_kind == DeadlineKind.FIXED_DATE:
        return due_text(campaign, calendar.last_working_day_on_or_before(campaign.deadline), translator)
    return translator.gettext("theo lịch của từng đơn vị (xem /hannop)")


async def unit_due(session: AsyncSession, campaign: Campaign, unit: Unit, calendar: WorkingCalendar
                   ) -> date | None:
    """The last day the unit really has in the campaign; None until its date is recorded."""
    record = None
    if campaign.deadline_kind != DeadlineKind.FIXED_DATE:
        record = await session.scalar(select(CampaignUnit).where(
            CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == unit.id))
    dates = UnitDates(campaign.deadline, record.visit_date if record else None,
                      record.conclusion_date if record else None)
    return unit_deadline(campaign.deadline_kind, dates, calendar)


def period_text(period: Period, translator: Translator) -> str:
    """"Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027"."""
    return translator.gettext("Kỳ báo cáo: từ ngày {start} đến ngày {end}").format(
        start=_day(period.start), end=_day(period.end))


def campaign_period_text(campaign: Campaign, translator: Translator) -> str:
    return period_text(campaign_period(campaign), translator)


async def campaign_line(session: AsyncSession, campaign: Campaign, unit: Unit, calendar: WorkingCalendar,
                        translator: Translator) -> str:
    """What the officer is told of the campaign on arrival: its title, the period its figures
    cover, what it is based on (the outline's source: a title saying "năm 2027" on an outline of
    2021 reads as a mistake without it) and the unit's due date, in one sentence each."""
    _ = translator.gettext
    due = due_text(campaign, await unit_due(session, campaign, unit, calendar), translator)
    source = (await outline_of(session, campaign)).outline.meta.source
    return " ".join([
        _("Đợt báo cáo: {campaign}.").format(campaign=campaign.title),
        campaign_period_text(campaign, translator) + ".",
        *([_("Căn cứ: {source}.").format(source=source)] if source else []),
        _("Hạn nộp: {due}.").format(due=due),
    ])
