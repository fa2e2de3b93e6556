"""Campaigns (đợt báo cáo): the outline they use, their deadline and the period they report."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.periods import Period, default_period
from engine.outline import Outline
from storage.models import Campaign, CampaignUnit
from storage.outline_versions import keep_version


async def ensure_campaign(
    session: AsyncSession, code: str, title: str, outline: Outline, outline_file: str,
    deadline: date, deadline_kind: str = "fixed_date", period: Period | None = None,
) -> Campaign:
    """The campaign of that code, created if new; its period is `period`, by default the one
    Decree 09/2019/NĐ-CP's cut-off dates give for its deadline (deadlines.periods). A new
    campaign keeps `outline` as it is now, as a stored version (storage.outline_versions)."""
    campaign = await session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        period = period or default_period(deadline)
        checksum = await keep_version(session, outline, outline_file)
        campaign = Campaign(code=code, title=title, outline_file=outline_file, outline_checksum=checksum,
                            outline_id=outline.meta.id, outline_version=outline.meta.version,
                            deadline=deadline, deadline_kind=deadline_kind,
                            period_start=period.start, period_end=period.end)
        session.add(campaign)
        await session.flush()
    return campaign


async def open_campaigns(session: AsyncSession) -> list[Campaign]:
    """The campaigns not closed (from the web desk), the one due last first."""
    return list(await session.scalars(select(Campaign).where(Campaign.closed_at.is_(None))
                                      .order_by(Campaign.deadline.desc(), Campaign.id.desc())))


async def chosen_units(session: AsyncSession, campaign: Campaign) -> frozenset[int] | None:
    """The units a fixed-date campaign was opened for when the VP office chose them (its rows
    of campaign_units, which carry no dates); None: every reporting unit takes part."""
    if campaign.deadline_kind != "fixed_date":
        return None
    chosen = frozenset(await session.scalars(select(CampaignUnit.unit_id).where(
        CampaignUnit.campaign_id == campaign.id)))
    return chosen or None


def campaign_period(campaign: Campaign) -> Period:
    """The period the campaign's figures cover (the default of its deadline if none is stored)."""
    return stored_period(campaign.period_start, campaign.period_end, campaign.deadline)


def stored_period(start: date | None, end: date | None, deadline: date) -> Period:
    """A campaign's period from its columns: the default of its deadline if none is stored."""
    if start is None or end is None:
        return default_period(deadline)
    return Period(start, end)
