"""An inspection conclusion's items per campaign and unit (`kstthc-bot campaign conclusion-items`):
what each required, numbered from 1 in the order the conclusion lists them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConclusionItem


async def conclusion_items(session: AsyncSession, campaign_id: int, unit_id: int) -> tuple[str, ...]:
    """The requirements, item 1 first; empty when none are recorded."""
    return tuple(await session.scalars(select(ConclusionItem.requirement).where(
        ConclusionItem.campaign_id == campaign_id, ConclusionItem.unit_id == unit_id)
        .order_by(ConclusionItem.number)))


async def set_conclusion_items(session: AsyncSession, campaign_id: int, unit_id: int,
                               requirements: Sequence[str]) -> tuple[str, ...]:
    """Replace the unit's items with `requirements` (blank ones dropped, spaces tidied). Answers
    already given to an item stay with its number."""
    kept = tuple(" ".join(text.split()) for text in requirements if text.strip())
    await session.execute(delete(ConclusionItem).where(
        ConclusionItem.campaign_id == campaign_id, ConclusionItem.unit_id == unit_id))
    session.add_all(ConclusionItem(campaign_id=campaign_id, unit_id=unit_id, number=number, requirement=text)
                    for number, text in enumerate(kept, start=1))
    await session.flush()
    return kept
