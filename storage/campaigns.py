"""Campaigns (đợt báo cáo): the outline they use and their deadline."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.outline import Outline
from storage.models import Campaign


async def ensure_campaign(
    session: AsyncSession, code: str, title: str, outline: Outline, outline_file: str,
    deadline: date, deadline_kind: str = "fixed_date",
) -> Campaign:
    campaign = await session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        campaign = Campaign(code=code, title=title, outline_file=outline_file,
                            outline_id=outline.meta.id, outline_version=outline.meta.version,
                            deadline=deadline, deadline_kind=deadline_kind)
        session.add(campaign)
        await session.flush()
    return campaign


async def open_campaigns(session: AsyncSession) -> list[Campaign]:
    return list(await session.scalars(select(Campaign).order_by(Campaign.deadline.desc(),
                                                                Campaign.id.desc())))
