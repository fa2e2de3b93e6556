"""How long raw incoming events are kept (Law 91/2025/QH15 on personal data protection; Decree
13/2023): a raw update carries the officer's words, name and ids, and is needed only until it is
applied (or set aside). Processed events keep their row (channel, update id, when received, when
processed, why set aside) with the payload emptied, for audit and to recognise a late
redelivery; after the retention period (KSTTHC_INBOX_RETENTION_DAYS, 30 days by default) the row
goes too. The claim and the setting aside empty the payload themselves (storage/inbox.py); the
purge empties whatever is left (rows from before that). What officers answered stays in the
answers and their history (who changed what, when), never as raw payloads.

Work is done in batches, each its own short transaction, so that a first purge of a large inbox
never holds SQLite's write lock for long; several processes may purge at once (deleting or
emptying a row twice changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.models import InboxUpdate

DEFAULT_RETENTION_DAYS = 30
BATCH = 2_000
_inbox = cast(Table, InboxUpdate.__table__)
_c = _inbox.c


@dataclass(frozen=True)
class Purged:
    deleted: int = 0
    emptied: int = 0

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.deleted + other.deleted, self.emptied + other.emptied)


async def purge_batch(session: AsyncSession, now: datetime, days: int, batch: int = BATCH) -> Purged:
    """Delete up to `batch` events processed more than `days` days before `now`, and empty the
    payload of up to `batch` processed ones."""
    cutoff = now - timedelta(days=days)
    old = select(_c.id).where(_c.processed_at.is_not(None), _c.processed_at < cutoff).limit(batch)
    deleted = await session.execute(delete(_inbox).where(_c.id.in_(old.scalar_subquery())))
    applied = select(_c.id).where(_c.processed_at.is_not(None), _c.payload != "").limit(batch)
    emptied = await session.execute(
        update(_inbox).where(_c.id.in_(applied.scalar_subquery())).values(payload=""))
    return Purged(max(deleted.rowcount, 0), max(emptied.rowcount, 0))  # type: ignore[attr-defined]


async def purge_inbox(db: Database, now: datetime, days: int = DEFAULT_RETENTION_DAYS,
                      batch: int = BATCH) -> Purged:
    """Everything due, a batch per transaction."""
    total = Purged()
    while True:
        async with db.transaction() as session:
            done = await purge_batch(session, now, days, batch)
        total += done
        if done.deleted < batch and done.emptied < batch:
            return total
