"""The inbox: incoming platform events, stored before they are acknowledged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.direct_sql import DirectStatement
from storage.models import InboxUpdate, utcnow
from storage.upsert import insert_ignoring_duplicates


@dataclass(frozen=True)
class IncomingEvent:
    update_id: str
    chat_key: str
    payload: str


async def store_events(session: AsyncSession, channel: str, events: Sequence[IncomingEvent]) -> None:
    """Insert events; one already stored (a redelivery) is left as it is."""
    if not events:
        return
    await insert_ignoring_duplicates(
        session, InboxUpdate,
        [{"channel": channel, "update_id": e.update_id, "chat_key": e.chat_key, "payload": e.payload,
          "received_at": utcnow()} for e in events],
        unique=("channel", "update_id"),
    )


async def pending_events(session: AsyncSession, channel: str, limit: int = 10_000) -> list[InboxUpdate]:
    rows = await session.scalars(
        select(InboxUpdate).where(InboxUpdate.channel == channel, InboxUpdate.processed_at.is_(None))
        .order_by(InboxUpdate.id).limit(limit)
    )
    return list(rows)


async def pending_ids(session: AsyncSession, channel: str, update_ids: Sequence[str]) -> list[InboxUpdate]:
    rows = await session.scalars(
        select(InboxUpdate).where(InboxUpdate.channel == channel, InboxUpdate.update_id.in_(update_ids),
                                  InboxUpdate.processed_at.is_(None)).order_by(InboxUpdate.id)
    )
    return list(rows)


async def claim_event(session: AsyncSession, inbox_id: int) -> bool:
    """Mark the event processed in this transaction; False if it was processed already.

    One conditional UPDATE: on PostgreSQL a second claimer waits on the row lock, then finds
    it processed (or claims it, if the first rolled back)."""
    result = await CLAIM.execute(session, {"inbox_id": inbox_id, "now": utcnow()})
    return result.rowcount > 0


_inbox = InboxUpdate.__table__.c
CLAIM = DirectStatement(
    update(cast(Table, InboxUpdate.__table__))
    .where(_inbox.id == bindparam("inbox_id"), _inbox.processed_at.is_(None))
    .values(processed_at=bindparam("now"))
)


async def mark_failed(session: AsyncSession, inbox_id: int, failure: str) -> None:
    """Set an event aside: processed (never replayed), with why it failed."""
    now = utcnow()
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == inbox_id, InboxUpdate.processed_at.is_(None))
        .values(processed_at=now, failed_at=now, failure=failure[:255])
    )


async def set_aside_events(session: AsyncSession) -> list[InboxUpdate]:
    rows = await session.scalars(
        select(InboxUpdate).where(InboxUpdate.failed_at.is_not(None)).order_by(InboxUpdate.id))
    return list(rows)
