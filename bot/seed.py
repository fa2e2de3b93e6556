"""First run: an empty database gets the province's units and a self-inspection campaign."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.outline_versions import outline_engine
from storage.campaigns import ensure_campaign
from storage.database import take_setup_lock
from storage.models import Campaign, Unit
from storage.units import import_units, province_units


def next_october_31(today: date) -> date:
    """The plan's self-inspection deadline: 31 October, this year's or, once past, next year's."""
    this_year = date(today.year, 10, 31)
    return this_year if today <= this_year else date(today.year + 1, 10, 31)


def self_inspection_code(deadline: date) -> str:
    return f"tu-kiem-tra-{deadline.year}"


async def seed_if_empty(session: AsyncSession, settings: Settings, today: date) -> None:
    await take_setup_lock(session)  # processes starting at once: one seeds, the others see it done
    if not await session.scalar(select(func.count()).select_from(Unit)):
        await import_units(session, province_units(settings.province_code))
    if not await session.scalar(select(func.count()).select_from(Campaign)):
        deadline = next_october_31(today)
        outline = outline_engine(settings.outline_file).outline
        await ensure_campaign(
            session,
            code=self_inspection_code(deadline),
            title=f"Báo cáo tự kiểm tra hoạt động kiểm soát thủ tục hành chính năm {deadline.year}",
            outline=outline,
            outline_file=settings.outline_file,
            deadline=deadline,
        )
