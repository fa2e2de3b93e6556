"""The inbox: incoming platform events, stored before they are acknowledged, and applied one chat
at a time, oldest first, by whichever process takes the chat's lock."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.direct_sql import DirectStatement
from storage.models import InboxUpdate, utcnow
from storage.upsert import insert_all_ignoring_duplicates


@dataclass(frozen=True)
class IncomingEvent:
    update_id: str
    chat_key: str
    payload: str
    # The event's place among its chat's events (Telegram's update_id, Zalo's send time); where
    # the platform gives none, the order they were stored in.
    seq: int | None = None


@dataclass(frozen=True)
class TakenEvent:
    """The chat's oldest pending event, claimed in the session's transaction."""

    id: int
    update_id: str
    payload: str


def as_payload(update: Mapping[str, Any]) -> str:
    """An update as stored: JSON, readable where it can be; with \\u escapes where its text holds
    what no database can store as text (a lone surrogate), so that it is stored all the same."""
    readable = json.dumps(update, ensure_ascii=False)
    try:
        readable.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(update)
    return readable


async def store_events(session: AsyncSession, channel: str, events: Sequence[IncomingEvent]) -> None:
    """Insert events; one already stored (a redelivery) is left as it is."""
    if not events:
        return
    await insert_all_ignoring_duplicates(
        session, InboxUpdate,
        [{"channel": channel, "update_id": e.update_id, "chat_key": e.chat_key, "payload": e.payload,
          "seq": e.seq, "received_at": utcnow()} for e in events],
        unique=("channel", "update_id"),
    )


_inbox = InboxUpdate.__table__.c
_pending_of_chat = (_inbox.channel == bindparam("channel")) & (_inbox.chat_key == bindparam("chat_key")) \
    & _inbox.processed_at.is_(None)
OLDEST_PENDING = DirectStatement(
    select(_inbox.id, _inbox.update_id, _inbox.payload).where(_pending_of_chat)
    .order_by(func.coalesce(_inbox.seq, _inbox.id), _inbox.id).limit(1)
)
# Claimed and emptied at once: the raw update (the officer's words, their name) is not kept
# once applied; what was done with it is in the answers and their history.
CLAIM = DirectStatement(
    update(cast(Table, InboxUpdate.__table__))
    .where(_inbox.id == bindparam("inbox_id"), _inbox.processed_at.is_(None))
    .values(processed_at=bindparam("now"), payload="")
)
# Held to the end of the transaction: one process at a time applies a chat's events.
POSTGRES_CHAT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def lock_chat(session: AsyncSession, channel: str, chat_key: str) -> None:
    """Take the chat's lock for this transaction. On PostgreSQL an advisory lock, so that other
    processes' transactions for other chats go on; on SQLite every write transaction begins
    IMMEDIATE, which already lets one writer in at a time, across processes too."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(POSTGRES_CHAT_LOCK, {"key": f"{channel}:{chat_key}"})


async def take_next_event(session: AsyncSession, channel: str, chat_key: str) -> TakenEvent | None:
    """Lock the chat, then claim its oldest pending event (None if there is none). The claim is
    part of the transaction: if applying the event fails, it is pending again."""
    await lock_chat(session, channel, chat_key)
    found = await OLDEST_PENDING.execute(session, {"channel": channel, "chat_key": chat_key})
    if not found.rows:
        return None
    inbox_id, update_id, payload = found.rows[0]
    claimed = await CLAIM.execute(session, {"inbox_id": inbox_id, "now": utcnow()})
    if claimed.rowcount == 0:  # cannot happen under the lock; never apply an event twice
        return None
    return TakenEvent(inbox_id, update_id, payload)


async def peek_next_event(session: AsyncSession, channel: str, chat_key: str) -> TakenEvent | None:
    """The chat's oldest pending event, neither locked nor claimed: what its next turn will
    likely take (another process may take it first)."""
    found = await OLDEST_PENDING.execute(session, {"channel": channel, "chat_key": chat_key})
    return TakenEvent(*found.rows[0]) if found.rows else None


async def pending_chats(session: AsyncSession, channel: str, received_before: datetime | None = None,
                        limit: int = 10_000) -> list[str]:
    """The chat of every pending event (a chat once per event), oldest first: one turn each."""
    query = select(InboxUpdate.chat_key).where(InboxUpdate.channel == channel,
                                               InboxUpdate.processed_at.is_(None))
    if received_before is not None:
        query = query.where(InboxUpdate.received_at < received_before)
    rows = await session.scalars(query.order_by(InboxUpdate.id).limit(limit))
    return list(rows)


async def mark_failed(session: AsyncSession, inbox_id: int, failure: str) -> bool:
    """Set an event aside: processed (never replayed), with why it failed; its raw update is
    not kept. False if it was processed already (by another process, meanwhile)."""
    now = utcnow()
    result = await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == inbox_id, InboxUpdate.processed_at.is_(None))
        .values(processed_at=now, failed_at=now, failure=failure[:255], payload="")
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def set_aside_events(session: AsyncSession) -> list[InboxUpdate]:
    rows = await session.scalars(
        select(InboxUpdate).where(InboxUpdate.failed_at.is_not(None)).order_by(InboxUpdate.id))
    return list(rows)

